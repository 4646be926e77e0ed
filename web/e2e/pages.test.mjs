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
    const order = await (await gw.api("POST", "/api/v1/orders", { userId: "alice", items: [{ productId: "elden-ring-pc", quantity: 1 }, { productId: "windows-11-pro", quantity: 2 }] })).json();
    await page.goto(`${gw.url}/orders/${order.orderId}`);
    await page.getByText("Live").waitFor();
    await page.getByTestId("status-label").getByText("Awaiting payment").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "order-awaiting-payment.png"), fullPage: true });
    await pay(order.orderId);
    await page.getByTestId("payment").waitFor({ timeout: 10000 });
    await page.getByTestId("status-label").getByText("Keys ready").waitFor({ timeout: 15000 });
    const reveal = page.getByRole("button", { name: "Reveal key" }).first();
    await reveal.focus();
    await page.keyboard.press("Enter"); // keyboard-accessible
    const key = await page.getByTestId("key").first().textContent();
    assert.match(key, /^[A-F0-9]{5}-[A-F0-9]{5}-[A-F0-9]{5}$/);
    const timeline = await page.getByTestId("timeline").textContent();
    assert.match(timeline, /Payment confirmed/);
    assert.match(timeline, /Keys delivered/);
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
    await page.screenshot({ path: path.join(ARTIFACTS, "admin-dashboard.png"), fullPage: true });
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
      await page.goto(`${first.url}/orders/${order.orderId}`);
      await page.getByTestId("connection").getByText("Live").waitFor();
      await page.getByTestId("status-label").getByText("Awaiting payment").waitFor();
      await page.evaluate(() => {
        window.__sameDocument = true; // gone if the page reloads
      });
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
});
