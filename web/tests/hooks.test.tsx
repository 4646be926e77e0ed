// The hooks against the real gateway binary (started per file), with the official socket.io-client.
import { act, renderHook, waitFor } from "@testing-library/react";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { useAdminWebSocket } from "../src/lib/useAdminWebSocket";
import { useFulfillmentWebSocket } from "../src/lib/useFulfillmentWebSocket";
// The integration harness starts the binary and signs tokens and IPNs independently of our code.
import * as harness from "../../tests/integration/harness.mjs";

type Gateway = Awaited<ReturnType<typeof harness.startGateway>>;
let gw: Gateway;
let pid = 3_000_000_000;

beforeAll(async () => {
  gw = await harness.startGateway({ env: { CORS_ORIGINS: "http://localhost:3000" } });
});
afterAll(async () => {
  await gw.stop();
  gw.cleanup();
});

const pay = (orderId: string, status = "finished") =>
  gw.ipn({ payment_id: pid++, payment_status: status, order_id: orderId, actually_paid: 0.5, pay_currency: "eth" });

async function newOrder(user: string) {
  const token = harness.userToken(user);
  const order = await gw.createOrder(token, [{ productId: "game", quantity: 1 }]);
  return { token, orderId: order.orderId as string };
}

describe("useFulfillmentWebSocket", () => {
  it("connects, subscribes and follows the order to fulfilled", async () => {
    const { token, orderId } = await newOrder("hook-1");
    const seen: string[] = [];
    const { result, unmount } = renderHook(() =>
      useFulfillmentWebSocket(orderId, token, { apiUrl: gw.url, onStatusChange: (e) => seen.push(e.status) }),
    );
    await waitFor(() => expect(result.current.isConnected).toBe(true));
    await waitFor(() => expect(result.current.order?.status).toBe("created"));
    // wait until the server has the subscription before paying
    const admin = await gw.connect(harness.adminToken());
    await waitFor(async () =>
      expect((await harness.request(admin, "admin:get-connections")).watchedOrders.some((o: { orderId: string }) => o.orderId === orderId)).toBe(true),
    );
    admin.disconnect();
    await pay(orderId);
    await waitFor(() => expect(result.current.statusChange?.status).toBe("fulfilled"), { timeout: 10000 });
    expect(result.current.paymentConfirmed?.orderId).toBe(orderId);
    expect(result.current.keyDelivered?.itemCount).toBe(1);
    expect(result.current.order?.status).toBe("fulfilled");
    expect(result.current.order?.items[0].signedUrl).toMatch(/^\/api\/v1\/keys\//);
    expect(seen).toContain("processing");
    unmount();
  });

  it("a page opened late shows the current state at once", async () => {
    const { token, orderId } = await newOrder("hook-late");
    await pay(orderId);
    await harness.until(async () => (await (await gw.get(`/api/v1/orders/${orderId}`, token)).json()).status === "fulfilled", 10000, "fulfilled");
    const { result, unmount } = renderHook(() => useFulfillmentWebSocket(orderId, token, { apiUrl: gw.url }));
    await waitFor(() => expect(result.current.statusChange?.status).toBe("fulfilled"));
    expect(result.current.order?.items.every((i) => i.status === "delivered")).toBe(true);
    unmount();
  });

  it("never lets an older update overwrite a newer one", async () => {
    const { token, orderId } = await newOrder("hook-order");
    const { result, unmount } = renderHook(() => useFulfillmentWebSocket(orderId, token, { apiUrl: gw.url }));
    await waitFor(() => expect(result.current.order).not.toBeNull());
    await gw.publish("fulfillment:status-change", { orderId, status: "processing", jobProgress: 50, timestamp: new Date(Date.now() + 60000).toISOString() });
    await waitFor(() => expect(result.current.statusChange?.jobProgress).toBe(50));
    await gw.publish("fulfillment:status-change", { orderId, status: "paid", timestamp: new Date(Date.now() - 60000).toISOString() });
    await gw.publish("fulfillment:status-change", { orderId, status: "processing", jobProgress: 25, timestamp: new Date(Date.now() - 1000).toISOString() });
    await new Promise((r) => setTimeout(r, 300));
    expect(result.current.statusChange?.status).toBe("processing");
    expect(result.current.statusChange?.jobProgress).toBe(50);
    unmount();
  });

  it("subscribes again after a reconnect", async () => {
    const { token, orderId } = await newOrder("hook-reconnect");
    const { result, unmount } = renderHook(() =>
      useFulfillmentWebSocket(orderId, token, { apiUrl: gw.url, socketOptions: { reconnectionDelay: 100, reconnectionDelayMax: 200 } }),
    );
    await waitFor(() => expect(result.current.isConnected).toBe(true));
    const first = result.current.socket!;
    let reconnected = false;
    first.io.once("reconnect", () => {
      reconnected = true;
    });
    act(() => {
      (first.io as unknown as { engine: { close(): void } }).engine.close(); // drop the transport: the client reconnects
    });
    await waitFor(() => expect(reconnected && result.current.isConnected).toBe(true), { timeout: 10000 });
    expect(first.recovered).toBe(true); // the gateway's connection state recovery: same session
    expect(result.current.recovered).toBe(true);
    expect(result.current.connectionState).toBe("live");
    const admin = await gw.connect(harness.adminToken());
    await waitFor(async () => {
      const stats = await harness.request(admin, "admin:get-connections");
      expect(stats.watchedOrders.some((o: { orderId: string }) => o.orderId === orderId)).toBe(true);
    });
    await gw.publish("fulfillment:status-change", { orderId, status: "processing", jobProgress: 10, timestamp: new Date(Date.now() + 5000).toISOString() });
    await waitFor(() => expect(result.current.statusChange?.jobProgress).toBe(10));
    expect(result.current.socket).toBe(first); // the same hook socket object, reconnected
    admin.disconnect();
    unmount();
  });

  it("a reconnect the gateway cannot recover shows reconnecting, then the subscribe ack's snapshot", async () => {
    // Recovery off: what happens while the hook is away is not replayed; only the snapshot in the
    // ack of its new subscribe can bring the page up to date.
    const off = await harness.startGateway({ args: ["--recovery-window", "0"] });
    try {
      const token = harness.userToken("hook-no-recovery");
      const { orderId } = await off.createOrder(token, [{ productId: "game", quantity: 1 }]);
      const { result, unmount } = renderHook(() =>
        useFulfillmentWebSocket(orderId, token, { apiUrl: off.url, socketOptions: { reconnectionDelay: 1500, reconnectionDelayMax: 1500, randomizationFactor: 0 } }),
      );
      await waitFor(() => expect(result.current.order?.status).toBe("created"));
      expect(result.current.connectionState).toBe("live");
      act(() => {
        (result.current.socket!.io as unknown as { engine: { close(): void } }).engine.close();
      });
      await waitFor(() => expect(result.current.connectionState).toBe("reconnecting"));
      const paid = await off.ipn({ payment_id: pid++, payment_status: "finished", order_id: orderId, actually_paid: 0.5, pay_currency: "eth" });
      expect(paid.status).toBe(200);
      await harness.until(async () => (await (await off.get(`/api/v1/orders/${orderId}`, token)).json()).status === "fulfilled", 10000, "fulfilled");
      expect(result.current.connectionState).toBe("reconnecting"); // still away: nothing was delivered
      expect(result.current.statusChange?.status).toBe("created");
      await waitFor(() => expect(result.current.connectionState).toBe("live"), { timeout: 10000 });
      expect(result.current.recovered).toBe(false);
      await waitFor(() => expect(result.current.statusChange?.status).toBe("fulfilled"));
      expect(result.current.order?.items.every((i) => i.status === "delivered")).toBe(true);
      unmount();
    } finally {
      await off.stop();
      off.cleanup();
    }
  });

  it("refreshes its token through getToken before exp, and says 'sign in again' without one", async () => {
    const { orderId } = await newOrder("hook-exp");
    const inSeconds = (n: number) => Math.floor(Date.now() / 1000) + n;
    let asked = 0;
    const shortLived = harness.userToken("hook-exp", { exp: inSeconds(3) }); // one token for every render
    const kept = renderHook(() =>
      useFulfillmentWebSocket(orderId, shortLived, {
        apiUrl: gw.url,
        getToken: async () => {
          asked++;
          return harness.userToken("hook-exp", { exp: inSeconds(600) });
        },
      }),
    );
    const ended = renderHook(() => useFulfillmentWebSocket(orderId, shortLived, { apiUrl: gw.url }));
    await waitFor(() => expect(kept.result.current.isConnected && ended.result.current.isConnected).toBe(true));
    await waitFor(() => expect(ended.result.current.connectError?.code).toBe("token_expired"), { timeout: 6000 });
    expect(ended.result.current.connectionState).toBe("offline");
    expect(asked).toBe(1);
    expect(kept.result.current.connectionState).toBe("live");
    expect(kept.result.current.connectError).toBeNull();
    kept.unmount();
    ended.unmount();
  }, 15000);

  it("cleans up on unmount and keeps one socket across re-renders with new callbacks", async () => {
    const { token, orderId } = await newOrder("hook-cleanup");
    const { result, rerender, unmount } = renderHook(({ cb }) => useFulfillmentWebSocket(orderId, token, { apiUrl: gw.url, onStatusChange: cb }), {
      initialProps: { cb: () => undefined },
    });
    await waitFor(() => expect(result.current.isConnected).toBe(true));
    const socket = result.current.socket!;
    for (let i = 0; i < 5; i++) rerender({ cb: () => undefined });
    expect(result.current.socket).toBe(socket);
    expect(socket.listeners("fulfillment:status-change").length).toBe(1);
    const admin = await gw.connect(harness.adminToken());
    const before = (await harness.request(admin, "admin:get-connections")).totalConnected;
    unmount();
    expect(socket.connected).toBe(false);
    expect(socket.listeners("fulfillment:status-change").length).toBe(0);
    await waitFor(async () => expect((await harness.request(admin, "admin:get-connections")).totalConnected).toBe(before - 1));
    admin.disconnect();
  });

  it("surfaces a refused token and does not reconnect", async () => {
    const expired = harness.sign({ sub: "late", exp: Math.floor(Date.now() / 1000) - 3600 });
    const { result, unmount } = renderHook(() => useFulfillmentWebSocket("ord_x", expired, { apiUrl: gw.url }));
    await waitFor(() => expect(result.current.connectError?.code).toBe("token_expired"));
    expect(result.current.isConnected).toBe(false);
    await new Promise((r) => setTimeout(r, 1500));
    expect(result.current.socket?.active).toBe(false); // no reconnection scheduled
    expect(result.current.connectError?.message).toBe("Unauthorized");
    unmount();
  });

  it("a session the server ends for its event rate shows rate_limited and does not reconnect", async () => {
    const { token, orderId } = await newOrder("hook-chatty");
    const { result, unmount } = renderHook(() => useFulfillmentWebSocket(orderId, token, { apiUrl: gw.url }));
    await waitFor(() => expect(result.current.connectionState).toBe("live"));
    const socket = result.current.socket!;
    // default limits: 20/s, burst 100; refused more than 100 times within 10 s → limit:exceeded
    for (let i = 0; i < 250; i++) socket.emit("unsubscribe:order", { orderId: "ord_none" }, () => undefined);
    await waitFor(() => expect(result.current.connectError?.code).toBe("rate_limited"), { timeout: 5000 });
    expect(result.current.connectionState).toBe("offline");
    await new Promise((r) => setTimeout(r, 1000));
    expect(result.current.socket?.active).toBe(false); // no reconnection scheduled
    unmount();
  });

  it("works over HTTP long-polling too", async () => {
    const { token, orderId } = await newOrder("hook-polling");
    const { result, unmount } = renderHook(() => useFulfillmentWebSocket(orderId, token, { apiUrl: gw.url, socketOptions: { transports: ["polling"] } }));
    await waitFor(() => expect(result.current.isConnected).toBe(true));
    await waitFor(() => expect(result.current.order?.orderId).toBe(orderId));
    await gw.publish("fulfillment:status-change", { orderId, status: "processing", jobProgress: 42, timestamp: new Date(Date.now() + 5000).toISOString() });
    await waitFor(() => expect(result.current.statusChange?.jobProgress).toBe(42));
    unmount();
  });
});

describe("useAdminWebSocket", () => {
  it("receives job and webhook events, bounded, and stats on demand", async () => {
    // One token for every render: a new one (its exp moves each second) is a new session, by design.
    const token = harness.adminToken("dash");
    const { result, unmount } = renderHook(() => useAdminWebSocket(token, { apiUrl: gw.url, maxEvents: 5, statsIntervalMs: 0 }));
    await waitFor(() => expect(result.current.isConnected).toBe(true));
    await waitFor(() => expect(result.current.connectionStats).not.toBeNull());
    for (let i = 0; i < 3; i++) {
      const { orderId } = await newOrder(`admin-feed-${i}`);
      await pay(orderId);
    }
    await waitFor(() => expect(result.current.jobEvents.filter((j) => j.event === "completed").length).toBeGreaterThan(0), { timeout: 10000 });
    // 9 webhook events (3 per IPN) bounded to 5; under load they may take more than waitFor's default second
    await waitFor(() => expect(result.current.webhookEvents.length).toBe(5), { timeout: 5000 });
    expect(result.current.jobEvents.length).toBeLessThanOrEqual(5);
    expect(result.current.allUpdates.length).toBeLessThanOrEqual(5);
    const stats = await result.current.getConnections();
    expect(stats.admins).toBeGreaterThanOrEqual(1);
    unmount();
  });

  it("a non-admin gets no stats", async () => {
    const token = harness.userToken("nosy");
    const { result, unmount } = renderHook(() => useAdminWebSocket(token, { apiUrl: gw.url, statsIntervalMs: 0 }));
    await waitFor(() => expect(result.current.isConnected).toBe(true));
    await expect(result.current.getConnections()).rejects.toThrow("forbidden");
    expect(result.current.connectionStats).toBeNull();
    unmount();
  });
});
