// What TLS on the gateway's own port costs (--tls-cert/--tls-key, net/tls.hpp): the same run
// with and without it — N WebSocket clients (raw Engine.IO/Socket.IO frames over `ws`) connect,
// authenticate and subscribe (3 per order), then events are published to their orders at a fixed
// rate through the batch API — measuring the server's CPU (from /proc) per connection set-up
// (TCP + TLS handshake + Engine.IO + JWT + subscribe) and per delivery, and its RSS per connection.
//   node bench/tls.mjs [--connections 3000] [--rate 2000] [--duration 10]
import { parseArgs } from "node:util";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
process.env.FG_BIN ??= path.join(here, "../build/fulfillment-gateway");
const { startGateway, userToken, sleep } = await import(pathToFileURL(path.join(here, "../tests/integration/harness.mjs")));
const { WebSocket } = await import(pathToFileURL(path.join(here, "../tests/integration/node_modules/ws/wrapper.mjs")));

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "3000" },
    rate: { type: "string", default: "2000" },
    duration: { type: "string", default: "10" },
  },
});
const N = Number(values.connections), RATE = Number(values.rate), DURATION = Number(values.duration);
const ORDERS = Math.max(1, Math.floor(N / 3));
const TICK = os.cpus().length > 0 ? 100 : 100; // USER_HZ

const dir = mkdtempSync(path.join(os.tmpdir(), "fg-tls-bench-"));
const f = (n) => path.join(dir, n);
const openssl = (...a) => execFileSync("openssl", a, { stdio: ["ignore", "pipe", "pipe"] });
openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "2", "-subj", "/CN=bench CA");
writeFileSync(f("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("s.key"), "-out", f("s.csr"), "-subj", "/CN=localhost");
openssl("x509", "-req", "-in", f("s.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-set_serial", "7", "-out", f("s.pem"), "-days", "2", "-extfile", f("ext.cnf"));
const ca = readFileSync(f("ca.pem"));

function serverStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpu = (Number(fields[11]) + Number(fields[12])) / TICK;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
  return { cpu, rss };
}

async function run(tls) {
  const args = ["--threads", "2", "--max-subscriptions", "8", "--handshakes-per-ip", "0"];
  if (tls) args.push("--tls-cert", f("s.pem"), "--tls-key", f("s.key"));
  const gw = await startGateway({ args, env: { LOG_LEVEL: "warn" } });
  const scheme = tls ? "https" : "http";
  const agent = tls ? new https.Agent({ keepAlive: true, maxSockets: 4, ca }) : new http.Agent({ keepAlive: true, maxSockets: 4 });
  const call = (method, p, body) => new Promise((resolve, reject) => {
    const req = (tls ? https : http).request({ host: "127.0.0.1", servername: "localhost", port: gw.port, method, path: p, agent,
      headers: { "content-type": "application/json", authorization: `Bearer ${process.env.API_KEY ?? "integration-test-api-key"}` } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.once("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
  for (let o = 0; o < ORDERS; o += 50) {
    await Promise.all(Array.from({ length: Math.min(50, ORDERS - o) }, (_, k) => call("PUT", `/api/v1/orders/o-${o + k}`, { userId: `u-${o + k}` })));
  }
  console.error(`${tls ? "tls" : "plain"}: ${ORDERS} orders registered`);
  const pid = gw.child.pid;
  let delivered = 0, ready = 0;
  const sockets = [];
  const open = (i) => new Promise((resolve, reject) => {
    const order = i % ORDERS;
    const ws = new WebSocket(`${tls ? "wss" : "ws"}://localhost:${gw.port}/socket.io/?EIO=4&transport=websocket`, { ca, perMessageDeflate: false });
    sockets.push(ws);
    ws.on("error", reject);
    ws.on("message", (buf) => {
      const m = buf.toString();
      if (m === "2") return ws.send("3");
      if (m.startsWith("0{")) return ws.send(`40/fulfillment,${JSON.stringify({ token: userToken(`u-${order}`) })}`);
      if (m.startsWith("40/fulfillment,")) return ws.send(`42/fulfillment,1["subscribe:order",{"orderId":"o-${order}"}]`);
      if (m.startsWith("43/fulfillment,1")) {
        ready++;
        return resolve();
      }
      if (m.startsWith("42/fulfillment,")) delivered++;
    });
  });
  const s0 = serverStats(pid);
  for (let i = 0; i < N; i += 200) await Promise.all(Array.from({ length: Math.min(200, N - i) }, (_, k) => open(i + k)));
  const s1 = serverStats(pid);
  // publish: RATE events/s as 20-event batches, each to a random order (3 recipients)
  const batches = Math.round((RATE * DURATION) / 20);
  const interval = 1000 / (RATE / 20);
  const t0 = performance.now();
  const pending = [];
  for (let b = 0; b < batches; b++) {
    const due = t0 + b * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const events = Array.from({ length: 20 }, () => ({ event: "fulfillment:status-change", data: { orderId: `o-${Math.floor(Math.random() * ORDERS)}`, status: "created" } }));
    pending.push(call("POST", "/api/v1/events", events));
  }
  await Promise.all(pending);
  const expected = batches * 20 * 3;
  const deadline = Date.now() + 10000;
  while (delivered < expected && Date.now() < deadline) await sleep(20);
  const s2 = serverStats(pid);
  for (const ws of sockets) ws.terminate();
  agent.destroy();
  await gw.stop();
  gw.cleanup();
  return {
    tls, connections: ready, delivered, expected,
    cpu_us_per_connection: ((s1.cpu - s0.cpu) * 1e6) / N,
    rss_per_connection_kib: (s1.rss - s0.rss) / N,
    cpu_us_per_delivery: ((s2.cpu - s1.cpu) * 1e6) / delivered,
  };
}

const plain = await run(false);
const secure = await run(true);
rmSync(dir, { recursive: true, force: true });
const pct = (a, b) => `${b >= a ? "+" : ""}${(100 * (b / a - 1)).toFixed(0)} %`;
console.log(JSON.stringify({ plain, tls: secure }));
console.log(`connections ${N}, ${RATE} events/s for ${DURATION} s (3 recipients each)`);
console.log(`server CPU per connection set-up: plain ${plain.cpu_us_per_connection.toFixed(0)} µs, TLS ${secure.cpu_us_per_connection.toFixed(0)} µs (${pct(plain.cpu_us_per_connection, secure.cpu_us_per_connection)})`);
console.log(`server RSS per connection: plain ${plain.rss_per_connection_kib.toFixed(1)} KiB, TLS ${secure.rss_per_connection_kib.toFixed(1)} KiB`);
console.log(`server CPU per delivery: plain ${plain.cpu_us_per_delivery.toFixed(1)} µs, TLS ${secure.cpu_us_per_delivery.toFixed(1)} µs (${pct(plain.cpu_us_per_delivery, secure.cpu_us_per_delivery)})`);
if (plain.delivered < plain.expected || secure.delivered < secure.expected) console.log("(some deliveries missing: see the JSON line)");
