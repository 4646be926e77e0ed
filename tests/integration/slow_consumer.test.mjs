// A client that stops reading must be cut off once its send queue passes --max-send-queue,
// while other clients keep receiving.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { startGateway, userToken, adminToken, request, until, once } from "./harness.mjs";

describe("slow consumers", () => {
  let gw;
  before(async () => {
    gw = await startGateway({ args: ["--max-send-queue", "262144"] });
    await gw.registerOrder("ord-slow", "slow-user");
  });
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  // A raw Socket.IO client over WebSocket, subscribed to `orderId`; it stops reading right away.
  async function pausedSubscriber(server, userId, orderId) {
    const raw = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    raw.on("error", () => {});
    const closed = new Promise((r) => raw.on("close", r));
    const frames = [];
    raw.on("message", (d) => frames.push(d.toString()));
    await until(() => frames.length >= 1, 5000, "handshake");
    raw.send(`40/fulfillment,${JSON.stringify({ token: userToken(userId) })}`);
    await until(() => frames.some((f) => f.startsWith("40/fulfillment,")), 5000, "connect");
    raw.send(`42/fulfillment,1["subscribe:order",{"orderId":${JSON.stringify(orderId)}}]`);
    await until(() => frames.some((f) => f.startsWith("43/fulfillment,1")), 5000, "subscribed");
    raw._socket.pause(); // stop reading: the kernel buffers fill, then the gateway's queue
    return { raw, closed, frames };
  }
  const slowSocket = () => pausedSubscriber(gw, "slow-user", "ord-slow");

  it("disconnects sockets that do not read — two in the same broadcast — others unaffected", async () => {
    const slow = [await slowSocket(), await slowSocket()];
    const admin = await gw.connect(adminToken(), { transports: ["websocket"] });
    let adminGot = 0;
    admin.on("fulfillment:status-change", () => adminGot++);
    const pad = "x".repeat(200_000);
    let published = 0;
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      const stats = await request(admin, "admin:get-connections");
      if (stats.totalConnected === 1) break; // both slow sockets are gone
      await gw.publish("fulfillment:status-change", { orderId: "ord-slow", pad });
      published++;
    }
    const stats = await request(admin, "admin:get-connections");
    assert.equal(stats.totalConnected, 1, `slow sockets still connected after ${published} events`);
    await until(() => adminGot === published, 10000, "admin deliveries");
    await until(() => (gw.stderr().match(/slow consumer/g) ?? []).length >= 2, 5000, "both cut-offs logged");
    admin.disconnect();
    for (const s of slow) s.raw.terminate();
  });

  it("a client that reads late still gets every frame, whole and in order", async () => {
    // The kernel buffers fill while it does not read, so frames are written in pieces and queued;
    // the queue (under --max-send-queue) drains when it reads again.
    const gw2 = await startGateway({ args: ["--max-send-queue", String(16 << 20)] });
    try {
      await gw2.registerOrder("ord-late", "late-user");
      const { raw, frames } = await pausedSubscriber(gw2, "late-user", "ord-late");
      const count = 100;
      const pad = "y".repeat(100_000); // 10 MB in all: more than the socket buffers hold
      for (let i = 0; i < count; i++) await gw2.publish("fulfillment:status-change", { orderId: "ord-late", i, pad });
      await new Promise((r) => setTimeout(r, 200));
      raw._socket.resume();
      const events = () => frames.filter((f) => f.startsWith("42/fulfillment,"));
      await until(() => events().length === count, 15000, "all frames after resuming");
      events().forEach((f, i) => {
        const [name, data] = JSON.parse(f.slice("42/fulfillment,".length));
        assert.equal(name, "fulfillment:status-change");
        assert.equal(data.i, i, "in order");
        assert.equal(data.pad, pad, "whole");
      });
      assert.equal(raw.readyState, WebSocket.OPEN);
      raw.close();
    } finally {
      await gw2.stop();
      gw2.cleanup();
    }
  });
});
