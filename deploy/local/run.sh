#!/usr/bin/env bash
# `make run`: the whole system on the local defaults of docs/design.md §7.
# NATS and Postgres are reused when they answer, else started under .data/;
# the services are built (release) and run in the foreground until Ctrl-C or
# SIGTERM, which stops them (the stack keeps running: `make stop` stops it).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

lines=$(deploy/local/stack.sh up)
set -a
eval "$lines"
set +a

export SCIMBUS_CONFIG="${SCIMBUS_CONFIG:-$root/deploy/local/scimbus.toml}"
export SCIMBUS_DEMO_TOKEN="${SCIMBUS_DEMO_TOKEN:-scimbus-dev-token}"
export SCIMBUS_DEMO2_TOKEN="${SCIMBUS_DEMO2_TOKEN:-scimbus-dev-token-2}"
# The demo HR sources' secret, and the same bytes as a Standard Webhooks
# whsec_ secret (whsec_ + base64 of scimbus-dev-hr-secret).
export SCIMBUS_DEMO_HR_SECRET="${SCIMBUS_DEMO_HR_SECRET:-scimbus-dev-hr-secret}"
export SCIMBUS_DEMO_HR_WHSEC="${SCIMBUS_DEMO_HR_WHSEC:-whsec_$(printf '%s' "$SCIMBUS_DEMO_HR_SECRET" | base64 | tr -d '\n')}"
export SCIMBUS_ADMIN_TOKEN="${SCIMBUS_ADMIN_TOKEN:-scimbus-admin-dev-token}"
export SCIMBUS_INGRESS_ADDR="${SCIMBUS_INGRESS_ADDR:-127.0.0.1:8080}"
export SCIMBUS_STORE_ADDR="${SCIMBUS_STORE_ADDR:-127.0.0.1:8081}"
export SCIMBUS_OUTBOUND_ADDR="${SCIMBUS_OUTBOUND_ADDR:-127.0.0.1:8082}"
export RUST_LOG="${RUST_LOG:-info}"

echo "run: building the services and the scimbus CLI (release; the first build takes a few minutes)" >&2
cargo build --release --locked -p scimbus-ingress -p scimbus-store -p scimbus-outbound -p scimbus-cli >&2
bin="${CARGO_TARGET_DIR:-$root/target}/release"

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "run: services stopped (NATS and Postgres keep running; 'make stop' stops them)" >&2
}
trap stop INT TERM EXIT

"$bin/scimbus-store" & pids+=($!)
"$bin/scimbus-ingress" & pids+=($!)
"$bin/scimbus-outbound" & pids+=($!)

base="http://$SCIMBUS_INGRESS_ADDR"
for _ in $(seq 1 100); do
  if curl -fsS "$base/readyz" >/dev/null 2>&1; then break; fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "run: a service exited during start; see above" >&2; exit 1; }
  done
  sleep 0.2
done
curl -fsS "$base/readyz" >/dev/null || { echo "run: the ingress did not become ready" >&2; exit 1; }
for a in "$SCIMBUS_STORE_ADDR" "$SCIMBUS_OUTBOUND_ADDR"; do
  for _ in $(seq 1 50); do curl -fsS "http://$a/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fsS "http://$a/readyz" >/dev/null || { echo "run: the service on $a did not become ready" >&2; exit 1; }
done

cat <<MSG
scimbus is running.
  SCIM base URL: $base/scim/v2/demo
  bearer token:  $SCIMBUS_DEMO_TOKEN
  second tenant: $base/scim/v2/demo2 (token $SCIMBUS_DEMO2_TOKEN)
  console:       $base/admin/ (sign in with the admin token $SCIMBUS_ADMIN_TOKEN)
  operator API:  $base/admin/v1/targets (token $SCIMBUS_ADMIN_TOKEN)
  health:        $base/readyz, http://$SCIMBUS_STORE_ADDR/readyz (store), http://$SCIMBUS_OUTBOUND_ADDR/readyz (outbound)
  metrics:       $base/metrics, http://$SCIMBUS_STORE_ADDR/metrics, http://$SCIMBUS_OUTBOUND_ADDR/metrics
  try: curl -H "Authorization: Bearer $SCIMBUS_DEMO_TOKEN" $base/scim/v2/demo/Users
The scimbus CLI ($bin/scimbus), from another shell:
  export SCIMBUS_DATABASE_URL='$SCIMBUS_DATABASE_URL'
  export SCIMBUS_CONFIG='$SCIMBUS_CONFIG'
  $bin/scimbus targets list          # every target's position, lag and circuit
  $bin/scimbus hr-events list --tenant demo
  $bin/scimbus token create --tenant demo --label my-idp
  $bin/scimbus --help
Ctrl-C stops the services.
MSG
# Stay in the foreground until a service exits or we are told to stop.
wait -n "${pids[@]}"
echo "run: a service exited" >&2
exit 1
