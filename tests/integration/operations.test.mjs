// Operations: /metrics (Prometheus text, checked by promtool and against a known run), the
// --metrics-listen address, JSON logs with request ids and structured fields, no secret in any
// log line of a full flow, per-client limits (socket events, API requests), JWT secret rotation.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  startGateway, userToken, adminToken, sign, request, until, recorder, once, sleep, metricValue, parseMetrics,
  API_KEY, JWT_SECRET, IPN_SECRET, URL_SIGNING_SECRET, KINGUIN_SECRET, assertSubscribed,
} from "./harness.mjs";

let paymentSeq = 7_000_000_000;
const ipnFor = (orderId, status = "finished") => ({
  payment_id: paymentSeq++,
  payment_status: status,
  price_amount: 20,
  price_currency: "usd",
  pay_amount: 0.01,
  actually_paid: 0.01,
  pay_currency: "eth",
  order_id: orderId,
  payin_hash: "0xabc",
});

function promtool(text) {
  // Exits non-zero (and throws) on any format or naming problem.
  return execFileSync("promtool", ["check", "metrics"], { input: text, stdio: ["pipe", "pipe", "pipe"] }).toString();
}

describe("metrics", () => {
  let gw;
  before(async () => (gw = await startGateway({ args: ["--metrics-token", "scrape-token-1"] })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("needs its bearer token, and passes promtool", async () => {
    assert.equal((await fetch(`${gw.url}/metrics`)).status, 401);
    const wrong = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(wrong.status, 401, "with --metrics-token set, the API key is not the metrics token");
    const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: "Bearer scrape-token-1" } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    promtool(text);
    for (const family of ["fg_connections", "fg_subscriptions", "fg_send_queue_bytes", "fg_deliveries_total",
      "fg_jobs", "fg_job_duration_seconds", "fg_store_call_duration_seconds", "fg_event_loop_lag_seconds",
      "fg_rate_limit_disconnects_total"]) {
      assert.match(text, new RegExp(`^# TYPE ${family} `, "m"), family);
    }
  });

  it("counts a known run: handshakes, connections by transport and role, subscriptions, publishes, deliveries, the flow", async () => {
    const before = await gw.metrics({ key: "scrape-token-1" });
    const token = userToken("metrics-shopper");
    const order = await gw.createOrder(token, [{ productId: "game-m", quantity: 1 }]);
    const shopper = await gw.connect(token); // websocket by default
    const poller = await gw.connect(userToken("metrics-poller"), { transports: ["polling"] });
    const admin = await gw.connect(adminToken("metrics-admin"));
    assert.equal((await gw.connectError("garbage")).data.code, "token_invalid");
    assertSubscribed(await request(shopper, "subscribe:order", { orderId: order.orderId }), order.orderId);
    const got = recorder(shopper, ["fulfillment:status-change"]);

    // gauges are refreshed at most once a second (counters are always current)
    let m;
    await until(async () => {
      m = await gw.metrics({ key: "scrape-token-1" });
      return metricValue(m, "fg_subscriptions") === 1;
    }, 5000, "fresh gauges");
    assert.equal(metricValue(m, "fg_connections", { transport: "websocket", role: "user" }), 1);
    assert.equal(metricValue(m, "fg_connections", { transport: "polling", role: "user" }), 1);
    assert.equal(metricValue(m, "fg_connections", { transport: "websocket", role: "admin" }), 1);
    assert.equal(metricValue(m, "fg_subscriptions"), 1);
    const delta = (name, labels = {}) => metricValue(m, name, labels) - metricValue(before, name, labels);
    assert.equal(delta("fg_handshakes_total", { layer: "socketio", result: "ok" }), 3);
    assert.equal(delta("fg_handshakes_total", { layer: "socketio", result: "token_invalid" }), 1);
    assert.equal(delta("fg_handshakes_total", { layer: "engineio", result: "ok" }), 4);

    // 3 publishes the shopper and the admin both receive: 6 deliveries (counted from here: creating
    // the order published its own first event)
    const mid = m;
    const since = (name, labels = {}) => metricValue(m, name, labels) - metricValue(mid, name, labels);
    for (let i = 0; i < 3; i++) await gw.publish("fulfillment:status-change", { orderId: order.orderId, status: "created", n: i });
    await until(() => got.length === 3, 5000, "three events");
    m = await gw.metrics({ key: "scrape-token-1" });
    assert.equal(since("fg_events_published_total", { event: "fulfillment:status-change" }), 3);
    assert.equal(since("fg_deliveries_total"), 6);
    const observed = since("fg_publish_to_write_seconds_count", { event: "fulfillment:status-change" });
    assert.ok(observed >= 3 && observed <= 6, `once per event and loop with recipients: ${observed}`);
    assert.equal(since("fg_http_requests_total", { route: "/api/v1/events", method: "POST", status: "202" }), 3);
    assert.equal(delta("fg_http_requests_total", { route: "/api/v1/orders", method: "POST", status: "201" }), 1);

    // the flow: an IPN, a job that succeeds, supplier calls, store transactions
    assert.equal((await gw.ipn(ipnFor(order.orderId))).status, 200);
    assert.equal((await gw.ipn(ipnFor(order.orderId), { sig: "0".repeat(128) })).status, 401);
    await until(() => got.some((e) => e.data.status === "fulfilled"), 10000, "fulfilled");
    await until(async () => {
      m = await gw.metrics({ key: "scrape-token-1" });
      return delta("fg_job_attempts_total", { outcome: "succeeded" }) === 1 && metricValue(m, "fg_jobs", { state: "completed" }) >= 1;
    }, 5000, "job counted");
    assert.equal(delta("fg_ipn_total", { provider: "nowpayments", outcome: "processed" }), 1);
    assert.equal(delta("fg_ipn_total", { provider: "nowpayments", outcome: "invalid_signature" }), 1);
    assert.equal(delta("fg_job_duration_seconds_count"), 1);
    assert.equal(delta("fg_supplier_request_duration_seconds_count", { operation: "place_order" }), 1);
    assert.equal(delta("fg_supplier_request_duration_seconds_count", { operation: "get_keys" }), 1);
    assert.ok(delta("fg_store_call_duration_seconds_count") >= 3);
    assert.ok(metricValue(m, "fg_jobs", { state: "completed" }) >= 1);
    assert.ok(metricValue(m, "fg_event_loop_lag_seconds", { loop: "0" }) >= 0);
    promtool(m.text);

    shopper.disconnect();
    poller.disconnect();
    admin.disconnect();
    await until(async () => metricValue(await gw.metrics({ key: "scrape-token-1" }), "fg_connections") === 0, 5000, "gauges back to 0");
  });

  it("an X-Request-Id is echoed (a usable one kept, anything else replaced)", async () => {
    const kept = await gw.api("GET", "/api/v1/jobs", undefined, { headers: { "x-request-id": "req-42.a:b" } });
    assert.equal(kept.headers.get("x-request-id"), "req-42.a:b");
    const replaced = await gw.api("GET", "/api/v1/jobs", undefined, { headers: { "x-request-id": "bad id\u00e9".repeat(3) } });
    assert.match(replaced.headers.get("x-request-id"), /^[A-Za-z0-9_-]{16}$/);
    const errors = await gw.api("GET", "/api/v1/nope");
    assert.equal(errors.status, 404);
    assert.match(errors.headers.get("x-request-id"), /^[A-Za-z0-9_-]{16}$/);
  });
});

describe("metrics on --metrics-listen", () => {
  let gw;
  before(async () => (gw = await startGateway({ args: ["--metrics-listen", "127.0.0.1:0"] })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("serves /metrics there without a token, and not on the main port", async () => {
    assert.ok(gw.metricsPort > 0 && gw.metricsPort !== gw.port);
    const res = await fetch(`http://127.0.0.1:${gw.metricsPort}/metrics`);
    assert.equal(res.status, 200);
    promtool(await res.text());
    assert.equal((await fetch(`http://127.0.0.1:${gw.metricsPort}/api/v1/orders`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${gw.metricsPort}/metrics`, { method: "POST" })).status, 405);
    assert.equal((await gw.api("GET", "/metrics")).status, 404, "even with the API key");
  });
});

describe("JSON logs", () => {
  let gw;
  const secretToken = userToken("log-shopper");
  before(async () => (gw = await startGateway({ args: ["--log-format", "json"], env: { LOG_LEVEL: "trace" } })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("one JSON object per line with time, level, message and fields; no secret, token, key or IPN body anywhere", async () => {
    const order = await gw.createOrder(secretToken, [{ productId: "game-l", quantity: 1 }]);
    const shopper = await gw.connect(secretToken);
    assertSubscribed(await request(shopper, "subscribe:order", { orderId: order.orderId }), order.orderId);
    const got = recorder(shopper, ["fulfillment:status-change"]);
    const ipn = ipnFor(order.orderId);
    ipn.order_description = "unique-ipn-marker-5c1f";
    assert.equal((await gw.ipn(ipn)).status, 200);
    await until(() => got.some((e) => e.data.status === "fulfilled"), 10000, "fulfilled");
    const done = got.find((e) => e.data.status === "fulfilled").data;
    const reveal = await (await fetch(gw.url + done.items[0].signedUrl)).json();
    assert.ok(reveal.key);
    const refused = await gw.api("POST", "/api/v1/events", { event: "fulfillment:status-change", data: { orderId: "x" } }, { key: "wrong-key-9f8e7d" });
    assert.equal(refused.status, 401);
    await gw.api("GET", "/api/v1/jobs", undefined, { headers: { "x-request-id": "trace-me-1" } });
    shopper.disconnect();
    await sleep(200);

    const lines = gw.stderr().split("\n").filter((l) => l.length);
    assert.ok(lines.length > 10, `${lines.length} lines`);
    const records = lines.map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
    for (const r of records) {
      assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(["trace", "debug", "info", "warn", "error", "critical"].includes(r.level), r.level);
      assert.equal(typeof r.message, "string");
    }
    assert.ok(records.some((r) => r.level === "warn" && /KEY_ENCRYPTION_KEY not set/.test(r.message)), "a start-up warning, level warn");
    const withField = (k) => records.filter((r) => typeof r[k] === "string" && r[k].length > 0);
    assert.ok(withField("orderId").some((r) => r.orderId === order.orderId), "orderId field");
    assert.ok(withField("jobId").length > 0, "jobId field");
    assert.ok(withField("sid").length > 0, "sid field");
    assert.ok(withField("userId").some((r) => r.userId === "log-shopper"), "userId field");
    assert.ok(withField("event").length > 0, "event field");
    const access = records.find((r) => r.requestId === "trace-me-1");
    assert.ok(access, "the request id is in the access log");
    assert.equal(access.route, "/api/v1/jobs");
    assert.equal(access.status, 200, "numbers are JSON numbers");
    assert.equal(typeof access.durationMs, "number");

    // nothing secret, at trace level, over the whole flow
    const all = gw.stderr();
    for (const [what, secret] of [
      ["JWT secret", JWT_SECRET], ["API key", API_KEY], ["IPN secret", IPN_SECRET], ["URL signing secret", URL_SIGNING_SECRET],
      ["Kinguin secret", KINGUIN_SECRET], ["a user token", secretToken], ["a token's signature", secretToken.split(".")[2]],
      ["the wrong API key", "wrong-key-9f8e7d"], ["the revealed key", reveal.key], ["the IPN body", "unique-ipn-marker-5c1f"],
      ["a signed URL's signature", done.items[0].signedUrl.split("sig=")[1]],
    ]) {
      assert.ok(!all.includes(secret), `${what} found in the logs`);
    }
  });
});

describe("per-client limits", () => {
  let gw;
  before(async () => (gw = await startGateway({
    args: ["--socket-events-per-s", "1", "--socket-event-burst", "3", "--api-user-rate", "1"],
  })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("socket events: an error ack past the burst, then a disconnect for persistent abuse", async () => {
    const before = await gw.metrics();
    const socket = await gw.connect(userToken("chatty"));
    // sent together (handled in arrival order): a slow machine cannot refill a token in between
    const acks = await Promise.all([0, 1, 2, 3].map((i) => request(socket, "subscribe:order", { orderId: `ord-chatty-${i}` })));
    assert.deepEqual(acks.slice(0, 3).map((a) => a.error), ["forbidden", "forbidden", "forbidden"], "within the burst: handled");
    assert.deepEqual(acks[3], { ok: false, error: "rate_limited" });
    const exceeded = once(socket, "limit:exceeded");
    const disconnected = once(socket, "disconnect");
    for (let i = 0; i < 5; i++) socket.emit("subscribe:order", { orderId: "ord-x" }, () => {});
    assert.equal((await exceeded).code, "rate_limited");
    assert.equal(await disconnected, "io server disconnect", "not a reason the client reconnects on");
    const m = await gw.metrics();
    assert.ok(metricValue(m, "fg_rate_limited_total", { kind: "socket_event" }) - metricValue(before, "fg_rate_limited_total", { kind: "socket_event" }) >= 4);
    assert.equal(metricValue(m, "fg_rate_limit_disconnects_total") - metricValue(before, "fg_rate_limit_disconnects_total"), 1);
  });

  it("a quiet socket gets its tokens back", async () => {
    const socket = await gw.connect(userToken("patient"));
    const acks = await Promise.all([0, 1, 2, 3].map((i) => request(socket, "subscribe:order", { orderId: `ord-p-${i}` })));
    assert.equal(acks[3].error, "rate_limited");
    await sleep(1100);
    assert.equal((await request(socket, "subscribe:order", { orderId: "ord-p-4" })).error, "forbidden", "a token again");
    assert.ok(socket.connected);
  });

  it("API requests per user token: 429 with Retry-After past the rate, other users unaffected", async () => {
    const token = userToken("busy-user");
    // sent together: a slow machine cannot refill a token in between
    const statuses = (await Promise.all([0, 1, 2, 3].map(() => gw.get("/api/v1/orders", token)))).map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 2, `burst of 2 at 1/s: ${statuses}`);
    assert.equal(statuses.filter((s) => s === 429).length, 2, `${statuses}`);
    const limited = await gw.get("/api/v1/orders", token);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "1");
    assert.equal((await limited.json()).error, "rate_limited");
    assert.equal((await gw.get("/api/v1/orders", userToken("other-user"))).status, 200);
    assert.equal((await gw.api("GET", "/api/v1/jobs")).status, 200, "the API key has its own (high) rate");
    const m = await gw.metrics();
    assert.ok(metricValue(m, "fg_rate_limited_total", { kind: "api_user" }) >= 2);
    assert.ok(metricValue(m, "fg_http_requests_total", { route: "/api/v1/orders", status: "429" }) >= 2);
  });
});

describe("JWT secret rotation", () => {
  const NEW_SECRET = "rotated-jwt-secret-abcdef012345";
  let gw;
  before(async () => (gw = await startGateway({ env: { JWT_SECRET: NEW_SECRET, JWT_SECRET_PREVIOUS: JWT_SECRET } })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("accepts tokens of both secrets during the overlap, and nothing else", async () => {
    const old = await gw.connect(userToken("rot-old")); // signed with the previous secret
    const fresh = await gw.connect(sign({ sub: "rot-new", exp: Math.floor(Date.now() / 1000) + 600 }, { secret: NEW_SECRET }));
    assert.ok(old.connected && fresh.connected);
    assert.equal((await gw.connectError(sign({ sub: "x" }, { secret: "some-other-secret-xyz" }))).data.code, "token_invalid");
    assert.equal((await gw.get("/api/v1/orders", userToken("rot-old"))).status, 200);
  });
});
