// Renders bench/results/<run>/*.json (from bench/run.sh) as the Markdown table for docs/benchmarks.md.
import { readFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const [dir, scale] = process.argv.slice(2);
const load = (name, kind) => {
  const f = path.join(dir, `${name}-${kind}.json`);
  return existsSync(f) ? JSON.parse(readFileSync(f, "utf8")) : null;
};
const fmt = (x, d = 1) => (x == null || Number.isNaN(x) ? "–" : Number(x).toFixed(d));
const ratio = (a, b, higherIsBetter) => (a && b ? `${fmt(higherIsBetter ? a / b : b / a, 1)}×` : "–");
const rows = [];
const add = (scenario, figure, fg, node, higherIsBetter, unit, d = 1) =>
  rows.push(`| ${scenario} | ${figure} | ${fmt(fg, d)} ${unit} | ${fmt(node, d)} ${unit} | ${ratio(fg, node, higherIsBetter)} |`);

const idle = [load("idle", "fg"), load("idle", "node")];
add(`idle: ${idle[0]?.subscribed ?? "?"} subscribed connections`, "server RSS per connection", idle[0]?.server.rss_per_connection_kib, idle[1]?.server.rss_per_connection_kib, false, "KiB", 2);
add("connect storm with JWT + subscribe", "server CPU per connection", idle[0]?.server.cpu_us_per_connection, idle[1]?.server.cpu_us_per_connection, false, "µs");
add("", "connections per second (generator-bound)", idle[0]?.connects_per_s, idle[1]?.connects_per_s, true, "/s", 0);
const bc = [load("broadcast", "fg"), load("broadcast", "node")];
add(`broadcast: one order, ${bc[0]?.subscribed ?? "?"} subscribers, 2 events/s`, "server CPU per delivered message", bc[0]?.server.cpu_us_per_delivery, bc[1]?.server.cpu_us_per_delivery, false, "µs", 2);
add("", "delivery latency p99", bc[0]?.latency_ms.p99, bc[1]?.latency_ms.p99, false, "ms");
add("", "lost", bc[0]?.lost, bc[1]?.lost, false, "", 0);
const tg = [load("targeted", "fg"), load("targeted", "node")];
add(`targeted: ${tg[0]?.subscribed ?? "?"} connections over ${tg[0]?.orders ?? "?"} orders, 2,000 events/s`, "publish→receive p99", tg[0]?.latency_ms.p99, tg[1]?.latency_ms.p99, false, "ms", 2);
add("", "lost", tg[0]?.lost, tg[1]?.lost, false, "", 0);
add("", "server CPU per event (HTTP + routing + 3 deliveries)", tg[0]?.server.cpu_us_per_event, tg[1]?.server.cpu_us_per_event, false, "µs");
const pb = [load("publish", "fg"), load("publish", "node")];
add("publish API, keep-alive, 4 publishers, as fast as accepted", "events accepted per second", pb[0]?.events_per_s, pb[1]?.events_per_s, true, "/s", 0);
add("", "server CPU per event", pb[0]?.server.cpu_us_per_event, pb[1]?.server.cpu_us_per_event, false, "µs");
const pbb = load("publish-batch", "fg");
add("publish API, batch form (100 events per request) vs the baseline's single form", "events accepted per second", pbb?.events_per_s, pb[1]?.events_per_s, true, "/s", 0);
add("", "server CPU per event", pbb?.server.cpu_us_per_event, pb[1]?.server.cpu_us_per_event, false, "µs", 2);
const burst = load("broadcast-burst", "fg");
add(`broadcast burst: one order, ${burst?.subscribed ?? "?"} subscribers, 20 events/s as 20-event batches, vs the baseline's broadcast above`, "server CPU per delivered message", burst?.server.cpu_us_per_delivery, bc[1]?.server.cpu_us_per_delivery, false, "µs", 2);
add("", "delivery latency p99 (generator-bound: it reads 20 frames per subscriber per second)", burst?.latency_ms.p99, null, false, "ms");
add("", "lost", burst?.lost, null, false, "", 0);
const soak = load("soak", "fg");
// Recovery on (the default, the fulfillment-gateway column above) vs off, same run.
const rec = [];
const addRec = (scenario, figure, on, off, unit, d = 1) =>
  rec.push(`| ${scenario} | ${figure} | ${fmt(on, d)} ${unit} | ${fmt(off, d)} ${unit} | ${on && off ? fmt(on / off, 2) + "×" : "–"} |`);
const off = (name) => load(name, "fg-norecovery");
addRec("idle: 15,000 subscribed connections", "server RSS per connection", idle[0]?.server.rss_per_connection_kib, off("idle")?.server.rss_per_connection_kib, "KiB", 2);
addRec("targeted, 2,000 events/s", "publish→receive p99", tg[0]?.latency_ms.p99, off("targeted")?.latency_ms.p99, "ms", 2);
addRec("", "server CPU per delivery", tg[0]?.server.cpu_us_per_delivery, off("targeted")?.server.cpu_us_per_delivery, "µs", 1);
addRec("", "lost", tg[0]?.lost, off("targeted")?.lost, "", 0);
addRec("publish API, single form, 4 publishers", "events accepted per second", pb[0]?.events_per_s, off("publish")?.events_per_s, "/s", 0);
addRec("publish API, batch form (100 per request)", "events accepted per second", pbb?.events_per_s, off("publish-batch")?.events_per_s, "/s", 0);
const storm = load("storm", "fg");

const floor = (k) => {
  const f = path.join(dir, `sendfloor-${k}.json`);
  return existsSync(f) ? JSON.parse(readFileSync(f, "utf8")) : null;
};

const lines = [
  `Run ${path.basename(dir)} — ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, shared by server and generator; scale ${scale}.`,
  "Command: `" + (scale === "1" ? "bench/run.sh" : `SCALE=${scale} bench/run.sh`) + "`; raw reports in `" + dir + "/`.",
  "",
  "| scenario | figure | fulfillment-gateway | Node socket.io 4.8 baseline | advantage |",
  "|---|---|---|---|---|",
  ...rows,
];
if (off("targeted")) {
  lines.push("", "Connection state recovery on (the default) vs off (`--recovery-window 0`; the log and timelines are written either way):", "",
    "| scenario | figure | recovery on | recovery off | on / off |", "|---|---|---|---|---|", ...rec);
}
if (storm?.storm) {
  const st = storm.storm;
  lines.push("", `Reconnect storm (\`--mode storm\`): ${st.dropped} subscribed connections drop at once (TCP closed) while 500 events/s are published, and reconnect 1 s later with their pid/offset: ` +
    `${st.recovered} recovered, ${st.fresh_sessions} fresh sessions, all back in ${fmt(st.reconnect_s, 2)} s (generator-paced), ${st.replayed} events replayed, lost ${st.lost}, duplicated ${st.duplicated}, out of order ${st.out_of_order}; ` +
    `server RSS ${st.server_rss_before_kib} → at most ${st.server_rss_max_kib} KiB during the storm.`);
}
if (soak) {
  lines.push("", `Soak (fulfillment-gateway): ${soak.subscribed} connections, ${soak.published} events over ${fmt(soak.publish_s, 0)} s: lost ${soak.lost}, unexpected disconnects ${soak.unexpected_disconnects}, RSS ${soak.server.rss_after_connect_kib} → ${soak.server.rss_after_publish_kib} KiB.`);
}
const [f1, f20] = [floor(1), floor(20)];
if (f1) {
  lines.push("", `Kernel floor (\`build/fg-sendfloor --connections ${f1.connections} --per-send 1|20\`, no gateway): one ${f1.size}-byte loopback send to each of ${f1.connections} sockets costs ${fmt(f1.cpu_us_per_send, 2)} µs of sender CPU per send and ${fmt(f1.wall_ms_per_round, 0)} ms per round of all sockets (reader on the same cores)` +
    (f20 ? `; 20 messages per send: ${fmt(f20.cpu_us_per_delivery, 2)} µs per message.` : "."));
}
const gen = [...idle, ...bc, ...tg, ...pb, pbb, burst].filter(Boolean).map((r) => r.generator_cpu_s);
lines.push("", `Generator CPU per run: ${gen.map((g) => fmt(g, 1)).join(", ")} s (a saturated generator shows here, not as a slow server).`);
console.log(lines.join("\n"));
