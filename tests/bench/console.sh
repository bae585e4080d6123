#!/usr/bin/env bash
# `make bench-console`: how long each page of the operator console takes with
# 1 000 000 users and 20 targets stored. The ingress (release build) runs on
# the bench database of tests/bench/run.sh (its preloaded users, its audit
# trail and HR inbox from earlier runs); tests/bench/sql/console.sql adds 20
# targets that have run (each linked to BENCH_CONSOLE_LINKED users, default
# 100 000; every fourth failing with 100 parked changes) and an hour of
# samples. A curl signs in once; then each page is fetched BENCH_CONSOLE_N
# (20) times one after the other, after 3 untimed fetches, and must answer
# 200. Prints p50, p95 and max per page (curl's time_total: from connect to
# the last byte) against the target: every page under 100 ms.
#
# Knobs: BENCH_CONSOLE_N (20), BENCH_CONSOLE_LINKED (100000), BENCH_USERS
# (1000000), BENCH_DB (scimbus_bench), BENCH_INGRESS_ADDR (127.0.0.1:18080),
# BENCH_STRICT (1: exit 3 when a page misses the target).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
cd "$root"
n=${BENCH_CONSOLE_N:-20}
linked=${BENCH_CONSOLE_LINKED:-100000}
users=${BENCH_USERS:-1000000}
db=${BENCH_DB:-scimbus_bench}
addr=${BENCH_INGRESS_ADDR:-127.0.0.1:18080}
tenant=bench
targets=20
admin=scimbus-bench-admin-token
prefix=bench-console-$$
out=$root/.data/bench
report=$out/console.txt
mkdir -p "$out"
exec 7>&2
log() { printf 'bench-console: %s %s\n' "$(date -u +%H:%M:%S)" "$*" >&7; }
die() {
  log "error: $*"
  exit 1
}
exec 8>"$out/.lock"
if command -v flock >/dev/null 2>&1 && ! flock -n 8; then die "another bench runs from this checkout ($out/.lock)"; fi
for t in psql curl; do command -v "$t" >/dev/null 2>&1 || die "$t is missing (apt-get install -y postgresql-client curl)"; done

lines=$(deploy/local/stack.sh up) || die "deploy/local/stack.sh up failed"
set -a
eval "$lines"
set +a
server_url=${SCIMBUS_DATABASE_URL%/*}
bench_url=$server_url/$db
q() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$bench_url" "$@"; }
[[ $(psql -X -A -t -q -d "$server_url/postgres" -c "select 1 from pg_database where datname = '$db'") == 1 ]] ||
  die "no database $db: run tests/bench/run.sh once first (it preloads $users users)"
have=$(q -c "select users from bench_preload where tenant = '$tenant'" 2>/dev/null || true)
[[ $have == "$users" ]] || die "$db holds ${have:-no} preloaded users, not $users: run tests/bench/run.sh once first"

log "building scimbus-ingress and scimbus-bench (release)"
cargo build --release --locked -p scimbus-ingress -p scimbus-bench >&2
bin=${CARGO_TARGET_DIR:-$root/target}/release

cfg=$out/scimbus-console.toml
{
  printf '# written by tests/bench/console.sh\n[admin]\ntokens = ["env:SCIMBUS_BENCH_ADMIN_TOKEN"]\n\n'
  printf '[[tenants]]\nname = "%s"\n' "$tenant"
  for ((t = 1; t <= targets; t++)); do
    printf '\n[[tenants.targets]]\nname = "app-%02d"\nurl = "https://app-%02d.example.invalid/scim/v2"\n' "$t" "$t"
    ((t % 3 == 0)) && printf 'filter = %s\n' "'active eq true'"
  done
} >"$cfg"

pid=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    "$bin/scimbus-bench" drop-streams "$SCIMBUS_NATS_URL" "$prefix" >/dev/null 2>&1 || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting scimbus-ingress on $db ($addr)"
SCIMBUS_CONFIG=$cfg SCIMBUS_BENCH_ADMIN_TOKEN=$admin SCIMBUS_BUS_PREFIX=$prefix \
  SCIMBUS_DATABASE_URL=$bench_url SCIMBUS_INGRESS_ADDR=$addr RUST_LOG=${RUST_LOG:-warn} \
  "$bin/scimbus-ingress" >"$out/console-ingress.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "http://$addr/readyz" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || die "scimbus-ingress exited (log: $out/console-ingress.log)"
  sleep 0.2
done
curl -fsS -o /dev/null "http://$addr/readyz" || die "scimbus-ingress did not become ready"

log "seeding $targets targets, $linked users linked to each, parked changes and samples (once)"
t0=$(date +%s)
q -v tenant="$tenant" -v targets="$targets" -v linked="$linked" -f "$here/sql/console.sql" >&2
log "seeded in $(($(date +%s) - t0)) s"

jar=$out/console-cookies.txt
rm -f "$jar"
status=$(curl -sS -o /dev/null -w '%{http_code}' -c "$jar" -H "Origin: http://$addr" \
  --data-urlencode "token=$admin" --data-urlencode "next=/admin/" "http://$addr/admin/sign-in")
[[ $status == 303 ]] || die "signing in answered $status, not 303"

person=$(q -c "select id from resources where tenant = '$tenant' and user_name = 'bench-1'")
middle=$(q -c "select id from resources where tenant = '$tenant' and user_name = 'bench-500000'")
pages=(
  "overview|/admin/"
  "sign-in page|/admin/sign-in"
  "target (100 parked)|/admin/tenants/$tenant/targets/app-04"
  "target (in step)|/admin/tenants/$tenant/targets/app-01"
  "search by email|/admin/tenants/$tenant/people?q=Bench-500000%40Home.example.org"
  "search by userName|/admin/tenants/$tenant/people?q=BENCH-777777"
  "search, no match|/admin/tenants/$tenant/people?q=nobody%40example.com"
  "person in 20 targets, parked|/admin/tenants/$tenant/people/$person"
  "person in none|/admin/tenants/$tenant/people/$middle"
  "HR events|/admin/tenants/$tenant/hr-events"
  "HR events, applied|/admin/tenants/$tenant/hr-events?status=applied"
  "audit trail|/admin/tenants/$tenant/audit"
  "audit trail, one resource|/admin/tenants/$tenant/audit?resourceId=$person"
  "audit trail, failures|/admin/tenants/$tenant/audit?outcome=failure"
  "audit trail, HR events applied|/admin/tenants/$tenant/audit?action=hr_event"
  "audit trail, operator actions|/admin/tenants/$tenant/audit?action=admin"
  "audit trail, since an hour ago|/admin/tenants/$tenant/audit?since=$(date -u -d '1 hour ago' +%FT%TZ)"
  "audit trail, until a day ago|/admin/tenants/$tenant/audit?until=$(date -u -d '1 day ago' +%FT%TZ)"
)
declare -a rows
verdicts=()
for p in "${pages[@]}"; do
  name=${p%%|*}
  path=${p#*|}
  url="http://$addr$path"
  for _ in 1 2 3; do curl -sS -o /dev/null -b "$jar" "$url"; done
  times=()
  bytes=0
  for ((i = 0; i < n; i++)); do
    read -r code secs size < <(curl -sS -o /dev/null -b "$jar" -w '%{http_code} %{time_total} %{size_download}\n' "$url")
    [[ $code == 200 ]] || die "$name ($path) answered $code"
    times+=("$secs")
    bytes=$size
  done
  read -r p50 p95 max < <(printf '%s\n' "${times[@]}" | sort -g |
    awk '{ v[NR] = $1 * 1000 } END { i50 = int((NR + 1) / 2); i95 = int(NR * 0.95 + 0.999); if (i95 < 1) i95 = 1;
      printf "%.1f %.1f %.1f\n", v[i50], v[i95], v[NR] }')
  verdict=met
  awk -v m="$max" 'BEGIN { exit !(m >= 100) }' && verdict=MISSED
  verdicts+=("$verdict")
  rows+=("$(printf '  %-32s %8s %8s %8s %9s   %s' "$name" "$p50" "$p95" "$max" "$((bytes / 1024)) KB" "$verdict")")
done

links=$(q -c "select count(*) from target_links where tenant = '$tenant'")
audit=$(q -c "select count(*) from audit_log where tenant = '$tenant'")
hr=$(q -c "select count(*) from hr_events where tenant = '$tenant'")
{
  printf 'scimbus console bench, %s UTC, %s (%s cores)\n' "$(date -u +'%F %H:%M')" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" "$(nproc)"
  printf '  stored: %s users, %s targets (%s links), %s audit entries, %s HR events; %s timed fetches per page after 3\n\n' \
    "$users" "$targets" "$links" "$audit" "$hr" "$n"
  printf '  %-32s %8s %8s %8s %9s   %s\n' page "p50 ms" "p95 ms" "max ms" size "target: every fetch < 100 ms"
  printf '%s\n' "${rows[@]}"
} >"$report"
cat "$report"
log "saved to $report"
if [[ ${BENCH_STRICT:-1} == 1 && " ${verdicts[*]} " == *" MISSED "* ]]; then
  exit 3
fi
