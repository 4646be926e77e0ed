#!/usr/bin/env bash
# Installs what building and testing need on Debian 12, only when missing: Debian packages
# (compiler, CMake, Boost 1.81, OpenSSL, SQLite, spdlog, CLI11, GoogleTest, Node.js) and the npm
# packages of the web app and the integration tests. `--test` adds what only the tests need
# (Chromium for the browser tests, clang's libFuzzer runtime, clang-format and clang-tidy for the
# lint of changed lines, PostgreSQL, Redis and nginx for the cluster tests). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(g++ cmake ninja-build pkg-config libboost1.81-dev libboost-json1.81-dev libssl-dev libsqlite3-dev
      libspdlog-dev libcli11-dev prometheus-cpp-dev libpq-dev libhiredis-dev libmpack-dev libgtest-dev libgmock-dev libbenchmark-dev curl ca-certificates)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
extra=()
case "${1:-}" in
  --test) extra=(chromium clang libclang-rt-14-dev clang-format clang-tidy sqlite3 prometheus openssl postgresql-15
                 redis-server nginx-light) ;;
  --cluster) extra=(openssl postgresql-15 redis-server nginx-light) ;;  # scripts/cluster.sh
esac
for p in "${extra[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # Servers (PostgreSQL, Redis, nginx) are started by the tests themselves on loopback and free
  # ports: the packages must not start system-wide instances (policy-rc.d 101: "do not start").
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm_install() {  # dir
  if [ ! -d "$1/node_modules" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
    echo "setup: npm ci in $1"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_install tests/integration
npm_install web
