#!/usr/bin/env bash
# Soak: fulfillment-gateway near this machine's per-process file limit (20,000; the server keeps
# room for its own descriptors) for DURATION seconds (default 600) of mixed traffic, all at once:
#   - targeted: 17,000 connections over 6,000 orders, 500 events/s (single-form publishes)
#   - broadcast bursts: 1,500 connections on one order, 10 events/s as 5-event batches
#   - churn: 300 connections opened, authenticated and closed again, every few seconds
# Reports loss, unexpected disconnects, churn failures and RSS every 30 s; appends to docs/benchmarks.md.
#   DURATION=60 bench/soak.sh     a short look
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release >/dev/null
ulimit -n 20000
DURATION=${DURATION:-600}
TARGETED=${TARGETED:-17000}
BROADCAST=${BROADCAST:-1500}
CHURN=${CHURN:-300}
export JWT_SECRET=soak-secret-$RANDOM-$RANDOM-0123456789 API_KEY=soak-key-$RANDOM
data=$(mktemp -d)
out=bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
build/fulfillment-gateway --host 127.0.0.1 --port 4750 --data-dir "$data" --log-level warn > "$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do grep -q READY "$out/server.log" && break; sleep 0.1; done
# RSS samples every 30 s, to see drift rather than two points
( while kill -0 $pid 2>/dev/null; do echo "$(date +%s) $(awk '/VmRSS/ {print $2}' /proc/$pid/status)"; sleep 30; done ) > "$out/rss.txt" &
common=(--port 4750 --server-pid $pid --timeout $((DURATION + 300)))
build/fg-loadgen "${common[@]}" --sources 8 --mode targeted --connections "$TARGETED" --orders 6000 --rate 500 \
  --duration "$DURATION" --out "$out/targeted.json" > /dev/null 2> "$out/targeted.err" &
targeted=$!
build/fg-loadgen "${common[@]}" --sources 2 --mode broadcast --connections "$BROADCAST" --rate 10 --batch 5 \
  --duration "$DURATION" --out "$out/broadcast.json" > /dev/null 2> "$out/broadcast.err" &
broadcast=$!
# Churn until the other two are done publishing.
end=$((SECONDS + DURATION))
churn_runs=0 churn_failed=0
while [ $SECONDS -lt $end ]; do
  sleep 5
  if build/fg-loadgen "${common[@]}" --sources 1 --mode connect --connections "$CHURN" > "$out/churn-last.json" 2>> "$out/churn.err"; then
    churn_runs=$((churn_runs + 1))
  else
    churn_failed=$((churn_failed + 1))
  fi
done
wait $targeted $broadcast || true
node -e '
  const fs = require("fs");
  const [dir, duration, churnRuns, churnFailed, churnSize] = process.argv.slice(1);
  const t = JSON.parse(fs.readFileSync(`${dir}/targeted.json`, "utf8"));
  const b = JSON.parse(fs.readFileSync(`${dir}/broadcast.json`, "utf8"));
  const rss = fs.readFileSync(`${dir}/rss.txt`, "utf8").trim().split("\n").map((l) => Number(l.split(" ")[1]));
  fs.writeFileSync(`${dir}/summary.json`, JSON.stringify({ targeted: t, broadcast: b, churnRuns: +churnRuns, churnFailed: +churnFailed, rss }) + "\n");
  const line = `Soak (${new Date().toISOString().slice(0, 10)}, \`bench/soak.sh\`, DURATION=${duration}, mixed traffic): ` +
    `targeted ${t.subscribed} connections, ${t.published} events at 500/s, ${t.received} of ${t.expected} deliveries (lost ${t.lost}), p99 ${t.latency_ms.p99} ms; ` +
    `broadcast ${b.subscribed} connections, ${b.published} events in 5-event batches, ${b.received} of ${b.expected} deliveries (lost ${b.lost}), p99 ${b.latency_ms.p99} ms; ` +
    `unexpected disconnects ${t.unexpected_disconnects + b.unexpected_disconnects}; churn: ${churnRuns} rounds of ${churnSize} connect/close, ${churnFailed} failed; ` +
    `server RSS samples (KiB, every 30 s): ${rss.join(", ")}.`;
  console.log(line);
  fs.appendFileSync("docs/benchmarks.md", "\n" + line + "\n");
' "$out" "$DURATION" "$churn_runs" "$churn_failed" "$CHURN"
