// Smoke of the load generator against the real gateway: it must connect, deliver and report
// zero loss. No timing is judged here (performance lives in bench/ and docs/benchmarks.md).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { startGateway, JWT_SECRET, API_KEY } from "./harness.mjs";

const LOADGEN = process.env.FG_LOADGEN ?? path.join(path.dirname(process.env.FG_BIN ?? "../../build/fulfillment-gateway"), "fg-loadgen");

function loadgen(args) {
  return new Promise((resolve) => {
    execFile(LOADGEN, args, { env: { PATH: process.env.PATH, JWT_SECRET, API_KEY, ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? "" }, timeout: 60000 },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

describe("load generator smoke", () => {
  let gw;
  // A small combine bound, so that a burst also takes the early-flush path of the write combiner.
  before(async () => (gw = await startGateway({ args: ["--max-combined-frames", "1000"] })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  for (const [mode, extra] of [
    ["targeted", ["--connections", "60", "--orders", "20", "--rate", "200", "--duration", "1"]],
    ["broadcast", ["--connections", "50", "--rate", "20", "--duration", "1"]],
    ["broadcast", ["--connections", "200", "--rate", "1000", "--batch", "500", "--duration", "0.5"]],
    ["connect", ["--connections", "40"]],
  ]) {
    it(`${mode} ${extra.join(" ")}: connects, delivers, loses nothing`, async () => {
      const r = await loadgen(["--port", String(gw.port), "--mode", mode, "--server-pid", String(gw.child.pid), "--timeout", "30", ...extra]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const report = JSON.parse(r.stdout.trim().split("\n").pop());
      assert.equal(report.failed, 0);
      assert.equal(report.unexpected_disconnects, 0);
      assert.equal(report.subscribed, report.connections);
      assert.equal(report.lost, 0);
      assert.equal(report.received, report.expected);
      if (mode !== "connect") {
        assert.ok(report.published > 0);
        assert.ok(report.received > 0);
        assert.ok(report.latency_ms.samples === report.received);
      }
      assert.ok(report.server.rss_after_connect_kib > 0);
    });
  }

  it("refuses a target outside 127.0.0.0/8", async () => {
    const r = await loadgen(["--host", "10.0.0.1", "--port", "1"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /only 127\.0\.0\.0\/8/);
  });
});
