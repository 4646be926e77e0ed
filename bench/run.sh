#!/usr/bin/env bash
# Side-by-side benchmark: fulfillment-gateway vs the Node Socket.IO baseline (bench/node-baseline),
# same scenarios, same load generator (build/fg-loadgen), one run. Writes JSON reports to
# bench/results/<run>/ and the table between the markers in docs/benchmarks.md.
#   bench/run.sh                 full scale (15,000 connections; about 10 minutes)
#   SCALE=0.1 bench/run.sh       a tenth of every connection count (quick look)
#   SOAK=1 bench/run.sh          adds the 10-minute soak with 19,000 connections (fulfillment-gateway)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
(cd bench/node-baseline && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; })
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

SCALE=${SCALE:-1}
n() { awk -v x="$1" -v s="$SCALE" 'BEGIN { v = int(x * s); if (v < 10) v = 10; print v }'; }
export JWT_SECRET=bench-secret-$RANDOM-$RANDOM-0123456789 API_KEY=bench-key-$RANDOM
run_id=$(date -u +%Y%m%dT%H%M%SZ)
out=bench/results/$run_id
mkdir -p "$out"
LOADGEN=build/fg-loadgen
PORT=4700

start_server() {  # kind → sets SERVER_PID
  local kind=$1 data
  case "$kind" in
    fg | fg-norecovery)
      data=$(mktemp -d)
      local extra=()
      [ "$kind" = fg-norecovery ] && extra=(--recovery-window 0)
      build/fulfillment-gateway --host 127.0.0.1 --port $PORT --data-dir "$data" --log-level warn "${extra[@]}" > "$out/$kind-server.log" 2>&1 &
      ;;
    node)
      PORT=$PORT HOST=127.0.0.1 node bench/node-baseline/server.mjs > "$out/$kind-server.log" 2>&1 &
      ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    grep -q READY "$out/$kind-server.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server $kind did not start" >&2
  cat "$out/$kind-server.log" >&2
  exit 1
}
stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  sleep 1  # let TIME_WAIT sockets and the port settle
}
scenario() {  # name kind loadgen-args...
  local name=$1 kind=$2
  shift 2
  echo "== $name ($kind)"
  start_server "$kind"
  if ! $LOADGEN --port $PORT --sources 8 --server-pid "$SERVER_PID" --timeout 600 --out "$out/$name-$kind.json" "$@" > /dev/null 2> "$out/$name-$kind.err"; then
    echo "   (loadgen reported loss or failures; see $out/$name-$kind.err)"
  fi
  stop_server
  node -e 'const r=require(process.argv[1]);console.log("   "+JSON.stringify({subscribed:r.subscribed,lost:r.lost,p99:r.latency_ms.p99,server:r.server}))' "$PWD/$out/$name-$kind.json" || true
}

for kind in fg node; do
  scenario idle "$kind" --mode targeted --connections "$(n 15000)" --orders "$(n 5000)" --duration 0
  scenario broadcast "$kind" --mode broadcast --connections "$(n 15000)" --rate 2 --duration 10 --threads 2
  scenario targeted "$kind" --mode targeted --connections "$(n 15000)" --orders "$(n 5000)" --rate 2000 --duration 10
  scenario publish "$kind" --mode targeted --connections 100 --orders 100 --rate 0 --duration 10 --publishers 4
done
# The batch form of the publish API (the baseline has none): 100 events per request.
scenario publish-batch fg --mode targeted --connections 100 --orders 100 --rate 0 --duration 10 --publishers 4 --batch 100
# Repeated publishes in bursts (20 events per request, batch form): the loops' combined writes.
scenario broadcast-burst fg --mode broadcast --connections "$(n 15000)" --rate 20 --batch 20 --duration 10 --threads 2
# Connection state recovery: the same scenarios with recovery off (--recovery-window 0; every event
# is still committed to the log and its order's timeline before delivery), and a reconnect storm:
# every connection drops at once while 500 events/s flow, then all come back with their pid/offset.
scenario idle fg-norecovery --mode targeted --connections "$(n 15000)" --orders "$(n 5000)" --duration 0
scenario targeted fg-norecovery --mode targeted --connections "$(n 15000)" --orders "$(n 5000)" --rate 2000 --duration 10
scenario publish fg-norecovery --mode targeted --connections 100 --orders 100 --rate 0 --duration 10 --publishers 4
scenario publish-batch fg-norecovery --mode targeted --connections 100 --orders 100 --rate 0 --duration 10 --publishers 4 --batch 100
scenario storm fg --mode storm --connections "$(n 15000)" --orders "$(n 5000)" --rate 500 --duration 15 --storm-at 4 --storm-gap 1
# The kernel's floor: bare loopback sends to as many sockets, no gateway (bench/sendfloor.cpp).
for k in 1 20; do
  echo "== sendfloor (per send: $k)"
  build/fg-sendfloor --connections "$(n 15000)" --per-send $k > "$out/sendfloor-$k.json"
done
if [ "${SOAK:-0}" = 1 ]; then
  scenario soak fg --mode targeted --connections "$(n 19000)" --orders "$(n 6000)" --rate 500 --duration 600
fi

node bench/render.mjs "$out" "$SCALE" > "$out/table.md"
node -e '
  const fs = require("fs");
  const [doc, table] = [process.argv[1], fs.readFileSync(process.argv[2], "utf8")];
  let text = fs.readFileSync(doc, "utf8");
  const start = "<!-- side-by-side:start -->", end = "<!-- side-by-side:end -->";
  const block = `${start}\n${table}\n${end}`;
  text = text.includes(start) ? text.replace(new RegExp(start + "[\\s\\S]*" + end), block) : text + "\n" + block + "\n";
  fs.writeFileSync(doc, text);
' docs/benchmarks.md "$out/table.md"
echo "wrote $out/table.md and docs/benchmarks.md"
