#!/usr/bin/env bash
# Cluster failure benchmark (issue 15): a fresh PostgreSQL and Redis, 3 nodes, and one load
# generator in `cluster` mode — its connections spread over the three nodes, each reconnecting to
# the next node with {pid, offset} when its node drops it (as the stock client behind a balancer),
# every event numbered per order and checked per connection (lost, duplicated, out of order).
#   bench/failover.sh [connections] [events/s] [seconds of publishing]
#   ONLY=forward|baseline|kill|rolling bench/failover.sh …   (one of them; forward: the per-request
#   cost of a poll on another node than the session's, bench/forward.mjs)
# Three runs of the same load:
#   baseline  nothing happens: the latency without failures;
#   kill      `kill -9` of node 1 a few seconds into publishing: its clients recover on nodes 2
#             and 3 — recovery time per client and until the last is back, events replayed;
#   rolling   SIGTERM (drain over DRAIN_SECONDS, default 5) and restart of each node in turn: the
#             latency that adds (p99 against the baseline's).
# Publishing goes through nodes 2 and 3 (the next on a 503 or no answer); the kill spares them.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${1:-15000} RATE=${2:-500} DURATION=${3:-20} DRAIN=${DRAIN_SECONDS:-5}
. bench/cluster_services.sh
ports=(4831 4832 4833)
node_pids=(0 0 0)

start_node() {  # index
  local i=$1
  : > "$dir/node-$i.log"
  DATABASE_URL=$db REDIS_URL=$redis NODE_ID=bench-$i DRAIN_SECONDS=$DRAIN ./build/fulfillment-gateway \
    --host 127.0.0.1 --port "${ports[$i]}" --data-dir "$dir/node-$i" --log-level warn >> "$dir/node-$i.log" 2>&1 &
  node_pids[$i]=$!
  pids+=($!)
  for _ in $(seq 1 100); do grep -q READY "$dir/node-$i.log" && return; sleep 0.1; done
  echo "node $i did not start" >&2
  exit 1
}
connected() {  # sockets connected across the nodes that answer
  local n=0 i v
  for i in 0 1 2; do
    v=$(curl -s -m 2 -H "Authorization: Bearer $API_KEY" "http://127.0.0.1:${ports[$i]}/metrics" |
      awk '$1 ~ /^fg_connections\{/ { s += $2 } END { print s + 0 }') || v=0
    n=$((n + ${v:-0}))
  done
  echo "$n"
}

scenario() {  # name
  local name=$1 i gen
  PGOPTIONS="--client-min-messages=warning" psql "$db" -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public" > /dev/null
  redis-cli -u "$redis" FLUSHALL > /dev/null
  for i in 0 1 2; do start_node "$i"; done
  sleep 2  # the nodes hear of each other
  build/fg-loadgen --mode cluster --ports "${ports[0]},${ports[1]},${ports[2]}" --api-ports "${ports[1]},${ports[2]}" \
    --port "${ports[1]}" --connections "$CONNS" --orders $((CONNS / 3)) --rate "$RATE" --duration "$DURATION" \
    --publishers 2 --sources 4 --timeout 600 --out "$dir/$name.json" > /dev/null 2> "$dir/$name.err" &
  gen=$!
  # Faults start a few seconds into publishing, which begins once every connection is subscribed.
  until [ "$(connected)" -ge "$CONNS" ] || ! kill -0 "$gen" 2>/dev/null; do sleep 0.5; done
  sleep 3
  case "$name" in
    kill)
      kill -9 "${node_pids[0]}"
      wait "${node_pids[0]}" 2>/dev/null || true
      node_pids[0]=0
      ;;
    rolling)
      for i in 0 1 2; do
        kill -TERM "${node_pids[$i]}"
        wait "${node_pids[$i]}" 2>/dev/null || true
        start_node "$i"
        sleep 1
      done
      ;;
  esac
  wait "$gen" || echo "  ($name: the generator reported loss or failures: $dir/$name.err)"
  node -e '
    const [file, name] = process.argv.slice(1);
    const r = require(file), c = r.cluster;
    console.log(`${name}: ${r.published} events published (${r.events_per_s.toFixed(0)}/s), ${r.received} delivered, ` +
      `latency p50 ${r.latency_ms.p50} / p99 ${r.latency_ms.p99} / max ${r.latency_ms.max} ms; ` +
      `connections dropped ${c.drops}, recovered ${c.recovered}, fresh sessions ${c.fresh_sessions}; ` +
      `recovery per client p50 ${c.recovery_ms.p50.toFixed(0)} / p99 ${c.recovery_ms.p99.toFixed(0)} / max ${c.recovery_ms.max.toFixed(0)} ms, ` +
      `first drop → last recovered ${c.first_drop_to_last_recovered_s.toFixed(2)} s; ` +
      `replayed ${c.replayed}, lost ${c.lost}, duplicated ${c.duplicated}, out of order ${c.out_of_order}`);
  ' "$dir/$name.json" "$name"
  for i in 0 1 2; do
    if [ "${node_pids[$i]}" -gt 0 ]; then
      kill "${node_pids[$i]}" 2>/dev/null || true
      wait "${node_pids[$i]}" 2>/dev/null || true
      node_pids[$i]=0
    fi
  done
  rm -rf "$dir"/node-*
}

forwarding() {  # the per-request cost of a poll on another node than the session's
  local i
  PGOPTIONS="--client-min-messages=warning" psql "$db" -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public" > /dev/null
  # One socket sends a request per exchange, as fast as answered: no per-socket event limit here.
  for i in 0 1 2; do SOCKET_EVENTS_PER_S=0 start_node "$i"; done
  sleep 3  # the nodes hear of each other (addresses come with the figures, every 2 s)
  node bench/forward.mjs --owner "${ports[0]}" --other "${ports[1]}" \
    --pids "${node_pids[0]},${node_pids[1]},${node_pids[2]}" --rounds "${FORWARD_ROUNDS:-3000}"
  for i in 0 1 2; do
    kill "${node_pids[$i]}" 2>/dev/null || true
    wait "${node_pids[$i]}" 2>/dev/null || true
    node_pids[$i]=0
  done
  rm -rf "$dir"/node-*
}

case "${ONLY:-}" in
  forward) forwarding; exit 0 ;;
  baseline|kill|rolling) scenario "$ONLY"; exit 0 ;;
esac
echo "failover: 3 nodes, $CONNS connections, $RATE events/s, ${DURATION}s of publishing, drain ${DRAIN}s"
scenario baseline
scenario kill
scenario rolling
forwarding
