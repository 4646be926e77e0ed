#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the gateway on embedded
# SQLite under ./data. Secrets: JWT_SECRET / API_KEY from the environment, else generated once and
# kept in ./data/dev-secrets.env (mode 0600). Prints ready-to-use tokens and curl commands.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release

DATA_DIR=${DATA_DIR:-./data}
mkdir -p "$DATA_DIR"
secrets="$DATA_DIR/dev-secrets.env"
if [ -z "${JWT_SECRET:-}" ] || [ -z "${API_KEY:-}" ]; then
  if [ ! -f "$secrets" ]; then
    umask 077
    {
      echo "JWT_SECRET=$(openssl rand -hex 32)"
      echo "API_KEY=$(openssl rand -hex 24)"
    } > "$secrets"
  fi
  set -a
  # shellcheck disable=SC1090
  . "$secrets"
  set +a
fi
export JWT_SECRET API_KEY DATA_DIR
PORT=${PORT:-4000}
BIN=./build/fulfillment-gateway
USER_TOKEN=$($BIN token --sub demo-user --email demo@example.com --ttl 86400)
ADMIN_TOKEN=$($BIN token --sub demo-admin --email admin@example.com --role admin --ttl 86400)
cat <<MSG

fulfillment-gateway on http://localhost:$PORT  (Socket.IO namespace /fulfillment, data in $DATA_DIR)
  user token  (demo-user):  $USER_TOKEN
  admin token (demo-admin): $ADMIN_TOKEN
Register an order and publish to it:
  curl -X PUT  -H "Authorization: Bearer $API_KEY" -H 'content-type: application/json' \\
       -d '{"userId":"demo-user"}' http://localhost:$PORT/api/v1/orders/order-1
  curl -X POST -H "Authorization: Bearer $API_KEY" -H 'content-type: application/json' \\
       -d '{"event":"payment:confirmed","data":{"orderId":"order-1","amount":"9.99","currency":"USD"}}' \\
       http://localhost:$PORT/api/v1/events
Stop with Ctrl-C.

MSG
exec "$BIN" --port "$PORT" --data-dir "$DATA_DIR" "$@"
