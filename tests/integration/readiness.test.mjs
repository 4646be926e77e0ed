// Readiness: /readyz answers 200 while a store transaction goes through and 503 while it cannot
// (here another process holds the database's write lock: the gateway's transaction times out),
// then 200 again by itself; /healthz (liveness) stays 200 throughout. Neither /readyz nor /metrics
// lets callers queue store work.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { startGateway, until } from "./harness.mjs";

describe("readiness", () => {
  let gw;
  before(async () => (gw = await startGateway()));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  // Debian's sqlite3 CLI takes the database's write lock and keeps it until release() is called.
  async function lockStore() {
    const locker = spawn("sqlite3", [path.join(gw.dataDir, "gateway.db")], { stdio: ["pipe", "ignore", "inherit"] });
    locker.stdin.write("PRAGMA busy_timeout=5000;\nBEGIN IMMEDIATE;\nINSERT INTO log_meta(key, value) VALUES('readyz-test', 1);\n");
    await until(async () => (await fetch(`${gw.url}/readyz`)).status === 503, 20000, "not ready while locked");
    return async () => {
      locker.stdin.end("ROLLBACK;\n.quit\n");
      await new Promise((r) => locker.once("exit", r));
    };
  }
  // 20 callers at once: with at most one store call a second behind them, ≥ 19 answer at once;
  // each would wait out the 5 s busy timeout in turn if every call queued its own.
  async function timedCalls(call) {
    return Promise.all(
      Array.from({ length: 20 }, async () => {
        const t = Date.now();
        const status = (await call()).status;
        return { status, ms: Date.now() - t };
      }),
    );
  }

  it("is 503 while the store cannot commit and 200 again once it can", async () => {
    assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);
    const release = await lockStore();
    try {
      const body = await (await fetch(`${gw.url}/readyz`)).json();
      assert.deepEqual(body, { status: "not_ready", reason: "store" });
      assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
      // Callers do not queue store work: while a probe is recent (or running), they get its answer
      // at once instead of each waiting out the store's 5 s busy timeout.
      const calls = await timedCalls(() => fetch(`${gw.url}/readyz`));
      assert.ok(calls.filter((c) => c.ms < 2500).length >= 19, JSON.stringify(calls));
    } finally {
      await release();
    }
    await until(async () => (await fetch(`${gw.url}/readyz`)).status === 200, 15000, "ready again");
  });

  it("scrapes of /metrics do not queue store work either (the job counts are refreshed at most once a second)", async () => {
    await until(async () => (await fetch(`${gw.url}/readyz`)).status === 200, 15000, "ready");
    const release = await lockStore();
    try {
      const calls = await timedCalls(() => gw.api("GET", "/metrics"));
      assert.ok(calls.every((c) => c.status === 200), JSON.stringify(calls));
      assert.ok(calls.filter((c) => c.ms < 2500).length >= 19, JSON.stringify(calls));
    } finally {
      await release();
    }
  });
});
