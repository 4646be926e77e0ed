#!/usr/bin/env bash
# User-space instructions per delivered message, counted by valgrind's callgrind (deterministic,
# unlike CPU time on a shared VM; the kernel's share is not counted — see fg-sendfloor for that).
# The gateway runs under callgrind four times: C connections and no events, 2C connections and no
# events (the difference over C is the cost of one connection: TCP accept, WebSocket upgrade,
# Engine.IO + Socket.IO handshakes, JWT check, subscribe with its ownership check), and C
# connections with N single events or N events in 5-event batches (the difference over the
# deliveries is the publish path: HTTP request amortized over the subscribers, routing, framing,
# writing).
#   bench/callgrind.sh [gateway-binary] [loadgen-binary]     (defaults: build/…)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/fulfillment-gateway}
LOADGEN=${2:-build/fg-loadgen}
CONNECTIONS=${CONNECTIONS:-300}
EVENTS=${EVENTS:-20}
command -v valgrind > /dev/null || { echo "callgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
export JWT_SECRET=cg-secret-$RANDOM-$RANDOM-0123456789 API_KEY=cg-key-$RANDOM
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() {  # name loadgen-args... → prints total Ir and deliveries
  local name=$1
  shift
  mkdir -p "$work/$name"
  valgrind --tool=callgrind --callgrind-out-file="$work/$name/cg.out" "$BIN" --host 127.0.0.1 --port 4790 \
    --data-dir "$work/$name" --log-level warn --threads 1 > "$work/$name/server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do grep -q READY "$work/$name/server.log" 2>/dev/null && break; sleep 0.1; done
  "$LOADGEN" --port 4790 --mode broadcast --timeout 300 "$@" > "$work/$name/report.json" 2> "$work/$name/loadgen.err" || true
  kill -INT $pid
  wait $pid || true
  local ir received
  ir=$(awk '/^summary:/ {print $2}' "$work/$name/cg.out")
  received=$(node -e 'console.log(require(process.argv[1]).received)' "$work/$name/report.json")
  echo "$ir $received"
}

read -r base_ir base_n < <(run idle --connections "$CONNECTIONS" --rate 1 --duration 0)
read -r double_ir double_n < <(run idle2 --connections $((2 * CONNECTIONS)) --rate 1 --duration 0)
read -r single_ir single_n < <(run single --connections "$CONNECTIONS" --rate 5 --duration $((EVENTS / 5)))
read -r batch_ir batch_n < <(run batch --connections "$CONNECTIONS" --rate 5 --batch 5 --duration $((EVENTS / 5)))
node -e '
  const [bi, di, si, sn, ti, tn, c] = process.argv.slice(1).map(Number);
  const per = (ir, n) => (n > 0 ? Math.round((ir - bi) / n) : null);
  console.log(JSON.stringify({ connections: c, instructions_per_connection: Math.round((di - bi) / c),
    single: { deliveries: sn, instructions_per_delivery: per(si, sn) },
    batch5: { deliveries: tn, instructions_per_delivery: per(ti, tn) } }));
' "$base_ir" "$double_ir" "$single_ir" "$single_n" "$batch_ir" "$batch_n" "$CONNECTIONS"
