// A token's exp holds on a live socket: `auth:expiring` before it, `auth:refresh` with a newer
// token of the same user keeps the socket, and without one the socket ends at exp with
// `auth:expired` and a server disconnect (which the stock client does not retry).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGateway, userToken, adminToken, request, until } from "./harness.mjs";

const inSeconds = (s) => Math.floor(Date.now() / 1000) + s;
const once = (socket, event) => new Promise((resolve) => socket.once(event, (...a) => resolve(a)));

describe("token lifetime on live sockets", () => {
  let gw;
  before(async () => (gw = await startGateway()));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("warns before exp, then ends the socket at exp when nothing refreshed it", async () => {
    const exp = inSeconds(4);
    const socket = await gw.connect(userToken("tl-1", { exp }));
    const [warning] = await once(socket, "auth:expiring");
    assert.equal(warning.expiresAt, new Date(exp * 1000).toISOString());
    assert.ok(Date.now() < exp * 1000, "warned before exp");
    const expired = once(socket, "auth:expired");
    const [reason] = await once(socket, "disconnect");
    assert.deepEqual((await expired)[0], { code: "token_expired" });
    assert.equal(reason, "io server disconnect"); // the stock client does not reconnect after this
    assert.ok(Date.now() >= exp * 1000 - 50, "not before exp");
    assert.equal(socket.active, false);
  });

  it("a refresh with a newer token of the same user keeps the socket and its subscriptions", async () => {
    await gw.registerOrder("tl-order", "tl-2");
    const socket = await gw.connect(userToken("tl-2", { exp: inSeconds(3) }));
    assert.equal((await request(socket, "subscribe:order", { orderId: "tl-order" })).ok, true);
    await once(socket, "auth:expiring");
    // refused: another user's token, an admin token for a user's socket, garbage
    assert.deepEqual(await request(socket, "auth:refresh", { token: userToken("someone-else", { exp: inSeconds(600) }) }), { ok: false, error: "forbidden" });
    assert.deepEqual(await request(socket, "auth:refresh", { token: adminToken("tl-2") }), { ok: false, error: "forbidden" });
    assert.deepEqual(await request(socket, "auth:refresh", { token: "not.a.token" }), { ok: false, error: "token_invalid" });
    assert.deepEqual(await request(socket, "auth:refresh", {}), { ok: false, error: "invalid" });
    const next = inSeconds(600);
    const ack = await request(socket, "auth:refresh", { token: userToken("tl-2", { exp: next }) });
    assert.deepEqual(ack, { ok: true, expiresAt: new Date(next * 1000).toISOString() });
    let ended = false;
    socket.on("auth:expired", () => (ended = true));
    await new Promise((r) => setTimeout(r, 4000)); // past the old exp
    assert.equal(socket.connected, true);
    assert.equal(ended, false);
    const got = once(socket, "fulfillment:status-change");
    await gw.publish("fulfillment:status-change", { orderId: "tl-order", status: "processing" });
    assert.equal((await got)[0].orderId, "tl-order");
    socket.disconnect();
  });

  it("a token without exp never expires on the socket", async () => {
    const socket = await gw.connect(userToken("tl-3", { exp: undefined }));
    let warned = false;
    socket.on("auth:expiring", () => (warned = true));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(warned, false);
    await until(() => socket.connected);
    socket.disconnect();
  });
});
