#!/usr/bin/env bash
# Fresh, throw-away service instances for tests and the local cluster, on loopback only, in a
# scratch directory, each stopped by its own PID (never a system service):
#   scripts/services.sh start-postgres DIR   → prints DATABASE_URL=postgres://…
#   scripts/services.sh start-redis DIR      → prints REDIS_URL=redis://…
#   scripts/services.sh stop DIR             → stops whatever was started in DIR, removes nothing
#   scripts/services.sh stop-postgres|stop-redis DIR        → stops that one (an outage, in tests)
#   scripts/services.sh restart-postgres|restart-redis DIR  → starts it again on its port, same data
# PostgreSQL refuses to run as root: as root, the cluster belongs to and runs as the `postgres`
# system user (Debian's package creates it), else as the caller. Ports are free ones (or $PORT).
set -euo pipefail
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n 2,10p "$0"; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# as root, the unprivileged service user must reach its directory inside (mktemp -d makes 0700)
if [ "$(id -u)" -eq 0 ]; then chmod 0755 "$dir"; fi

free_port() {  # Node.js is there already (scripts/setup.sh)
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

as_owner() {  # runs a command as the unprivileged owner of the PostgreSQL cluster
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {  # DIR PORT: loopback TCP only, the socket in the scratch dir; fsync stays on (durability tests)
  if [ -f "$1/data/postmaster.pid" ] && kill -0 "$(head -1 "$1/data/postmaster.pid")" 2>/dev/null; then return; fi
  as_owner /usr/lib/postgresql/15/bin/pg_ctl -D "$1/data" -l "$1/server.log" -w -t 30 \
    -o "-h 127.0.0.1 -p $2 -k $1 -c max_connections=200" start > /dev/null || { cat "$1/server.log" >&2; exit 1; }
}
pg_stop() {
  if [ -f "$dir/postgres/data/postmaster.pid" ]; then
    local pid
    pid=$(head -1 "$dir/postgres/data/postmaster.pid")
    kill -INT "$pid" 2>/dev/null || true  # fast shutdown
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
}
redis_start() {  # DIR PORT (nothing to do when it runs)
  if [ -s "$1/redis.pid" ] && kill -0 "$(cat "$1/redis.pid")" 2>/dev/null; then return; fi
  rm -f "$1/redis.pid"
  redis-server --bind 127.0.0.1 --port "$2" --dir "$1" --daemonize yes \
    --pidfile "$1/redis.pid" --logfile "$1/redis.log" --save "" --appendonly no > /dev/null
  for _ in $(seq 1 50); do [ -s "$1/redis.pid" ] && break; sleep 0.1; done
}
redis_stop() {
  if [ -f "$dir/redis/redis.pid" ]; then
    local pid
    pid=$(cat "$dir/redis/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
}

case "$cmd" in
  start-postgres)
    bin=/usr/lib/postgresql/15/bin
    [ -x "$bin/initdb" ] || { echo "services: postgresql-15 is not installed (scripts/setup.sh --test)" >&2; exit 1; }
    port=${PORT:-$(free_port)}
    pg="$dir/postgres"
    mkdir -p "$pg"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$pg" && chmod 0700 "$pg"
    as_owner "$bin/initdb" -D "$pg/data" -U fg -A trust -E UTF8 --no-sync > "$pg/initdb.log" 2>&1 ||
      { cat "$pg/initdb.log" >&2; exit 1; }
    echo "$port" > "$pg/port"
    pg_start "$pg" "$port"
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U fg fg
    echo "DATABASE_URL=postgres://fg@127.0.0.1:$port/fg"
    ;;
  start-redis)
    command -v redis-server > /dev/null || { echo "services: redis-server is not installed (scripts/setup.sh --test)" >&2; exit 1; }
    port=${PORT:-$(free_port)}
    mkdir -p "$dir/redis"
    echo "$port" > "$dir/redis/port"
    redis_start "$dir/redis" "$port"
    echo "REDIS_URL=redis://127.0.0.1:$port"
    ;;
  stop-postgres) pg_stop ;;
  stop-redis) redis_stop ;;
  restart-postgres) pg_start "$dir/postgres" "$(cat "$dir/postgres/port")" ;;
  restart-redis) redis_start "$dir/redis" "$(cat "$dir/redis/port")" ;;
  stop)
    pg_stop
    redis_stop
    ;;
  *) sed -n 2,10p "$0"; exit 2 ;;
esac
