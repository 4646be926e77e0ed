// The server-to-server HTTP API, CORS and process start-up rules.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import WebSocket from "ws";
import { startGateway, runBinary, userToken, JWT_SECRET, API_KEY } from "./harness.mjs";

describe("publish and order API", () => {
  let gw;
  before(async () => (gw = await startGateway()));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  async function expectError(res, status, code) {
    assert.equal(res.status, status);
    assert.match(res.headers.get("content-type"), /application\/json/);
    const body = await res.json();
    assert.equal(body.error, code);
    assert.equal(typeof body.message, "string");
    assert.ok(body.message.length > 0);
  }

  it("requires the API key", async () => {
    await expectError(await gw.api("POST", "/api/v1/events", { event: "payment:confirmed", data: { orderId: "o" } }, { key: null }), 401, "unauthorized");
    await expectError(await gw.api("POST", "/api/v1/events", { event: "payment:confirmed", data: { orderId: "o" } }, { key: "wrong" }), 401, "unauthorized");
    await expectError(await gw.api("PUT", "/api/v1/orders/o1", { userId: "u" }, { key: API_KEY + "x" }), 401, "unauthorized");
    await expectError(await gw.api("PUT", "/api/v1/orders/o1", { userId: "u" }, { key: null, headers: { authorization: API_KEY } }), 401, "unauthorized");
  });

  it("accepts every known event with 202", async () => {
    for (const event of ["fulfillment:status-change", "payment:confirmed", "fulfillment:key-delivered", "fulfillment:error"]) {
      assert.equal((await gw.api("POST", "/api/v1/events", { event, data: { orderId: "o1" } })).status, 202);
    }
    for (const event of ["admin:job-queue-event", "admin:webhook-received"]) {
      assert.equal((await gw.api("POST", "/api/v1/events", { event, data: { jobId: "j" } })).status, 202);
    }
  });

  it("rejects bad publish requests with 400 and a JSON error", async () => {
    await expectError(await gw.api("POST", "/api/v1/events", { event: "nope", data: { orderId: "o" } }), 400, "unknown_event");
    await expectError(await gw.api("POST", "/api/v1/events", { data: { orderId: "o" } }), 400, "unknown_event");
    await expectError(await gw.api("POST", "/api/v1/events", { event: "payment:confirmed", data: {} }), 400, "missing_order_id");
    await expectError(await gw.api("POST", "/api/v1/events", { event: "payment:confirmed", data: { orderId: "" } }), 400, "missing_order_id");
    await expectError(await gw.api("POST", "/api/v1/events", { event: "payment:confirmed", data: { orderId: 12 } }), 400, "missing_order_id");
    await expectError(await gw.api("POST", "/api/v1/events", { event: "payment:confirmed" }), 400, "invalid_body");
    await expectError(await gw.api("POST", "/api/v1/events", { event: "payment:confirmed", data: [1] }), 400, "invalid_body");
    await expectError(await gw.api("POST", "/api/v1/events", undefined, { raw: "{not json" }), 400, "malformed_json");
    await expectError(await gw.api("POST", "/api/v1/events", undefined, { raw: "" }), 400, "malformed_json");
    await expectError(await gw.api("POST", "/api/v1/events", undefined, { raw: "[1,2]" }), 400, "invalid_body");
    const huge = JSON.stringify({ event: "payment:confirmed", data: { orderId: "o", pad: "x".repeat(2_000_000) } });
    await expectError(await gw.api("POST", "/api/v1/events", undefined, { raw: huge }), 400, "payload_too_large");
    // the gateway is still healthy afterwards
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
  });

  it("accepts a batch of events, all or nothing", async () => {
    const ok = await gw.api("POST", "/api/v1/events", [
      { event: "payment:confirmed", data: { orderId: "b1" } },
      { event: "admin:webhook-received", data: { provider: "x" } },
    ]);
    assert.equal(ok.status, 202);
    assert.deepEqual(await ok.json(), { status: "accepted", accepted: 2 });
    await expectError(await gw.api("POST", "/api/v1/events", []), 400, "invalid_body");
    const bad = await gw.api("POST", "/api/v1/events", [{ event: "payment:confirmed", data: { orderId: "b1" } }, { event: "nope", data: {} }]);
    assert.equal(bad.status, 400);
    const body = await bad.json();
    assert.equal(body.error, "unknown_event");
    assert.match(body.message, /element 1/);
  });

  it("registers orders: 201 created, 200 updated, validation errors", async () => {
    let res = await gw.api("PUT", "/api/v1/orders/ord-api-1", { userId: "alice", status: "created" });
    assert.equal(res.status, 201);
    const created = await res.json();
    assert.equal(created.orderId, "ord-api-1");
    assert.equal(created.userId, "alice");
    assert.equal(created.status, "created");
    res = await gw.api("PUT", "/api/v1/orders/ord-api-1", { userId: "alice", status: "paid" });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, "paid");
    await expectError(await gw.api("PUT", "/api/v1/orders/ord-api-2", {}), 400, "invalid_body");
    await expectError(await gw.api("PUT", "/api/v1/orders/ord-api-2", { userId: "" }), 400, "invalid_body");
    await expectError(await gw.api("PUT", "/api/v1/orders/ord-api-2", { userId: 5 }), 400, "invalid_body");
    await expectError(await gw.api("PUT", "/api/v1/orders/ord-api-2", undefined, { raw: "nope" }), 400, "malformed_json");
    await expectError(await gw.api("PUT", "/api/v1/orders/" + "x".repeat(300), { userId: "u" }), 400, "invalid_order_id");
    await expectError(await gw.api("PUT", "/api/v1/orders/a%20b", { userId: "u" }), 400, "invalid_order_id");
    await expectError(await gw.api("GET", "/api/v1/events"), 405, "method_not_allowed");
    await expectError(await gw.api("GET", "/api/v1/nothing-here"), 404, "not_found");
  });
});

describe("CORS", () => {
  let gw;
  before(async () => (gw = await startGateway({ env: { CORS_ORIGINS: "http://app.example, http://localhost:3000" } })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("answers the preflight and allows credentials for a listed origin", async () => {
    const res = await fetch(`${gw.url}/socket.io/?EIO=4&transport=polling`, {
      method: "OPTIONS",
      headers: { origin: "http://app.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "http://app.example");
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    assert.match(res.headers.get("access-control-allow-methods"), /POST/);
    const poll = await fetch(`${gw.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: "http://localhost:3000" } });
    assert.equal(poll.status, 200);
    assert.equal(poll.headers.get("access-control-allow-origin"), "http://localhost:3000");
  });

  it("refuses a polling handshake from an unlisted origin (no session), allows its own origin", async () => {
    const res = await fetch(`${gw.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: "http://evil.example" } });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    const own = await fetch(`${gw.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: `http://127.0.0.1:${gw.port}` } });
    assert.equal(own.status, 200);
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/socket.io/?EIO=4&transport=websocket`, { origin: `http://127.0.0.1:${gw.port}` });
    const first = await new Promise((resolve, reject) => {
      ws.on("message", (d) => resolve(d.toString()));
      ws.on("error", reject);
    });
    assert.match(first, /^0\{/);
    ws.close();
  });

  it("refuses a WebSocket upgrade from an unlisted origin and accepts a listed one", async () => {
    const bad = new WebSocket(`ws://127.0.0.1:${gw.port}/socket.io/?EIO=4&transport=websocket`, { origin: "http://evil.example" });
    const status = await new Promise((resolve) => {
      bad.on("unexpected-response", (_req, res) => resolve(res.statusCode));
      bad.on("open", () => resolve("open"));
      bad.on("error", () => {});
    });
    assert.equal(status, 403);
    const good = new WebSocket(`ws://127.0.0.1:${gw.port}/socket.io/?EIO=4&transport=websocket`, { origin: "http://app.example" });
    const first = await new Promise((resolve, reject) => {
      good.on("message", (d) => resolve(d.toString()));
      good.on("error", reject);
    });
    assert.match(first, /^0\{/);
    good.close();
  });
});

describe("process start-up", () => {
  it("refuses to start without JWT_SECRET, naming it", () => {
    const r = runBinary(["--port", "0", "--data-dir", "/tmp/fg-startup"], { API_KEY });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /JWT_SECRET/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  it("refuses to start without API_KEY, naming it", () => {
    const r = runBinary(["--port", "0", "--data-dir", "/tmp/fg-startup"], { JWT_SECRET });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /API_KEY/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  it("refuses to start when the port is taken", async () => {
    const blocker = net.createServer();
    await new Promise((r) => blocker.listen(0, "127.0.0.1", r));
    const port = blocker.address().port;
    try {
      const r = runBinary(["--host", "127.0.0.1", "--port", String(port), "--data-dir", "/tmp/fg-startup"], { JWT_SECRET, API_KEY });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`port ${port}.*in use`));
      assert.equal(r.stderr.trim().split("\n").length, 1);
    } finally {
      blocker.close();
    }
  });

  it("--help documents the options", () => {
    const r = runBinary(["--help"], {});
    assert.equal(r.code, 0);
    for (const opt of ["--port", "--data-dir", "--jwt-secret", "--api-key", "--cors-origins", "--ping-interval", "--ping-timeout", "--max-payload"]) {
      assert.ok(r.stdout.includes(opt), opt);
    }
  });

  it("the token subcommand mints a token the gateway accepts", async () => {
    const r = runBinary(["token", "--sub", "minted", "--role", "admin"], { JWT_SECRET });
    assert.equal(r.code, 0);
    const gw = await startGateway();
    try {
      const s = await gw.connect(r.stdout.trim(), { transports: ["websocket"] });
      assert.ok(s.connected);
    } finally {
      await gw.stop();
      gw.cleanup();
    }
  });
});

describe("session bound", () => {
  it("refuses new sessions past --max-sessions with 503 and accepts again when one closes", async () => {
    const gw = await startGateway({ args: ["--max-sessions", "2"] });
    try {
      const open = async () => fetch(`${gw.url}/socket.io/?EIO=4&transport=polling`);
      const a = await open();
      const b = await open();
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      const c = await open();
      assert.equal(c.status, 503);
      assert.equal(c.headers.get("retry-after"), "5");
      const sid = JSON.parse((await a.text()).slice(1)).sid;
      await fetch(`${gw.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: "POST", body: "1" });
      const last = await fetch(`${gw.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
      assert.equal(await last.text(), "6", "the client's close is answered on its next GET");
      const d = await open();
      assert.equal(d.status, 200);
    } finally {
      await gw.stop();
      gw.cleanup();
    }
  });
});
