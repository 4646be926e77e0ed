#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the gateway in demo mode
# on embedded SQLite under ./data: demo users with printed tokens, the supplier simulator in-process
# and a stream of orders flowing through signed IPNs, jobs, retries and failures. Secrets come from
# the environment, else are generated once into ./data/dev-secrets.env (mode 0600).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release

DATA_DIR=${DATA_DIR:-./data}
mkdir -p "$DATA_DIR"
secrets="$DATA_DIR/dev-secrets.env"
if [ -z "${JWT_SECRET:-}" ] || [ -z "${API_KEY:-}" ] || [ -z "${IPN_SECRET:-}" ]; then
  if [ ! -f "$secrets" ]; then
    umask 077
    {
      echo "JWT_SECRET=$(openssl rand -hex 32)"
      echo "API_KEY=$(openssl rand -hex 24)"
      echo "IPN_SECRET=$(openssl rand -hex 24)"
    } > "$secrets"
  fi
  set -a
  # shellcheck disable=SC1090
  . "$secrets"
  set +a
fi
export JWT_SECRET API_KEY IPN_SECRET DATA_DIR
PORT=${PORT:-4000}
BIN=./build/fulfillment-gateway
cat <<MSG

fulfillment-gateway demo on http://localhost:$PORT  (Socket.IO namespace /fulfillment, data in $DATA_DIR)
The API key, the IPN secret and the JWT secret are in $secrets. Sign your own IPN with:
  echo '{"payment_id":1,"payment_status":"finished","order_id":"<orderId>"}' | $BIN ipn-sign -
Stop with Ctrl-C.
MSG
exec "$BIN" --demo --port "$PORT" --data-dir "$DATA_DIR" "$@"
