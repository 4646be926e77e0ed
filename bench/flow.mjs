// Runs N orders through the whole fulfillment flow against a fresh gateway (release build) and
// reports orders/s and IPN → "fulfilled" latency percentiles, as seen by an admin socket.
//   node bench/flow.mjs [--orders 1000] [--concurrency 50] [--workers 4] [--sim-latency 20]
import { parseArgs } from "node:util";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
process.env.FG_BIN ??= path.join(here, "../build/fulfillment-gateway");
const { startGateway, adminToken, until } = await import(path.join(here, "../tests/integration/harness.mjs"));

const { values } = parseArgs({
  options: {
    orders: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "50" },
    workers: { type: "string", default: "4" },
    "sim-latency": { type: "string", default: "20" },
  },
});
const N = Number(values.orders);
const C = Number(values.concurrency);
const gw = await startGateway({ env: { JOB_WORKERS: values.workers, SUPPLIER_SIM_LATENCY_MS: values["sim-latency"] } });
const admin = await gw.connect(adminToken(), { transports: ["websocket"] });
const ipnAt = new Map();
const doneAt = new Map();
admin.on("fulfillment:status-change", (d) => {
  if (d.status === "fulfilled" && !doneAt.has(d.orderId)) doneAt.set(d.orderId, performance.now());
});

const orders = [];
for (let i = 0; i < N; i += C) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(C, N - i) }, (_, k) =>
      gw.api("POST", "/api/v1/orders", { userId: `bench-${(i + k) % 100}`, items: [{ productId: "game", quantity: 1 }, { productId: "dlc", quantity: 1 }] })
        .then((r) => r.json())),
  );
  orders.push(...batch.map((o) => o.orderId));
}
const t0 = performance.now();
let next = 0;
let pid = 9_000_000_000;
async function poster() {
  while (next < orders.length) {
    const id = orders[next++];
    ipnAt.set(id, performance.now());
    const r = await gw.ipn({ payment_id: pid++, payment_status: "finished", order_id: id, actually_paid: 0.01, pay_currency: "eth", price_amount: 10 });
    if (r.status !== 200) throw new Error(`IPN ${r.status}`);
  }
}
await Promise.all(Array.from({ length: C }, poster));
await until(() => doneAt.size === N, 600000, "all fulfilled");
const elapsed = (performance.now() - t0) / 1000;
const lat = orders.map((id) => doneAt.get(id) - ipnAt.get(id)).sort((a, b) => a - b);
const pct = (p) => lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)];
const report = {
  orders: N,
  concurrency: C,
  jobWorkers: Number(values.workers),
  supplierLatencyMs: Number(values["sim-latency"]),
  seconds: +elapsed.toFixed(2),
  ordersPerSecond: +(N / elapsed).toFixed(1),
  ipnToFulfilledMs: { p50: +pct(50).toFixed(1), p90: +pct(90).toFixed(1), p99: +pct(99).toFixed(1), max: +lat[lat.length - 1].toFixed(1) },
};
console.log(JSON.stringify(report));
admin.disconnect();
await gw.stop();
gw.cleanup();
