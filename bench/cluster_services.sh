# Sourced by the cluster benchmarks (bench/cluster.sh, bench/failover.sh): the nodes' secrets, a
# scratch directory with a fresh PostgreSQL and Redis (scripts/services.sh) in $db and $redis, and
# a cleanup at exit that stops whatever was started (PIDs added to `pids`) and removes it all.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
export JWT_SECRET=bench-secret-$RANDOM-$RANDOM-0123456789 API_KEY=bench-key-$RANDOM
export URL_SIGNING_SECRET=bench-url-secret-0123456789-abcdef KEY_ENCRYPTION_KEY=$(openssl rand -base64 32)
dir=$(mktemp -d "/tmp/fg-$(basename "$0" .sh)-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/services.sh stop "$dir" > /dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
db=$(scripts/services.sh start-postgres "$dir" | sed -n 's/^DATABASE_URL=//p')
redis=$(scripts/services.sh start-redis "$dir" | sed -n 's/^REDIS_URL=//p')
