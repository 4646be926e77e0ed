#!/usr/bin/env bash
# Configures and builds one tree. Usage: scripts/build.sh [release|asan]  (default release)
# release → build/      RelWithDebInfo, warnings as errors
# asan    → build-asan/ Debug + AddressSanitizer + UndefinedBehaviorSanitizer
# tsan    → build-tsan/ RelWithDebInfo + ThreadSanitizer (the multi-loop code)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
# The trees are the CMake presets of the same names (CMakePresets.json).
case "$kind" in
  release) dir=build ;;
  asan) dir=build-asan ;;
  tsan) dir=build-tsan ;;
  *) echo "usage: $0 [release|asan|tsan]" >&2; exit 2 ;;
esac
if [ ! -f "$dir/build.ninja" ]; then
  cmake --preset "$kind" >/dev/null
fi
# 2 cores, ~1 GiB per Boost-heavy compile: two jobs fit comfortably.
targets=()
[ "$kind" = tsan ] && targets=(fulfillment-gateway fg-loadgen)
ninja -C "$dir" -j "${JOBS:-2}" "${targets[@]}"
# The web app (served by the gateway at /): rebuilt when its sources are newer than the bundle.
if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/index.html web/package.json web/vite.config.ts -newer web/dist/index.html 2>/dev/null | head -1)" ]; then
  (cd web && npx tsc --noEmit && npx vite build --logLevel warn)
fi
