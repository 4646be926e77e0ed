// A real Prometheus (Debian's `prometheus` package) scrapes a running gateway with its bearer
// token and answers PromQL queries on the gateway's counters. Started here on a free loopback
// port with a scratch config and data dir, stopped by its PID.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { startGateway, until } from "./harness.mjs";

const TOKEN = "prometheus-scrape-token";

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

describe("Prometheus scrapes the gateway", () => {
  let gw, prom, dir, promUrl, promLog = "";
  before(async () => {
    gw = await startGateway({ args: ["--metrics-token", TOKEN] });
    dir = mkdtempSync(path.join(tmpdir(), "fg-prom-"));
    writeFileSync(path.join(dir, "prometheus.yml"), [
      "global:",
      "  scrape_interval: 1s",
      "  scrape_timeout: 1s",
      "scrape_configs:",
      "  - job_name: fulfillment-gateway",
      "    authorization:",
      `      credentials: ${TOKEN}`,
      "    static_configs:",
      `      - targets: ["127.0.0.1:${gw.port}"]`,
      "",
    ].join("\n"));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prom = spawn("prometheus", [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: ["ignore", "ignore", "pipe"] });
    prom.stderr.on("data", (d) => (promLog += d));
    await until(async () => {
      try {
        return (await fetch(`${promUrl}/-/ready`)).status === 200;
      } catch {
        return false;
      }
    }, 30000, `prometheus ready: ${promLog}`);
  });
  after(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom.once("exit", r));
      prom.kill("SIGTERM");
      await exited;
    }
    await gw.stop();
    gw.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  async function query(q) {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = await res.json();
    assert.equal(body.status, "success", JSON.stringify(body));
    return body.data.result;
  }

  it("the alert rules in docs/operations.md pass promtool and name only series the gateway exports", async () => {
    const doc = readFileSync(new URL("../../docs/operations.md", import.meta.url), "utf8");
    const rules = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).find((y) => y.startsWith("groups:"));
    assert.ok(rules, "a yaml block of rule groups");
    writeFileSync(path.join(dir, "rules.yml"), rules);
    execFileSync("promtool", ["check", "rules", path.join(dir, "rules.yml")], { stdio: ["ignore", "pipe", "pipe"] });
    await gw.metrics({ key: TOKEN }); // its own request shows in the next one
    const exported = new Set((await gw.metrics({ key: TOKEN })).map((s) => s.name.replace(/_(bucket|sum|count)$/, "")));
    for (const name of new Set(rules.match(/\bfg_[a-z_]+/g))) {
      assert.ok(exported.has(name.replace(/_(bucket|sum|count)$/, "")), `${name} is exported`);
    }
  });

  it("answers a PromQL query on a counter the gateway exports", async () => {
    await gw.registerOrder("ord-prom-1", "prom-user");
    for (let i = 0; i < 5; i++) await gw.publish("fulfillment:status-change", { orderId: "ord-prom-1", status: "created", i });
    await until(async () => {
      const r = await query('sum(fg_events_published_total{job="fulfillment-gateway",event="fulfillment:status-change"})');
      return r.length === 1 && Number(r[0].value[1]) >= 5;
    }, 30000, `the scraped counter: ${promLog.slice(-2000)}`);
    const up = await query('up{job="fulfillment-gateway"}');
    assert.equal(up.length, 1);
    assert.equal(up[0].value[1], "1");
    const requests = await query('sum by (route) (fg_http_requests_total{route="/api/v1/events",status="202"})');
    assert.ok(Number(requests[0].value[1]) >= 5);
  });
});
