#!/usr/bin/env bash
# `make dev`: the sandbox (demo shop origin on :8788, fake Meta/Google endpoints on :8789) and
# `wrangler dev` on :8787 in front of it, with every platform URL pointed at the sandbox and dev
# credentials that need no accounts. Ctrl-C stops both (each runs in its own process group).
# `make dev ORIGIN_URL=http://127.0.0.1:3000` puts the worker in front of any local storefront
# instead of the demo shop (add the snippet to its pages; the fake platforms still record).
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$AR_ROOT"

DEV_PORT=${DEV_PORT:-8787}
SHOP_PORT=${SHOP_PORT:-8788}
PLATFORM_PORT=${PLATFORM_PORT:-8789}
HOST=127.0.0.1
ORIGIN=${ORIGIN_URL:-http://$HOST:$SHOP_PORT}
case "$ORIGIN" in
  http://*|https://*) ;;
  *) echo "ORIGIN_URL must be an http(s) URL, e.g. http://127.0.0.1:3000 (got $ORIGIN)" >&2; exit 2 ;;
esac
WORKER_URL="http://$HOST:$DEV_PORT"
PLATFORMS="http://$HOST:$PLATFORM_PORT"
export AR_SERVER_SECRET=${AR_SERVER_SECRET:-dev-server-secret}
REPORT=${AR_SHOP_REPORT:-api}   # api | edge | both | none
ADMIN_TOKEN=${ADMIN_TOKEN:-dev-admin-token-0123456789abcdef}
# The sandbox's seeded Google Ads account: purchases go to the gtag's WEBPAGE action 2001 via Data
# Manager (deduplicated with the browser tag's conversion into AW-123/label), the rest to secondary
# UPLOAD_CLICKS actions.
ACTIONS="transaction.purchase=2001:webpage:AW-123/label,user.signed_up=1002:upload_clicks,lead.submitted=1003:upload_clicks"
ACTIONS="$ACTIONS,cart.added=1004:upload_clicks,checkout.started=1005:upload_clicks"
ACTIONS="$ACTIONS,payment_info.added=1006:upload_clicks,product.viewed=1007:upload_clicks"

echo "== building the sandbox (cargo, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --quiet -p ar-sandbox --bin ar-sandbox
SANDBOX_BIN="$CARGO_TARGET_DIR/debug/ar-sandbox"

state="$AR_CACHE/dev-state"
mkdir -p "$state"
wrangler d1 migrations apply DB --local --persist-to "$state" >/dev/null

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
}
trap cleanup INT TERM EXIT

# setsid: each service leads its own process group, so one kill stops it and its children.
setsid "$SANDBOX_BIN" --host "$HOST" --shop-port "$SHOP_PORT" --platform-port "$PLATFORM_PORT" \
  --worker-url "$WORKER_URL" --server-secret "$AR_SERVER_SECRET" --report "$REPORT" &
pids+=($!)

AR_SKIP_BUILD=1 setsid wrangler dev --ip "$HOST" --port "$DEV_PORT" --persist-to "$state" --test-scheduled \
  --var "ORIGIN_URL:$ORIGIN" \
  --var "META_BASE_URL:$PLATFORMS" \
  --var "GOOGLE_ADS_BASE_URL:$PLATFORMS" \
  --var "DATA_MANAGER_BASE_URL:$PLATFORMS" \
  --var "GA4_BASE_URL:$PLATFORMS" \
  --var "GOOGLE_OAUTH_URL:$PLATFORMS/token" \
  --var "AR_SERVER_SECRET:$AR_SERVER_SECRET" \
  --var "META_PIXEL_ID:123456789" \
  --var "META_ACCESS_TOKEN:sandbox-meta-token" \
  --var "META_TEST_EVENT_CODE:TEST12345" \
  --var "GA4_MEASUREMENT_ID:G-DEMO" \
  --var "GOOGLE_ADS_CUSTOMER_ID:1234567890" \
  --var "DATA_MANAGER_OPERATING_ACCOUNT_ID:1234567890" \
  --var "GOOGLE_CONVERSION_ACTIONS:$ACTIONS" \
  --var "ADMIN_TOKEN:$ADMIN_TOKEN" \
  --var "GEO_OVERRIDE:${AR_DEV_GEO:-US}" \
  --var "GOOGLE_CLIENT_ID:sandbox-client-id" \
  --var "GOOGLE_CLIENT_SECRET:sandbox-client-secret" \
  --var "GOOGLE_REFRESH_TOKEN:sandbox-refresh-token" \
  --var "GOOGLE_ADS_DEVELOPER_TOKEN:sandbox-developer-token" \
  --var "GA4_API_SECRET:sandbox-ga4-secret" \
  --var "CREDENTIALS_KEY:dev-credentials-key-0123456789abcdef" \
  --var "GOOGLE_AUTH_URL:$PLATFORMS/o/oauth2/v2/auth" \
  --var "META_DIALOG_URL:$PLATFORMS" \
  --var "META_APP_ID:100200300400500" \
  --var "META_APP_SECRET:sandbox-meta-app-secret" \
  --var "META_LOGIN_CONFIG_ID:700800900100200" \
  --var "PIXEL_LOAD_TAGS:true" \
  --var "META_TAG_URL:$PLATFORMS/_sandbox/tags/fbevents.js" \
  --var "GTAG_URL:$PLATFORMS/_sandbox/tags/gtag.js" &
pids+=($!)

for _ in $(seq 120); do
  curl -sf -o /dev/null --max-time 1 "$WORKER_URL/_ar/pixel.js" && break
  sleep 0.5
done
cat <<MSG

  storefront: $WORKER_URL/   (in front of $ORIGIN)
  admin:      $WORKER_URL/_ar/admin (sign in with $ADMIN_TOKEN)
  sandbox:    $PLATFORMS/_sandbox/   (what reached "Meta" and "Google")
  shop only:  http://$HOST:$SHOP_PORT/   (the origin, without the worker)

  Visitors count as coming from ${AR_DEV_GEO:-US} (AR_DEV_GEO=DE make dev to try an opt-in region).
  Ctrl-C stops everything.
MSG
# Exit (and clean up) as soon as either service stops.
wait -n "${pids[@]}"
