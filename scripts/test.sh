#!/usr/bin/env bash
# The README's second command (and CI's): installs what is missing, builds the release tree
# (warnings as errors) and the ASan+UBSan tree, and runs in each the unit tests (ctest) and the
# integration tests (node:test + the official socket.io-client against the real binary).
# Ends with one line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

pass=0
fail=0
failed=()  # "suite: test name" of every failure, repeated just before the final line
logdir=$(mktemp -d)
count_ctest() {  # log suite — every ctest summary in the log counts (unit, then pg)
  local lines line found=0
  lines=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$1" || true)
  while read -r line; do
    [ -z "$line" ] && continue
    found=1
    local nfail ntotal  # (not "failed": that is the list of names)
    nfail=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    ntotal=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
    pass=$((pass + ntotal - nfail)); fail=$((fail + nfail))
  done <<<"$lines"
  if [ "$found" = 0 ]; then
    fail=$((fail + 1)); failed+=("$2: no ctest summary")
    return
  fi
  local name
  while read -r name; do [ -n "$name" ] && failed+=("$2: $name"); done < <(
    grep -E '^\s+[0-9]+ - .*\((Failed|Timeout|SEGFAULT|Subprocess aborted|Child aborted|Exception)\)' "$1" |
      sed -E 's/^\s+[0-9]+ - //' || true)
}
count_node() {  # log suite
  local p f name
  p=$(grep -E "^# pass [0-9]+" "$1" | tail -1 | awk '{print $3}')
  f=$(grep -E "^# fail [0-9]+" "$1" | tail -1 | awk '{print $3}')
  if [ -z "$p" ]; then fail=$((fail + 1)); failed+=("$2: no node:test summary"); return; fi
  pass=$((pass + p)); fail=$((fail + ${f:-0}))
  # the innermost failing test of each failed file (node:test nests suites and files)
  while read -r name; do [ -n "$name" ] && failed+=("$2: $name"); done < <(
    grep -E "^ *not ok [0-9]+ - " "$1" | sed -E 's/^ *not ok [0-9]+ - //' | sort -u || true)
}

run_suite() {  # kind
  local kind=$1 dir=build files="./*.test.mjs"
  [ "$kind" = asan ] && dir=build-asan
  [ "$kind" = tsan ] && dir=build-tsan
  echo "== $kind: build"
  scripts/build.sh "$kind"
  if [ "$kind" != tsan ]; then
    echo "== $kind: unit tests"
    local ulog="$logdir/unit-$kind.log"
    # unit, and the store tests against PostgreSQL (one database: they run one at a time)
    (cd "$dir" && { ctest --output-on-failure -L unit -j 2; ctest --output-on-failure -L pg; }) 2>&1 | tee "$ulog" |
      grep -E "tests passed|Failed|\*\*\*" || true
    count_ctest "$ulog" "$kind unit"
  else
    # ThreadSanitizer on the multi-loop paths: sessions, transports, shards, the job workers
    files="./engineio.test.mjs ./gateway.test.mjs ./fulfillment.test.mjs ./slow_consumer.test.mjs ./crash.test.mjs ./hardening.test.mjs ./recovery.test.mjs ./snapshot.test.mjs ./token-lifetime.test.mjs ./operations.test.mjs ./cluster.test.mjs"
  fi
  echo "== $kind: integration tests"
  local ilog="$logdir/integration-$kind.log"
  # shellcheck disable=SC2086
  (cd tests/integration && FG_BIN="$PWD/../../$dir/fulfillment-gateway" \
     ASAN_OPTIONS="detect_leaks=1:halt_on_error=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
     TSAN_OPTIONS="halt_on_error=1:report_signal_unsafe=0" \
     node --test $files) > "$ilog" 2>&1 || true
  grep -E "^not ok|^# (tests|pass|fail)" "$ilog" || true
  if grep -q "^not ok" "$ilog"; then
    grep -B2 -A30 "^not ok\|^    not ok" "$ilog" | head -150
  fi
  count_node "$ilog" "$kind integration"
}

run_web() {  # hooks (Vitest, against the release binary) and pages (Playwright + Chromium)
  echo "== web: hook tests (vitest)"
  local vlog="$logdir/vitest.log"
  (cd web && NO_COLOR=1 FORCE_COLOR=0 FG_BIN="$PWD/../build/fulfillment-gateway" npx vitest run) 2>&1 |
    sed -r 's/\x1b\[[0-9;]*m//g' > "$vlog" || true
  grep -E "Tests +[0-9]+|FAIL|✗|×" "$vlog" || true
  local vp vf
  vp=$(grep -E "^ +Tests " "$vlog" | grep -oE "[0-9]+ passed" | grep -oE "[0-9]+" || true)
  vf=$(grep -E "^ +Tests " "$vlog" | grep -oE "[0-9]+ failed" | grep -oE "[0-9]+" || true)
  if [ -z "$vp$vf" ]; then
    fail=$((fail + 1)); failed+=("web vitest: no summary"); tail -40 "$vlog"
  else
    pass=$((pass + ${vp:-0})); fail=$((fail + ${vf:-0}))
  fi
  local name
  while read -r name; do [ -n "$name" ] && failed+=("web vitest: $name"); done < <(
    grep -E "^ *(FAIL|×) " "$vlog" | sed -E 's/^ *(FAIL|×) //' | sort -u || true)
  [ -n "$vf" ] && grep -A30 "FAIL" "$vlog" | head -80
  echo "== web: browser tests (playwright-core + Chromium), screenshots in web/test-artifacts/"
  local elog="$logdir/e2e.log"
  (cd web && FG_BIN="$PWD/../build/fulfillment-gateway" node --test e2e/) > "$elog" 2>&1 || true
  grep -E "^not ok|^# (tests|pass|fail)" "$elog" || true
  grep -q "^not ok" "$elog" && grep -B2 -A30 "^    not ok" "$elog" | head -80
  count_node "$elog" "web e2e"
}

run_fuzz() {  # each libFuzzer target for a few seconds from the committed seeds; crashes fail the run
  echo "== fuzz: libFuzzer smoke (${FUZZ_SECONDS:-8} s per target)"
  if [ ! -f build-fuzz/build.ninja ]; then
    cmake --preset fuzz >/dev/null
  fi
  ninja -C build-fuzz >/dev/null
  local t corpus
  for t in engineio_payload socketio_packet jwt json_text ipn_json ws_frame cluster_batch emitter_message; do
    corpus=$(mktemp -d)
    cp fuzz/corpus/$t/* "$corpus"/
    if (cd "$corpus" && "$OLDPWD/build-fuzz/fuzz_$t" -dict="$OLDPWD/fuzz/dict/protocol.dict" -max_len=4096 \
          -max_total_time="${FUZZ_SECONDS:-8}" "$corpus" > "$logdir/fuzz-$t.log" 2>&1); then
      echo "fuzz_$t: $(grep -E '^Done' "$logdir/fuzz-$t.log")"
      pass=$((pass + 1))
    else
      echo "fuzz_$t: CRASH"; tail -30 "$logdir/fuzz-$t.log"
      fail=$((fail + 1)); failed+=("fuzz: fuzz_$t")
    fi
    rm -rf "$corpus"
  done
}

# A fresh PostgreSQL for the store tests against it (ctest label "pg"), stopped by PID at the end.
services=$(mktemp -d)
trap 'scripts/services.sh stop "$services"' EXIT
eval "$(scripts/services.sh start-postgres "$services")"
export FG_TEST_DATABASE_URL=$DATABASE_URL
unset DATABASE_URL

kinds=${FG_TEST_KINDS:-"release asan tsan"}
for k in $kinds; do
  run_suite "$k"
  if [ "$k" = release ]; then
    run_web
    echo "== lint: clang-format and clang-tidy on the lines of the last commit (scripts/lint.sh)"
    if scripts/lint.sh; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("lint"); fi
  fi
done
[ "${FG_FUZZ:-1}" = 1 ] && run_fuzz
if [ "${#failed[@]}" -gt 0 ]; then
  echo "== failures"
  printf '  %s\n' "${failed[@]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
