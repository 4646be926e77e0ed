// The gateway's external contract, driven with the official socket.io-client.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import {
  startGateway, userToken, adminToken, sign, recorder, once, request, sleep, until, JWT_SECRET, assertSubscribed } from "./harness.mjs";

const ORDER_EVENTS = ["fulfillment:status-change", "payment:confirmed", "fulfillment:key-delivered", "fulfillment:error"];
const ADMIN_EVENTS = ["admin:job-queue-event", "admin:webhook-received"];
const ALL_EVENTS = [...ORDER_EVENTS, ...ADMIN_EVENTS];

describe("transports", () => {
  let gw;
  before(async () => {
    gw = await startGateway();
    await gw.registerOrder("ord-t1", "alice");
  });
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  for (const [name, opts] of [
    ["websocket only", { transports: ["websocket"] }],
    ["polling only", { transports: ["polling"] }],
    ["polling then upgrade to websocket", { transports: ["polling", "websocket"] }],
  ]) {
    it(`connects, subscribes and receives over ${name}`, async () => {
      const s = await gw.connect(userToken("alice"), opts);
      if (name.startsWith("polling then")) {
        await until(() => s.io.engine.transport.name === "websocket", 5000, "upgrade");
      } else {
        assert.equal(s.io.engine.transport.name, opts.transports[0]);
      }
      assertSubscribed(await request(s, "subscribe:order", { orderId: "ord-t1" }), "ord-t1");
      const got = once(s, "fulfillment:status-change");
      await gw.publish("fulfillment:status-change", { orderId: "ord-t1", status: "paid", n: name });
      const data = await got;
      assert.equal(data.n, name);
      assert.equal(data.status, "paid");
      s.disconnect();
    });
  }

  it("the socket id is not the Engine.IO sid", async () => {
    const s = await gw.connect(userToken("alice"), { transports: ["websocket"] });
    assert.ok(s.id);
    assert.notEqual(s.id, s.io.engine.id);
    s.disconnect();
  });

  it("GET /healthz answers ok", async () => {
    const res = await fetch(`${gw.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok" });
  });
});

describe("authentication at connect", () => {
  let gw;
  before(async () => (gw = await startGateway()));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const cases = [
    ["missing token", undefined, "token_missing"],
    ["empty token", "", "token_missing"],
    ["garbage", "not-a-jwt", "token_invalid"],
    ["wrong signature", sign({ sub: "u" }, { secret: "other-secret" }), "token_invalid"],
    ["alg none", sign({ sub: "u" }, { alg: "none" }), "token_invalid"],
    ["alg HS512", sign({ sub: "u" }, { alg: "HS512" }), "token_invalid"],
    ["no sub", sign({ email: "x@example.com" }), "token_invalid"],
    ["expired", sign({ sub: "u", exp: now() - 3600 }), "token_expired"],
    ["not yet valid", sign({ sub: "u", nbf: now() + 3600 }), "token_invalid"],
  ];
  for (const [name, token, code] of cases) {
    for (const transport of ["websocket", "polling"]) {
      it(`${name} over ${transport} → connect_error ${code}`, async () => {
        const err = await gw.connectError(token, { transports: [transport] });
        assert.equal(err.message, "Unauthorized");
        assert.deepEqual(err.data, { code });
      });
    }
  }

  it("accepts a token without exp", async () => {
    const s = await gw.connect(sign({ sub: "no-exp-user" }), { transports: ["websocket"] });
    assert.ok(s.connected);
    s.disconnect();
  });

  it("accepts the token from the Authorization header", async () => {
    const s = await gw.connect(undefined, { transports: ["polling"], extraHeaders: { Authorization: `Bearer ${userToken("hdr")}` } });
    assert.ok(s.connected);
    s.disconnect();
  });

  it("accepts the token from the ?token= query", async () => {
    const s = await gw.connect(undefined, { transports: ["websocket"], query: { token: userToken("q") } });
    assert.ok(s.connected);
    s.disconnect();
  });

  it("the auth payload wins over the header", async () => {
    const err = await gw.connectError("bad", { transports: ["polling"], extraHeaders: { Authorization: `Bearer ${userToken("hdr")}` } });
    assert.deepEqual(err.data, { code: "token_invalid" });
  });

  it("an unknown namespace gets CONNECT_ERROR", async () => {
    const s = io(`${gw.url}/nope`, { auth: { token: userToken("a") }, reconnection: false, forceNew: true, transports: ["websocket"] });
    const err = await once(s, "connect_error");
    assert.equal(err.message, "Invalid namespace");
    s.close();
  });
});

describe("subscriptions and delivery", () => {
  let gw;
  before(async () => {
    gw = await startGateway();
    await gw.registerOrder("ord-a", "alice");
    await gw.registerOrder("ord-b", "bob");
  });
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("acks subscribe/unsubscribe and refuses what is not the user's", async () => {
    const alice = await gw.connect(userToken("alice"));
    assertSubscribed(await request(alice, "subscribe:order", { orderId: "ord-a" }), "ord-a");
    assert.deepEqual(await request(alice, "subscribe:order", { orderId: "ord-b" }), { ok: false, orderId: "ord-b", error: "forbidden" });
    assert.deepEqual(await request(alice, "subscribe:order", { orderId: "ord-unknown" }), {
      ok: false,
      orderId: "ord-unknown",
      error: "forbidden",
    });
    for (const bad of [undefined, null, "ord-a", 42, {}, { orderId: "" }, { orderId: 7 }, { orderId: "x".repeat(200) }]) {
      assert.deepEqual(await request(alice, "subscribe:order", bad), { ok: false, error: "invalid" }, JSON.stringify(bad));
    }
    assert.deepEqual(await request(alice, "unsubscribe:order", { orderId: "ord-a" }), { ok: true, orderId: "ord-a" });
    assert.deepEqual(await request(alice, "unsubscribe:order", { orderId: "never-subscribed" }), {
      ok: true,
      orderId: "never-subscribed",
    });
    alice.disconnect();
  });

  it("ownership follows an order reassigned by PUT: no stale owner, old subscriptions dropped", async () => {
    await gw.registerOrder("ord-moved", "alice");
    const alice = await gw.connect(userToken("alice"));
    const admin = await gw.connect(adminToken());
    assertSubscribed(await request(alice, "subscribe:order", { orderId: "ord-moved" }), "ord-moved");
    const aliceGot = recorder(alice, ALL_EVENTS);
    const adminGot = recorder(admin, ALL_EVENTS);
    await gw.publish("fulfillment:status-change", { orderId: "ord-moved", n: 1 });
    await until(() => aliceGot.length === 1 && adminGot.length === 1, 5000, "before the move");
    await gw.registerOrder("ord-moved", "bob");
    const alice2 = await gw.connect(userToken("alice"));
    const bob = await gw.connect(userToken("bob"));
    assert.deepEqual(await request(alice2, "subscribe:order", { orderId: "ord-moved" }), {
      ok: false,
      orderId: "ord-moved",
      error: "forbidden",
    });
    assertSubscribed(await request(bob, "subscribe:order", { orderId: "ord-moved" }), "ord-moved");
    const bobGot = recorder(bob, ALL_EVENTS);
    await gw.publish("fulfillment:status-change", { orderId: "ord-moved", n: 2 });
    await until(() => bobGot.length === 1 && adminGot.length === 2, 5000, "after the move");
    await sleep(100);
    assert.equal(aliceGot.length, 1, "the previous owner's socket gets nothing after the move");
    for (const s of [alice, alice2, bob, admin]) s.disconnect();
  });

  it("admins may subscribe to any order", async () => {
    const admin = await gw.connect(adminToken());
    assertSubscribed(await request(admin, "subscribe:order", { orderId: "ord-b" }), "ord-b");
    const none = assertSubscribed(await request(admin, "subscribe:order", { orderId: "whatever" }), "whatever");
    assert.equal(none.order, null); // an admin may watch an order with no record yet
    assert.equal(none.seq, 0);
    admin.disconnect();
  });

  it("routes each event to exactly the sockets allowed to see it, once", async () => {
    const alice = await gw.connect(userToken("alice"));
    const alice2 = await gw.connect(userToken("alice"), { transports: ["polling"] });
    const bob = await gw.connect(userToken("bob"));
    const admin = await gw.connect(adminToken("admin-a"));
    const adminSubscribed = await gw.connect(adminToken("admin-b"));
    await request(alice, "subscribe:order", { orderId: "ord-a" });
    await request(alice2, "subscribe:order", { orderId: "ord-a" });
    await request(bob, "subscribe:order", { orderId: "ord-b" });
    await request(adminSubscribed, "subscribe:order", { orderId: "ord-a" });
    const rec = {
      alice: recorder(alice, ALL_EVENTS),
      alice2: recorder(alice2, ALL_EVENTS),
      bob: recorder(bob, ALL_EVENTS),
      admin: recorder(admin, ALL_EVENTS),
      adminSubscribed: recorder(adminSubscribed, ALL_EVENTS),
    };
    for (const e of ORDER_EVENTS) await gw.publish(e, { orderId: "ord-a", tag: e });
    await gw.publish("fulfillment:status-change", { orderId: "ord-b", tag: "bob-only" });
    for (const e of ADMIN_EVENTS) await gw.publish(e, { tag: e });
    const marker = once(adminSubscribed, "admin:webhook-received");
    await gw.publish("admin:webhook-received", { tag: "end" });
    await marker;
    await until(() => rec.alice.length === 4 && rec.alice2.length === 4 && rec.bob.length === 1 && rec.admin.length === 8, 5000, "deliveries");
    await sleep(100); // anything extra would have arrived by now
    const tags = (r) => r.map((x) => x.data.tag);
    assert.deepEqual(tags(rec.alice), ORDER_EVENTS);
    assert.deepEqual(tags(rec.alice2), ORDER_EVENTS);
    assert.deepEqual(tags(rec.bob), ["bob-only"]);
    const adminExpected = [...ORDER_EVENTS, "bob-only", ...ADMIN_EVENTS, "end"];
    assert.deepEqual(tags(rec.admin), adminExpected);
    assert.deepEqual(tags(rec.adminSubscribed), adminExpected, "admin + subscriber gets each event once");
    for (const s of [alice, alice2, bob, admin, adminSubscribed]) s.disconnect();
  });

  it("a batch publish is delivered in order, to every recipient", async () => {
    // 300 events: each socket's frames are combined into gathered writes of up to 32 frames.
    const sockets = [await gw.connect(userToken("alice")), await gw.connect(userToken("alice"), { transports: ["websocket"] })];
    for (const s of sockets) await request(s, "subscribe:order", { orderId: "ord-a" });
    const admin = await gw.connect(adminToken(), { transports: ["websocket"] });
    const recorders = [...sockets, admin].map((s) => recorder(s, ALL_EVENTS));
    const batch = Array.from({ length: 300 }, (_, i) => ({ event: "fulfillment:status-change", data: { orderId: "ord-a", i } }));
    assert.equal((await gw.api("POST", "/api/v1/events", batch)).status, 202);
    for (const got of recorders) {
      await until(() => got.length === 300, 5000, "300 events");
      assert.deepEqual(got.map((e) => e.data.i), batch.map((b) => b.data.i));
    }
    for (const s of [...sockets, admin]) s.disconnect();
  });

  it("after unsubscribe the socket gets nothing more for that order", async () => {
    const alice = await gw.connect(userToken("alice"));
    await request(alice, "subscribe:order", { orderId: "ord-a" });
    await request(alice, "unsubscribe:order", { orderId: "ord-a" });
    const rec = recorder(alice, ALL_EVENTS);
    const admin = await gw.connect(adminToken());
    const seen = once(admin, "fulfillment:status-change");
    await gw.publish("fulfillment:status-change", { orderId: "ord-a" });
    await seen;
    await sleep(100);
    assert.equal(rec.length, 0);
    alice.disconnect();
    admin.disconnect();
  });

  it("delivers the data exactly as published, adding timestamp only when absent", async () => {
    const alice = await gw.connect(userToken("alice"));
    await request(alice, "subscribe:order", { orderId: "ord-a" });
    const raw =
      '{"event":"fulfillment:status-change","data":{"orderId":"ord-a","price":0.09853637216235617,"big":1e21,' +
      '"int":50,"neg":-0.5,"nested":{"a":[1,2,{"b":null}],"ü":"日本"},"flag":false}}';
    let got = once(alice, "fulfillment:status-change");
    let res = await gw.api("POST", "/api/v1/events", undefined, { raw });
    assert.equal(res.status, 202);
    let data = await got;
    const sent = JSON.parse(raw).data;
    assert.match(data.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const { timestamp, ...rest } = data;
    assert.deepEqual(rest, sent);
    assert.ok(Math.abs(Date.parse(timestamp) - Date.now()) < 60000);

    got = once(alice, "fulfillment:status-change");
    await gw.publish("fulfillment:status-change", { orderId: "ord-a", timestamp: "2020-01-01T00:00:00.000Z", x: 1 });
    data = await got;
    assert.deepEqual(data, { orderId: "ord-a", timestamp: "2020-01-01T00:00:00.000Z", x: 1 });
    alice.disconnect();
  });
});

describe("admin connection stats", () => {
  let gw;
  before(async () => {
    gw = await startGateway();
    await gw.registerOrder("ord-s1", "u1");
    await gw.registerOrder("ord-s2", "u2");
  });
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("counts sockets, admins, users and watched orders, and forgets disconnected sockets", async () => {
    const admin = await gw.connect(adminToken());
    const u1 = await gw.connect(userToken("u1"));
    const u1b = await gw.connect(userToken("u1"), { transports: ["polling"] });
    const u2 = await gw.connect(userToken("u2"));
    await request(u1, "subscribe:order", { orderId: "ord-s1" });
    await request(u1b, "subscribe:order", { orderId: "ord-s1" });
    await request(u2, "subscribe:order", { orderId: "ord-s2" });

    const emitted = once(admin, "admin:connection-stats");
    const stats = await request(admin, "admin:get-connections");
    assert.deepEqual(await emitted, stats);
    assert.equal(stats.totalConnected, 4);
    assert.equal(stats.admins, 1);
    assert.equal(stats.adminSubscribersCount, 1);
    assert.equal(stats.users, 3);
    assert.equal(stats.ordersBeingWatched, 2);
    assert.deepEqual(
      [...stats.watchedOrders].sort((a, b) => a.orderId.localeCompare(b.orderId)),
      [{ orderId: "ord-s1", subscribers: 2 }, { orderId: "ord-s2", subscribers: 1 }],
    );
    assert.match(stats.timestamp, /Z$/);

    u1.disconnect();
    u2.disconnect();
    await until(async () => (await request(admin, "admin:get-connections")).totalConnected === 2, 5000, "disconnect reflected");
    const after = await request(admin, "admin:get-connections");
    assert.equal(after.users, 1);
    assert.deepEqual(after.watchedOrders, [{ orderId: "ord-s1", subscribers: 1 }]);
    assert.equal(after.ordersBeingWatched, 1);
    u1b.disconnect();
    admin.disconnect();
  });

  it("the stats event without an ack still arrives", async () => {
    const admin = await gw.connect(adminToken());
    const emitted = once(admin, "admin:connection-stats");
    admin.emit("admin:get-connections");
    const stats = await emitted;
    assert.equal(typeof stats.totalConnected, "number");
    admin.disconnect();
  });

  it("refuses non-admins", async () => {
    const u = await gw.connect(userToken("u1"));
    const rec = recorder(u, ["admin:connection-stats"]);
    assert.deepEqual(await request(u, "admin:get-connections"), { ok: false, error: "forbidden" });
    await sleep(100);
    assert.equal(rec.length, 0);
    u.disconnect();
  });
});

describe("ownership survives a restart", () => {
  it("an order registered before a restart can be subscribed after it", async () => {
    let gw = await startGateway();
    const dataDir = gw.dataDir;
    const res = await gw.api("PUT", "/api/v1/orders/ord-persist", { userId: "carol", status: "created" });
    assert.equal(res.status, 201);
    assert.equal((await gw.api("PUT", "/api/v1/orders/ord-persist", { userId: "carol" })).status, 200);
    await gw.stop("SIGKILL");
    gw = await startGateway({ dataDir });
    try {
      const carol = await gw.connect(userToken("carol"));
      assertSubscribed(await request(carol, "subscribe:order", { orderId: "ord-persist" }), "ord-persist");
      const dave = await gw.connect(userToken("dave"));
      assert.equal((await request(dave, "subscribe:order", { orderId: "ord-persist" })).error, "forbidden");
    } finally {
      await gw.stop();
      gw.cleanup();
    }
  });
});
