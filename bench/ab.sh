#!/usr/bin/env bash
# A/B: the same load-generator scenario against two gateway binaries, alternating A and B for a
# few rounds (so drift on a shared machine hits both), and the median server CPU per delivery of
# each. For "what does this change cost on the hot path" (e.g. metrics on vs a build before them).
#   bench/ab.sh <binary A> <binary B> <rounds> <fg-loadgen args...>
#   bench/ab.sh /tmp/base/fulfillment-gateway build/fulfillment-gateway 4 \
#       --mode targeted --connections 15000 --orders 5000 --rate 2000 --duration 10
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 4 ] || { sed -n 2,8p "$0"; exit 2; }
A=$1 B=$2 ROUNDS=$3
shift 3
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
export JWT_SECRET=bench-secret-$RANDOM-$RANDOM-0123456789 API_KEY=bench-key-$RANDOM
out=$(mktemp -d)
PORT=4710
run() {  # binary label round loadgen-args...
  local bin=$1 label=$2 round=$3 data
  shift 3
  data=$(mktemp -d)
  "$bin" --host 127.0.0.1 --port $PORT --data-dir "$data" --log-level warn > "$out/$label-$round.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do grep -q READY "$out/$label-$round.log" && break; sleep 0.1; done
  build/fg-loadgen --port $PORT --sources 8 --server-pid "$pid" --timeout 600 --out "$out/$label-$round.json" "$@" \
    > /dev/null 2> "$out/$label-$round.err" || echo "   ($label round $round: loss or failures, see $out/$label-$round.err)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$data"
  sleep 1
  node -e 'const r=require(process.argv[1]);console.log(`${process.argv[2]} round ${process.argv[3]}: ${r.server.cpu_us_per_delivery.toFixed(2)} µs CPU/delivery, p99 ${r.latency_ms.p99} ms, lost ${r.lost}`)' \
    "$out/$label-$round.json" "$label" "$round"
}
for r in $(seq 1 "$ROUNDS"); do
  run "$A" A "$r" "$@"
  run "$B" B "$r" "$@"
done
node -e '
  const fs = require("fs"), dir = process.argv[1], rounds = +process.argv[2];
  const med = (xs) => { xs = [...xs].sort((a, b) => a - b); const m = xs.length >> 1; return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2; };
  const get = (l) => Array.from({ length: rounds }, (_, i) => JSON.parse(fs.readFileSync(`${dir}/${l}-${i + 1}.json`)).server.cpu_us_per_delivery);
  const a = med(get("A")), b = med(get("B"));
  console.log(`median CPU per delivery: A ${a.toFixed(2)} µs, B ${b.toFixed(2)} µs, B/A ${(100 * (b / a - 1)).toFixed(1)} %`);
' "$out" "$ROUNDS"
echo "reports in $out"
