#!/usr/bin/env bash
# `make conformance`: scim2-tester (python-scim's RFC 7643/7644 compliance
# checker, pinned in requirements.txt) against a live scimbus: the ingress and
# the store on free ports, over the local NATS and Postgres (deploy/local/
# stack.sh), with a database and a bus prefix of this run's own, so runs in
# parallel with each other and with `cargo test` do not meet. Prints every
# check and `conformance: N passed, N failed, N skipped`; exits non-zero if a
# check failed. See README.md beside this file.
#
# Skipped checks (scim2-tester can leave checks out by tag only; the list is
# EXCLUDE_TAGS in conformance.py): none.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd -P)"
cd "$root"
here=tests/conformance
started=$SECONDS

log() { printf 'conformance: %s\n' "$*" >&2; }

# --- NATS and Postgres ------------------------------------------------------
lines=$(deploy/local/stack.sh up)
set -a
eval "$lines"
set +a
admin_url=$SCIMBUS_DATABASE_URL # databases are created and dropped through it

# --- scim2-tester, in its own venv (rebuilt when requirements.txt changes) -----
tools="${SCIMBUS_STACK_DIR:-$root/.data}/tools"
venv="$tools/conformance-venv"
mkdir -p "$tools"
want=$( { sha256sum "$here/requirements.txt"; python3 -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-64)
(
  # Parallel runs install once: the others wait here.
  if command -v flock >/dev/null; then
    flock -w 600 8 || { log "another run holds $venv.lock"; exit 1; }
  fi
  if [[ $(cat "$venv/.installed" 2>/dev/null) != "$want" ]]; then
    log "installing scim2-tester into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
      --only-binary=:all: -r "$here/requirements.txt" >&2
    echo "$want" >"$venv/.installed"
  fi
) 8>"$venv.lock"
py="$venv/bin/python"

# --- the services -----------------------------------------------------------
log "building scimbus-ingress and scimbus-store (debug)"
cargo build --locked -p scimbus-ingress -p scimbus-store >&2
target=$(cargo metadata --format-version 1 --no-deps | "$py" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target/debug"

tag=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
database="conf_$tag"
work=$(mktemp -d "${TMPDIR:-/tmp}/scimbus-conformance.XXXXXX")
pids=()
db_made=0
checking=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  "$py" "$here/conformance.py" drop-streams "$SCIMBUS_NATS_URL" "c$tag" >&2 ||
    log "could not delete the streams of bus prefix c$tag"
  if ((db_made)); then
    psql "$admin_url" -qAt -v ON_ERROR_STOP=1 \
      -c "drop database if exists $database with (force)" >/dev/null ||
      log "could not drop database $database"
  fi
  if ((rc != 0)) && ((checking)); then
    # A check failed: keep the services' logs for a look.
    local keep="${SCIMBUS_STACK_DIR:-$root/.data}/conformance/$tag"
    mkdir -p "$keep" && cp "$work"/*.log "$keep"/ 2>/dev/null &&
      log "the services' logs are in $keep"
  elif ((rc != 0)); then
    for f in "$work"/*.log; do
      [[ -s $f ]] || continue
      log "last lines of $(basename "$f"):"
      tail -n 30 "$f" >&2
    done
  fi
  rm -rf "$work"
  log "took $((SECONDS - started)) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

psql "$admin_url" -qAt -v ON_ERROR_STOP=1 -c "create database $database" >/dev/null
db_made=1

export SCIMBUS_DATABASE_URL
SCIMBUS_DATABASE_URL=$("$py" "$here/conformance.py" db-url "$admin_url" "$database")
export SCIMBUS_BUS_PREFIX="c$tag"
SCIMBUS_CONFORMANCE_TOKEN="conformance-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export SCIMBUS_CONFORMANCE_TOKEN
export SCIMBUS_CONFIG="$work/scimbus.toml"
export RUST_LOG="${RUST_LOG:-info}" NO_COLOR=1
unset SCIMBUS_PUBLIC_URL SCIMBUS_DATABASE_READ_URL SCIMBUS_TENANTS
cat >"$SCIMBUS_CONFIG" <<'TOML'
[[tenants]]
name = "conformance"
tokens = ["env:SCIMBUS_CONFORMANCE_TOKEN"]
TOML

# Free ports are picked, then bound by the services: another process may take
# one in between, so a service that exits during start is started again on
# other ports.
ready=0
for attempt in 1 2 3; do
  read -r ingress_port store_port < <("$py" "$here/conformance.py" ports 2)
  export SCIMBUS_INGRESS_ADDR="127.0.0.1:$ingress_port"
  export SCIMBUS_STORE_ADDR="127.0.0.1:$store_port"
  pids=()
  "$bin/scimbus-store" >"$work/store.log" 2>&1 & pids+=($!)
  "$bin/scimbus-ingress" >"$work/ingress.log" 2>&1 & pids+=($!)
  for _ in $(seq 1 300); do
    if curl -fsS "http://$SCIMBUS_INGRESS_ADDR/readyz" >/dev/null 2>&1 &&
      curl -fsS "http://$SCIMBUS_STORE_ADDR/readyz" >/dev/null 2>&1; then
      ready=1
      break
    fi
    dead=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || dead=1; done
    ((dead)) && break
    sleep 0.1
  done
  ((ready)) && break
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if ! grep -qi 'address already in use' "$work"/*.log; then break; fi
  log "a port was taken (attempt $attempt), trying others"
done
((ready)) || { log "the services did not become ready"; exit 1; }

base="http://$SCIMBUS_INGRESS_ADDR/scim/v2/conformance"
version=$("$py" -c 'import importlib.metadata as m; print(m.version("scim2-tester"))')
log "running scim2-tester $version against $base"
checking=1
# A hung server must not hang `make test`: the whole check gets 10 minutes
# (it takes seconds), each request 60 s.
timeout --foreground 600 "$py" "$here/conformance.py" check "$base"
