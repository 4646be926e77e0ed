#!/usr/bin/env bash
# Cluster benchmark: a fresh PostgreSQL and Redis (scripts/services.sh), 3 nodes, and 3 load
# generators at once, each with its share of the connections on one node and publishing through
# the next node (so every event crosses nodes). Prints per-scenario figures: deliveries/s, latency
# p50/p99 (publish → socket, cross-node), server CPU per delivery (all nodes), Redis CPU and
# messages per published event, PostgreSQL commits per event.
#   bench/cluster.sh [connections total] [targeted events/s per generator] [seconds]
# (broadcast: BROADCAST_RATE events/s per generator, default 20). Redis and PostgreSQL figures are
# over the whole scenario, registering the orders included (one owner message and commit each).
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${1:-15000} RATE=${2:-300} DURATION=${3:-10}
. bench/cluster_services.sh
redis_pid=$(cat "$dir/redis/redis.pid")
ports=(4811 4812 4813)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
commits() { psql "$db" -qAtc "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }
metric() {  # port name labels → value
  curl -s -H "Authorization: Bearer $API_KEY" "http://127.0.0.1:$1/metrics" |
    awk -v n="$2" -v l="$3" '$1 ~ "^"n && index($1, l) { s += $2 } END { print s + 0 }'
}

scenario() {  # mode [generators] [extra fg-loadgen args…]
  local mode=$1 gens_n=${2:-3} node_pids=() i
  shift 2 || shift $#
  PGOPTIONS="--client-min-messages=warning" psql "$db" -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public" > /dev/null
  for i in 0 1 2; do
    DATABASE_URL=$db REDIS_URL=$redis NODE_ID=bench-$i ./build/fulfillment-gateway --host 127.0.0.1 \
      --port "${ports[$i]}" --data-dir "$dir/node-$i" --log-level warn > "$dir/node-$i.log" 2>&1 &
    node_pids+=($!)
    pids+=($!)
  done
  for i in 0 1 2; do
    for _ in $(seq 1 100); do grep -q READY "$dir/node-$i.log" && break; sleep 0.1; done
  done
  sleep 2  # the nodes hear of each other
  local c0 r0 p0 m0 e0
  c0=$(commits); r0=$(cpu_ticks "$redis_pid"); p0=0
  for i in 0 1 2; do p0=$((p0 + $(cpu_ticks "${node_pids[$i]}"))); done
  m0=$(metric "${ports[0]}" fg_cluster_messages_total 'outcome="received"')
  rm -f "$dir/$mode"-*.json
  local gens=()
  for i in $(seq 0 $((gens_n - 1))); do
    build/fg-loadgen --port "${ports[$i]}" --api-port "${ports[$(((i + 1) % 3))]}" --mode "$mode" \
      --connections $((CONNS / 3)) --rate "$RATE" --duration "$DURATION" --sources 4 --timeout 600 \
      --server-pid "${node_pids[$i]}" "$@" \
      --out "$dir/$mode-$i.json" > /dev/null 2> "$dir/$mode-$i.err" &
    gens+=($!)
  done
  for g in "${gens[@]}"; do wait "$g" || echo "  (a generator reported loss: $dir/$mode-*.err)"; done
  local c1 r1 p1=0 m1
  c1=$(commits); r1=$(cpu_ticks "$redis_pid")
  for i in 0 1 2; do p1=$((p1 + $(cpu_ticks "${node_pids[$i]}"))); done
  m1=$(metric "${ports[0]}" fg_cluster_messages_total 'outcome="received"')
  node -e '
    const [dir, mode, commits, redisTicks, nodeTicks, msgs] = process.argv.slice(1);
    const rs = [0, 1, 2].filter((i) => require("fs").existsSync(`${dir}/${mode}-${i}.json`)).map((i) => require(`${dir}/${mode}-${i}.json`));
    const hz = 100, sum = (f) => rs.reduce((s, r) => s + f(r), 0), max = (f) => Math.max(...rs.map(f));
    const published = sum((r) => r.published), delivered = sum((r) => r.received);
    console.log(`${mode}: ${published} events published (${sum((r) => r.events_per_s).toFixed(0)}/s accepted), ${delivered} delivered (${sum((r) => r.delivered_per_s).toFixed(0)}/s), lost ${sum((r) => r.lost)}, ` +
      `latency p50 ${max((r) => r.latency_ms.p50)} ms p99 ${max((r) => r.latency_ms.p99)} ms (worst generator), ` +
      `server CPU ${(sum((r) => r.server.cpu_publish_s) * 1e6 / delivered).toFixed(1)} µs/delivery while publishing (3 nodes; ` +
      `${((nodeTicks / hz) * 1e6 / delivered).toFixed(1)} with connects), ` +
      `Redis CPU ${((redisTicks / hz) * 1e6 / published).toFixed(1)} µs/event, ` +
      `Redis messages received per node per event ${(msgs / published).toFixed(2)}, ` +
      `PostgreSQL commits per event ${(commits / published).toFixed(2)}`);
  ' "$dir" "$mode" $((c1 - c0)) $((r1 - r0)) $((p1 - p0)) $((m1 - m0))
  for p in "${node_pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"/node-*
}

echo "cluster: 3 nodes, $CONNS connections, $RATE events/s per generator (3), ${DURATION}s"
scenario targeted 3
# Broadcast: each generator's 5,000 sockets on one order, 20 events/s each (100,000 deliveries/s per node).
RATE=${BROADCAST_RATE:-20} scenario broadcast 3
# The publish API's ceiling on the shared store: one generator, 4 publishers as fast as accepted,
# single form and batches of 100 (100 sockets on node 1, publishing through node 2).
CONNS=300 RATE=0 DURATION=5 scenario targeted 1 --publishers 4
CONNS=300 RATE=0 DURATION=5 scenario targeted 1 --publishers 4 --batch 100
