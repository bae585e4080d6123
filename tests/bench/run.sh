#!/usr/bin/env bash
# `make bench` (HTTP part): drives the running scimbus over HTTP with wrk and,
# in the same run, measures the references of docs/design.md §9, then prints the
# ratios and whether the targets are met. See tests/bench/README.md.
#
# Phases, each after a warm-up, run back to back in pairs so that the noise of
# a shared machine hits a figure and its reference alike:
#   pgbench  Postgres single-row insert of a ~1.3 KB jsonb user (reference)
#   create   POST /Users
#   get      GET /Users?filter=userName eq "bench-<random n>"
#   ref      the same GET script against a trivial axum handler (reference)
#   floor    the same GET script against an axum handler running the GET's SQL
#            through sqlx and splicing the row into the answer (reference)
#   patch    PATCH /Users/<random id>, replace title
#   pgbench100  Postgres inserting 100 such users per transaction (reference)
#   bulk     POST /Bulk with 100 user creates, at BENCH_BULK_CONNECTIONS (4)
#   group    one member added to and removed from a group of 10 and one of
#            BENCH_GROUP_MEMBERS (100000), and the group read without its
#            members, at BENCH_GROUP_CONNECTIONS (4) for BENCH_GROUP_SECS (10)
#   hr       HR webhooks: single hires (the demo workday source), then batches
#            of 100 (the demo bamboohr source), as fast as 202s come back;
#            then how fast and how late the store applied them
#
# Knobs (environment): BENCH_SECS (20) per phase, BENCH_WARMUP_SECS (5),
# BENCH_CONNECTIONS (32), BENCH_THREADS (2), BENCH_USERS (1000000),
# BENCH_DB (scimbus_bench), BENCH_PHASES (pgbench,create,get,auth,lookup,ref,floor,patch,pgbench100,bulk,group,hr;
# auth: the GET with a scoped database token and with a JWT, beside the
# configured token's),
# BENCH_HR_BATCH_CONNECTIONS (4: batches of 100 in flight at once),
# BENCH_STORE_REPLICAS (1: store processes, their CPU added up, the
# largest peak RSS shown), BENCH_INGRESS_ADDR (127.0.0.1:18080),
# BENCH_STORE_ADDR (127.0.0.1:18081, replica i on its port + i),
# BENCH_REF_ADDR (127.0.0.1:18090; the floor on its port + 1),
# BENCH_FLOOR_CONNECTIONS (16: the floor's read pool, as the ingress's), BENCH_STRICT (1: exit 3 when a target is
# missed). SCIMBUS_PARTITIONS, SCIMBUS_STORE_BATCH, RUST_LOG reach the services.
#
# A run whose requests did not all get the expected answer (201 for a
# create, 200 for a GET or PATCH; see wrk/common.lua) or whose pgbench
# transactions failed measured something else: its verdict says FAIL and the
# script exits 4 after printing everything.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
cd "$root"
# shellcheck source=tests/bench/proc.sh
. "$here/proc.sh"

secs=${BENCH_SECS:-20}
warmup=${BENCH_WARMUP_SECS:-5}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
users=${BENCH_USERS:-1000000}
db=${BENCH_DB:-scimbus_bench}
phases=${BENCH_PHASES:-pgbench,create,get,auth,lookup,ref,floor,patch,pgbench100,bulk,group,hr}
bulk_conns=${BENCH_BULK_CONNECTIONS:-4}
replicas=${BENCH_STORE_REPLICAS:-1}
ingress_addr=${BENCH_INGRESS_ADDR:-127.0.0.1:18080}
store_addr=${BENCH_STORE_ADDR:-127.0.0.1:18081}
ref_addr=${BENCH_REF_ADDR:-127.0.0.1:18090}
tenant=bench
token=scimbus-bench-token
out=$root/.data/bench
run_id=$(date -u +%Y%m%d%H%M%S)
prefix=bench-$run_id-$$

# Messages go to the stderr the script was started with (fd 7): a signal trap
# may run while stderr is redirected for `time`.
exec 7>&2
log() { printf 'bench: %s %s\n' "$(date -u +%H:%M:%S)" "$*" >&7; }
die() {
  printf 'bench: error: %s\n' "$*" >&7
  exit 1
}
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
for v in "$secs" "$warmup" "$conns" "$threads" "$users" "$bulk_conns" "$replicas"; do
  is_uint "$v" || die "BENCH_SECS, BENCH_WARMUP_SECS, BENCH_CONNECTIONS, BENCH_THREADS, BENCH_USERS, BENCH_BULK_CONNECTIONS and BENCH_STORE_REPLICAS must be numbers (got '$v')"
done
[[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB must be a plain lower-case identifier (got '$db')"
((secs > 0 && conns > 0 && threads > 0 && users > 0 && replicas > 0)) || die "BENCH_SECS, BENCH_CONNECTIONS, BENCH_THREADS, BENCH_USERS and BENCH_STORE_REPLICAS must be positive"
has_phase() { [[ ,$phases, == *,$1,* ]]; }

mkdir -p "$out"
# One bench at a time per checkout: they would share the database and ports.
exec 8>"$out/.lock"
if command -v flock >/dev/null 2>&1 && ! flock -n 8; then die "another bench runs from this checkout ($out/.lock)"; fi

# ---------------------------------------------------------------------------
# tools

if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk (Debian package)"
  sudo=()
  [[ $EUID == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get install -y wrk >&2 ||
    { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y wrk >&2; } ||
    die "could not install wrk (apt-get install -y wrk)"
fi
for t in psql pgbench curl; do
  command -v "$t" >/dev/null 2>&1 || die "$t is missing (apt-get install -y postgresql-client curl)"
done

lines=$(deploy/local/stack.sh up) || die "deploy/local/stack.sh up failed"
set -a
eval "$lines"
set +a
find_nats
server_url=${SCIMBUS_DATABASE_URL%/*}
[[ $server_url == *://*/* || $server_url == *://* ]] || die "cannot read SCIMBUS_DATABASE_URL"
admin_url=$server_url/postgres
bench_url=$server_url/$db

log "building scimbus-store, scimbus-ingress and scimbus-bench (release)"
cargo build --release --locked -p scimbus-store -p scimbus-ingress -p scimbus-bench >&2
bin=${CARGO_TARGET_DIR:-$root/target}/release

# ---------------------------------------------------------------------------
# what runs, and how it is stopped

svc_pids=()
store_pids=()
ingress_pid=
ref_pid=
streams_made=0
stop_pid() { # pid: TERM, then KILL after 10 s
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -z $ref_pid ]] || stop_pid "$ref_pid"
  local pid
  for pid in "${svc_pids[@]}"; do stop_pid "$pid"; done
  if [[ $streams_made == 1 ]]; then
    "$bin/scimbus-bench" drop-streams "$SCIMBUS_NATS_URL" "$prefix" >/dev/null 2>&1 ||
      log "could not delete the streams of bus prefix $prefix"
  fi
  ((${#svc_pids[@]} == 0)) || log "services stopped (NATS and Postgres keep running)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { # host:port
  # shellcheck disable=SC2016 # $1/$2 expand in the inner shell
  ! timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "${1%:*}" "${1##*:}" 2>/dev/null
}
wait_ready() { # url pid name
  local i
  for ((i = 0; i < 300; i++)); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || die "$3 exited during start (log: $out/$3.log)"
    sleep 0.2
  done
  die "$3 did not answer $1 within 60 s (log: $out/$3.log)"
}

q() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$bench_url" "$@"; }

# ---------------------------------------------------------------------------
# the database: created once, migrated by the services, preloaded once

if [[ $(psql -X -A -t -q -d "$admin_url" -c "select 1 from pg_database where datname = '$db'") != 1 ]]; then
  log "creating database $db"
  psql -X -q -v ON_ERROR_STOP=1 -d "$admin_url" -c "create database $db" >&2
fi
if [[ $(q -c "select to_regclass('resources') is not null") == t ]]; then
  # Before the store starts: it would republish the changes of earlier runs.
  q -f "$here/sql/prepare.sql" >&2
fi

cfg=$out/scimbus-bench.toml
cat >"$cfg" <<EOF
# written by tests/bench/run.sh
[[tenants]]
name = "$tenant"
tokens = ["env:SCIMBUS_BENCH_TOKEN"]
EOF
# The demo tenant's HR sources (workday, bamboohr, personio), as shipped.
awk '/^\[\[tenants\.hr_sources\]\]/ { on = 1 } /^\[\[tenants\]\]/ && on { exit } on' \
  deploy/local/scimbus.toml >>"$cfg"
grep -q 'name = "bamboohr"' "$cfg" || die "no demo HR sources in deploy/local/scimbus.toml"
# The auth phase's JWT: an RSA key of this run, its JWKS inline in the
# tenant's [tenants.jwt], and one token signed with it (RS256, a day long).
jwt=
if has_phase auth; then
  command -v openssl >/dev/null 2>&1 || die "openssl is missing (apt-get install -y openssl)"
  b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
  openssl genrsa -out "$out/jwt-key.pem" 2048 2>/dev/null || die "openssl genrsa failed"
  jwt_n=$(openssl rsa -in "$out/jwt-key.pem" -noout -modulus | cut -d= -f2 | xxd -r -p | b64url)
  jwt_head=$(printf '{"alg":"RS256","typ":"JWT","kid":"bench"}' | b64url)
  jwt_body=$(printf '{"iss":"https://bench.invalid","aud":"scimbus","sub":"bench","exp":%d,"scope":"scim:read scim:write"}' \
    "$(($(date +%s) + 86400))" | b64url)
  jwt_sig=$(printf '%s.%s' "$jwt_head" "$jwt_body" | openssl dgst -sha256 -sign "$out/jwt-key.pem" -binary | b64url)
  jwt=$jwt_head.$jwt_body.$jwt_sig
  cat >>"$cfg" <<EOF
[tenants.jwt]
issuer = "https://bench.invalid"
audience = "scimbus"
algorithms = ["RS256"]
jwks = '{"keys":[{"kty":"RSA","kid":"bench","alg":"RS256","use":"sig","n":"$jwt_n","e":"AQAB"}]}'
EOF
fi
export SCIMBUS_DEMO_HR_SECRET=${SCIMBUS_DEMO_HR_SECRET:-scimbus-dev-hr-secret}
export SCIMBUS_DEMO_HR_WHSEC=${SCIMBUS_DEMO_HR_WHSEC:-whsec_$(printf '%s' "$SCIMBUS_DEMO_HR_SECRET" | base64 -w0)}

floor_addr=${ref_addr%:*}:$((${ref_addr##*:} + 1))
for a in "$ingress_addr" "$store_addr" "$ref_addr" "$floor_addr"; do
  port_free "$a" || die "$a is taken; set BENCH_INGRESS_ADDR / BENCH_STORE_ADDR / BENCH_REF_ADDR"
done

log "starting $replicas scimbus-store replica(s) and scimbus-ingress on $db, bus prefix $prefix"
export SCIMBUS_CONFIG=$cfg SCIMBUS_BENCH_TOKEN=$token SCIMBUS_BUS_PREFIX=$prefix \
  SCIMBUS_DATABASE_URL=$bench_url SCIMBUS_INGRESS_ADDR=$ingress_addr \
  RUST_LOG=${RUST_LOG:-info}
streams_made=1
# Replica i serves its health on the store address's port + i.
for ((i = 0; i < replicas; i++)); do
  addr=${store_addr%:*}:$((${store_addr##*:} + i))
  ((i == 0)) || port_free "$addr" || die "$addr (a store replica's) is taken"
  name=store
  ((i == 0)) || name=store-$i
  SCIMBUS_STORE_ADDR=$addr "$bin/scimbus-store" >"$out/$name.log" 2>&1 &
  store_pids+=("$!")
  svc_pids+=("$!")
  wait_ready "http://$addr/readyz" "$!" "$name"
done
"$bin/scimbus-ingress" >"$out/ingress.log" 2>&1 &
ingress_pid=$!
svc_pids+=("$ingress_pid")
wait_ready "http://$ingress_addr/readyz" "$ingress_pid" ingress

q -f "$here/sql/prepare.sql" >&2
shape=$(md5sum <"$here/sql/preload.sql" | cut -c1-32)
have=$(q -c "select users || ' ' || shape from bench_preload where tenant = '$tenant'")
preload_note="reused ($users users from an earlier run)"
if [[ $have != "$users $shape" ]]; then
  log "preloading $users users (once; later runs reuse them)"
  t0=$(date +%s.%N)
  q -v users="$users" -v tenant="$tenant" -v shape="$shape" -f "$here/sql/preload.sql" >&2
  t1=$(date +%s.%N)
  preload_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  preload_note="loaded now in $preload_secs s (insert, index builds, vacuum analyze, checkpoint)"
  printf '%s users, %s s, %s\n' "$users" "$preload_secs" "$(date -u +%FT%TZ)" >"$out/preload-$db.txt"
  log "preload took $preload_secs s"
elif [[ -r $out/preload-$db.txt ]]; then
  preload_note="reused; loaded earlier: $(<"$out/preload-$db.txt")"
fi
# `resources` in Postgres' buffers, as in a system that has been running:
# after a preload or a restart of Postgres it is on disk, each write would
# first read a page of every index and each GET its row (docs/capacity.md,
# Postgres). The table first, then its indexes, so that with buffers too
# small for both the indexes are what stays.
buffers=$(q -c "show shared_buffers")
warm_note="not read in (no pg_prewarm)"
if q -c "create extension if not exists pg_prewarm" >/dev/null 2>&1; then
  table=$(q -c "select pg_prewarm('resources')")
  pages=$(q -c "select sum(pg_prewarm(indexrelid::regclass)) from pg_index where indrelid = 'resources'::regclass")
  warm_note="resources read in first (table $((table * 8 / 1024)) MB, then indexes $((pages * 8 / 1024)) MB; pg_prewarm)"
fi
log "shared_buffers $buffers; $warm_note"
count=$(q -c "select count(*) from resources where tenant = '$tenant' and resource_type = 'User'")
size=$(q -c "select round(avg(octet_length(doc::text))) from (select doc from resources where tenant = '$tenant' limit 1000) s")
log "$count users stored, doc ~$size bytes as JSON text"

# PATCH targets: random preloaded users, looked up by userName.
ids_file=$out/ids.txt
q -c "\\copy (select id from resources where tenant = '$tenant' and resource_type = 'User' and lower(user_name) = any (array(select 'bench-' || (1 + floor(random() * $users))::bigint from generate_series(1, 100000)))) to '$ids_file'"

# ---------------------------------------------------------------------------
# phases

declare -A R # R[<phase>.<key>] = value

# CPU accounting, so a figure can be read against what the two cores spent
# on it: clock ticks of a process list, and of the whole machine.
# "server store nats postgres machine" in ticks, then the time; server is the ingress or the
# axum reference (none for pgbench); postgres is the postmaster and all its
# backends (every database's), those that exited included.
cpu_now() { # server_pid|-
  local srv=0 sto=0 pg=0 now
  [[ $1 == - ]] || srv=$(ticks "$1")
  ((${#store_pids[@]} == 0)) || sto=$(ticks "${store_pids[@]}")
  pg=$(pg_ticks "$pg_master")
  now=$(date +%s.%N)
  printf '%s %s %s %s %s %s\n' "$srv" "$sto" "$(nats_ticks)" "$pg" \
    "$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat)" "$now"
}
# The postmaster of our server, if it runs here: the parent of one of the
# services' backends.
pg_master=$(postmaster_of "$(q -c "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() limit 1")")
[[ -n $pg_master ]] || log "Postgres does not run on this machine (or cannot be seen): its CPU is not counted"
# R[<phase>.cpu] = µs of CPU per request: server store nats postgres load-gen, and machine busy %.
cpu_account() { # phase before after loadgen_cpu_secs requests
  R[$1.cpu]=$(awk -v a="$2" -v b="$3" -v lg="$4" -v n="$5" -v clk="$clk" 'BEGIN {
    split(a, x, " "); split(b, y, " "); if (n + 0 == 0) n = 1
    for (i = 1; i <= 4; i++) printf "%.0f ", (y[i] - x[i]) / clk * 1e6 / n
    printf "%.0f %.0f", lg * 1e6 / n, (y[5] - x[5]) / clk / (y[6] - x[6]) * 100 }')
}
db_now() { q -c "select clock_timestamp()"; }
# WAL written by the whole server (pg_stat_wal, Postgres 14+), in bytes.
wal_now() { q -c "select wal_bytes from pg_stat_wal" 2>/dev/null || true; }
wal_account() { # phase before after requests
  R[$1.wal_kb]=$(awk -v a="$2" -v b="$3" -v n="$4" 'BEGIN { if (a == "" || b == "" || n + 0 == 0) print "n/a"; else printf "%.1f", (b - a) / 1024 / n }')
}
# Commands per store transaction between two instants: applied_commands rows
# of one transaction share applied_at (its default, now(), is the
# transaction's start).
batches() { # phase from to
  R[$1.batches]=$(q -c "with b as (select count(*) as n from applied_commands
      where applied_at >= '$2' and applied_at < '$3' group by applied_at)
    select count(*) || ' ' || coalesce(round(avg(n), 1), 0) || ' ' || coalesce(percentile_disc(0.5) within group (order by n), 0)
      || ' ' || coalesce(percentile_disc(0.9) within group (order by n), 0) || ' ' || coalesce(max(n), 0) from b")
}

# Runs wrk (warm-up, then the measured run) and keeps its BENCH line.
run_wrk() { # phase script base_url server_pid
  local phase=$1 script=$2 url=$3 line kv c0 c1 t0 t1 w0 w1 TIMEFORMAT='%U %S' lu ls
  log "$phase: warm-up ${warmup}s, then ${secs}s at $conns connections"
  if ((warmup > 0)); then
    BENCH_RUN=$run_id-w$phase wrk -t "$threads" -c "$conns" -d "${warmup}s" --timeout 10s \
      -s "$here/wrk/$script" "$url" >"$out/$phase.warmup.txt" 2>&1 ||
      die "wrk ($phase warm-up) failed: $(tail -n 5 "$out/$phase.warmup.txt")"
  fi
  t0=$(db_now)
  w0=$(wal_now)
  c0=$(cpu_now "$4")
  { time { BENCH_RUN=$run_id-$phase wrk -t "$threads" -c "$conns" -d "${secs}s" --timeout 10s --latency \
    -s "$here/wrk/$script" "$url" >"$out/$phase.txt" 2>&1; }; } 2>"$out/$phase.time" ||
    die "wrk ($phase) failed: $(tail -n 5 "$out/$phase.txt")"
  c1=$(cpu_now "$4")
  w1=$(wal_now)
  t1=$(db_now)
  printf 'ticks (server store nats postgres machine) and time, before and after:\n%s\n%s\n' "$c0" "$c1" >"$out/$phase.cpu"
  line=$(grep '^BENCH ' "$out/$phase.txt" | tail -n 1) || die "no BENCH line in $out/$phase.txt"
  for kv in ${line#BENCH }; do R[$phase.${kv%%=*}]=${kv#*=}; done
  # Statuses >= 400 (wrk's non2xx) are among the unexpected ones.
  R[$phase.errors]=$((R[$phase.unexpected] + R[$phase.connect] + R[$phase.read] + R[$phase.write] + R[$phase.timeout]))
  read -r lu ls <"$out/$phase.time" || true
  # per unit: a user of a Bulk request (units=100), else the request
  cpu_account "$phase" "$c0" "$c1" "$(awk -v u="$lu" -v s="$ls" 'BEGIN { print u + s }')" "$((R[$phase.requests] * ${units:-1}))"
  wal_account "$phase" "$w0" "$w1" "$((R[$phase.requests] * ${units:-1}))"
  [[ $phase == get* || $phase == ref || $phase == floor ]] || batches "$phase" "$t0" "$t1"
}

settle() { sleep 2; }
checkpoint() { q -c checkpoint; }

export BENCH_TOKEN=$token BENCH_TENANT=$tenant BENCH_USERS=$users BENCH_IDS_FILE=$ids_file
base="http://$ingress_addr"

# Runs pgbench (warm-up, then the measured run) and keeps its figures.
run_pgbench() { # phase sql_file pgbench_args...
  local phase=$1 sql=$2 c0 c1 w0 w1 TIMEFORMAT='%U %S' lu ls
  shift 2
  local pgb=(pgbench -n -M prepared -c "$conns" -j "$threads" "$@" -f "$here/sql/$sql")
  log "$phase: pgbench warm-up ${warmup}s, then ${secs}s at $conns clients"
  if ((warmup > 0)); then "${pgb[@]}" -T "$warmup" "$bench_url" >"$out/$phase.warmup.txt" 2>&1 || die "pgbench ($phase warm-up) failed: $(tail -n 5 "$out/$phase.warmup.txt")"; fi
  rm -f "$out"/pgbench_log.*
  sleep 1 # the warm-up's backends exit (their CPU must not fall into this run)
  w0=$(wal_now)
  c0=$(cpu_now -)
  { time { (cd "$out" && "${pgb[@]}" -T "$secs" -l --log-prefix=pgbench_log "$bench_url") >"$out/$phase.txt" 2>&1; }; } 2>"$out/$phase.time" ||
    die "pgbench ($phase) failed: $(tail -n 5 "$out/$phase.txt")"
  sleep 1 # until the backends have exited and been reaped by the postmaster
  c1=$(cpu_now -)
  w1=$(wal_now)
  R[$phase.ok_rps]=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$out/$phase.txt")
  R[$phase.failed]=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out/$phase.txt")
  R[$phase.requests]=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out/$phase.txt")
  read -r lu ls <"$out/$phase.time" || true
  cpu_account "$phase" "$c0" "$c1" "$(awk -v u="$lu" -v s="$ls" 'BEGIN { print u + s }')" "$((${R[$phase.requests]:-0} * ${units:-1}))"
  wal_account "$phase" "$w0" "$w1" "$((${R[$phase.requests]:-0} * ${units:-1}))"
  # per-transaction log: client, tx, latency (µs), script, epoch s, µs
  read -r "R[$phase.p50_ms]" "R[$phase.p99_ms]" < <(cat "$out"/pgbench_log.* | awk '{ print $3 }' | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan nan"; exit }
      i50 = int(NR * 0.50); if (i50 < 1) i50 = 1; i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
      printf "%.2f %.2f\n", v[i50] / 1000, v[i99] / 1000 }')
  rm -f "$out"/pgbench_log.*
}

if has_phase pgbench; then
  checkpoint
  run_pgbench pgbench pgbench-insert.sql
  q -c "truncate bench_ref_users"
  settle
fi

if has_phase create; then
  checkpoint
  run_wrk create create.lua "$base" "$ingress_pid"
  settle
fi
if has_phase get; then
  run_wrk get get.lua "$base" "$ingress_pid"
fi
if has_phase auth; then
  # A database token with one scope (its hash stored as `scimbus token
  # create --scope scim:read` stores it), and the JWT: the same GET.
  scoped=scimbus_bench-scoped-$run_id
  scoped_hash=$(printf '%s' "$scoped" | sha256sum | cut -c1-64)
  q -c "delete from api_tokens where label = 'bench scoped'" >/dev/null
  q -c "insert into api_tokens (id, tenant, token_hash, label, scopes, prefix)
        values (gen_random_uuid(), '$tenant', decode('$scoped_hash', 'hex'), 'bench scoped', '{scim:read}', 'scimbus_benc')" >/dev/null
  BENCH_TOKEN=$scoped run_wrk get-scoped get.lua "$base" "$ingress_pid"
  BENCH_TOKEN=$jwt run_wrk get-jwt get.lua "$base" "$ingress_pid"
fi
if has_phase lookup; then
  run_pgbench lookup pgbench-lookup.sql -D users="$users" -D tenant="$tenant" -D rt=User
fi
# The GET script against a reference server of scimbus-bench, started for
# the phase and stopped after it.
run_reference() { # phase addr scimbus-bench-args...
  local phase=$1 addr=$2
  shift 2
  "$bin/scimbus-bench" "$@" >"$out/$phase.log" 2>&1 &
  ref_pid=$!
  wait_ready "http://$addr/livez" "$ref_pid" "$phase"
  run_wrk "$phase" get.lua "http://$addr" "$ref_pid"
  stop_pid "$ref_pid"
  ref_pid=
}
if has_phase ref; then
  run_reference ref "$ref_addr" ref-server "$ref_addr"
fi
if has_phase floor; then
  run_reference floor "$floor_addr" get-floor "$floor_addr" "$bench_url" "$tenant" ${BENCH_FLOOR_CONNECTIONS:+"$BENCH_FLOOR_CONNECTIONS"}
fi
if has_phase patch; then
  checkpoint
  run_wrk patch patch.lua "$base" "$ingress_pid"
  settle
fi
# 100 users per request (or transaction), at a few connections: what an IdP's
# initial load through /Bulk does. CPU and WAL are per user.
if has_phase pgbench100; then
  checkpoint
  conns=$bulk_conns units=100 run_pgbench pgbench100 pgbench-insert100.sql
  q -c "truncate bench_ref_users"
  settle
fi
if has_phase bulk; then
  checkpoint
  conns=$bulk_conns units=100 run_wrk bulk bulk.lua "$base" "$ingress_pid"
  settle
fi

# A group of BENCH_GROUP_MEMBERS (100 000) members and one of 10, made
# through the API (the large one by PATCHes of 1000 members; prepare.sql
# deletes both with the run's other writes); then, on each, one member
# added and removed over and over (answered with the whole group, and with
# `Prefer: return=minimal`) and the group read without its members.
scim_call() { # method path body-file: the answer's body; dies on a status that is not 2xx
  curl -fsS -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/scim+json' \
    --data-binary "@$3" "$base/scim/v2/$tenant$2" || die "$1 $2 failed"
}
# The PATCH adding `limit` stored users from `offset` on (in id order).
members_patch() { # offset limit
  q -c "select json_build_object('schemas', json_build_array('urn:ietf:params:scim:api:messages:2.0:PatchOp'),
      'Operations', json_build_array(json_build_object('op', 'add', 'path', 'members',
        'value', json_agg(json_build_object('value', id)))))
    from (select id from resources where tenant = '$tenant' and resource_type = 'User'
          order by id offset $1 limit $2) s"
}
make_group() { # name members: prints the group's id
  local id i n
  printf '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"%s"}' "$1" >"$out/group-body.json"
  id=$(scim_call POST /Groups "$out/group-body.json" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
  [[ -n $id ]] || die "no id in the answer to POST /Groups"
  for ((i = 0; i < $2; i += 1000)); do
    n=$(($2 - i < 1000 ? $2 - i : 1000))
    members_patch "$i" "$n" >"$out/group-body.json"
    scim_call PATCH "/Groups/$id?excludedAttributes=members" "$out/group-body.json" >/dev/null
  done
  printf '%s' "$id"
}
if has_phase group; then
  group_large=${BENCH_GROUP_MEMBERS:-100000}
  ((group_large <= count / 2)) || group_large=$((count / 2))
  log "group: making a group of $group_large members and one of 10"
  t0=$(date +%s.%N)
  declare -A gid
  gid[small]=$(make_group "bench-group-small-$run_id" 10)
  gid[large]=$(make_group "bench-group-large-$run_id" "$group_large")
  R[group.made_s]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  R[group.large]=$(q -c "select count(*) from group_members where tenant = '$tenant' and group_id = '${gid[large]}'")
  # Members to add: stored users in neither group.
  q -c "\\copy (select id from resources where tenant = '$tenant' and resource_type = 'User' order by id offset $group_large limit 50000) to '$out/group-pool.txt'"
  # As groups that have lived a while: autovacuum analyzes and vacuums the
  # memberships within a minute or two of such a load, and until then
  # Postgres plans for the table as it was and reads every fresh row from
  # the heap (docs/capacity.md: a large group's PATCH costs several times
  # as much in that minute).
  q -c "vacuum (analyze) group_members"
  checkpoint
  for mode in patch minimal read; do
    for gsize in small large; do
      expect=200
      [[ $gsize == small ]] || ((group_large <= ${SCIMBUS_PATCH_ANSWER_MAX_MEMBERS:-10000})) || expect=204
      BENCH_GROUP_ID=${gid[$gsize]} BENCH_GROUP_MODE=$mode BENCH_GROUP_POOL=$out/group-pool.txt BENCH_GROUP_EXPECT=$expect \
        conns=${BENCH_GROUP_CONNECTIONS:-4} secs=${BENCH_GROUP_SECS:-10} \
        run_wrk "group-$mode-$gsize" group.lua "$base" "$ingress_pid"
    done
  done
  settle
fi

# R[<phase>.*]: the 202s (accepted_eps, p50_ms, p99_ms, errors) from the
# driver, then from the inbox: applied (events), applied_eps (events over
# first receipt → last apply), ap50_ms / ap99_ms (receipt → applied), and
# not_applied (rejected or still pending after 300 s).
run_hr() { # phase source batch connections
  local phase=$1 source=$2 batch=$3 c=$4 tag="hr$run_id$1" line kv left i stats
  log "$phase: ${secs}s of signed $source webhooks, $batch event(s) per request, at $c connections"
  "$bin/scimbus-bench" hr "http://$ingress_addr/hr/v1/$tenant/$source" SCIMBUS_DEMO_HR_SECRET \
    "$secs" "$c" "$batch" "$tag" >"$out/$phase.txt" 2>&1 ||
    die "scimbus-bench hr ($phase) failed: $(tail -n 5 "$out/$phase.txt")"
  line=$(grep '^BENCH ' "$out/$phase.txt" | tail -n 1) || die "no BENCH line in $out/$phase.txt"
  for kv in ${line#BENCH }; do R[$phase.${kv%%=*}]=${kv#*=}; done
  for ((i = 0; i < 300; i++)); do
    left=$(q -c "select count(*) from hr_events where tenant = '$tenant' and employee_id like '$tag-%'
      and status in ('received', 'scheduled')")
    ((left == 0)) && break
    sleep 1
  done
  stats=$(q -F ' ' -c "select count(*) filter (where status = 'applied'),
      count(*) filter (where status <> 'applied'),
      round((count(*) filter (where status = 'applied')
        / greatest(extract(epoch from max(applied_at) - min(received_at)), 0.001))::numeric, 1),
      round((percentile_disc(0.5) within group (order by extract(epoch from applied_at - received_at)) * 1000)::numeric, 2),
      round((percentile_disc(0.99) within group (order by extract(epoch from applied_at - received_at)) * 1000)::numeric, 2)
    from hr_events where tenant = '$tenant' and employee_id like '$tag-%'")
  read -r "R[$phase.applied]" "R[$phase.not_applied]" "R[$phase.applied_eps]" "R[$phase.ap50_ms]" "R[$phase.ap99_ms]" <<<"$stats"
}
if has_phase hr; then
  checkpoint
  run_hr hr1 workday 1 "$conns"
  settle
  run_hr hr100 bamboohr 100 "${BENCH_HR_BATCH_CONNECTIONS:-4}"
  settle
fi

# Peak resident memory of each service over the whole run (VmHWM), in MB.
R[rss.store]=$(for pid in "${store_pids[@]}"; do peak_rss "$pid"; echo; done | sort -n | tail -n 1)
R[rss.ingress]=$(peak_rss "$ingress_pid")

# ---------------------------------------------------------------------------
# the table

v() { printf '%s' "${R[$1]:-}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
meets() { # value op target
  awk -v x="$1" -v t="$3" -v op="$2" 'BEGIN { if (x == "n/a" || x == "") { print "n/a"; exit }
    ok = (op == ">=") ? (x + 0 >= t + 0) : (x + 0 < t + 0); print ok ? "met" : "MISSED" }'
}
# A ratio against its target (at least), counted in the verdicts; nothing
# when the ratio could not be made (a phase not run).
target_row() { # label ratio target
  [[ $2 != n/a ]] || return 0
  local m
  m=$(meets "$2" ">=" "$3")
  verdicts+=("$m")
  printf '  %-44s %6s   target >= %-5s %s\n' "$1" "$2" "$3" "$m"
}
row() { # label phase unit
  if [[ -z $(v "$2.ok_rps") ]]; then
    printf '  %-34s %10s\n' "$1" "not run"
    return
  fi
  local errs
  if [[ $2 == pgbench || $2 == lookup ]]; then errs="${R[$2.failed]:-0} failed"; else
    errs="$(v "$2.errors") (not $(v "$2.expected") $(v "$2.unexpected") [$(v "$2.statuses")], sock $(($(v "$2.connect") + $(v "$2.read") + $(v "$2.write"))), timeout $(v "$2.timeout"))"
  fi
  printf '  %-34s %10.0f %-5s %8.2f %8.2f   %s\n' "$1" "$(v "$2.ok_rps")" "$3" "$(v "$2.p50_ms")" "$(v "$2.p99_ms")" "$errs"
}

create_ratio=$(ratio "$(v create.ok_rps)" "$(v pgbench.ok_rps)")
get_ratio=$(ratio "$(v get.ok_rps)" "$(v ref.ok_rps)")
verdicts=()
failures=()
report=$out/last.txt
{
  printf 'scimbus HTTP bench, %s\n' "$(date -u +%FT%TZ)"
  printf '  %s, %s cores, load %s\n' "$(uname -n)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf '  %s connections, %s wrk threads, %s s per phase after %s s warm-up; database %s, bus prefix %s\n' \
    "$conns" "$threads" "$secs" "$warmup" "$db" "$prefix"
  printf '  %s users stored (doc ~%s B JSON); preload %s\n' "$count" "$size" "$preload_note"
  printf '  Postgres shared_buffers %s; %s\n' "$buffers" "$warm_note"
  printf '  SCIMBUS_PARTITIONS=%s SCIMBUS_STORE_BATCH=%s RUST_LOG=%s; %s store replica(s)\n' \
    "${SCIMBUS_PARTITIONS:-1 (default)}" "${SCIMBUS_STORE_BATCH:-256 (default)}" "$RUST_LOG" "$replicas"
  printf '\n  %-34s %16s %8s %8s   %s\n' "" "ok/s" "p50 ms" "p99 ms" "errors"
  row "create  POST /Users" create "req/s"
  row "get     GET userName eq" get "req/s"
  row "auth    the GET, scoped db token" get-scoped "req/s"
  row "auth    the GET, JWT (RS256)" get-jwt "req/s"
  row "patch   PATCH replace title" patch "req/s"
  if [[ -n $(v bulk.ok_rps) ]]; then
    R[bulk.users_ps]=$(awk -v r="$(v bulk.ok_rps)" 'BEGIN { print r * 100 }')
    printf '  %-34s %10.0f %-5s %8.2f %8.2f   %s\n' "bulk    /Bulk, 100 creates" "$(v bulk.users_ps)" "usr/s" \
      "$(v bulk.p50_ms)" "$(v bulk.p99_ms)" "$(v bulk.errors) (not $(v bulk.expected) or not all 201: $(v bulk.unexpected) [$(v bulk.statuses)]) at $bulk_conns connections"
  fi
  group_phases=()
  for mode in patch minimal read; do
    for gsize in small large; do
      [[ -z $(v "group-$mode-$gsize.requests") ]] || group_phases+=("group-$mode-$gsize")
    done
  done
  if ((${#group_phases[@]} > 0)); then
    printf '  %s\n' "group: 10 members (small) and $(v group.large) (large, made in $(v group.made_s) s, then vacuum analyze), at ${BENCH_GROUP_CONNECTIONS:-4} connections" \
      "(a PATCH is answered with the whole group up to SCIMBUS_PATCH_ANSWER_MAX_MEMBERS, ${SCIMBUS_PATCH_ANSWER_MAX_MEMBERS:-10000}, members, past it 204):"
    for p in "${group_phases[@]}"; do
      case $p in
        group-patch-*) label="PATCH add/remove member" ;;
        group-minimal-*) label="the same, Prefer minimal" ;;
        *) label="GET excludedAttributes=members" ;;
      esac
      row "  ${p##*-}: $label" "$p" "req/s"
    done
  fi
  row "ref     pgbench 1-row insert" pgbench "tx/s"
  if [[ -n $(v pgbench100.ok_rps) ]]; then
    R[pgbench100.rows_ps]=$(awk -v r="$(v pgbench100.ok_rps)" 'BEGIN { print r * 100 }')
    printf '  %-34s %10.0f %-5s %8.2f %8.2f   %s\n' "ref     pgbench 100-row insert" "$(v pgbench100.rows_ps)" "row/s" \
      "$(v pgbench100.p50_ms)" "$(v pgbench100.p99_ms)" "${R[pgbench100.failed]:-0} failed, at $bulk_conns clients"
  fi
  row "ref     pgbench the GET's query" lookup "tx/s"
  row "ref     axum fixed user (same GET)" ref "req/s"
  row "ref     axum + sqlx, the GET's SQL" floor "req/s"
  for p in hr1 hr100; do
    [[ -n $(v "$p.requests") ]] || continue
    label="hr      1 event per request"
    [[ $p == hr100 ]] && label="hr      100 events per request"
    printf '  %-34s %10.0f %-5s %8.2f %8.2f   %s\n' "$label" "$(v "$p.accepted_eps")" "ev/s" \
      "$(v "$p.p50_ms")" "$(v "$p.p99_ms")" "$(v "$p.errors") not 202 (first: $(v "$p.first_error"))"
    printf '  %-34s %10.0f %-5s %8.2f %8.2f   %s\n' "        applied (receipt to applied)" \
      "$(v "$p.applied_eps")" "ev/s" "$(v "$p.ap50_ms")" "$(v "$p.ap99_ms")" "$(v "$p.not_applied") not applied"
  done
  printf '\n  %-34s %7s %7s %7s %8s %8s %6s   %s\n' "per request: CPU µs, WAL KB" server store nats postgres load-gen WAL "machine busy (of $(nproc)00%)"
  for p in create get get-scoped get-jwt patch bulk "${group_phases[@]}" pgbench pgbench100 lookup ref floor; do
    [[ -n $(v "$p.cpu") ]] || continue
    read -r c_srv c_sto c_nats c_pg c_lg c_busy <<<"$(v "$p.cpu")"
    printf '  %-34s %7s %7s %7s %8s %8s %6s   %s%%\n' "$p" "$c_srv" "$c_sto" "$c_nats" "$c_pg" "$c_lg" "$(v "$p.wal_kb")" "$c_busy"
  done
  printf '  %s\n' "(bulk and pgbench100: per user; server: the ingress, or the axum handler for ref and floor; postgres: every backend of the server, other databases' too;" \
    " load-gen: wrk or pgbench; WAL: the whole server's; machine busy: all processes, the bench's and anyone else's)"
  printf '  peak resident memory: ingress %s MB (target < 100), store %s MB (target < 200)\n' "$(v rss.ingress)" "$(v rss.store)"
  # The capacity model (docs/capacity.md): what one core of each component
  # does of each operation at the CPU it was measured to cost, the
  # component that limits, and the cores of each that 10 000 a second take.
  printf '\n  %-34s %7s %7s %7s %8s   %-26s %s\n' "capacity: CPU µs per operation" ingress store nats postgres \
    "1 core each: ops/s (limit)" "cores each for 10 000/s (ingress store nats postgres)"
  for p in create get patch bulk; do
    [[ -n $(v "$p.cpu") ]] || continue
    awk -v name="$p" -v cpu="$(v "$p.cpu")" 'BEGIN {
      split(cpu, c, " "); split("ingress store nats postgres", n, " ")
      best = 0
      for (i = 1; i <= 4; i++) {
        if (c[i] + 0 <= 0) continue
        r = 1e6 / c[i]; if (best == 0 || r < best) { best = r; lim = n[i] }
        need = need sprintf("%d ", int(1e4 * c[i] / 1e6 + 0.999))
      }
      unit = (name == "bulk") ? " (per user)" : ""
      printf "  %-34s %7s %7s %7s %8s   %8.0f/s (%-8s)       %s\n", name unit, c[1], c[2], c[3], c[4], best, lim, need
    }'
  done
  printf '  %s\n' "(each component as if alone on its cores and scaling linearly; the store scales past one core only with" \
    " SCIMBUS_PARTITIONS > 1 and as many replicas; measured on this machine, load-gen excluded: docs/capacity.md)"
  for p in create patch bulk; do
    [[ -n $(v "$p.batches") ]] || continue
    read -r b_n b_avg b_p50 b_p90 b_max <<<"$(v "$p.batches")"
    printf '  store transactions during %-7s %s, commands per transaction: avg %s, p50 %s, p90 %s, max %s\n' \
      "$p:" "$b_n" "$b_avg" "$b_p50" "$b_p90" "$b_max"
  done
  printf '\n'
  target_row "create / pgbench insert" "$create_ratio" 1.0
  target_row "get / axum fixed user" "$get_ratio" 0.7
  # The GET against Postgres running its very query (pgbench, prepared).
  lookup_ratio=$(ratio "$(v get.ok_rps)" "$(v lookup.ok_rps)")
  target_row "get / pgbench the GET's query" "$lookup_ratio" 0.7
  # The floor: what a server on axum and sqlx does with only the query and
  # the row's bytes. Below 0.7 of pgbench, no such server meets the target.
  floor_ratio=$(ratio "$(v floor.ok_rps)" "$(v lookup.ok_rps)")
  if [[ $floor_ratio != n/a ]]; then
    printf '  %-44s %6s   (no target: %s)\n' "floor (axum + sqlx) / pgbench the GET's query" "$floor_ratio" \
      "$(meets "$floor_ratio" ">=" 0.7 | sed 's/^met$/the GET target is within reach of axum and sqlx/; s/^MISSED$/out of reach of any axum and sqlx server here/')"
  fi
  get_floor_ratio=$(ratio "$(v get.ok_rps)" "$(v floor.ok_rps)")
  if [[ $get_floor_ratio != n/a ]]; then
    printf '  %-44s %6s   (no target)\n' "get / floor (axum + sqlx)" "$get_floor_ratio"
  fi
  patch_ratio=$(ratio "$(v patch.ok_rps)" "$(v create.ok_rps)")
  target_row "patch / create" "$patch_ratio" 0.8
  bulk_ratio=$(ratio "$(v bulk.users_ps)" "$(v pgbench100.rows_ps)")
  target_row "bulk users/s / pgbench 100-row insert rows/s" "$bulk_ratio" 0.5
  # A large group's member change and read against a small group's (p50):
  # the large one within 2x.
  for mode in patch minimal read; do
    target_row "group $mode p50, 10 / $(v group.large) members" \
      "$(ratio "$(v "group-$mode-small.p50_ms")" "$(v "group-$mode-large.p50_ms")")" 0.5
  done
  scoped_ratio=$(ratio "$(v get-scoped.ok_rps)" "$(v get.ok_rps)")
  jwt_ratio=$(ratio "$(v get-jwt.ok_rps)" "$(v get.ok_rps)")
  if [[ $scoped_ratio != n/a ]]; then
    printf '  %-44s %6s   (no target)\n' "get scoped db token / configured token" "$scoped_ratio"
  fi
  target_row "get JWT / configured token" "$jwt_ratio" 0.9
  # What the ratio targets ask of the machine, against the costs the bench
  # measured that no ingress or store code can remove.
  cpu_field() { # phase field(1 server, 2 store, 3 nats, 4 postgres, 5 load-gen)
    local f
    read -r -a f <<<"$(v "$1.cpu")"
    printf '%s' "${f[$(($2 - 1))]:-}"
  }
  # What a target of `factor` times a reference rate asks: that rate, and
  # the µs of the machine's CPU it leaves per operation for everything.
  target_budget() { # label reference-rate factor unit operation
    awk -v l="$1" -v r="$2" -v k="$3" -v u="$4" -v op="$5" -v n="$(nproc)" \
      'BEGIN { printf "%s target: %.0f %s/s leaves %.0f µs of CPU per %s for everything;", l, k * r, u, n * 1e6 / (k * r), op }'
  }
  if [[ $create_ratio != n/a && -n $(v create.cpu) && -n $(v pgbench.cpu) ]]; then
    printf '  %s\n' "$(target_budget create "$(v pgbench.ok_rps)" 1 creates create)" \
      "  already spent before the ingress and store do anything: wrk $(cpu_field create 5) + NATS $(cpu_field create 3) (as in the create phase)" \
      "  + Postgres $(cpu_field pgbench 4) (pgbench's own insert) = $(($(cpu_field create 5) + $(cpu_field create 3) + $(cpu_field pgbench 4))) µs"
  fi
  # A GET's floor: HTTP alone (the axum reference and its wrk) and the
  # query alone in Postgres (lookup).
  if [[ -n $(v ref.cpu) && -n $(v lookup.cpu) ]]; then
    get_floor=$(($(cpu_field ref 1) + $(cpu_field ref 5) + $(cpu_field lookup 4)))
  fi
  if [[ $get_ratio != n/a && -n ${get_floor:-} ]]; then
    printf '  %s\n' "$(target_budget get "$(v ref.ok_rps)" 0.7 GETs GET)" \
      "  HTTP alone (axum reference: handler $(cpu_field ref 1) + wrk $(cpu_field ref 5)) + the query alone in Postgres $(cpu_field lookup 4) (lookup)" \
      "  = $get_floor µs; the query alone, driven by pgbench, tops out at $(v lookup.ok_rps | cut -d. -f1)/s"
  fi
  if [[ $lookup_ratio != n/a && -n ${get_floor:-} ]]; then
    printf '  %s\n' "$(target_budget "get / pgbench" "$(v lookup.ok_rps)" 0.7 GETs GET)" \
      "  the same HTTP alone and query alone take $get_floor µs (above)"
  fi
  # The same GET done by the floor server: the query through sqlx, not pgbench.
  if [[ -n $(v floor.cpu) ]]; then
    printf '  %s\n' "  the GET on axum and sqlx at its least (floor): handler $(cpu_field floor 1) + Postgres $(cpu_field floor 4) + wrk $(cpu_field floor 5) = $(($(cpu_field floor 1) + $(cpu_field floor 4) + $(cpu_field floor 5))) µs"
  fi
  # Bulk: per user, against pgbench's 100-row insert; what NATS and wrk
  # spend per user in the bulk phase and Postgres per row in pgbench's.
  if [[ $bulk_ratio != n/a && -n $(v bulk.cpu) && -n $(v pgbench100.cpu) ]]; then
    printf '  %s\n' "$(target_budget bulk "$(v pgbench100.rows_ps)" 0.5 users user)" \
      "  already spent before the ingress and store do anything: wrk $(cpu_field bulk 5) + NATS $(cpu_field bulk 3) (as in the bulk phase)" \
      "  + Postgres $(cpu_field pgbench100 4) (pgbench's own row) = $(($(cpu_field bulk 5) + $(cpu_field bulk 3) + $(cpu_field pgbench100 4))) µs"
  fi
  for p in hr1 hr100; do
    [[ -n $(v "$p.requests") ]] || continue
    printf '  %-44s %6s   (SCIM creates this run: %s/s)\n' "$p accepted events/s / creates/s" \
      "$(ratio "$(v "$p.accepted_eps")" "$(v create.ok_rps)")" "$(v create.ok_rps | cut -d. -f1)"
    printf '  %-44s %6s\n' "$p applied events/s / creates/s" "$(ratio "$(v "$p.applied_eps")" "$(v create.ok_rps)")"
  done
  for p in create get patch bulk; do
    [[ -n $(v "$p.p99_ms") ]] || continue
    m=$(meets "$(v "$p.p99_ms")" "<" 50)
    verdicts+=("$m")
    label="$p p99 (ms)"
    [[ $p == bulk ]] && label="bulk p99 (ms, a request of 100 creates)"
    printf '  %-44s %6s   target < 50     %s\n' "$label" "$(v "$p.p99_ms")" "$m"
  done
  # A saturated closed loop waits, on average, connections / rate per
  # request (Little's law): the Bulk p99 follows from its rate.
  if [[ -n $(v bulk.p99_ms) && -n $(v bulk.ok_rps) ]]; then
    printf '  %s\n' "(bulk: $bulk_conns connections at $(v bulk.ok_rps | cut -d. -f1) requests/s wait $(awk -v c="$bulk_conns" -v r="$(v bulk.ok_rps)" 'BEGIN { printf "%.0f", 1000 * c / r }') ms per request on average; under 50 ms takes $(awk -v c="$bulk_conns" 'BEGIN { printf "%.0f", c * 100 * 1000 / 50 }') users/s)"
  fi
  # Figures of requests that did not get the expected answer are not the
  # figures of the operation: such a run fails whatever its ratios.
  for p in create get ref patch bulk "${group_phases[@]}"; do
    [[ -n $(v "$p.requests") ]] || continue
    if ((${R[$p.unexpected]:-0} > 0)); then
      failures+=("$p: $(v "$p.unexpected") of $(v "$p.requests") responses were not $(v "$p.expected") ($(v "$p.statuses"))")
    fi
  done
  for p in hr1 hr100; do
    [[ -n $(v "$p.requests") ]] || continue
    if ((${R[$p.errors]:-0} > 0 || ${R[$p.not_applied]:-0} > 0)); then
      failures+=("$p: $(v "$p.errors") requests not answered 202, $(v "$p.not_applied") events not applied")
    fi
  done
  for p in pgbench pgbench100 lookup; do
    [[ -n $(v "$p.requests") ]] || continue
    if ((${R[$p.failed]:-0} > 0)); then
      failures+=("$p: ${R[$p.failed]} failed transactions")
    fi
  done
  printf '\n'
  if ((${#failures[@]} == 0)); then
    printf '  verdict: every request got its expected answer\n'
  else
    for f in "${failures[@]}"; do printf '  FAIL: %s\n' "$f"; done
  fi
  printf '\n  raw output: %s/{pgbench,create,get,lookup,ref,patch,pgbench100,bulk,hr1,hr100}.txt; service logs: %s/{store,ingress}.log\n' "$out" "$out"
} >"$report.tmp"
mv "$report.tmp" "$report"
cat "$report"
log "saved to $report"

if ((${#failures[@]} > 0)); then
  exit 4
fi
if [[ ${BENCH_STRICT:-0} == 1 && " ${verdicts[*]} " == *" MISSED "* ]]; then
  exit 3
fi
