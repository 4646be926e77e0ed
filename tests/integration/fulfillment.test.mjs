// The fulfillment flow end to end, seen by the shopper's and the admin's socket.io-client.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHmac } from "node:crypto";
import path from "node:path";
import { startGateway, userToken, adminToken, recorder, request, until, sleep, signIpn, KINGUIN_SECRET, URL_SIGNING_SECRET, API_KEY, assertSubscribed } from "./harness.mjs";

const SHOPPER_EVENTS = ["payment:confirmed", "fulfillment:status-change", "fulfillment:key-delivered", "fulfillment:error"];
const ADMIN_EVENTS = [...SHOPPER_EVENTS, "admin:job-queue-event", "admin:webhook-received"];
let paymentSeq = 4_000_000_000;
const ipnFor = (orderId, status = "finished", extra = {}) => ({
  payment_id: paymentSeq++,
  payment_status: status,
  pay_address: "0x9d",
  price_amount: 50.0,
  price_currency: "usd",
  pay_amount: 0.09853637216235617,
  actually_paid: 0.09853637216235617,
  pay_currency: "eth",
  order_id: orderId,
  order_description: "Café \"beans\" / tea ünïcödé",
  payin_hash: "0xfeed",
  outcome_amount: 1e21,
  ...extra,
});

describe("fulfillment flow", () => {
  let gw;
  before(async () => (gw = await startGateway()));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("shopper sees payment → progress → keys → fulfilled with signed URLs, in order; admin sees webhook and job events", async () => {
    const token = userToken("shopper-1");
    const order = await gw.createOrder(token, [{ productId: "game-a", quantity: 2 }, { productId: "game-b", quantity: 1 }]);
    assert.equal(order.status, "created");
    assert.equal(order.userId, "shopper-1");
    assert.equal(order.items.length, 2);
    assert.ok(order.items.every((i) => i.itemId && i.productId && i.quantity >= 1));
    assert.match(order.orderId, /^ord_[A-Za-z0-9_-]{16,}$/);

    const shopper = await gw.connect(token);
    assertSubscribed(await request(shopper, "subscribe:order", { orderId: order.orderId }), order.orderId);
    const admin = await gw.connect(adminToken());
    const got = recorder(shopper, SHOPPER_EVENTS);
    const adminGot = recorder(admin, ADMIN_EVENTS);

    const res = await gw.ipn(ipnFor(order.orderId));
    assert.equal(res.status, 200);
    await until(() => got.some((e) => e.event === "fulfillment:status-change" && e.data.status === "fulfilled"), 10000, "fulfilled");

    const names = got.map((e) => e.event);
    const progress = got.filter((e) => e.event === "fulfillment:status-change" && e.data.status === "processing");
    assert.ok(progress.length >= 1, "progress updates");
    const idx = (pred) => got.findIndex(pred);
    const iPaid = idx((e) => e.event === "payment:confirmed");
    const iProgress = idx((e) => e.event === "fulfillment:status-change" && e.data.status === "processing");
    const iKeys = idx((e) => e.event === "fulfillment:key-delivered");
    const iDone = idx((e) => e.event === "fulfillment:status-change" && e.data.status === "fulfilled");
    assert.ok(iPaid < iProgress && iProgress < iKeys && iKeys < iDone, JSON.stringify(names));
    const paid = got[iPaid].data;
    assert.equal(paid.orderId, order.orderId);
    assert.equal(paid.amount, 0.09853637216235617);
    assert.equal(paid.currency, "eth");
    assert.equal(paid.txHash, "0xfeed");
    const jobProgress = progress.map((e) => e.data.jobProgress);
    assert.deepEqual([...jobProgress].sort((a, b) => a - b), jobProgress, "progress only grows");
    assert.ok(progress.every((e) => e.data.fulfillmentStatus === "in_progress" && e.data.jobId && e.data.jobStatus));
    assert.deepEqual(got[iKeys].data.itemCount, 2);
    assert.equal(got[iKeys].data.deliveryMethod, "customer-reveal");
    const done = got[iDone].data;
    assert.equal(done.fulfillmentStatus, "completed");
    assert.equal(done.items.length, 2);
    assert.equal(got.filter((e) => e.event === "payment:confirmed").length, 1);
    assert.ok(!JSON.stringify(got).match(/[A-F0-9]{5}-[A-F0-9]{5}-[A-F0-9]{5}/), "no plaintext key in any event");

    // keys through the signed URLs
    const keys = [];
    for (const item of done.items) {
      assert.match(item.signedUrl, /^\/api\/v1\/keys\/.+\?expires=\d+&sig=[0-9a-f]{64}$/);
      const r = await fetch(gw.url + item.signedUrl);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("cache-control"), "no-store");
      const body = await r.json();
      assert.equal(body.type, "text/plain");
      keys.push(body.key);
    }
    assert.equal(keys[0].split("\n").length, 2, "quantity 2 → two serials");
    assert.match(keys[1], /^[A-F0-9]{5}-[A-F0-9]{5}-[A-F0-9]{5}$/);
    // encrypted at rest: no serial in any file of the data dir (database, WAL, sealed keys)
    for (const f of readdirSync(gw.dataDir, { recursive: true })) {
      let content;
      try {
        content = readFileSync(path.join(gw.dataDir, f)).toString("latin1");
      } catch {
        continue; // a directory
      }
      for (const k of keys.flatMap((x) => x.split("\n"))) assert.ok(!content.includes(k), `${k} found in ${f}`);
    }

    // snapshot: the owner gets fresh signed URLs
    const snap = await (await gw.get(`/api/v1/orders/${order.orderId}`, token)).json();
    assert.equal(snap.status, "fulfilled");
    assert.equal(snap.fulfillmentStatus, "completed");
    assert.equal(snap.jobProgress, 100);
    assert.ok(snap.jobId);
    assert.ok(snap.items.every((i) => i.status === "delivered" && i.signedUrl));

    // admin: webhook lifecycle and job lifecycle
    await until(() => adminGot.some((e) => e.event === "admin:job-queue-event" && e.data.event === "completed"), 5000, "job completed");
    const hooks = adminGot.filter((e) => e.event === "admin:webhook-received").map((e) => e.data.status);
    assert.deepEqual(hooks, ["received", "verified", "processed"]);
    const jobEvents = adminGot.filter((e) => e.event === "admin:job-queue-event").map((e) => e.data.event);
    assert.deepEqual(jobEvents.filter((x, i) => x !== jobEvents[i - 1]), ["queued", "started", "progress", "completed"]);
    assert.ok(adminGot.filter((e) => e.event === "admin:job-queue-event").every((e) => e.data.queueName === "fulfillment" && e.data.jobId));
    assert.ok(adminGot.some((e) => e.event === "fulfillment:key-delivered"), "admins see order events too");

    // the timeline: every event, oldest first, with seq, and the reveals without the key
    const tl = await (await gw.get(`/api/v1/orders/${order.orderId}/events`, token)).json();
    assert.deepEqual(tl.events.map((e) => e.seq), tl.events.map((_, i) => i + 1));
    const tlNames = tl.events.map((e) => e.event);
    assert.equal(tlNames[0], "fulfillment:status-change");
    for (const n of ["payment:confirmed", "fulfillment:key-delivered"]) assert.equal(tlNames.filter((x) => x === n).length, 1);
    assert.equal(tlNames.filter((x) => x === "key:revealed").length, 2);
    assert.ok(!JSON.stringify(tl).includes(keys[1]));
    shopper.disconnect();
    admin.disconnect();
  });

  it("duplicate and concurrent IPNs: 200 each, one state change, one job, one payment:confirmed", async () => {
    const token = userToken("shopper-2");
    const order = await gw.createOrder(token);
    const shopper = await gw.connect(token);
    await request(shopper, "subscribe:order", { orderId: order.orderId });
    const got = recorder(shopper, SHOPPER_EVENTS);
    const fields = ipnFor(order.orderId);
    const statuses = await Promise.all(Array.from({ length: 10 }, () => gw.ipn(fields).then((r) => r.status)));
    assert.deepEqual(statuses, Array(10).fill(200));
    assert.equal((await gw.ipn(fields)).status, 200);
    await until(() => got.some((e) => e.data.status === "fulfilled"), 10000, "fulfilled");
    await sleep(200);
    assert.equal(got.filter((e) => e.event === "payment:confirmed").length, 1);
    assert.equal(got.filter((e) => e.event === "fulfillment:key-delivered").length, 1);
    const jobs = await (await gw.get("/api/v1/jobs", adminToken())).json();
    assert.equal(jobs.jobs.filter((j) => j.orderId === order.orderId).length, 1);
    shopper.disconnect();
  });

  it("a bad or missing signature is refused with 401, changes nothing, and admins see it failed", async () => {
    const token = userToken("shopper-3");
    const order = await gw.createOrder(token);
    const admin = await gw.connect(adminToken());
    const hooks = recorder(admin, ["admin:webhook-received"]);
    const fields = ipnFor(order.orderId);
    assert.equal((await gw.ipn(fields, { sig: signIpn(JSON.stringify(fields), "wrong-secret") })).status, 401);
    assert.equal((await gw.ipn(fields, { sig: "" })).status, 401);
    const tampered = JSON.stringify(fields);
    const r = await fetch(gw.url + "/webhooks/nowpayments", {
      method: "POST",
      headers: { "content-type": "application/json", "x-nowpayments-sig": signIpn(tampered) },
      body: tampered.replace("50", "5"),
    });
    assert.equal(r.status, 401);
    await until(() => hooks.filter((h) => h.data.status === "failed").length === 3, 5000, "failed webhook events");
    const snap = await (await gw.get(`/api/v1/orders/${order.orderId}`, token)).json();
    assert.equal(snap.status, "created");
    const tl = await (await gw.get(`/api/v1/orders/${order.orderId}/events`, token)).json();
    assert.ok(!tl.events.some((e) => e.event === "payment:confirmed"));
    admin.disconnect();
  });

  it("a permanent supplier failure fails the order with a critical, non-retryable error", async () => {
    const token = userToken("shopper-4");
    const order = await gw.createOrder(token, [{ productId: "oos-vintage", quantity: 1 }]);
    const shopper = await gw.connect(token);
    await request(shopper, "subscribe:order", { orderId: order.orderId });
    const got = recorder(shopper, SHOPPER_EVENTS);
    await gw.ipn(ipnFor(order.orderId));
    await until(() => got.some((e) => e.event === "fulfillment:error"), 10000, "error");
    const err = got.find((e) => e.event === "fulfillment:error").data;
    assert.equal(err.severity, "critical");
    assert.equal(err.retryable, false);
    await until(async () => (await (await gw.get(`/api/v1/orders/${order.orderId}`, token)).json()).status === "failed", 5000, "failed");
    const failed = await (await gw.get("/api/v1/jobs?state=failed", API_KEY)).json();
    assert.ok(failed.jobs.some((j) => j.orderId === order.orderId && j.lastError));
    shopper.disconnect();
  });

  it("other users can read neither the order, its timeline nor its keys", async () => {
    const owner = userToken("owner-5");
    const order = await gw.createOrder(owner);
    await gw.ipn(ipnFor(order.orderId));
    await until(async () => (await (await gw.get(`/api/v1/orders/${order.orderId}`, owner)).json()).status === "fulfilled", 10000, "fulfilled");
    const other = userToken("mallory");
    for (const p of [`/api/v1/orders/${order.orderId}`, `/api/v1/orders/${order.orderId}/events`]) {
      const r = await gw.get(p, other);
      assert.equal(r.status, 404);
      assert.equal((await r.json()).error, "not_found");
      assert.equal((await gw.get(p)).status, 401);
      assert.equal((await gw.get(p, adminToken())).status, 200);
      assert.equal((await gw.get(p, API_KEY)).status, 200);
    }
    const snap = await (await gw.get(`/api/v1/orders/${order.orderId}`, owner)).json();
    const url = snap.items[0].signedUrl;
    const [p] = url.split("?");
    const forged = `${p}?expires=${Math.floor(Date.now() / 1000) + 600}&sig=${"0".repeat(64)}`;
    assert.equal((await fetch(gw.url + forged)).status, 403);
    const otherItem = url.replace(/\/([^/?]+)\?/, "/itm_someoneelse?");
    assert.equal((await fetch(gw.url + otherItem)).status, 403, "a signature is bound to its path");
    const mallorySocket = await gw.connect(other);
    assert.equal((await request(mallorySocket, "subscribe:order", { orderId: order.orderId })).error, "forbidden");
    mallorySocket.disconnect();
  });

  it("signed URLs: expired → 410, tampered ciphertext → 500 integrity error", async () => {
    const owner = userToken("owner-6");
    const order = await gw.createOrder(owner);
    await gw.ipn(ipnFor(order.orderId));
    await until(async () => (await (await gw.get(`/api/v1/orders/${order.orderId}`, owner)).json()).status === "fulfilled", 10000, "fulfilled");
    const snap = await (await gw.get(`/api/v1/orders/${order.orderId}`, owner)).json();
    const item = snap.items[0];
    const p = `/api/v1/keys/${order.orderId}/${item.itemId}`;
    const expired = Math.floor(Date.now() / 1000) - 5;
    const sig = createHmac("sha256", URL_SIGNING_SECRET).update(`${p}\n${expired}`).digest("hex");
    const r410 = await fetch(`${gw.url}${p}?expires=${expired}&sig=${sig}`);
    assert.equal(r410.status, 410);
    assert.equal((await r410.json()).error, "link_expired");
    const blob = path.join(gw.dataDir, "keys", order.orderId, item.itemId);
    const bytes = readFileSync(blob);
    bytes[bytes.length - 20] ^= 0xff;
    writeFileSync(blob, bytes);
    const r500 = await fetch(gw.url + item.signedUrl);
    assert.equal(r500.status, 500);
    assert.equal((await r500.json()).error, "integrity_error");
    assert.match(gw.stderr(), /integrity/);
  });

  it("orders API: validation and the API key path", async () => {
    const bad = [[{}, 400], [{ items: [] }, 400], [{ items: [{ productId: "" }] }, 400], [{ items: [{ productId: "p", quantity: 0 }] }, 400]];
    for (const [body, status] of bad) {
      const r = await gw.api("POST", "/api/v1/orders", body, { key: userToken("v") });
      assert.equal(r.status, status, JSON.stringify(body));
      assert.ok((await r.json()).error);
    }
    assert.equal((await gw.api("POST", "/api/v1/orders", { items: [{ productId: "p" }] }, { key: null })).status, 401);
    assert.equal((await gw.api("POST", "/api/v1/orders", { items: [{ productId: "p" }] })).status, 400, "API key needs userId");
    const r = await gw.api("POST", "/api/v1/orders", { userId: "backend-user", items: [{ productId: "p", quantity: 3 }], currency: "EUR" });
    assert.equal(r.status, 201);
    const o = await r.json();
    assert.equal(o.userId, "backend-user");
    assert.equal(o.currency, "EUR");
    assert.equal(o.items[0].quantity, 3);
    assert.ok(o.createdAt);
  });

  it("jobs API: admins and the API key only; retry needs a failed job", async () => {
    assert.equal((await gw.get("/api/v1/jobs", userToken("u"))).status, 403);
    assert.equal((await gw.get("/api/v1/jobs")).status, 401);
    assert.equal((await gw.get("/api/v1/jobs?state=bogus", API_KEY)).status, 400);
    const list = await (await gw.get("/api/v1/jobs?state=completed", adminToken())).json();
    assert.ok(list.jobs.length >= 1);
    assert.ok(list.jobs.every((j) => j.state === "completed"));
    const r = await gw.api("POST", `/api/v1/jobs/${list.jobs[0].jobId}/retry`, {});
    assert.equal(r.status, 409);
    assert.equal((await gw.api("POST", "/api/v1/jobs/job_nope/retry", {})).status, 404);
  });

  it("kinguin webhook: shared secret, recorded, admins notified", async () => {
    const admin = await gw.connect(adminToken());
    const hooks = recorder(admin, ["admin:webhook-received"]);
    const body = JSON.stringify({ orderId: "KG-1", orderExternalId: "ord_x", status: "completed" });
    const post = (secret) => fetch(gw.url + "/webhooks/kinguin", { method: "POST", headers: { "x-event-secret": secret, "content-type": "application/json" }, body });
    assert.equal((await post("wrong")).status, 401);
    assert.equal((await post(KINGUIN_SECRET)).status, 200);
    await until(() => hooks.length === 2, 5000, "kinguin webhook events");
    assert.deepEqual(hooks.map((h) => [h.data.provider, h.data.status]), [["kinguin", "failed"], ["kinguin", "processed"]]);
    admin.disconnect();
  });
});

describe("transient supplier failures", () => {
  let gw;
  before(async () => (gw = await startGateway({ env: { SUPPLIER_SIM_FAIL_FIRST: "3" } })));
  after(async () => {
    await gw.stop();
    gw.cleanup();
  });

  it("retries with backoff, warns the shopper, then succeeds", async () => {
    const token = userToken("retry-shopper");
    const order = await gw.createOrder(token);
    const shopper = await gw.connect(token);
    await request(shopper, "subscribe:order", { orderId: order.orderId });
    const got = recorder(shopper, SHOPPER_EVENTS);
    await gw.ipn(ipnFor(order.orderId));
    await until(() => got.some((e) => e.data.status === "fulfilled"), 15000, "fulfilled after retries");
    const errors = got.filter((e) => e.event === "fulfillment:error").map((e) => e.data);
    assert.equal(errors.length, 3);
    assert.ok(errors.every((e) => e.retryable === true && ["warning", "error"].includes(e.severity) && e.nextRetryAt));
    const jobs = await (await gw.get("/api/v1/jobs?state=completed", API_KEY)).json();
    const job = jobs.jobs.find((j) => j.orderId === order.orderId);
    assert.equal(job.attempts, 4);
    shopper.disconnect();
  });
});
