#!/usr/bin/env bash
# Smoke test of deploy/local/stack.sh against the local stack:
#   up twice (same output), both services answer, data written before `down`
#   is there after the next `up` (a Postgres table and a JetStream message),
#   stale pid files do not get in the way. Leaves the stack up.
#
#   deploy/local/stack-smoke.sh          use the stack as it is (started if needed)
#   deploy/local/stack-smoke.sh --cold   `down --purge` first and time the cold `up`
#
# SCIMBUS_NATS_URL / SCIMBUS_DATABASE_URL are ignored (unset): this tests the
# local stack, not external servers. SCIMBUS_STACK_* knobs are honoured.
# shellcheck disable=SC2016 # $JS.API subjects and bash -c scripts are single-quoted on purpose
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
stack=$here/stack.sh
unset SCIMBUS_NATS_URL SCIMBUS_DATABASE_URL
mon=http://127.0.0.1:${SCIMBUS_STACK_NATS_MONITOR_PORT:-8222}
stack_dir=${SCIMBUS_STACK_DIR:-$(cd "$here/../.." && pwd -P)/.data}

cold=0
case ${1:-} in
  --cold) cold=1 ;;
  "") ;;
  *)
    echo "usage: $0 [--cold]" >&2
    exit 2
    ;;
esac

passed=0
failed=0
ok() {
  passed=$((passed + 1))
  echo "ok   $*"
}
bad() {
  failed=$((failed + 1))
  echo "FAIL $*"
}
check() { # description command...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
  echo "stack-smoke: $passed passed, $failed failed"
  [[ $failed == 0 ]]
}
abort() {
  bad "$*"
  finish || true
  exit 1
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# JSON field from stdin: json_get 'expr on j'
json_get() { python3 -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# NATS request (subject, payload) -> reply body on stdout
nats_req() {
  python3 - "$SCIMBUS_NATS_URL" "$1" "$2" <<'PY'
import socket, sys, urllib.parse
url, subj, payload = sys.argv[1:4]
u = urllib.parse.urlsplit(url)
s = socket.create_connection((u.hostname, u.port or 4222), timeout=5)
f = s.makefile("rb")
f.readline()  # INFO
data = payload.encode()
inbox = b"_INBOX.stacksmoke"
s.sendall(b'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\nSUB ' + inbox + b" 1\r\n"
          + b"PUB " + subj.encode() + b" " + inbox + b" %d\r\n" % len(data) + data + b"\r\n")
while True:
    line = f.readline().rstrip(b"\r\n")
    if not line and f.closed:
        sys.exit("connection closed")
    if line == b"PING":
        s.sendall(b"PONG\r\n")
    elif line.startswith(b"-ERR"):
        sys.exit(line.decode())
    elif line.startswith((b"MSG ", b"HMSG ")):
        parts = line.split()
        n = int(parts[-1])
        body = f.read(n + 2)[:n]
        if parts[0] == b"HMSG":
            hdr = body[:int(parts[-2])]
            if b" 503" in hdr.split(b"\r\n", 1)[0]:
                sys.exit("no responders for " + subj)
            body = body[int(parts[-2]):]
        sys.stdout.write(body.decode())
        break
PY
}

# ---------------------------------------------------------------------------
if [[ $cold == 1 ]]; then
  echo "== cold start: down --purge"
  "$stack" down --purge
fi

echo "== up (first)"
t0=$(now_ms)
lines1=$("$stack" up) || abort "stack.sh up failed"
t1=$(now_ms)
echo "   first up took $((t1 - t0)) ms"
echo "== up (second)"
lines2=$("$stack" up) || abort "second stack.sh up failed"
t2=$(now_ms)
echo "   second up took $((t2 - t1)) ms"

only_kv() { ! grep -qvE '^[A-Z][A-Z0-9_]*=[^[:space:]]+$' <<<"$1"; }
check "up prints only KEY=value lines" only_kv "$lines1"
check "up prints SCIMBUS_NATS_URL" grep -qx 'SCIMBUS_NATS_URL=nats://127.0.0.1:[0-9]*' <<<"$lines1"
check "up prints SCIMBUS_DATABASE_URL" grep -qx 'SCIMBUS_DATABASE_URL=postgres://scimbus:scimbus@127.0.0.1:[0-9]*/scimbus' <<<"$lines1"
check "a second up prints the same" test "$lines1" == "$lines2"
check "env prints the same" test "$("$stack" env)" == "$lines1"

set -a
eval "$lines1"
set +a

# ---------------------------------------------------------------------------
echo "== services answer"
sql() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$SCIMBUS_DATABASE_URL" -c "$1"; }
check "psql select 1" test "$(sql 'select 1' 2>&1)" == 1
check "role scimbus is superuser" test "$(sql 'select rolsuper from pg_roles where rolname = current_user')" == t
check "database scimbus is owned by scimbus" test "$(sql "select pg_get_userbyid(datdba) from pg_database where datname = 'scimbus'")" == scimbus
check "server encoding UTF8" test "$(sql 'show server_encoding')" == UTF8
check "max_connections = 200" test "$(sql 'show max_connections')" == 200
# A quarter of the memory, within 128 MB and 4 GB.
want_mb=$(awk '/^MemTotal:/ { mb = int($2 / 4 / 1024); if (mb < 128) mb = 128; if (mb > 4096) mb = 4096; print mb }' /proc/meminfo)
check "shared_buffers = ${want_mb}MB" test "$(sql "select setting::bigint * 8 / 1024 from pg_settings where name = 'shared_buffers'")" == "$want_mb"
check "fsync on, synchronous_commit on" test "$(sql 'show fsync')/$(sql 'show synchronous_commit')" == on/on

jsz=$(curl -fsS "$mon/jsz") || abort "curl $mon/jsz failed"
varz=$(curl -fsS "$mon/varz") || abort "curl $mon/varz failed"
check "/jsz shows JetStream enabled" test "$(json_get '"config" in j and not j.get("disabled", False)' <<<"$jsz")" == True
version=$(json_get 'j["version"]' <<<"$varz")
echo "   nats-server $version, store $(json_get 'j["config"]["store_dir"]' <<<"$jsz")"
check "/varz version >= 2.10" test "$(json_get 'tuple(int(x) for x in j["version"].split("-")[0].split(".")[:2]) >= (2, 10)' <<<"$varz")" == True

# ---------------------------------------------------------------------------
echo "== write data, down, stale pid files, up, data still there"
token=smoke-$$-$RANDOM
sql "set client_min_messages = warning; drop table if exists stack_smoke; create table stack_smoke (token text not null); insert into stack_smoke values ('$token')" ||
  abort "could not write the smoke table"
nats_req '$JS.API.STREAM.DELETE.STACK_SMOKE' '' >/dev/null 2>&1 || true
created=$(nats_req '$JS.API.STREAM.CREATE.STACK_SMOKE' '{"name":"STACK_SMOKE","subjects":["stack.smoke.>"],"storage":"file"}') ||
  abort "could not create stream STACK_SMOKE"
check "JetStream stream created" test "$(json_get '"error" not in j' <<<"$created")" == True
ack=$(nats_req 'stack.smoke.persist' "$token") || abort "publish to stack.smoke.persist failed"
check "JetStream publish acknowledged" test "$(json_get 'j.get("stream")' <<<"$ack")" == STACK_SMOKE

"$stack" down
check "after down, Postgres does not answer" bash -c '! psql -X -A -t -q -d "$1" -c "select 1" >/dev/null 2>&1' _ "$SCIMBUS_DATABASE_URL"
check "after down, NATS monitor does not answer" bash -c '! curl -fsS -m 2 "$1/varz" >/dev/null 2>&1' _ "$mon"
check "after down, status reports not running" bash -c '! "$1" status >/dev/null 2>&1' _ "$stack"

# pid files that name a live process that is not ours (pid reuse after a reboot)
sleep 120 &
decoy=$!
echo "$decoy" >"$stack_dir/nats/nats-server.pid"
pgpid=$stack_dir/pg/data/postmaster.pid
printf '%s\n%s\n' "$decoy" "$stack_dir/pg/data" >"$pgpid"
[[ $EUID == 0 ]] && chown postgres: "$pgpid"

t3=$(now_ms)
lines3=$("$stack" up) || {
  kill "$decoy"
  abort "up after down (with stale pid files) failed"
}
t4=$(now_ms)
kill "$decoy" 2>/dev/null || true
wait "$decoy" 2>/dev/null || true
echo "   warm up after down took $((t4 - t3)) ms"
check "up after down prints the same" test "$lines3" == "$lines1"
check "Postgres table survived down/up" test "$(sql 'select token from stack_smoke' 2>&1)" == "$token"
got=$(nats_req '$JS.API.STREAM.MSG.GET.STACK_SMOKE' '{"last_by_subj":"stack.smoke.persist"}') || got='{}'
check "JetStream message survived down/up" test "$(json_get '__import__("base64").b64decode(j["message"]["data"]).decode() if "message" in j else j' <<<"$got")" == "$token"

# clean up what the smoke test wrote; the stack stays up
sql 'drop table stack_smoke' || true
nats_req '$JS.API.STREAM.DELETE.STACK_SMOKE' '' >/dev/null || true
check "status reports both running" "$stack" status

finish
