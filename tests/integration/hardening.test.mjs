// Regression tests for the hardening issue: each test fails on the build before its fix.
// Money and keys, unauthenticated resource bounds, HTTP framing, and two contract deviations.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import http from "node:http";
import { mkdtempSync, writeFileSync, statSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import WebSocket from "ws";
import {
  startGateway, spawnReady, runBinary, userToken, adminToken, recorder, request, until, sleep, JWT_SECRET, API_KEY, assertSubscribed } from "./harness.mjs";

const ORDER_EVENTS = ["payment:confirmed", "fulfillment:status-change", "fulfillment:key-delivered", "fulfillment:error"];
const ADMIN_EVENTS = [...ORDER_EVENTS, "admin:job-queue-event", "admin:webhook-received"];
let paymentSeq = 7_000_000_000;
const ipn = (orderId, status = "finished", payment_id = paymentSeq++) => ({
  payment_id, payment_status: status, order_id: orderId, price_amount: 10, price_currency: "usd",
  pay_amount: 0.01, actually_paid: 0.01, pay_currency: "eth", payin_hash: "0xabc",
});

// A raw TCP connection from `localAddress`; resolves once connected.
function rawConnect(port, localAddress = "127.0.0.1") {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, localAddress });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}
// Sends `text` on a fresh connection and resolves with everything the server sent before closing.
function rawExchange(port, text, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port });
    let got = "";
    const t = setTimeout(() => {
      s.destroy();
      resolve(got);
    }, timeoutMs);
    s.on("data", (d) => (got += d.toString("latin1")));
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(t);
      resolve(got);
    });
    s.once("connect", () => s.write(text));
    s.once("error", reject);
  });
}
function healthFrom(port, localAddress) {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/healthz", localAddress, timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("error", (e) => resolve(e.code));
    req.on("timeout", () => req.destroy());
  });
}
const pollHandshake = (gw, headers = {}) => fetch(`${gw.url}/socket.io/?EIO=4&transport=polling`, { headers });

describe("money and keys", () => {
  let gw;
  before(async () => (gw = await startGateway({ env: { SUPPLIER_SIM_LATENCY_MS: "600", REVEALS_PER_MINUTE: "3" } })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("a refund while the job runs stops it: no key-delivered, nothing revealable, admins told, retry refused", async () => {
    const token = userToken("refund-shopper");
    const order = await gw.createOrder(token, [{ productId: "game-r", quantity: 1 }]);
    const shopper = await gw.connect(token);
    await request(shopper, "subscribe:order", { orderId: order.orderId });
    const admin = await gw.connect(adminToken());
    const got = recorder(shopper, ORDER_EVENTS);
    const adminGot = recorder(admin, ADMIN_EVENTS);
    const paymentId = paymentSeq++;
    assert.equal((await gw.ipn(ipn(order.orderId, "finished", paymentId))).status, 200);
    await until(() => got.some((e) => e.event === "fulfillment:status-change" && e.data.status === "processing"), 5000, "processing");
    assert.equal((await gw.ipn(ipn(order.orderId, "refunded", paymentId))).status, 200);
    await until(() => adminGot.some((e) => e.event === "admin:job-queue-event" && e.data.reason === "order_left_processing"), 10000,
      "job stopped");
    await sleep(1500); // a job that kept going would deliver within the supplier's latency
    assert.ok(!got.some((e) => e.event === "fulfillment:key-delivered"), "no key-delivered");
    assert.ok(!got.some((e) => e.data.status === "fulfilled"), "never fulfilled");
    const stop = got.find((e) => e.event === "fulfillment:error" && e.data.code === "fulfillment_stopped");
    assert.ok(stop, JSON.stringify(got.map((e) => [e.event, e.data.code ?? e.data.status])));
    assert.equal(typeof stop.data.error, "string");
    const snap = await (await gw.get(`/api/v1/orders/${order.orderId}`, token)).json();
    assert.equal(snap.status, "failed");
    assert.ok(snap.items.every((i) => !i.signedUrl && i.status !== "delivered"), JSON.stringify(snap.items));
    const tl = await (await gw.get(`/api/v1/orders/${order.orderId}/events`, token)).json();
    assert.ok(tl.events.some((e) => e.event === "fulfillment:error" && e.data.code === "fulfillment_stopped"));
    assert.ok(!tl.events.some((e) => e.event === "fulfillment:key-delivered"));
    const retry = await gw.api("POST", `/api/v1/jobs/${snap.jobId}/retry`);
    assert.equal(retry.status, 409);
    assert.equal((await retry.json()).error, "payment_not_completed");
  });

  it("key links go to the owner only: admins get the fulfilled event without them, the timeline stores none", async () => {
    const token = userToken("links-shopper");
    const order = await gw.createOrder(token);
    const shopper = await gw.connect(token);
    await request(shopper, "subscribe:order", { orderId: order.orderId });
    const admin = await gw.connect(adminToken());
    const watching = await gw.connect(adminToken("admin-2"));
    await request(watching, "subscribe:order", { orderId: order.orderId });
    const got = recorder(shopper, ORDER_EVENTS);
    const adminGot = recorder(admin, ORDER_EVENTS);
    const watchGot = recorder(watching, ORDER_EVENTS);
    await gw.ipn(ipn(order.orderId));
    const done = (list) => list.find((e) => e.event === "fulfillment:status-change" && e.data.status === "fulfilled");
    await until(() => done(got) && done(adminGot) && done(watchGot), 10000, "fulfilled everywhere");
    assert.ok(done(got).data.items.every((i) => /^\/api\/v1\/keys\//.test(i.signedUrl)), "owner gets links");
    for (const list of [adminGot, watchGot]) {
      assert.equal(done(list).data.items.length, done(got).data.items.length);
      assert.ok(!JSON.stringify(list).includes("signedUrl"), "no link reaches an admin");
    }
    const tl = await (await gw.get(`/api/v1/orders/${order.orderId}/events`, adminToken())).json();
    assert.ok(!JSON.stringify(tl).includes("signedUrl") && !JSON.stringify(tl).includes("sig="), "timeline stores no link");

    // reveals per order are rate-limited (REVEALS_PER_MINUTE=3), with Retry-After
    const url = done(got).data.items[0].signedUrl;
    for (let i = 0; i < 3; i++) assert.equal((await fetch(gw.url + url)).status, 200);
    const limited = await fetch(gw.url + url);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);

    // the timeline pages: ?limit and ?after, with nextAfter
    const page1 = await (await gw.get(`/api/v1/orders/${order.orderId}/events?limit=2`, token)).json();
    assert.equal(page1.events.length, 2);
    assert.equal(page1.nextAfter, page1.events[1].seq);
    const page2 = await (await gw.get(`/api/v1/orders/${order.orderId}/events?after=${page1.nextAfter}&limit=500`, token)).json();
    assert.equal(page2.events[0].seq, page1.nextAfter + 1);
    assert.equal(page2.nextAfter, null);
    for (const q of ["limit=0", "limit=501", "after=-1", "limit=abc"]) {
      assert.equal((await gw.get(`/api/v1/orders/${order.orderId}/events?${q}`, token)).status, 400, q);
    }
  });

  it("every file under the data dir is the owner's alone (0700 dirs, 0600 files)", () => {
    const dirMode = statSync(gw.dataDir).mode & 0o777;
    assert.equal(dirMode, 0o700);
    const files = readdirSync(gw.dataDir, { recursive: true });
    assert.ok(files.includes("gateway.db") && files.includes("master.key"));
    for (const f of files) {
      const st = statSync(path.join(gw.dataDir, f));
      assert.equal(st.mode & 0o777, st.isDirectory() ? 0o700 : 0o600, f);
    }
  });

  it("fulfillment:error carries `error`; an out-of-order IPN is recorded and emits nothing", async () => {
    const token = userToken("ooo-shopper");
    const failing = await gw.createOrder(token);
    const order = await gw.createOrder(token);
    const shopper = await gw.connect(token);
    await request(shopper, "subscribe:order", { orderId: failing.orderId });
    await request(shopper, "subscribe:order", { orderId: order.orderId });
    const got = recorder(shopper, ORDER_EVENTS);
    await gw.ipn(ipn(failing.orderId, "expired"));
    await until(() => got.some((e) => e.event === "fulfillment:error"), 5000, "error event");
    const err = got.find((e) => e.event === "fulfillment:error").data;
    assert.equal(typeof err.error, "string");
    assert.ok(err.error.length > 0 && err.severity && err.retryable === false && err.timestamp);

    const paymentId = paymentSeq++;
    await gw.ipn(ipn(order.orderId, "finished", paymentId));
    await until(() => got.some((e) => e.data.orderId === order.orderId && e.data.status === "fulfilled"), 10000, "fulfilled");
    const before = got.length;
    const tlBefore = (await (await gw.get(`/api/v1/orders/${order.orderId}/events?limit=500`, token)).json()).events.length;
    for (const late of ["waiting", "confirming", "finished"]) {
      const res = await gw.ipn(ipn(order.orderId, late, paymentId));
      assert.equal(res.status, 200);
      assert.ok(["ignored", "duplicate"].includes((await res.json()).status), late);
    }
    await sleep(300);
    assert.equal(got.length, before, JSON.stringify(got.slice(before)));
    const tlAfter = (await (await gw.get(`/api/v1/orders/${order.orderId}/events?limit=500`, token)).json()).events.length;
    assert.equal(tlAfter, tlBefore);
  });
});

describe("secrets at start-up", () => {
  const env = { JWT_SECRET, API_KEY };
  const dirs = [];
  const fresh = () => {
    const d = mkdtempSync(path.join(tmpdir(), "fg-secret-"));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("refuses an empty or short url-signing.secret, an empty master.key and a short URL_SIGNING_SECRET, in one line", () => {
    const cases = [
      ["url-signing.secret", "", {}, /url-signing\.secret.*empty/],
      ["url-signing.secret", "short\n", {}, /url-signing\.secret.*only 5 characters/],
      ["master.key", "", {}, /master\.key/],
      [null, null, { URL_SIGNING_SECRET: "tooshort" }, /URL_SIGNING_SECRET is too short/],
      [null, null, { JWT_SECRET: "x" }, /JWT_SECRET is too short/],
    ];
    for (const [file, content, extra, pattern] of cases) {
      const dir = fresh();
      if (file) writeFileSync(path.join(dir, file), content);
      const r = runBinary(["--host", "127.0.0.1", "--port", "0", "--data-dir", dir], { ...env, ...extra });
      assert.notEqual(r.code, 0, `${file ?? Object.keys(extra)} accepted`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  });

  it("generates missing secrets as complete 0600 files, and demo mode binds to loopback and says so", async () => {
    const dir = fresh();
    const { child, stderr } = await spawnReady(["--demo", "--demo-interval", "0", "--port", "0", "--data-dir", dir], env);
    try {
      for (const f of ["url-signing.secret", "master.key", "ipn.secret"]) {
        const st = statSync(path.join(dir, f));
        assert.equal(st.mode & 0o777, 0o600, f);
        assert.ok(st.size >= 16, f);
      }
      assert.ok(!readdirSync(dir).some((f) => f.endsWith(".tmp")));
      assert.match(stderr(), /127\.0\.0\.1 only/);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
});

describe("webhooks from anyone", () => {
  let gw;
  before(async () => (gw = await startGateway({ env: { MAX_WEBHOOK_BODY: "65536" } })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("a forged IPN is stored as bounded metadata and summarised to admins once, without its strings", async () => {
    const admin = await gw.connect(adminToken());
    const adminGot = recorder(admin, ["admin:webhook-received"]);
    const dbSize = () => readdirSync(gw.dataDir).filter((f) => f.startsWith("gateway.db"))
      .reduce((n, f) => n + statSync(path.join(gw.dataDir, f)).size, 0);
    const start = dbSize();
    const filler = "A".repeat(60000);
    const body = JSON.stringify({ payment_status: "finished", order_id: "ord_<script>", payment_id: 1, filler });
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${gw.url}/webhooks/nowpayments`, {
        method: "POST", headers: { "content-type": "application/json", "x-nowpayments-sig": "ab".repeat(64) }, body,
      });
      assert.equal(res.status, 401);
    }
    await until(() => adminGot.length >= 30, 5000, "summaries");
    await sleep(200);
    assert.equal(adminGot.length, 30, "one summary per call");
    for (const { data } of adminGot) {
      assert.equal(data.status, "failed");
      assert.equal(data.bodyBytes, body.length);
      assert.ok(!JSON.stringify(data).includes("script") && !JSON.stringify(data).includes("AAAA"), JSON.stringify(data));
    }
    // 30 × 60 KB bodies stored in full would add 1.8 MB (3.6 MB with their WAL copies). What is kept
    // is a bounded record and its summary in the delivery log: a few 4 KiB pages per call in the WAL.
    assert.ok(dbSize() - start < 1_000_000, `database grew by ${dbSize() - start} bytes`);
  });

  it("refuses oversized webhook bodies and malformed signatures before any parsing", async () => {
    const big = await fetch(`${gw.url}/webhooks/nowpayments`, {
      method: "POST", headers: { "content-type": "application/json", "x-nowpayments-sig": "ab".repeat(64) },
      body: JSON.stringify({ filler: "B".repeat(70000) }),
    });
    assert.equal(big.status, 413);
    const bad = await fetch(`${gw.url}/webhooks/nowpayments`, {
      method: "POST", headers: { "content-type": "application/json", "x-nowpayments-sig": "not-hex" }, body: "{}",
    });
    assert.equal(bad.status, 401);
    assert.match((await bad.json()).message, /128 hex/);
  });
});

describe("sessions from anyone", () => {
  let gw;
  before(async () => (gw = await startGateway({
    env: { MAX_SESSIONS: "40", MAX_PENDING_SESSIONS: "10", MAX_PENDING_SESSIONS_PER_IP: "8", CONNECT_TIMEOUT: "1500" },
  })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("a flood of anonymous handshakes recycles its own slots: a real client still connects", async () => {
    for (let i = 0; i < 60; i++) assert.equal((await pollHandshake(gw)).status, 200);
    const socket = await gw.connect(userToken("real-user"));
    assert.ok(socket.connected);
    socket.disconnect();
  });

  it("a session that joins no namespace is gone after the connect timeout (no linger)", async () => {
    const res = await pollHandshake(gw);
    const { sid } = JSON.parse((await res.text()).slice(1));
    await sleep(2500);
    const poll = await fetch(`${gw.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(poll.status, 400);
    assert.equal((await poll.json()).code, 1, "unknown sid");
  });

  it("binary packets are refused before CONNECT and on /fulfillment, without buffering attachments", async () => {
    const open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/socket.io/?EIO=4&transport=websocket`);
      const closed = new Promise((r) => ws.on("close", () => r(true)));
      await new Promise((r) => ws.once("message", r)); // the open packet
      return { ws, closed };
    };
    const early = await open();
    early.ws.send('451-/fulfillment,["x",{"_placeholder":true,"num":0}]');
    assert.equal(await Promise.race([early.closed, sleep(3000).then(() => false)]), true, "closed before CONNECT");

    const joined = await open();
    joined.ws.send(`40/fulfillment,${JSON.stringify({ token: userToken("binary-user") })}`);
    await new Promise((resolve) => joined.ws.on("message", (d) => String(d).startsWith("40/fulfillment") && resolve()));
    joined.ws.send('451-/fulfillment,["subscribe:order",{"_placeholder":true,"num":0}]');
    assert.equal(await Promise.race([joined.closed, sleep(3000).then(() => false)]), true, "closed on /fulfillment");
  });
});

describe("binary attachments on a namespace that takes them (conformance mode, maxPayload 1000000)", () => {
  let proc;
  before(async () => (proc = await spawnReady(["conformance", "--host", "127.0.0.1", "--port", "0"], { LOG_LEVEL: "warn" })));
  after(async () => {
    proc.child.kill("SIGTERM");
    await new Promise((r) => proc.child.once("exit", r));
  });

  const joined = async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proc.port}/socket.io/?EIO=4&transport=websocket`);
    const messages = [];
    const closed = new Promise((r) => ws.on("close", () => r(true)));
    ws.on("message", (d, binary) => messages.push(binary ? d : String(d)));
    await until(() => messages.length >= 1, 3000, "open");
    ws.send("40");
    await until(() => messages.some((m) => typeof m === "string" && m.startsWith("40")), 3000, "connect");
    return { ws, messages, closed };
  };

  it("a packet whose attachments together exceed maxPayload closes the session; one within it is echoed", async () => {
    const small = await joined();
    small.ws.send('451-["message",{"_placeholder":true,"num":0}]');
    small.ws.send(Buffer.alloc(600_000, 1));
    await until(() => small.messages.some((m) => typeof m === "string" && m.startsWith("451-")), 5000, "echo");
    small.ws.close();

    const big = await joined();
    big.ws.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    big.ws.send(Buffer.alloc(600_000, 1));
    big.ws.send(Buffer.alloc(600_000, 2));
    assert.equal(await Promise.race([big.closed, sleep(5000).then(() => false)]), true, "closed");
    assert.ok(!big.messages.some((m) => typeof m === "string" && m.startsWith("452-")), "nothing echoed");
  });
});

describe("per-address limits", () => {
  let gw;
  before(async () => (gw = await startGateway({
    env: { HANDSHAKES_PER_IP: "0.5", HANDSHAKE_BURST_PER_IP: "3", MAX_CONNECTIONS_PER_IP: "12" },
  })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("handshakes per address are rate-limited with 429 and Retry-After", async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await pollHandshake(gw)).status);
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
    assert.equal(statuses[4], 429);
  });

  it("connections per address are bounded; another address is still served", async () => {
    const held = [];
    for (let i = 0; i < 20; i++) held.push(await rawConnect(gw.port).catch(() => null));
    await sleep(200);
    const open = held.filter((s) => s && !s.destroyed && s.readyState === "open");
    const closed = await Promise.all(held.map((s) => s && new Promise((r) => {
      if (s.destroyed) return r(true);
      s.once("close", () => r(true));
      setTimeout(() => r(false), 500);
    })));
    assert.ok(closed.filter(Boolean).length >= 8, `only ${closed.filter(Boolean).length} of 20 closed (open ${open.length})`);
    assert.equal(await healthFrom(gw.port, "127.0.0.2"), 200);
    held.forEach((s) => s?.destroy());
  });
});

describe("sessions per address, behind a trusted proxy", () => {
  let gw;
  before(async () => (gw = await startGateway({ args: ["--trust-proxy"], env: { MAX_SESSIONS_PER_IP: "2" } })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("counts open sessions by the forwarded address: 429 past the bound, other addresses unaffected", async () => {
    const from = (ip) => pollHandshake(gw, { "x-forwarded-for": `203.0.113.9, ${ip}` }).then((r) => r.status);
    assert.deepEqual([await from("198.51.100.1"), await from("198.51.100.1"), await from("198.51.100.1")], [200, 200, 429]);
    assert.equal(await from("198.51.100.2"), 200);
  });
});

describe("HTTP framing and slow clients", () => {
  let gw;
  before(async () => (gw = await startGateway({
    env: { HEADER_TIMEOUT: "1", MAX_INFLIGHT_BODY: "100000", MAX_CONNECTIONS: "40", CONNECTION_RESERVE: "15" },
  })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("answers 431 to oversized headers, 400 to Content-Length with Transfer-Encoding or an unknown coding", async () => {
    const big = await rawExchange(gw.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20000)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431/);
    const both = await rawExchange(gw.port,
      "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert.match(both, /^HTTP\/1\.1 400/);
    const gzip = await rawExchange(gw.port, "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n");
    assert.match(gzip, /^HTTP\/1\.1 400/);
  });

  it("routes an absolute-form target like origin-form", async () => {
    const res = await rawExchange(gw.port, `GET http://127.0.0.1:${gw.port}/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(res, /^HTTP\/1\.1 200/);
  });

  it("closes a connection that sends no request within the header timeout", async () => {
    const s = await rawConnect(gw.port);
    const closed = await new Promise((r) => {
      s.once("close", () => r(true));
      setTimeout(() => r(false), 4000);
    });
    assert.ok(closed);
  });

  it("bounds bytes of bodies still arriving across connections (503 past it)", async () => {
    const a = await rawConnect(gw.port);
    a.write("POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n" + "x".repeat(1000));
    await sleep(200);
    const b = await rawExchange(gw.port, "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n", { timeoutMs: 2000 });
    assert.match(b, /^HTTP\/1\.1 503/);
    a.destroy();
  });

  it("keeps a reserve for health checks: near the connection bound Engine.IO gets 503, /healthz 200", async () => {
    const idle = [];
    for (let i = 0; i < 28; i++) idle.push(await rawConnect(gw.port, `127.0.0.${3 + (i % 5)}`));
    await sleep(100);
    const eio = await fetch(`${gw.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(eio.status, 503);
    assert.equal(await healthFrom(gw.port, "127.0.0.9"), 200);
    idle.forEach((s) => s.destroy());
  });

  it("at the connection bound, an idle flood makes room for a health check", async () => {
    const idle = [];
    for (let i = 0; i < 45; i++) idle.push(await rawConnect(gw.port, `127.0.1.${1 + (i % 7)}`));
    await sleep(100);
    assert.equal(await healthFrom(gw.port, "127.0.0.9"), 200);
    idle.forEach((s) => s.destroy());
  });

  it("accepts only canonical base64url JWTs", async () => {
    const good = userToken("b64-user");
    const [h, p, s] = good.split(".");
    const err = await gw.connectError(`${h}.${p}=.${s}`);
    assert.equal(err.data.code, "token_invalid");
    const ok = await gw.connect(good);
    ok.disconnect();
  });

  it("answers subscribes to unknown orders from memory, and forgets an order once it is registered", async () => {
    const socket = await gw.connect(userToken("neg-user"));
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await request(socket, "subscribe:order", { orderId: "ord_later" }), { ok: false, orderId: "ord_later", error: "forbidden" });
    }
    await gw.registerOrder("ord_later", "neg-user");
    assertSubscribed(await request(socket, "subscribe:order", { orderId: "ord_later" }), "ord_later");
    socket.disconnect();
  });
});
