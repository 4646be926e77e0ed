// Connection state recovery with the stock socket.io-client: a client that comes back within the
// window (transport cut, kill -9 and restart) sees `socket.recovered === true` and every event it
// missed, in order, once; everything else gets a fresh session.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { startGateway, userToken, adminToken, sleep, until, request, JWT_SECRET } from "./harness.mjs";

const RECONNECT = { reconnection: true, reconnectionDelay: 150, reconnectionDelayMax: 300, randomizationFactor: 0 };

// Records `fulfillment:status-change` payload messages, in arrival order.
function track(socket) {
  const got = [];
  socket.on("fulfillment:status-change", (data) => got.push(data.message));
  return got;
}

function connected(socket) {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

async function publish(gw, orderId, message) {
  await gw.publish("fulfillment:status-change", { orderId, status: "processing", message });
}

// Cuts the transport as a network loss would (the client then reconnects by itself).
function cut(socket) {
  socket.io.engine.close();
}

describe("connection state recovery", () => {
  let gw;
  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  for (const transports of [["websocket"], ["polling"], ["polling", "websocket"]]) {
    it(`a transport cut over ${transports.join("→")} is recovered with every missed event once, in order`, async () => {
      const order = `rec-${transports.join("-")}`;
      await gw.registerOrder(order, "alice");
      const socket = gw.open(userToken("alice"), { ...RECONNECT, transports });
      await connected(socket);
      assert.equal(socket.recovered, false);
      const got = track(socket);
      assert.equal((await request(socket, "subscribe:order", { orderId: order })).ok, true);
      await publish(gw, order, "m1");
      await until(() => got.length === 1, 5000, "m1");
      if (transports.length === 2) await until(() => socket.io.engine.transport.name === "websocket", 5000, "upgrade");
      const firstId = socket.id;
      const back = new Promise((r) => socket.once("connect", r));
      socket.once("disconnect", () => {
        // published while the client is away
        publish(gw, order, "m2").then(() => publish(gw, order, "m3"));
      });
      cut(socket);
      await back;
      assert.equal(socket.recovered, true);
      assert.equal(socket.id, firstId, "the same sid");
      await publish(gw, order, "m4");
      await until(() => got.length >= 4, 5000, "m2..m4");
      await sleep(100);
      assert.deepEqual(got, ["m1", "m2", "m3", "m4"]);
      socket.disconnect();
    });
  }

  it("events carry their offset as the last argument; payloads are unchanged", async () => {
    await gw.registerOrder("rec-offset", "alice");
    const socket = await gw.connect(userToken("alice"));
    await request(socket, "subscribe:order", { orderId: "rec-offset" });
    const args = new Promise((r) => socket.once("fulfillment:status-change", (...a) => r(a)));
    await publish(gw, "rec-offset", "x");
    const [data, offset] = await args;
    assert.equal(data.message, "x");
    assert.equal(data.orderId, "rec-offset");
    assert.match(offset, /^[0-9]+$/);
    socket.disconnect();
  });

  it("a pid presented with another user's token recovers nothing, and its owner still can", async () => {
    await gw.registerOrder("rec-steal", "alice");
    const alice = gw.open(userToken("alice"), RECONNECT);
    await connected(alice);
    const got = track(alice);
    await request(alice, "subscribe:order", { orderId: "rec-steal" });
    await publish(gw, "rec-steal", "a1");
    await until(() => got.length === 1);
    const pid = alice._pid;
    assert.ok(pid && pid.length >= 22, "pid of at least 128 bits");
    // Take alice off the network without letting her reconnect yet.
    alice.io.reconnectionDelay(1500);
    alice.io.reconnectionDelayMax(1500);
    const aliceBack = new Promise((r) => alice.once("connect", r));
    cut(alice);
    await sleep(100);
    await publish(gw, "rec-steal", "a2");
    const mallory = io(`${gw.url}/fulfillment`, {
      auth: { token: userToken("mallory"), pid, offset: alice._lastOffset },
      forceNew: true,
      reconnection: false,
    });
    const stolen = track(mallory);
    await connected(mallory);
    assert.notEqual(mallory.id, alice.id);
    await sleep(200);
    assert.deepEqual(stolen, [], "nothing of alice's reaches mallory");
    mallory.disconnect();
    await aliceBack;
    assert.equal(alice.recovered, true, "the real owner still recovers");
    await until(() => got.length === 2);
    assert.deepEqual(got, ["a1", "a2"]);
    alice.disconnect();
  });

  it("a client back while its old socket lingers takes the session over; an explicit disconnect and an unknown pid give a fresh session", async () => {
    const a = await gw.connect(userToken("alice"));
    const { _pid: pid, _lastOffset: offset, id } = a;
    // The same client again while the server still holds its old socket (its transport died
    // unnoticed): the session moves to the new connection, the old socket is closed by the server.
    const aGone = new Promise((r) => a.once("disconnect", r));
    const twin = await gw.connect(undefined, { auth: { token: userToken("alice"), pid, offset } });
    assert.equal(twin.id, id, "the session continues on the new connection");
    assert.equal(await aGone, "io server disconnect", "the old socket is closed");
    twin.disconnect();
    await sleep(100);
    const after = await gw.connect(undefined, { auth: { token: userToken("alice"), pid, offset } });
    assert.notEqual(after.id, id, "disconnect() is never recoverable");
    const unknown = await gw.connect(undefined, { auth: { token: userToken("alice"), pid: "nope", offset: "1" } });
    assert.ok(unknown.id && unknown.id !== id && unknown._pid !== pid, "an unknown pid: a fresh session");
    for (const s of [after, unknown]) s.disconnect();
  });

  it("an offset the server never issued gives a fresh session and leaves the real one recoverable", async () => {
    const a = gw.open(userToken("alice"), { ...RECONNECT, reconnection: false });
    await connected(a);
    const { _pid: pid, id } = a;
    a.io.engine.close();
    await sleep(100);
    // A new client object cannot report `recovered` (the stock client compares with its own pid):
    // the session's sid in the CONNECT ack tells whether the server recovered it.
    for (const offset of ["abc", "-1", "99999999999"]) {
      const bad = await gw.connect(undefined, { auth: { token: userToken("alice"), pid, offset } });
      assert.notEqual(bad.id, id, `offset ${offset}: a fresh session`);
      bad.disconnect();
    }
    const good = await gw.connect(undefined, { auth: { token: userToken("alice"), pid } });
    assert.equal(good.id, id, "the real session is still recoverable");
    good.disconnect();
  });

  it("an expired token with a known pid gets connect_error token_expired", async () => {
    const a = gw.open(userToken("alice"), { ...RECONNECT, reconnection: false });
    await connected(a);
    const pid = a._pid;
    a.io.engine.close();
    await sleep(100);
    const now = Math.floor(Date.now() / 1000);
    const { sign } = await import("./harness.mjs");
    const expired = sign({ sub: "alice", iat: now - 100, exp: now - 50 });
    const err = await gw.connectError(undefined, { auth: { token: expired, pid } });
    assert.equal(err.data?.code, "token_expired");
  });

  it("admins recover admin events and every order event", async () => {
    await gw.registerOrder("rec-admin", "bob");
    const admin = gw.open(adminToken(), RECONNECT);
    await connected(admin);
    const got = track(admin);
    await publish(gw, "rec-admin", "b1");
    await until(() => got.includes("b1"));
    const back = new Promise((r) => admin.once("connect", r));
    admin.once("disconnect", () => publish(gw, "rec-admin", "b2"));
    cut(admin);
    await back;
    assert.equal(admin.recovered, true);
    await until(() => got.includes("b2"));
    assert.equal(got.filter((m) => m === "b2").length, 1);
    admin.disconnect();
  });
});

describe("recovery window", () => {
  it("a client back after the window gets a fresh session", async () => {
    const gw = await startGateway({ args: ["--recovery-window", "300"] });
    try {
      const socket = gw.open(userToken("alice"), { ...RECONNECT, reconnectionDelay: 1200, reconnectionDelayMax: 1200 });
      await connected(socket);
      const back = new Promise((r) => socket.once("connect", r));
      cut(socket);
      await back;
      assert.equal(socket.recovered, false);
      socket.disconnect();
    } finally {
      await gw.stop();
      gw.cleanup();
    }
  });

  it("recovery off (--recovery-window 0): no pid, no offsets", async () => {
    const gw = await startGateway({ args: ["--recovery-window", "0"] });
    try {
      await gw.registerOrder("off-1", "alice");
      const socket = await gw.connect(userToken("alice"));
      assert.equal(socket._pid, undefined);
      await request(socket, "subscribe:order", { orderId: "off-1" });
      const args = new Promise((r) => socket.once("fulfillment:status-change", (...a) => r(a)));
      await publish(gw, "off-1", "x");
      assert.equal((await args).length, 1);
      socket.disconnect();
    } finally {
      await gw.stop();
      gw.cleanup();
    }
  });
});

describe("recovery across a restart", () => {
  it("kill -9, restart on the same data dir: clients recover with what was published meanwhile", async () => {
    const first = await startGateway();
    const { dataDir, port } = first;
    let second;
    try {
      await first.registerOrder("crash-1", "alice");
      const socket = first.open(userToken("alice"), { ...RECONNECT, reconnectionDelay: 400, reconnectionDelayMax: 800 });
      await connected(socket);
      const got = track(socket);
      await request(socket, "subscribe:order", { orderId: "crash-1" });
      await publish(first, "crash-1", "c1");
      await until(() => got.length === 1);
      first.child.kill("SIGKILL");
      await new Promise((r) => first.child.once("exit", r));
      second = await startGateway({ dataDir, port });
      await publish(second, "crash-1", "c2");  // before the client is back
      await until(() => socket.connected && socket.recovered, 10000, "recovered after restart");
      await until(() => got.length >= 2);
      await publish(second, "crash-1", "c3");
      await until(() => got.length >= 3);
      await sleep(100);
      assert.deepEqual(got, ["c1", "c2", "c3"]);
      socket.disconnect();
    } finally {
      if (second) await second.stop();
      first.cleanup();
    }
  });
});
