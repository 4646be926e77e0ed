#!/usr/bin/env bash
# Soak: fulfillment-gateway with 19,000 connections (this machine's per-process file limit leaves
# room for the server's own descriptors) over 6,000 orders, 500 events/s for DURATION seconds
# (default 600). Reports loss, unexpected disconnects and RSS before/after; appends to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release >/dev/null
ulimit -n 20000
DURATION=${DURATION:-600}
CONNECTIONS=${CONNECTIONS:-19000}
export JWT_SECRET=soak-secret-$RANDOM API_KEY=soak-key-$RANDOM
data=$(mktemp -d)
out=bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
build/fulfillment-gateway --host 127.0.0.1 --port 4750 --data-dir "$data" --log-level warn > "$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q READY "$out/server.log" && break; sleep 0.1; done
# RSS samples every 30 s, to see drift rather than two points
( while kill -0 $pid 2>/dev/null; do echo "$(date +%s) $(awk '/VmRSS/ {print $2}' /proc/$pid/status)"; sleep 30; done ) > "$out/rss.txt" &
build/fg-loadgen --port 4750 --sources 8 --mode targeted --connections "$CONNECTIONS" --orders 6000 --rate 500 \
  --duration "$DURATION" --timeout $((DURATION + 300)) --server-pid $pid --out "$out/report.json" > /dev/null || true
node -e '
  const r = require(process.argv[1]);
  const fs = require("fs");
  const rss = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => Number(l.split(" ")[1]));
  const line = `Soak (${new Date().toISOString().slice(0, 10)}, \`bench/soak.sh\`, DURATION=${process.argv[3]}): ${r.subscribed} connections, ` +
    `${r.published} events at 500/s over ${r.publish_s.toFixed(0)} s, ${r.received} of ${r.expected} deliveries (lost ${r.lost}), ` +
    `unexpected disconnects ${r.unexpected_disconnects}, p99 ${r.latency_ms.p99} ms; server RSS samples (KiB, every 30 s): ${rss.join(", ")}.`;
  console.log(line);
  fs.appendFileSync("docs/benchmarks.md", "\n" + line + "\n");
' "$PWD/$out/report.json" "$out/rss.txt" "$DURATION"
