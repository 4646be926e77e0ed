// Crash test: kill -9 the gateway while fulfillment jobs run; after a restart every paid order
// reaches "fulfilled" with each key bought once (the supplier's purchase count) and delivered once.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawnReady, startGateway, userToken, until, assertNoSanitizerReport } from "./harness.mjs";

async function startSupplierSim() {
  const { child, port, stderr } = await spawnReady(["supplier-sim", "--host", "127.0.0.1", "--port", "0", "--latency", "150"], { LOG_LEVEL: "warn" });
  return {
    url: `http://127.0.0.1:${port}`,
    async stats() {
      return (await fetch(`http://127.0.0.1:${port}/api/v1/stats`)).json();
    },
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      assertNoSanitizerReport(stderr());
    },
  };
}

describe("crash recovery", () => {
  let sim;
  after(async () => sim && (await sim.stop()));

  it("kill -9 during jobs: every paid order is fulfilled once after restart", async () => {
    sim = await startSupplierSim();
    const env = { SUPPLIER_URL: sim.url, JOB_WORKERS: "2" };
    let gw = await startGateway({ env });
    const dataDir = gw.dataDir;
    const N = 12;
    const orders = [];
    for (let i = 0; i < N; i++) {
      const token = userToken(`crash-${i}`);
      orders.push({ token, order: await gw.createOrder(token, [{ productId: `p-${i}`, quantity: 1 }, { productId: "shared", quantity: 1 }]) });
    }
    let pid = 7_000_000_000;
    for (const { order } of orders) {
      const r = await gw.ipn({ payment_id: pid++, payment_status: "finished", order_id: order.orderId, actually_paid: 1, pay_currency: "eth" });
      assert.equal(r.status, 200);
    }
    // let some jobs start (supplier latency 150 ms per call), then crash
    await until(async () => (await sim.stats()).requests >= 3, 10000, "jobs running");
    await gw.stop("SIGKILL");
    const before = await sim.stats();
    assert.ok(before.purchases < N, `crash happened mid-way (${before.purchases} of ${N} bought)`);

    gw = await startGateway({ env, dataDir });
    try {
      for (const { token, order } of orders) {
        await until(async () => (await (await gw.get(`/api/v1/orders/${order.orderId}`, token)).json()).status === "fulfilled", 30000,
          `order ${order.orderId} fulfilled`);
      }
      const stats = await sim.stats();
      assert.equal(stats.purchases, N, "each order bought exactly once at the supplier");
      for (const { token, order } of orders) {
        const tl = await (await gw.get(`/api/v1/orders/${order.orderId}/events`, token)).json();
        const names = tl.events.map((e) => e.event);
        assert.equal(names.filter((n) => n === "fulfillment:key-delivered").length, 1, "delivered once");
        assert.equal(names.filter((n) => n === "payment:confirmed").length, 1);
        const snap = await (await gw.get(`/api/v1/orders/${order.orderId}`, token)).json();
        for (const item of snap.items) {
          const r = await fetch(gw.url + item.signedUrl);
          assert.equal(r.status, 200);
          assert.match((await r.json()).key, /^[A-F0-9-]+$/);
        }
      }
    } finally {
      await gw.stop();
      gw.cleanup();
    }
  });
});
