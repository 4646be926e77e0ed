#!/usr/bin/env bash
# The README's optional third command: a local cluster on one machine. Installs what is missing
# (postgresql-15, redis-server, nginx-light), builds, then starts in a scratch directory a fresh
# PostgreSQL and Redis (scripts/services.sh: loopback, stopped by PID), three gateway nodes on ports
# 4001–4003 sharing them, and nginx on 4000 as a plain round-robin balancer in front (no stickiness,
# WebSocket upgrade passed through: deploy/nginx.conf). Node 1 drives the demo's stream of orders;
# every node's workers take jobs. Prints the links (through nginx); Ctrl-C stops everything.
#   CLUSTER_DIR=…  keep the scratch directory there (default: a new one under /tmp, removed after)
#   NODES=3 PORT=4000  how many nodes, and nginx's port (nodes on PORT+1 …)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --cluster
scripts/build.sh release

NODES=${NODES:-3}
PORT=${PORT:-4000}
keep=${CLUSTER_DIR:+yes}
dir=${CLUSTER_DIR:-$(mktemp -d /tmp/fg-cluster.XXXXXX)}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pids=()
cleanup() {
  trap - EXIT INT TERM
  echo "cluster: stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -f "$dir/nginx/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx/nginx.pid")" 2>/dev/null || true
  scripts/services.sh stop "$dir" || true
  [ -n "$keep" ] || rm -rf "$dir"
}
trap cleanup EXIT INT TERM

db=$(scripts/services.sh start-postgres "$dir" | sed -n 's/^DATABASE_URL=//p')
redis=$(scripts/services.sh start-redis "$dir" | sed -n 's/^REDIS_URL=//p')

# Secrets every node shares, made once for this cluster (mode 0600).
umask 077
cat > "$dir/secrets.env" <<SECRETS
JWT_SECRET=$(openssl rand -hex 32)
API_KEY=$(openssl rand -hex 24)
IPN_SECRET=$(openssl rand -hex 24)
URL_SIGNING_SECRET=$(openssl rand -hex 32)
KEY_ENCRYPTION_KEY=$(openssl rand -base64 32)
SECRETS
umask 022
set -a
# shellcheck disable=SC1091
. "$dir/secrets.env"
set +a
export DATABASE_URL=$db REDIS_URL=$redis PUBLIC_URL=http://localhost:$PORT

for i in $(seq 1 "$NODES"); do
  interval=()
  [ "$i" -eq 1 ] || interval=(--demo-interval 0)  # one node drives the demo's orders
  NODE_ID=node-$i ./build/fulfillment-gateway --demo "${interval[@]}" --host 127.0.0.1 --port $((PORT + i)) \
    --data-dir "$dir/node-$i" > "$dir/node-$i.out" 2> "$dir/node-$i.log" &
  pids+=($!)
done
for i in $(seq 1 "$NODES"); do
  for _ in $(seq 1 150); do grep -q '^READY' "$dir/node-$i.out" && break; sleep 0.1; done
  grep -q '^READY' "$dir/node-$i.out" || { echo "cluster: node-$i did not start:"; cat "$dir/node-$i.log"; exit 1; }
done

mkdir -p "$dir/nginx"
upstreams=$(for i in $(seq 1 "$NODES"); do echo "    server 127.0.0.1:$((PORT + i)) max_fails=1 fail_timeout=1s;"; done)
awk -v prefix="$dir/nginx" -v port="$PORT" -v ups="$upstreams" \
  '{ gsub(/@PREFIX@/, prefix); gsub(/@PORT@/, port); if ($0 ~ /@UPSTREAMS@/) print ups; else print }' \
  deploy/nginx.conf > "$dir/nginx/nginx.conf"
nginx -c "$dir/nginx/nginx.conf" -p "$dir/nginx" -e "$dir/nginx/error.log"

cat <<MSG

fulfillment-gateway cluster: $NODES nodes (127.0.0.1:$((PORT + 1))…$((PORT + NODES))) behind nginx on http://localhost:$PORT
  store: PostgreSQL $db   fan-out: Redis $redis   scratch: $dir
  node logs: $dir/node-N.log   secrets: $dir/secrets.env
MSG
sed -n '/^Demo mode/,/Admin dashboard/p' "$dir/node-1.out"
echo "Stop with Ctrl-C."
wait -n "${pids[@]}" || true
echo "cluster: a node exited:"; tail -5 "$dir"/node-*.log
