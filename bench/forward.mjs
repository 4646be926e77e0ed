// Per-request cost of long polling on the session's own node vs another node (which forwards it,
// cluster/session_router.hpp), against running cluster nodes (bench/failover.sh starts them).
// One polling session made on the owner; then, `--rounds` times, a POST carrying a Socket.IO
// request with an ack and the GET that fetches the ack (the cheapest full exchange), first sent to
// the owner, then to the other node. Latency per exchange from here; server CPU per request from
// /proc of every node pid given (the owner's and the forwarder's work together).
//   node bench/forward.mjs --owner PORT --other PORT --pids PID,PID,PID [--rounds 3000]
// Needs JWT_SECRET and API_KEY (as the nodes').
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { createHmac } from "node:crypto";

const { values } = parseArgs({
  options: {
    owner: { type: "string" },
    other: { type: "string" },
    pids: { type: "string", default: "" },
    rounds: { type: "string", default: "3000" },
  },
});
const rounds = Number(values.rounds);
const pids = values.pids.split(",").filter(Boolean).map(Number);
const base = (port) => `http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`;
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const head = b64({ alg: "HS256", typ: "JWT" });
const body = b64({ sub: "bench-forward", exp: Math.floor(Date.now() / 1000) + 3600 });
const token = `${head}.${body}.${createHmac("sha256", process.env.JWT_SECRET).update(`${head}.${body}`).digest("base64url")}`;
const ticks = () => pids.reduce((s, p) => {
  const f = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ");
  return s + Number(f[11]) + Number(f[12]);
}, 0);

// The order the session subscribes to, owned by our user.
const put = await fetch(`http://127.0.0.1:${values.owner}/api/v1/orders/bench-fwd-1`, {
  method: "PUT",
  headers: { authorization: `Bearer ${process.env.API_KEY}`, "content-type": "application/json" },
  body: JSON.stringify({ userId: "bench-forward" }),
});
if (put.status >= 300) throw new Error(`PUT order: ${put.status}`);
const open = await (await fetch(base(values.owner))).text();
const sid = JSON.parse(open.slice(1)).sid;
const post = async (port, text) => {
  const r = await fetch(`${base(port)}&sid=${sid}`, { method: "POST", body: text, headers: { "content-type": "text/plain;charset=UTF-8" } });
  if (r.status !== 200) throw new Error(`POST ${r.status} ${await r.text()}`);
  await r.text();
};
const get = async (port) => {
  const r = await fetch(`${base(port)}&sid=${sid}`);
  if (r.status !== 200) throw new Error(`GET ${r.status} ${await r.text()}`);
  return r.text();
};
await post(values.owner, `40/fulfillment,${JSON.stringify({ token })}`);
const connected = await get(values.owner);
if (!connected.includes("40/fulfillment")) throw new Error(`no CONNECT answer: ${connected}`);

async function measure(port) {
  const lat = [];
  const t0 = ticks();
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    await post(port, `42/fulfillment,${i}["subscribe:order",{"orderId":"bench-fwd-1"}]`);
    let got = "";
    while (!got.includes(`43/fulfillment,${i}[`)) {
      const text = await get(port);
      if (text.split("\x1e").includes("2")) await post(port, "3");  // the server's ping: pong
      got += text;
    }
    lat.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const cpuMs = ((ticks() - t0) * 10) / (2 * rounds);  // 100 Hz ticks → ms per request (2 requests per round)
  lat.sort((a, b) => a - b);
  const p = (q) => lat[Math.min(lat.length - 1, Math.floor((q / 100) * lat.length))].toFixed(2);
  return { p50: p(50), p99: p(99), cpuUs: (cpuMs * 1000).toFixed(0) };
}
await measure(values.owner);  // warm-up (connections, caches)
const own = await measure(values.owner);
const fwd = await measure(values.other);
console.log(`polling on the owner:     POST+GET exchange p50 ${own.p50} ms, p99 ${own.p99} ms; server CPU ${own.cpuUs} µs per request (all nodes)`);
console.log(`polling on another node:  POST+GET exchange p50 ${fwd.p50} ms, p99 ${fwd.p99} ms; server CPU ${fwd.cpuUs} µs per request (all nodes)`);
