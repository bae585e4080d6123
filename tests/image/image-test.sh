#!/usr/bin/env bash
# `make image-test`: the scimbus image (deploy/image/build.sh) run for real.
#
# Over the local NATS and Postgres (deploy/local/stack.sh), with a database
# and a bus prefix of this run's own, each service runs in a container of the
# image: host network, free ports on 127.0.0.1, read-only root file system,
# the image's user (65532), tests/image/scimbus.toml mounted read-only, JSON
# logs, and URLs that name the host `localhost` (so the static glibc has to
# resolve names in the empty image). Checks /livez, /readyz and /metrics of
# each, a SCIM create through the ingress, `scimbus migrate` (once over a
# name only a DNS server knows), the image's files and user, that it has no
# shell, and that SIGTERM stops each service with exit code 0.
#
# Prints one line per check and `image-test: N passed, N failed`; exits
# non-zero if any check failed. Containers, streams and the database are
# removed on every exit. See tests/image/README.md and docs/image.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd -P)"
cd "$root"
here=tests/image
started=$SECONDS
# shellcheck source=deploy/image/podman.sh
source deploy/image/podman.sh

log() { printf 'image-test: %s\n' "$*" >&2; }
passed=0
failed=0
pass() {
  passed=$((passed + 1))
  printf 'image-test: ok   %s\n' "$*"
}
fail() {
  failed=$((failed + 1))
  printf 'image-test: FAIL %s\n' "$*"
}
# A check whose failure leaves nothing else worth checking.
fatal() {
  fail "$@"
  exit 1
}
py() { python3 "$here/helper.py" "$@"; }
image_podman_env

tag=$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')
database="image_$tag"
prefix="i$tag"
work=$(mktemp -d "${TMPDIR:-/tmp}/scimbus-image-test.XXXXXX")
containers=()
db_made=0
stack_up=0
dns_pid=
mounted=
IMAGE=

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((rc != 0 || failed > 0)); then
    for c in "${containers[@]}"; do
      podman_ logs "$c" >"$work/$c.log" 2>&1 || continue
      [[ -s $work/$c.log ]] || continue
      log "last lines of $c:"
      tail -n 20 "$work/$c.log" >&2
    done
  fi
  if ((${#containers[@]})); then
    podman_ rm -f -t 0 "${containers[@]}" >/dev/null 2>&1 || log "could not remove ${containers[*]}"
  fi
  if [[ -n $dns_pid ]]; then
    kill "$dns_pid" 2>/dev/null || true
    wait "$dns_pid" 2>/dev/null || true
  fi
  if [[ -n $mounted ]]; then podman_ image unmount "$IMAGE" >/dev/null 2>&1 || true; fi
  if ((stack_up)); then
    py drop-streams "$SCIMBUS_NATS_URL" "$prefix" >/dev/null || log "could not delete the streams of bus prefix $prefix"
  fi
  if ((db_made)); then
    psql "$admin_url" -qAt -v ON_ERROR_STOP=1 -c "drop database if exists $database with (force)" >/dev/null ||
      log "could not drop database $database"
  fi
  rm -rf "$work"
  if ((rc == 0 && failed > 0)); then rc=1; fi
  echo "image-test: $passed passed, $failed failed"
  log "took $((SECONDS - started)) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the image ----------------------------------------------------------------
t0=$SECONDS
IMAGE=$(deploy/image/build.sh) || fatal "image: deploy/image/build.sh failed"
pass "image: $IMAGE built or up to date ($((SECONDS - t0)) s)"

# --- NATS and Postgres ------------------------------------------------------------
lines=$(deploy/local/stack.sh up) || fatal "stack: deploy/local/stack.sh up failed"
set -a
eval "$lines"
set +a
stack_up=1
admin_url=$SCIMBUS_DATABASE_URL # the test's database is created and dropped through it

psql "$admin_url" -qAt -v ON_ERROR_STOP=1 -c "create database $database" >/dev/null ||
  fatal "database: could not create $database"
db_made=1

# What every container gets. The URLs name the host `localhost`, which the
# services must resolve themselves (from the /etc/hosts podman gives them).
db_url=$(py url "$admin_url" localhost "$database")
nats_url=$(py url "$SCIMBUS_NATS_URL" localhost)
IMAGE_TEST_TOKEN="image-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export IMAGE_TEST_TOKEN
common=(
  --network host --read-only
  -v "$root/$here/scimbus.toml:/etc/scimbus/scimbus.toml:ro"
  -e SCIMBUS_CONFIG=/etc/scimbus/scimbus.toml
  -e "SCIMBUS_DATABASE_URL=$db_url"
  -e "SCIMBUS_NATS_URL=$nats_url"
  -e "SCIMBUS_BUS_PREFIX=$prefix"
  -e SCIMBUS_LOG_FORMAT=json
  -e RUST_LOG=info
  -e IMAGE_TEST_TOKEN
)
log "image $IMAGE, database $database, bus prefix $prefix, $db_url, $nats_url"

# --- the image itself ---------------------------------------------------------------
user=$(podman_ image inspect --format '{{.Config.User}}' "$IMAGE")
if [[ $user == 65532:65532 ]]; then pass "user: the image runs as $user"; else fail "user: the image's user is '$user', not 65532:65532"; fi

# run NAME ARGS...: podman run --rm, named (so that cleanup removes it if
# the run is cut short), two minutes at most.
run() {
  local c="scimbus-image-test-$tag-$1"
  shift
  containers+=("$c")
  timeout 120 podman "${IMAGE_PODMAN_FLAGS[@]}" run --rm --name "$c" "$@"
}

if out=$(run shell --network host --entrypoint /bin/sh "$IMAGE" -c true 2>&1); then
  fail "no shell: /bin/sh ran in the image"
else
  pass "no shell: --entrypoint /bin/sh fails ($(grep -o 'no such file or directory' <<<"$out" | head -n1 || true))"
fi

# The files of the image, and that its binaries are static.
mnt=$(podman_ image mount "$IMAGE") || fatal "files: podman image mount failed"
mounted=$mnt
files=$(cd "$mnt" && find . -type f -o -type l | sed 's|^\./|/|' | LC_ALL=C sort | tr '\n' ' ')
want="/bin/scimbus /bin/scimbus-ingress /bin/scimbus-outbound /bin/scimbus-store /etc/group /etc/passwd /etc/ssl/certs/ca-certificates.crt "
if [[ $files == "$want" ]]; then pass "files: only the four binaries, passwd, group and the CA bundle"; else fail "files: the image holds $files"; fi
if grep -q '^scimbus:x:65532:65532:' "$mnt/etc/passwd" && grep -q '^scimbus:x:65532:' "$mnt/etc/group"; then
  pass "files: /etc/passwd and /etc/group name scimbus 65532:65532"
else
  fail "files: no scimbus 65532:65532 in /etc/passwd and /etc/group"
fi
if grep -q 'BEGIN CERTIFICATE' "$mnt/etc/ssl/certs/ca-certificates.crt"; then
  pass "files: $(grep -c 'BEGIN CERTIFICATE' "$mnt/etc/ssl/certs/ca-certificates.crt") CA certificates"
else
  fail "files: /etc/ssl/certs/ca-certificates.crt holds no certificate"
fi
for b in scimbus-ingress scimbus-store scimbus-outbound scimbus; do
  kind=$(file -b "$mnt/bin/$b")
  if [[ $kind == *"statically linked"* || $kind == *"static-pie linked"* ]] && ! ldd "$mnt/bin/$b" >/dev/null 2>&1; then
    pass "static: /bin/$b ($(grep -o "static[-a-z]* linked" <<<"$kind"))"
  elif [[ $kind == *"static-pie linked"* ]] && ldd "$mnt/bin/$b" 2>&1 | grep -q 'statically linked'; then
    pass "static: /bin/$b ($(grep -o "static[-a-z]* linked" <<<"$kind"))"
  else
    fail "static: /bin/$b is $kind; ldd: $(ldd "$mnt/bin/$b" 2>&1 | head -n 3 | tr '\n' ' ')"
  fi
done
podman_ image unmount "$IMAGE" >/dev/null || true
mounted=

# --- scimbus migrate -----------------------------------------------------------------
if out=$(run migrate "${common[@]}" "$IMAGE" /bin/scimbus migrate 2>&1); then
  pass "migrate: scimbus migrate exits 0 ($(grep -m1 -o "applied [0-9]* of [0-9]* migrations" <<<"$out" || true))"
else
  fail "migrate: scimbus migrate failed: $(tail -n 5 <<<"$out")"
fi

# A name only DNS knows: a DNS server of the test's own on a loopback address
# (port 53; glibc takes no other) answers db.scimbus.test, and the container
# gets it as its only name server.
dns_name=db.scimbus.test
for _ in 1 2 3 4 5; do
  dns_addr="127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))"
  # exec: $! is the server itself, which cleanup stops.
  (exec python3 "$here/helper.py" dns "$dns_addr" "$dns_name" 127.0.0.1 >"$work/dns.log" 2>&1) &
  dns_pid=$!
  for _ in $(seq 1 50); do
    grep -q listening "$work/dns.log" 2>/dev/null && break
    kill -0 "$dns_pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q listening "$work/dns.log" && break
  wait "$dns_pid" 2>/dev/null || true
  dns_pid=
done
if [[ -z $dns_pid ]]; then
  fail "dns: no DNS server could be started on a loopback address: $(tail -n 2 "$work/dns.log")"
else
  dns_url=$(py url "$admin_url" "$dns_name" "$database")
  if out=$(run migrate-dns "${common[@]}" --dns "$dns_addr" -e "SCIMBUS_DATABASE_URL=$dns_url" \
    "$IMAGE" /bin/scimbus migrate 2>&1); then
    if grep -qx "A $dns_name" "$work/dns.log"; then
      pass "dns: scimbus migrate reached postgres at $dns_name, an A record of the test's DNS server"
    else
      fail "dns: scimbus migrate passed, but the DNS server was not asked: $(tr '\n' ' ' <"$work/dns.log")"
    fi
  else
    fail "dns: scimbus migrate over $dns_name failed: $(tail -n 3 <<<"$out"); the DNS server saw: $(tr '\n' ' ' <"$work/dns.log")"
  fi
fi

# --- the services --------------------------------------------------------------------
# start NAME ADDR_VARIABLE [podman run options]: runs /bin/scimbus-NAME on
# a free port until /readyz answers 200 (60 s), on other ports if the first
# was taken. Sets the port in port_NAME.
start() {
  local name=$1 var=$2 c="scimbus-image-test-$tag-$1" port attempt status deadline
  shift 2
  [[ " ${containers[*]} " == *" $c "* ]] || containers+=("$c")
  for attempt in 1 2 3; do
    read -r port < <(py ports 1)
    podman_ rm -f -t 0 "$c" >/dev/null 2>&1 || true
    podman_ run -d --name "$c" "${common[@]}" -e "$var=127.0.0.1:$port" "$@" \
      "$IMAGE" "/bin/scimbus-$name" >/dev/null || { fail "$name: podman run failed"; return 1; }
    deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
      status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/readyz" || true)
      [[ $status == 200 ]] && break
      [[ $(podman_ inspect --format '{{.State.Running}}' "$c" 2>/dev/null) == true ]] || break
      sleep 0.1
    done
    if [[ $status == 200 ]]; then
      printf -v "port_$name" '%s' "$port"
      return 0
    fi
    if [[ $(podman_ inspect --format '{{.State.Running}}' "$c" 2>/dev/null) != true ]] &&
      podman_ logs "$c" 2>&1 | grep -qi 'address already in use'; then
      log "$name: port $port was taken (attempt $attempt), trying another"
      continue
    fi
    if [[ $(podman_ inspect --format '{{.State.Running}}' "$c" 2>/dev/null) != true ]]; then
      fail "$name: exited with code $(podman_ inspect --format '{{.State.ExitCode}}' "$c" 2>/dev/null) before /readyz answered 200"
    else
      fail "$name: /readyz did not answer 200 within 60 s (last: $status)"
    fi
    return 1
  done
  fail "$name: no free port after 3 attempts"
  return 1
}

# check_service NAME: /livez, /readyz, /metrics of a running service.
check_service() {
  local name=$1 c="scimbus-image-test-$tag-$1" status ctype pid uid gid
  local port_var="port_$name"
  local port=${!port_var}
  local base="http://127.0.0.1:$port"
  for path in /livez /readyz; do
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$base$path" || true)
    if [[ $status == 200 ]]; then pass "$name: $path 200"; else fail "$name: $path answered $status"; fi
  done
  status=$(curl -s -o "$work/$name.metrics" -D "$work/$name.headers" -w '%{http_code}' --max-time 10 "$base/metrics" || true)
  ctype=$(sed -n 's/^[Cc]ontent-[Tt]ype: *//p' "$work/$name.headers" 2>/dev/null | tr -d '\r')
  if [[ $status == 200 && $ctype == "text/plain; version=0.0.4"* ]]; then
    pass "$name: /metrics 200, $ctype"
  else
    fail "$name: /metrics answered $status, content type '$ctype'"
  fi
  for family in scimbus_http_requests_total scimbus_db_pool_connections; do
    if grep -q "^# TYPE $family " "$work/$name.metrics"; then
      pass "$name: /metrics has $family"
    else
      fail "$name: /metrics has no family $family"
    fi
  done
  # The process's real, effective, saved and file system uids and gids.
  pid=$(podman_ inspect --format '{{.State.Pid}}' "$c")
  uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status" 2>/dev/null || true)
  gid=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$pid/status" 2>/dev/null || true)
  if [[ $uid == "65532 65532 65532 65532" && $gid == "65532 65532 65532 65532" ]]; then
    pass "$name: runs as 65532:65532"
  else
    fail "$name: runs as uid '$uid', gid '$gid'"
  fi
  if [[ $(podman_ inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$c") == true ]]; then
    pass "$name: read-only root file system"
  else
    fail "$name: the root file system is writable"
  fi
}

ready=1
start store SCIMBUS_STORE_ADDR || ready=0
start ingress SCIMBUS_INGRESS_ADDR || ready=0
# The ingress's public URL: the outbound service signs events with it.
start outbound SCIMBUS_OUTBOUND_ADDR -e "SCIMBUS_PUBLIC_URL=http://localhost:${port_ingress:-8080}" || ready=0
((ready)) || exit 1
for s in store ingress outbound; do check_service "$s"; done

# --- a SCIM create, applied by the store ------------------------------------------------
base="http://127.0.0.1:$port_ingress/scim/v2/imagetest"
status=$(curl -s -o "$work/created.json" -w '%{http_code}' --max-time 20 \
  -H "Authorization: Bearer $IMAGE_TEST_TOKEN" -H 'Content-Type: application/scim+json' \
  -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"image-test@example.com","displayName":"Image Test"}' \
  "$base/Users" || true)
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("id",""))' "$work/created.json" 2>/dev/null || true)
if [[ $status == 201 && -n $id ]]; then
  pass "scim: POST /scim/v2/imagetest/Users 201 (id $id)"
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $IMAGE_TEST_TOKEN" "$base/Users/$id" || true)
  if [[ $status == 200 ]]; then pass "scim: GET the user back 200"; else fail "scim: GET the user back answered $status"; fi
else
  fail "scim: POST /Users answered $status: $(head -c 300 "$work/created.json" 2>/dev/null)"
fi
curl -s --max-time 10 -o "$work/ingress.metrics" "http://127.0.0.1:$port_ingress/metrics" || true
if grep '^scimbus_http_requests_total{' "$work/ingress.metrics" | grep 'route="/scim/v2/' |
  grep 'method="POST"' | grep -q 'status="201"'; then
  pass "ingress: /metrics counted the POST and its 201"
else
  fail "ingress: /metrics has no scimbus_http_requests_total sample for the 201"
fi

# --- logs and stop ------------------------------------------------------------------------
for s in store ingress outbound; do
  c="scimbus-image-test-$tag-$s"
  podman_ logs "$c" >"$work/$s.log" 2>&1 || true
  if err=$(py json-lines "$work/$s.log" 2>&1); then
    pass "$s: every log line is JSON ($(wc -l <"$work/$s.log") lines)"
  else
    fail "$s: $err"
  fi
done

names=()
for s in ingress outbound store; do names+=("scimbus-image-test-$tag-$s"); done
t0=$(date +%s%N)
podman_ stop -t 30 "${names[@]}" >/dev/null || fail "stop: podman stop failed"
took=$((($(date +%s%N) - t0) / 1000000))
for c in "${names[@]}"; do
  s=${c##*-}
  code=$(podman_ inspect --format '{{.State.ExitCode}}' "$c")
  if [[ $code == 0 ]]; then
    pass "$s: SIGTERM, exit code 0"
  else
    fail "$s: SIGTERM, exit code $code (137: killed after 30 s)"
  fi
done
if ((took < 30000)); then pass "stop: all three stopped in $took ms"; else fail "stop: took $took ms"; fi
