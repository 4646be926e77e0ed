// Readiness: /readyz answers 200 while a store transaction goes through and 503 while it cannot
// (here another process holds the database's write lock: the gateway's transaction times out),
// then 200 again by itself; /healthz (liveness) stays 200 throughout.
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

  it("is 503 while the store cannot commit and 200 again once it can", async () => {
    assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);
    // Debian's sqlite3 CLI takes the write lock and keeps it until told otherwise.
    const locker = spawn("sqlite3", [path.join(gw.dataDir, "gateway.db")], { stdio: ["pipe", "ignore", "inherit"] });
    try {
      locker.stdin.write("PRAGMA busy_timeout=5000;\nBEGIN IMMEDIATE;\nINSERT INTO log_meta(key, value) VALUES('readyz-test', 1);\n");
      await until(async () => (await fetch(`${gw.url}/readyz`)).status === 503, 20000, "not ready while locked");
      const body = await (await fetch(`${gw.url}/readyz`)).json();
      assert.deepEqual(body, { status: "not_ready", reason: "store" });
      assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
      // Callers do not queue store work: while a probe is recent (or running), they get its answer
      // at once instead of each waiting out the store's 5 s busy timeout.
      const calls = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const t = Date.now();
          const status = (await fetch(`${gw.url}/readyz`)).status;
          return { status, ms: Date.now() - t };
        }),
      );
      assert.ok(calls.filter((c) => c.ms < 2500).length >= 19, JSON.stringify(calls));
    } finally {
      locker.stdin.end("ROLLBACK;\n.quit\n");
      await new Promise((r) => locker.once("exit", r));
    }
    await until(async () => (await fetch(`${gw.url}/readyz`)).status === 200, 15000, "ready again");
  });
});
