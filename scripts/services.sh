#!/usr/bin/env bash
# Fresh, throw-away service instances for tests and the local cluster, on loopback only, in a
# scratch directory, each stopped by its own PID (never a system service):
#   scripts/services.sh start-postgres DIR   → prints DATABASE_URL=postgres://…
#   scripts/services.sh start-redis DIR      → prints REDIS_URL=redis://…
#   scripts/services.sh stop DIR             → stops whatever was started in DIR, removes nothing
# PostgreSQL refuses to run as root: as root, the cluster belongs to and runs as the `postgres`
# system user (Debian's package creates it), else as the caller. Ports are free ones (or $PORT).
set -euo pipefail
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n 2,8p "$0"; exit 2; }
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
    # loopback TCP only, the socket in the scratch dir; fsync stays on (tests of durability)
    as_owner "$bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 30 \
      -o "-h 127.0.0.1 -p $port -k $pg -c max_connections=200" start > /dev/null ||
      { cat "$pg/server.log" >&2; exit 1; }
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U fg fg
    echo "DATABASE_URL=postgres://fg@127.0.0.1:$port/fg"
    ;;
  start-redis)
    command -v redis-server > /dev/null || { echo "services: redis-server is not installed (scripts/setup.sh --test)" >&2; exit 1; }
    port=${PORT:-$(free_port)}
    mkdir -p "$dir/redis"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir/redis" --daemonize yes \
      --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" --save "" --appendonly no > /dev/null
    for _ in $(seq 1 50); do [ -s "$dir/redis/redis.pid" ] && break; sleep 0.1; done
    echo "REDIS_URL=redis://127.0.0.1:$port"
    ;;
  stop)
    if [ -f "$dir/postgres/data/postmaster.pid" ]; then
      pid=$(head -1 "$dir/postgres/data/postmaster.pid")
      kill -INT "$pid" 2>/dev/null || true  # fast shutdown
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if [ -f "$dir/redis/redis.pid" ]; then
      pid=$(cat "$dir/redis/redis.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    ;;
  *) sed -n 2,8p "$0"; exit 2 ;;
esac
