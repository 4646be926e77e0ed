// Snapshot-then-tail: a subscribe ack carries the order as GET shows it and the timeline position it
// includes (`seq`); the order's events after the ack are exactly those after `seq`, even while they
// are being published; `since` replays the timeline after a given seq.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGateway, userToken, adminToken, request, until, sleep, assertSubscribed } from "./harness.mjs";

describe("snapshot-then-tail subscriptions", () => {
  let gw;
  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  const publish = (orderId, message) =>
    gw.publish("fulfillment:status-change", { orderId, status: "processing", message });

  it("the ack carries the order's snapshot and seq (a registered order: orderId, userId, status)", async () => {
    await gw.registerOrder("snap-1", "alice");
    await publish("snap-1", "one");
    await publish("snap-1", "two");
    const socket = await gw.connect(userToken("alice"));
    const ack = assertSubscribed(await request(socket, "subscribe:order", { orderId: "snap-1" }), "snap-1");
    assert.equal(ack.order.userId, "alice");
    assert.equal(ack.order.status, "created");
    assert.equal(ack.seq, 2);
    socket.disconnect();
  });

  it("a fulfilment order's snapshot is what GET /api/v1/orders/{id} shows its owner", async () => {
    const token = userToken("bob");
    const order = await gw.createOrder(token);
    const socket = await gw.connect(token);
    const ack = assertSubscribed(await request(socket, "subscribe:order", { orderId: order.orderId }), order.orderId);
    const viaApi = await (await gw.get(`/api/v1/orders/${order.orderId}`, token)).json();
    for (const k of ["orderId", "userId", "status", "items", "currency"]) assert.deepEqual(ack.order[k], viaApi[k]);
    assert.equal(ack.seq, 1); // its "created" status change
    socket.disconnect();
  });

  it("under a publish burst, the events after the ack are exactly those after seq", async () => {
    for (let round = 0; round < 3; round++) {
      const orderId = `snap-burst-${round}`;
      await gw.registerOrder(orderId, "carol");
      const socket = await gw.connect(userToken("carol"));
      const got = [];
      let acked = false;
      socket.on("fulfillment:status-change", (d) => {
        assert.ok(acked, "no event of the order before its subscribe ack");
        got.push(Number(d.message));
      });
      const N = 150;
      const burst = (async () => {
        for (let i = 0; i < N; i++) await publish(orderId, String(i + 1));
      })();
      await sleep(5 + round * 10);
      // the ack callback runs as its packet is read: any event handled before it came before the ack
      const raw = await new Promise((resolve) =>
        socket.emit("subscribe:order", { orderId }, (a) => {
          acked = true;
          resolve(a);
        }),
      );
      const ack = assertSubscribed(raw, orderId);
      await burst;
      await until(() => ack.seq + got.length >= N, 5000, "the tail");
      await sleep(50);
      // message k is the order's k-th event (seq k): after the ack come seq+1 … N, each once, in order
      const expected = Array.from({ length: N - ack.seq }, (_, i) => ack.seq + 1 + i);
      assert.deepEqual(got, expected, `round ${round}: ack seq ${ack.seq}`);
      socket.disconnect();
    }
  });

  it("since replays the timeline after it, then live events", async () => {
    await gw.registerOrder("snap-since", "dave");
    for (const m of ["1", "2", "3", "4"]) await publish("snap-since", m);
    const socket = await gw.connect(userToken("dave"));
    const got = [];
    socket.on("fulfillment:status-change", (d) => got.push(d.message));
    const ack = assertSubscribed(await request(socket, "subscribe:order", { orderId: "snap-since", since: 2 }), "snap-since");
    assert.equal(ack.seq, 4);
    await publish("snap-since", "5");
    await until(() => got.length >= 3);
    await sleep(50);
    assert.deepEqual(got, ["3", "4", "5"]);
    socket.disconnect();
  });

  it("a since that is not a non-negative integer is refused", async () => {
    await gw.registerOrder("snap-bad", "erin");
    const socket = await gw.connect(userToken("erin"));
    for (const since of [-1, "3", 1.5, {}]) {
      assert.deepEqual(await request(socket, "subscribe:order", { orderId: "snap-bad", since }), {
        ok: false,
        orderId: "snap-bad",
        error: "invalid",
      });
    }
    socket.disconnect();
  });

  it("admins get a snapshot of any order, null for one with no record", async () => {
    await gw.registerOrder("snap-adm", "frank");
    const admin = await gw.connect(adminToken());
    const ack = assertSubscribed(await request(admin, "subscribe:order", { orderId: "snap-adm" }), "snap-adm");
    assert.equal(ack.order.userId, "frank");
    const none = assertSubscribed(await request(admin, "subscribe:order", { orderId: "snap-none" }), "snap-none");
    assert.equal(none.order, null);
    assert.equal(none.seq, 0);
    admin.disconnect();
  });
});
