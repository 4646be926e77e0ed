#!/usr/bin/env bash
# Runs socket.io-client's own test suite (packages/socket.io-client/test in the public
# socketio/socket.io repository) against this gateway's conformance mode, the way that suite runs
# against socket.io itself (its mocha runner, Node), with the suite's server replaced by our binary:
#   scripts/client-suite.sh /path/to/a/checkout/of/socketio/socket.io
# Nothing of the suite is copied into this repository: it is exported to a scratch directory, its
# test/support/hooks.ts is swapped for one that starts `fulfillment-gateway conformance
# --client-suite` (port 3210) and stops it after the run. Needs the npm registry (mocha, tsx…).
set -euo pipefail
repo=${1:?usage: scripts/client-suite.sh <checkout of socketio/socket.io (a work tree or a bare git dir)>}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${FG_BIN:-$root/build/fulfillment-gateway}
[ -x "$bin" ] || { echo "build first: scripts/build.sh release" >&2; exit 1; }
work=$(mktemp -d /tmp/fg-client-suite.XXXXXX)
# (the suite's no-unref test leaves its fixture running, against socket.io too: stopped here)
trap 'pkill -f "$work/test/fixtures" 2>/dev/null; rm -rf "$work"' EXIT
if [ -d "$repo/packages/socket.io-client" ]; then
  cp -r "$repo/packages/socket.io-client/." "$work/"
else
  git --git-dir="$repo" archive HEAD packages/socket.io-client | tar -x -C "$work" --strip-components=2
fi
cd "$work"
# The client's own dependencies from its package.json, and the monorepo's test tools.
npm install --no-audit --no-fund --loglevel=error --no-save \
  mocha@10 tsx@4.20.6 typescript@5.6.3 rimraf@5 expect.js@0.3.1 @sinonjs/fake-timers@11 \
  has-cors@1.1.0 text-blob-builder@0.0.1 base64-arraybuffer@1.0.2 @types/node@18 @types/mocha@10 @types/expect.js
npx tsc && npx tsc -p tsconfig.esm.json && ./postcompile.sh
cat > test/support/hooks.ts <<HOOKS
// Replaced by fulfillment-gateway's scripts/client-suite.sh: the suite's server is our binary.
import { spawn, ChildProcess } from "child_process";
let server: ChildProcess;
export const mochaHooks = {
  beforeAll(done: (err?: Error) => void) {
    server = spawn("$bin", ["conformance", "--client-suite"], { stdio: ["ignore", "pipe", "inherit"] });
    server.stdout!.on("data", (d: Buffer) => { if (d.toString().includes("READY")) done(); });
    server.once("exit", (code) => done(new Error("conformance server exited with " + code)));
  },
  afterAll() {
    server.removeAllListeners("exit");
    server.kill("SIGTERM");
  },
};
HOOKS
npx mocha --import=tsx --require test/support/hooks.ts --exit test/index.ts
