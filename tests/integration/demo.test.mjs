// Demo mode across a restart: the payments the demo driver still owed its orders are kept in the
// data dir, so an order that was awaiting payment when the process died moves on after a restart.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startGateway, until, API_KEY } from "./harness.mjs";

const orders = async (gw) => (await (await gw.get("/api/v1/orders", API_KEY)).json()).orders;

describe("demo driver", () => {
  it("resumes the payments it owed after a kill -9 and restart", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "fg-demo-"));
    const args = ["--demo", "--demo-interval", "600000"]; // one order, a second after start
    const first = await startGateway({ args, dataDir });
    let second;
    try {
      await until(async () => (await orders(first)).length === 1, 10000, "the demo's first order");
      const [order] = await orders(first);
      assert.equal(order.status, "created");
      const state = path.join(dataDir, "demo-pending.json");
      await until(() => existsSync(state) && JSON.parse(readFileSync(state, "utf8")).length === 2, 5000, "owed payments on disk");
      const exited = new Promise((r) => first.child.once("exit", r));
      first.child.kill("SIGKILL"); // before the payment steps (3 s and 6 s after the order)
      await exited;
      second = await startGateway({ args, dataDir, port: first.port });
      await until(async () => (await (await second.get(`/api/v1/orders/${order.orderId}`, API_KEY)).json()).status !== "created", 15000, "the order moved on");
      const moved = await (await second.get(`/api/v1/orders/${order.orderId}`, API_KEY)).json();
      assert.ok(["paid", "processing", "fulfilled", "failed"].includes(moved.status), moved.status);
      await until(() => JSON.parse(readFileSync(state, "utf8")).length === 0, 10000, "nothing owed any more");
    } finally {
      await second?.stop();
      await first.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
