#!/usr/bin/env bash
# Style and lint on the lines a change touches: clang-format (.clang-format) and clang-tidy
# (.clang-tidy) over the diff of `${1:-HEAD~1}..HEAD` (the last commit by default), using the
# release tree's compile_commands.json. Prints what is wrong; exits non-zero when anything is.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-HEAD~1}
git rev-parse -q --verify "$base" >/dev/null || { echo "lint: no $base to compare with; nothing to check"; exit 0; }
status=0
fmt=$(git diff -U0 --no-color "$base" HEAD -- '*.cpp' '*.hpp' | clang-format-diff-14 -p1 || true)
if [ -n "$fmt" ]; then
  echo "lint: clang-format would change these lines:"
  echo "$fmt" | head -60
  status=1
fi
files=$(git diff --name-only "$base" HEAD -- 'src/*.cpp' | grep -v '_test\.cpp$' || true)
if [ -n "$files" ] && [ -f build/compile_commands.json ]; then
  if ! git diff -U0 --no-color "$base" HEAD -- $files | clang-tidy-diff-14.py -p1 -path build -quiet -j 2 > /tmp/fg-tidy.log 2>&1; then
    echo "lint: clang-tidy:"
    grep -E "warning:|error:" /tmp/fg-tidy.log | head -40
    status=1
  fi
fi
[ "$status" -eq 0 ] && echo "lint: the change's lines are clean"
exit "$status"
