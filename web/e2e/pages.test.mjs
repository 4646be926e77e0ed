// End-to-end: the real gateway in demo mode, its built pages, Debian's Chromium driven by
// playwright-core. Screenshots go to web/test-artifacts/.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
process.env.FG_BIN ??= path.join(here, "../../build/fulfillment-gateway");
const harness = await import(path.join(here, "../../tests/integration/harness.mjs"));
const ARTIFACTS = path.join(here, "../test-artifacts");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

let gw, browser;
let pid = 8_100_000_000;
const pay = (orderId, status = "finished") =>
  gw.ipn({ payment_id: pid++, payment_status: status, order_id: orderId, actually_paid: 0.0042, pay_currency: "eth", price_amount: 14.99 });

async function signIn(context, who, base = gw.url) {
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.getByRole("button", { name: new RegExp(`Sign in as ${who}\\b`) }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
  return page;
}

// Resolves once a page has finished the polling → WebSocket upgrade: the client sent the Engine.IO
// upgrade packet "5" on the WebSocket (after the "2probe"/"3probe" exchange), so from then on it
// reads the WebSocket and notices its loss at once. `target`: a context (its next pages) or a page;
// `onUrl`: only a socket opened while the page shows a matching URL counts.
function upgradedWebSocket(target, onUrl = /./) {
  return new Promise((resolve) => {
    const watch = (page) =>
      page.on("websocket", (ws) => {
        if (!/transport=websocket/.test(ws.url()) || !onUrl.test(page.url())) return;
        ws.on("framesent", (frame) => frame.payload === "5" && resolve(ws));
      });
    if (typeof target.goto === "function") watch(target);
    else target.on("page", watch);
  });
}

// Every visible text node whose colour against its background is below WCAG AA (4.5:1).
function lowContrast(page) {
  return page.evaluate(() => {
    const parse = (c) => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return null;
      const p = m[1].split(",").map(Number);
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    };
    const lum = ({ r, g, b }) => {
      const f = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0.5) return c;
      }
      return { r: 255, g: 255, b: 255 };
    };
    const bad = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!n.textContent.trim() || !el || el.closest("svg") || !el.getClientRects().length) continue;
      const [hi, lo] = [lum(parse(getComputedStyle(el).color)), lum(background(el))].sort((x, y) => y - x);
      const ratio = (hi + 0.05) / (lo + 0.05);
      if (ratio < 4.5) bad.push(`"${n.textContent.trim().slice(0, 40)}" ${ratio.toFixed(2)}:1`);
    }
    return bad;
  });
}

describe("pages in a real browser", () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    gw = await harness.startGateway({
      args: ["--demo", "--demo-interval", "0", "--web-dir", path.join(here, "../dist")],
      env: { SUPPLIER_SIM_LATENCY_MS: "150" },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
    });
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    gw?.cleanup();
  });

  it("serves the app with correct content types and caching, and demo sign-in only in demo mode", async () => {
    const index = await fetch(`${gw.url}/orders/anything`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get("content-type"), /^text\/html/);
    assert.equal(index.headers.get("cache-control"), "no-cache");
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)[1];
    const js = await fetch(gw.url + asset);
    assert.match(js.headers.get("content-type"), /^text\/javascript/);
    assert.match(js.headers.get("cache-control"), /immutable/);
    assert.equal((await fetch(`${gw.url}/api/v1/demo/users`)).status, 200);
    const plain = await harness.startGateway({ args: ["--web-dir", path.join(here, "../dist")] });
    try {
      assert.equal((await fetch(`${plain.url}/api/v1/demo/users`)).status, 404, "no demo endpoint outside demo mode");
    } finally {
      await plain.stop();
      plain.cleanup();
    }
  });

  it("shopper page: awaiting payment → Keys ready as a signed IPN arrives; the key is revealed", async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await signIn(context, "alice");
    const order = await (await gw.api("POST", "/api/v1/orders", { userId: "alice", items: [{ productId: "elden-ring-pc", name: "Elden Ring (PC)", unitPrice: "59.99", quantity: 1 }, { productId: "windows-11-pro", name: "Windows 11 Pro", unitPrice: "199.99", quantity: 2 }] })).json();
    const sockets = [];
    const consoleErrors = [];
    page.on("websocket", (ws) => sockets.push(ws));
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    await page.goto(`${gw.url}/orders/${order.orderId}`);
    await page.getByText("Live").waitFor();
    await page.getByTestId("status-label").getByText("Awaiting payment").waitFor();
    // The page's own origin may open a WebSocket (no CORS_ORIGINS entry needed): it runs on it.
    await harness.until(() => sockets.some((ws) => /\/socket\.io\/\?EIO=4&transport=websocket/.test(ws.url()) && !ws.isClosed()), 5000, "an open WebSocket");
    assert.deepEqual(consoleErrors, []);
    assert.equal(await page.getByTestId("status-line").getAttribute("aria-live"), "polite", "status changes are announced");
    assert.match(await page.locator('[aria-current="step"]').textContent(), /Payment confirmed/);
    assert.equal(await page.locator('link[rel="icon"]').count(), 1, "a favicon");
    assert.deepEqual(await lowContrast(page), []);
    await page.screenshot({ path: path.join(ARTIFACTS, "order-awaiting-payment.png"), fullPage: true });
    await pay(order.orderId);
    await page.getByTestId("payment").waitFor({ timeout: 10000 });
    await page.getByTestId("status-label").getByText("Keys ready").waitFor({ timeout: 15000 });
    const reveal = page.getByRole("button", { name: "Reveal key" }).first();
    await reveal.focus();
    await page.keyboard.press("Enter"); // keyboard-accessible
    const key = await page.getByTestId("key").first().textContent();
    assert.match(key, /^[A-F0-9]{5}-[A-F0-9]{5}-[A-F0-9]{5}$/);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "key", "focus moves to the revealed key");
    assert.equal(await page.locator('[aria-current="step"]').count(), 0, "every step done");
    const timeline = await page.getByTestId("timeline").textContent();
    assert.match(timeline, /Payment confirmed: 0\.0042 ETH/);
    assert.match(timeline, /Keys delivered/);
    // Names and numbers a shopper knows, the price as sold beside the same crypto amount.
    assert.match(await page.getByTestId("order-title").textContent(), /^Order #\d+$/);
    assert.match(await page.locator(".items").textContent(), /Elden Ring \(PC\)/);
    assert.doesNotMatch(await page.locator(".items").textContent(), /elden-ring-pc/);
    assert.match(await page.getByTestId("payment").textContent(), /0\.0042 ETH \(USD 459\.97\)/);
    // After a reload the payment is still there: it comes with the snapshot.
    await page.reload();
    await page.getByTestId("status-label").getByText("Keys ready").waitFor();
    assert.match(await page.getByTestId("payment").textContent(), /0\.0042 ETH \(USD 459\.97\)/);
    assert.deepEqual(await lowContrast(page), []);
    await page.screenshot({ path: path.join(ARTIFACTS, "order-keys-ready.png"), fullPage: true });
    // phone-sized: nothing wider than the screen
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than a phone screen`);
    await page.screenshot({ path: path.join(ARTIFACTS, "order-phone.png"), fullPage: true });
    await context.close();
  });

  it("admin dashboard shows stats, job and webhook events", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await signIn(context, "admin");
    await page.waitForURL(/\/admin$/);
    await page.getByText("Live").waitFor();
    const order = await (await gw.api("POST", "/api/v1/orders", { userId: "bob", items: [{ productId: "minecraft-java", quantity: 1 }] })).json();
    const failing = await (await gw.api("POST", "/api/v1/orders", { userId: "bob", items: [{ productId: "oos-retro-bundle", quantity: 1 }] })).json();
    await pay(order.orderId);
    await pay(failing.orderId);
    await page.getByTestId("job-events").getByText("completed").first().waitFor({ timeout: 15000 });
    await page.getByTestId("webhook-events").getByText("processed").first().waitFor();
    await page.getByTestId("failed-jobs").getByText(failing.orderId).waitFor({ timeout: 15000 });
    await page.getByRole("button", { name: "Refresh" }).click();
    const stats = await page.getByTestId("stats").textContent();
    assert.match(stats, /Connected\s*[1-9]/);
    assert.match(stats, /Admins\s*[1-9]/);
    // Out of stock is permanent: no Retry offered, and the page says why.
    const failedRow = page.getByTestId("failed-jobs").locator("li", { hasText: failing.orderId });
    assert.equal(await failedRow.getByRole("button", { name: "Retry" }).count(), 0);
    assert.match(await failedRow.textContent(), /permanent/);
    // One row per webhook call, its stage updated in place; rows carry a time and link to the order.
    const hookRows = page.getByTestId("webhook-events").locator("li", { hasText: order.orderId });
    await harness.until(async () => (await hookRows.count()) === 1 && /processed/.test(await hookRows.first().textContent()), 10000, "one processed row");
    assert.equal(await hookRows.locator("time").count(), 1);
    assert.equal(await hookRows.locator(`a[href="/orders/${order.orderId}"]`).count(), 1);
    // Counts come from the server for the chosen window.
    await harness.until(async () => /completed\s*[1-9]/.test(await page.getByTestId("counts").textContent()), 15000, "server counts");
    await page.getByTestId("window").selectOption("900");
    await harness.until(async () => /last 15 minutes/.test(await page.textContent("#counts-h")), 5000, "window label");
    // Filtering by order id narrows every list.
    await page.getByTestId("order-filter").fill(failing.orderId);
    await harness.until(async () => (await page.getByTestId("webhook-events").locator("li", { hasText: order.orderId }).count()) === 0, 5000, "filtered");
    assert.ok((await page.getByTestId("failed-jobs").locator("li").count()) >= 1);
    await page.getByTestId("order-filter").fill("");
    assert.deepEqual(await lowContrast(page), []);
    await page.screenshot({ path: path.join(ARTIFACTS, "admin-dashboard.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(ARTIFACTS, "admin-dashboard-phone.png"), fullPage: true });
    await context.close();
  });

  it("a second user's page cannot see the first user's order", async () => {
    const order = await (await gw.api("POST", "/api/v1/orders", { userId: "alice", items: [{ productId: "office-2021-home", quantity: 1 }] })).json();
    await pay(order.orderId);
    await harness.until(async () => (await (await gw.get(`/api/v1/orders/${order.orderId}`, harness.API_KEY)).json()).status === "fulfilled", 15000, "fulfilled");
    const context = await browser.newContext();
    const page = await signIn(context, "bob");
    await page.goto(`${gw.url}/orders/${order.orderId}`);
    await page.getByText("Order not found").waitFor();
    assert.equal(await page.getByRole("button", { name: "Reveal key" }).count(), 0);
    assert.equal(await page.getByTestId("key").count(), 0);
    await page.screenshot({ path: path.join(ARTIFACTS, "other-user-denied.png"), fullPage: true });
    await context.close();
  });

  it("an open order page rides out a gateway kill -9 and restart and reaches the final state without a reload", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "fg-e2e-restart-"));
    const args = ["--demo", "--demo-interval", "0", "--web-dir", path.join(here, "../dist")];
    const env = { SUPPLIER_SIM_LATENCY_MS: "150" };
    const first = await harness.startGateway({ args, dataDir, env });
    let second;
    const context = await browser.newContext();
    try {
      const page = await signIn(context, "alice", first.url);
      const order = await (await first.api("POST", "/api/v1/orders", { userId: "alice", items: [{ productId: "elden-ring-pc", quantity: 1 }] })).json();
      const upgraded = upgradedWebSocket(page, new RegExp(`/orders/${order.orderId}$`));
      await page.goto(`${first.url}/orders/${order.orderId}`);
      await page.getByTestId("connection").getByText("Live").waitFor();
      await page.getByTestId("status-label").getByText("Awaiting payment").waitFor();
      await page.evaluate(() => {
        window.__sameDocument = true; // gone if the page reloads
      });
      await upgraded; // a kill mid-upgrade would go unnoticed until the ping timeout (see below)
      const exited = new Promise((r) => first.child.once("exit", r));
      first.child.kill("SIGKILL");
      await exited;
      await page.getByTestId("connection").getByText("Reconnecting…").waitFor({ timeout: 10000 });
      second = await harness.startGateway({ args, dataDir, env, port: first.port });
      // The order moves on at once, on the new process, while the page is still away.
      const paid = await second.ipn({ payment_id: pid++, payment_status: "finished", order_id: order.orderId, actually_paid: 0.0042, pay_currency: "eth", price_amount: 14.99 });
      assert.equal(paid.status, 200);
      await page.getByTestId("status-label").getByText("Keys ready").waitFor({ timeout: 20000 });
      await page.getByTestId("connection").getByText("Live").waitFor();
      await page.getByTestId("payment").waitFor();
      assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was not reloaded");
    } finally {
      await context.close();
      await second?.stop();
      await first.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("an expired or garbage token gets a sign-in-again screen, never a made-up status", async () => {
    const order = await (await gw.api("POST", "/api/v1/orders", { userId: "alice", items: [{ productId: "elden-ring-pc", quantity: 1 }] })).json();
    const cases = [
      ["expired", harness.userToken("alice", { exp: Math.floor(Date.now() / 1000) - 60 })],
      ["garbage", "not.a.token"],
      ["wrong-signature", harness.sign({ sub: "alice", exp: Math.floor(Date.now() / 1000) + 600 }, { secret: "someone-elses-secret-123" })],
    ];
    for (const [name, token] of cases) {
      const context = await browser.newContext();
      await context.addInitScript((t) => localStorage.setItem("fg.token", t), token);
      const page = await context.newPage();
      await page.goto(`${gw.url}/orders/${order.orderId}`);
      await page.getByTestId("session-expired").waitFor({ timeout: 10000 });
      assert.equal(await page.getByTestId("status-label").count(), 0, `${name}: no status shown`);
      await page.goto(`${gw.url}/`);
      await page.getByTestId("session-expired").waitFor({ timeout: 10000 });
      assert.doesNotMatch(await page.textContent("main"), /Authorization|Bearer|credentials/, `${name}: no developer text`);
      if (name === "expired") {
        assert.deepEqual(await lowContrast(page), []);
        await page.screenshot({ path: path.join(ARTIFACTS, "session-expired.png"), fullPage: true });
        await page.setViewportSize({ width: 390, height: 844 });
        await page.screenshot({ path: path.join(ARTIFACTS, "session-expired-phone.png"), fullPage: true });
      }
      await context.close();
    }
  });

  it("a failed order says what happened and what comes next, in plain words", async () => {
    const context = await browser.newContext();
    const page = await signIn(context, "alice");
    const order = await (await gw.api("POST", "/api/v1/orders", { userId: "alice", items: [{ productId: "oos-retro-bundle", quantity: 1 }] })).json();
    await page.goto(`${gw.url}/orders/${order.orderId}`);
    await page.getByText("Live").waitFor();
    await pay(order.orderId);
    const notice = page.getByTestId("failed-notice");
    await notice.waitFor({ timeout: 20000 });
    const text = await notice.textContent();
    assert.match(text, /could not complete your order/);
    assert.match(text, /refund/);
    assert.match(text, /Contact support/);
    assert.doesNotMatch(await page.locator(".items").textContent(), /pending/, "items of a failed order are not 'pending'");
    assert.deepEqual(await lowContrast(page), []);
    await page.screenshot({ path: path.join(ARTIFACTS, "order-failed.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(ARTIFACTS, "order-failed-phone.png"), fullPage: true });
    await context.close();
  });

  it("one sign-in serves every tab, and a shopper on /admin is told it is for admins", async () => {
    const context = await browser.newContext();
    const first = await signIn(context, "bob");
    await first.waitForURL((u) => u.pathname === "/");
    const second = await context.newPage();
    await second.goto(`${gw.url}/`);
    await second.getByRole("heading", { name: "Your orders" }).waitFor();
    await second.goto(`${gw.url}/admin`);
    await second.getByTestId("admins-only").waitFor();
    assert.equal(await second.getByTestId("connection").count(), 0, "no live dashboard for a shopper");
    await second.screenshot({ path: path.join(ARTIFACTS, "admins-only.png"), fullPage: true });
    await second.setViewportSize({ width: 390, height: 844 });
    await second.screenshot({ path: path.join(ARTIFACTS, "admins-only-phone.png"), fullPage: true });
    await second.goto(`${gw.url}/`);
    await second.getByRole("heading", { name: "Your orders" }).waitFor();
    assert.deepEqual(await lowContrast(second), []);
    await second.screenshot({ path: path.join(ARTIFACTS, "orders-phone.png"), fullPage: true });
    await second.setViewportSize({ width: 1200, height: 900 });
    await second.screenshot({ path: path.join(ARTIFACTS, "orders.png"), fullPage: true });
    await context.close();
  });

  it("the order list's error goes away by itself once the gateway is back", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "fg-e2e-stale-"));
    const args = ["--demo", "--demo-interval", "0", "--web-dir", path.join(here, "../dist")];
    const first = await harness.startGateway({ args, dataDir });
    let second;
    const context = await browser.newContext();
    try {
      const page = await signIn(context, "alice", first.url);
      await page.getByRole("heading", { name: "Your orders" }).waitFor();
      const exited = new Promise((r) => first.child.once("exit", r));
      first.child.kill("SIGKILL");
      await exited;
      await page.getByTestId("list-error").waitFor({ timeout: 15000 });
      second = await harness.startGateway({ args, dataDir, port: first.port });
      await page.getByTestId("list-error").waitFor({ state: "detached", timeout: 15000 });
    } finally {
      await context.close();
      await second?.stop();
      await first.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("the dashboard reloads from the server after a reconnect that could not resume", async () => {
    // Recovery off: what happens while the dashboard is away never arrives as events.
    const dataDir = mkdtempSync(path.join(tmpdir(), "fg-e2e-dash-"));
    const args = ["--demo", "--demo-interval", "0", "--recovery-window", "0", "--web-dir", path.join(here, "../dist")];
    const first = await harness.startGateway({ args, dataDir });
    let second;
    const context = await browser.newContext();
    try {
      const upgraded = upgradedWebSocket(context);
      const page = await signIn(context, "admin", first.url);
      await page.waitForURL(/\/admin$/);
      await page.getByTestId("connection").getByText("Live").waitFor();
      // Killed once the upgrade is complete: a kill in its middle (after "3probe", before "5") can
      // leave socket.io-client unaware of the loss until its ping timeout (25 + 20 s).
      await upgraded;
      const exited = new Promise((r) => first.child.once("exit", r));
      first.child.kill("SIGKILL");
      await exited;
      await page.getByTestId("connection").getByText("Reconnecting…").waitFor({ timeout: 10000 });
      second = await harness.startGateway({ args, dataDir, port: first.port });
      const failing = await (await second.api("POST", "/api/v1/orders", { userId: "bob", items: [{ productId: "oos-retro-bundle", quantity: 1 }] })).json();
      await second.ipn({ payment_id: pid++, payment_status: "finished", order_id: failing.orderId, actually_paid: 0.001, pay_currency: "eth" });
      await harness.until(async () => (await (await second.get(`/api/v1/orders/${failing.orderId}`, harness.API_KEY)).json()).status === "failed", 15000, "failed");
      // Its job failed while the page was away; only a reload from the API can show it, and the
      // reconnect itself triggers one (not the 10 s refresh).
      await page.getByTestId("connection").getByText("Live").waitFor({ timeout: 20000 });
      await page.getByTestId("failed-jobs").getByText(failing.orderId).waitFor({ timeout: 3000 });
    } finally {
      await context.close();
      await second?.stop();
      await first.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("an operator retries a job that can still succeed and sees the outcome; watched orders are listed", async () => {
    // Every supplier call fails (transiently): two attempts, then the job fails, retryable.
    const flaky = await harness.startGateway({
      args: ["--demo", "--demo-interval", "0", "--web-dir", path.join(here, "../dist")],
      env: { SUPPLIER_SIM_FAILURE_RATE: "1", JOB_MAX_ATTEMPTS: "2" },
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    try {
      const page = await signIn(context, "admin", flaky.url);
      await page.waitForURL(/\/admin$/);
      await page.getByTestId("connection").getByText("Live").waitFor();
      const order = await (await flaky.api("POST", "/api/v1/orders", { userId: "bob", items: [{ productId: "minecraft-java", quantity: 1 }] })).json();
      await flaky.ipn({ payment_id: pid++, payment_status: "finished", order_id: order.orderId, actually_paid: 0.001, pay_currency: "eth" });
      const row = page.getByTestId("failed-jobs").locator("li", { hasText: order.orderId });
      await row.waitFor({ timeout: 20000 });
      await row.getByRole("button", { name: "Retry" }).click();
      await row.getByText(/Retry queued/).waitFor({ timeout: 5000 });
      // A shopper's page on the order shows up among the watched orders.
      const shopper = await context.newPage();
      await shopper.goto(`${flaky.url}/orders/${order.orderId}`);
      await shopper.getByTestId("connection").getByText("Live").waitFor();
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.getByTestId("watched-orders").getByText(order.orderId).waitFor({ timeout: 5000 });
      await page.getByTestId("watched-orders").locator(`a[href="/orders/${order.orderId}"]`).first().waitFor();
    } finally {
      await context.close();
      await flaky.stop();
      flaky.cleanup();
    }
  });
});
