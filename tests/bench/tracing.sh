#!/usr/bin/env bash
# `make bench-tracing` (and the end of `make bench`): what OpenTelemetry
# tracing costs the ingress and the store, in one run. The same create
# (`POST /Users`, wrk/create.lua) and GET (wrk/get.lua) phases run with
# tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT) and on (exporting over
# OTLP/HTTP to `scimbus-bench otlp-sink`, which decodes every export and
# counts its spans), in alternating rounds (off, on, off, on, ...) so that
# the drift of a shared machine hits both modes alike; the services are
# restarted between rounds (the exporter is chosen at start). Target:
# tracing on costs at most 10 % of throughput (on/off >= 0.90).
# See tests/bench/README.md.
#
# Knobs (environment): BENCH_TRACING_ROUNDS (2: rounds of off then on),
# BENCH_SECS (20) per phase, BENCH_WARMUP_SECS (5), BENCH_CONNECTIONS (32),
# BENCH_THREADS (2), BENCH_TRACING_USERS (100000: users preloaded for the
# GETs), BENCH_TRACING_DB (scimbus_bench_tracing), BENCH_INGRESS_ADDR
# (127.0.0.1:18080), BENCH_STORE_ADDR (127.0.0.1:18081), BENCH_SINK_ADDR
# (127.0.0.1:18091), BENCH_QUIET_SECS (180) / BENCH_QUIET_LOAD (0.75 per
# core): how long to wait for a quiet machine before measuring,
# BENCH_STRICT (1: exit 3 when the target is missed). SCIMBUS_PARTITIONS,
# SCIMBUS_STORE_BATCH, RUST_LOG and the batch processor's OTEL_BSP_* reach
# the services.
#
# A run where a request did not get its expected answer, the sink received
# a span while tracing was off, fewer server spans than requests while it
# was on, or a body it could not decode, measured something else: its
# verdict says FAIL and the script exits 4 after printing everything.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
cd "$root"
# shellcheck source=tests/bench/proc.sh
. "$here/proc.sh"

rounds=${BENCH_TRACING_ROUNDS:-2}
secs=${BENCH_SECS:-20}
warmup=${BENCH_WARMUP_SECS:-5}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
users=${BENCH_TRACING_USERS:-100000}
db=${BENCH_TRACING_DB:-scimbus_bench_tracing}
ingress_addr=${BENCH_INGRESS_ADDR:-127.0.0.1:18080}
store_addr=${BENCH_STORE_ADDR:-127.0.0.1:18081}
sink_addr=${BENCH_SINK_ADDR:-127.0.0.1:18091}
tenant=bench
token=scimbus-bench-token
out_root=$root/.data/bench
out=$out_root/tracing
report=$out_root/tracing.txt
run_id=$(date -u +%Y%m%d%H%M%S)
prefix=bench-$run_id-$$

# Messages go to the stderr the script was started with (fd 7): a signal trap
# may run while stderr is redirected for `time`.
exec 7>&2
log() { printf 'bench-tracing: %s %s\n' "$(date -u +%H:%M:%S)" "$*" >&7; }
die() {
  printf 'bench-tracing: error: %s\n' "$*" >&7
  exit 1
}
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
for v in "$rounds" "$secs" "$warmup" "$conns" "$threads" "$users"; do
  is_uint "$v" || die "BENCH_TRACING_ROUNDS, BENCH_SECS, BENCH_WARMUP_SECS, BENCH_CONNECTIONS, BENCH_THREADS and BENCH_TRACING_USERS must be numbers (got '$v')"
done
((rounds > 0 && secs > 0 && conns > 0 && threads > 0 && users > 0)) ||
  die "BENCH_TRACING_ROUNDS, BENCH_SECS, BENCH_CONNECTIONS, BENCH_THREADS and BENCH_TRACING_USERS must be positive"
[[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_TRACING_DB must be a plain lower-case identifier (got '$db')"

mkdir -p "$out"
# One bench at a time per checkout (run.sh takes the same lock): they would
# share the ports.
exec 8>"$out_root/.lock"
if command -v flock >/dev/null 2>&1 && ! flock -n 8; then die "another bench runs from this checkout ($out_root/.lock)"; fi

# ---------------------------------------------------------------------------
# tools, stack, binaries

if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk (Debian package)"
  sudo=()
  [[ $EUID == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get install -y wrk >&2 ||
    { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y wrk >&2; } ||
    die "could not install wrk (apt-get install -y wrk)"
fi
for t in psql curl; do
  command -v "$t" >/dev/null 2>&1 || die "$t is missing (apt-get install -y postgresql-client curl)"
done

lines=$(deploy/local/stack.sh up) || die "deploy/local/stack.sh up failed"
set -a
eval "$lines"
set +a
server_url=${SCIMBUS_DATABASE_URL%/*}
admin_url=$server_url/postgres
bench_url=$server_url/$db

log "building scimbus-store, scimbus-ingress and scimbus-bench (release)"
cargo build --release --locked -p scimbus-store -p scimbus-ingress -p scimbus-bench >&2
bin=${CARGO_TARGET_DIR:-$root/target}/release

# ---------------------------------------------------------------------------
# what runs, and how it is stopped

store_pid=
ingress_pid=
sink_pid=
streams_made=0
stop_pid() { # pid: TERM, then KILL after 30 s (a stopping service exports its last spans)
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
stop_services() {
  [[ -z $ingress_pid ]] || stop_pid "$ingress_pid"
  ingress_pid=
  [[ -z $store_pid ]] || stop_pid "$store_pid"
  store_pid=
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_services
  [[ -z $sink_pid ]] || stop_pid "$sink_pid"
  if [[ $streams_made == 1 ]]; then
    "$bin/scimbus-bench" drop-streams "$SCIMBUS_NATS_URL" "$prefix" >/dev/null 2>&1 ||
      log "could not delete the streams of bus prefix $prefix"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { # host:port
  # shellcheck disable=SC2016 # $1/$2 expand in the inner shell
  ! timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "${1%:*}" "${1##*:}" 2>/dev/null
}
wait_ready() { # url pid name log
  local i
  for ((i = 0; i < 300; i++)); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || die "$3 exited during start (log: $4)"
    sleep 0.2
  done
  die "$3 did not answer $1 within 60 s (log: $4)"
}

q() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$bench_url" "$@"; }

for a in "$ingress_addr" "$store_addr" "$sink_addr"; do
  port_free "$a" || die "$a is taken; set BENCH_INGRESS_ADDR / BENCH_STORE_ADDR / BENCH_SINK_ADDR"
done

cfg=$out/scimbus-bench.toml
cat >"$cfg" <<EOF
# written by tests/bench/tracing.sh
[[tenants]]
name = "$tenant"
tokens = ["env:SCIMBUS_BENCH_TOKEN"]
EOF
export SCIMBUS_CONFIG=$cfg SCIMBUS_BENCH_TOKEN=$token SCIMBUS_BUS_PREFIX=$prefix \
  SCIMBUS_DATABASE_URL=$bench_url SCIMBUS_INGRESS_ADDR=$ingress_addr SCIMBUS_STORE_ADDR=$store_addr \
  RUST_LOG=${RUST_LOG:-info}
# Whether traces are exported is this script's choice, round by round.
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_SDK_DISABLED OTEL_TRACES_EXPORTER
sink_url=http://$sink_addr

# Starts the store, then the ingress, tracing on or off; logs under $out.
start_services() { # mode(off|on) tag
  local otel=()
  [[ $1 == on ]] && otel=(OTEL_EXPORTER_OTLP_ENDPOINT="$sink_url")
  streams_made=1
  env "${otel[@]}" "$bin/scimbus-store" >"$out/$2.store.log" 2>&1 &
  store_pid=$!
  wait_ready "http://$store_addr/readyz" "$store_pid" store "$out/$2.store.log"
  env "${otel[@]}" "$bin/scimbus-ingress" >"$out/$2.ingress.log" 2>&1 &
  ingress_pid=$!
  wait_ready "http://$ingress_addr/readyz" "$ingress_pid" ingress "$out/$2.ingress.log"
}
# Stops the ingress, lets the store publish what its outbox holds (so the
# spans of a round's changes belong to that round), then stops the store.
drain_and_stop() {
  local i left
  [[ -z $ingress_pid ]] || stop_pid "$ingress_pid"
  ingress_pid=
  for ((i = 0; i < 300; i++)); do
    left=$(q -c "select count(*) from unpublished_changes")
    ((left == 0)) && break
    sleep 0.1
  done
  ((left == 0)) || log "the store's outbox still holds $left changes after 30 s"
  stop_services
}

# ---------------------------------------------------------------------------
# the database: its own, migrated by the services, preloaded once

if [[ $(psql -X -A -t -q -d "$admin_url" -c "select 1 from pg_database where datname = '$db'") != 1 ]]; then
  log "creating database $db"
  psql -X -q -v ON_ERROR_STOP=1 -d "$admin_url" -c "create database $db" >&2
fi
if [[ $(q -c "select to_regclass('resources') is not null") == t ]]; then
  # Before the store starts: it would republish the changes of earlier runs.
  q -f "$here/sql/prepare.sql" >&2
fi
log "migrating $db (the services do it at start), bus prefix $prefix"
start_services off setup
q -f "$here/sql/prepare.sql" >&2
shape=$(md5sum <"$here/sql/preload.sql" | cut -c1-32)
have=$(q -c "select users || ' ' || shape from bench_preload where tenant = '$tenant'")
if [[ $have != "$users $shape" ]]; then
  log "preloading $users users (once; later runs reuse them)"
  q -v users="$users" -v tenant="$tenant" -v shape="$shape" -f "$here/sql/preload.sql" >&2
  preload_note="loaded now"
else
  preload_note="reused from an earlier run"
fi
drain_and_stop
count=$(q -c "select count(*) from resources where tenant = '$tenant' and resource_type = 'User'")

# ---------------------------------------------------------------------------
# a quiet machine

# A run that starts while the machine is busy (a build, a previous bench's
# checkpoints) measures that: wait up to BENCH_QUIET_SECS for the 1-minute
# load to fall under BENCH_QUIET_LOAD, and say in the report whether it did.
quiet_load=${BENCH_QUIET_LOAD:-$(awk -v n="$(nproc)" 'BEGIN { print 0.75 * n }')}
quiet_secs=${BENCH_QUIET_SECS:-180}
load1() { cut -d' ' -f1 /proc/loadavg; }
busy() { awk -v l="$(load1)" -v m="$quiet_load" 'BEGIN { exit !(l >= m) }'; }
quiet="machine quiet (1-minute load under $quiet_load at the start)"
waited=0
while busy; do
  if ((waited >= quiet_secs)); then
    quiet="machine NOT quiet: load $(load1) after waiting $quiet_secs s (wanted under $quiet_load)"
    log "$quiet; measuring anyway"
    break
  fi
  ((waited > 0)) || log "waiting for a quiet machine (load $(load1), want under $quiet_load)"
  sleep 5
  waited=$((waited + 5))
done

# ---------------------------------------------------------------------------
# CPU accounting (as run.sh): clock ticks of each process, and of the machine

declare -A R # R[<round>.<mode>.<phase>.<key>] = value; R[<round>.<mode>.spans.<key>]

pg_master=
find_pg_master() {
  pg_master=$(postmaster_of "$(q -c "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() limit 1")")
}
find_nats
# Postgres' share: the backends of this database (the services' pools,
# open for the whole phase) and the server's background processes
# (checkpointer, WAL writer, autovacuum, ...), not the backends other
# databases' users run on a shared server. As pid:ticks,pid:ticks,...
pg_snapshot() {
  local pids p out=""
  [[ -n $pg_master ]] || { echo -; return; }
  pids=$(q -c "select pid from pg_stat_activity where pid <> pg_backend_pid()
    and (datname = current_database() or backend_type <> 'client backend')")
  for p in $pids; do out+="$p:$(ticks "$p"),"; done
  echo "${out:-,}"
}
# Ticks between two snapshots, of the processes alive at the second.
pg_delta() { # before after
  awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, ","); for (i = 1; i <= n; i++) if (split(x[i], kv, ":") == 2) t0[kv[1]] = kv[2]
    n = split(b, y, ","); d = 0; for (i = 1; i <= n; i++) if (split(y[i], kv, ":") == 2) d += kv[2] - ((kv[1] in t0) ? t0[kv[1]] : 0)
    print d }'
}
# "ingress store nats postgres-snapshot sink machine" in ticks, then the time.
cpu_now() {
  printf '%s %s %s %s %s %s %s\n' "$(ticks "$ingress_pid")" "$(ticks "$store_pid")" \
    "$(nats_ticks)" "$(pg_snapshot)" "$(ticks "$sink_pid")" \
    "$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat)" "$(date +%s.%N)"
}

# The sink's counters: `key value` lines, then `span <service> <kind> <n> <name>`.
sink_count() { curl -fsS "$sink_url/count" || die "the OTLP sink does not answer $sink_url/count"; }
sink_get() { # text key
  awk -v k="$2" '$1 == k { print $2; exit }' <<<"$1"
}
# Server spans of the ingress whose name starts with a method and /scim/v2/.
sink_server() { # text method
  awk -v m="$2" '$1 == "span" && $3 == "server" && $5 == m && index($6, "/scim/v2/") == 1 { n += $4 } END { print n + 0 }' <<<"$1"
}

export BENCH_TOKEN=$token BENCH_TENANT=$tenant BENCH_USERS=$users
base="http://$ingress_addr"

# Runs wrk (warm-up, then the measured run) and keeps its BENCH line and the
# CPU each process spent.
run_wrk() { # key(round.mode.phase) script
  local key=$1 script=$2 file=$out/${1//./-} line kv c0 c1 TIMEFORMAT='%U %S' lu ls
  log "$key: warm-up ${warmup}s, then ${secs}s at $conns connections"
  R[$key.warmup_requests]=0
  if ((warmup > 0)); then
    BENCH_RUN=$run_id-w${key//./-} wrk -t "$threads" -c "$conns" -d "${warmup}s" --timeout 10s \
      -s "$here/wrk/$script" "$base" >"$file.warmup.txt" 2>&1 ||
      die "wrk ($key warm-up) failed: $(tail -n 5 "$file.warmup.txt")"
    line=$(grep '^BENCH ' "$file.warmup.txt" | tail -n 1) || die "no BENCH line in $file.warmup.txt"
    for kv in ${line#BENCH }; do [[ ${kv%%=*} != requests ]] || R[$key.warmup_requests]=${kv#*=}; done
    for kv in ${line#BENCH }; do [[ ${kv%%=*} != unexpected ]] || R[$key.warmup_unexpected]=${kv#*=}; done
  fi
  c0=$(cpu_now)
  { time { BENCH_RUN=$run_id-${key//./-} wrk -t "$threads" -c "$conns" -d "${secs}s" --timeout 10s --latency \
    -s "$here/wrk/$script" "$base" >"$file.txt" 2>&1; }; } 2>"$file.time" ||
    die "wrk ($key) failed: $(tail -n 5 "$file.txt")"
  c1=$(cpu_now)
  printf 'ticks (ingress store nats postgres-pid:ticks sink machine) and time, before and after:\n%s\n%s\n' "$c0" "$c1" >"$file.cpu"
  line=$(grep '^BENCH ' "$file.txt" | tail -n 1) || die "no BENCH line in $file.txt"
  for kv in ${line#BENCH }; do R[$key.${kv%%=*}]=${kv#*=}; done
  R[$key.errors]=$((R[$key.unexpected] + R[$key.connect] + R[$key.read] + R[$key.write] + R[$key.timeout]))
  read -r lu ls <"$file.time" || true
  # ticks spent: ingress store nats postgres sink wrk(in ticks) machine; seconds
  R[$key.ticks]=$(awk -v a="$c0" -v b="$c1" -v pg="$(pg_delta "$(cut -d' ' -f4 <<<"$c0")" "$(cut -d' ' -f4 <<<"$c1")")" \
    -v lg="$(awk -v u="$lu" -v s="$ls" 'BEGIN { print u + s }')" -v clk="$clk" 'BEGIN {
    split(a, x, " "); split(b, y, " "); x[4] = 0; y[4] = pg
    for (i = 1; i <= 5; i++) printf "%d ", y[i] - x[i]
    printf "%.0f %d %.3f", lg * clk, y[6] - x[6], y[7] - x[7] }')
}

# ---------------------------------------------------------------------------
# the rounds

"$bin/scimbus-bench" otlp-sink "$sink_addr" >"$out/sink.log" 2>&1 &
sink_pid=$!
wait_ready "$sink_url/count" "$sink_pid" otlp-sink "$out/sink.log"

modes=()
for ((r = 1; r <= rounds; r++)); do
  for mode in off on; do
    modes+=("$r.$mode")
    log "round $r, tracing $mode"
    # Every round starts from the same state: vacuumed tables, a checkpoint
    # before the writes (the first write to a page after one logs it whole).
    q -c "vacuum (analyze) resources, changes, unpublished_changes, applied_commands, tenant_sequences" >&2
    s0=$(sink_count)
    start_services "$mode" "$r-$mode"
    [[ -n $pg_master ]] || find_pg_master
    q -c checkpoint >&2
    run_wrk "$r.$mode.create" create.lua
    sleep 2
    run_wrk "$r.$mode.get" get.lua
    drain_and_stop
    # A stopped service has exported its last spans: the difference is the round's.
    s1=$(sink_count)
    for k in requests spans server_spans malformed bytes; do
      R[$r.$mode.spans.$k]=$(($(sink_get "$s1" "$k") - $(sink_get "$s0" "$k")))
    done
    R[$r.$mode.spans.post]=$(($(sink_server "$s1" POST) - $(sink_server "$s0" POST)))
    R[$r.$mode.spans.get]=$(($(sink_server "$s1" GET) - $(sink_server "$s0" GET)))
    sleep 2
  done
done
[[ -n $pg_master ]] || log "Postgres does not run on this machine (or cannot be seen): its CPU is not counted"
[[ -n $nats_pid ]] || log "no nats-server seen listening on the NATS port: the nats column is every nats-server's"
final_counts=$(sink_count)
printf '%s\n' "$final_counts" >"$out/sink.count"

# ---------------------------------------------------------------------------
# the table

v() { printf '%s' "${R[$1]:-}"; }
# Mean of a figure over the rounds of a mode.
mean() { # mode phase key
  local r s=""
  for ((r = 1; r <= rounds; r++)); do s+="${R[$r.$1.$2.$3]:-} "; done
  awk -v s="$s" 'BEGIN { n = split(s, a, " "); if (n == 0) { print ""; exit } t = 0; for (i = 1; i <= n; i++) t += a[i]; printf "%.2f", t / n }'
}
# CPU µs per request of each process over the rounds of a mode (ticks summed,
# divided by the requests summed): ingress store nats postgres sink wrk others, then busy %.
cpu_per_request() { # mode phase
  local r s="" n=0
  for ((r = 1; r <= rounds; r++)); do
    s+="${R[$r.$1.$2.ticks]} "
    n=$((n + R[$r.$1.$2.requests]))
  done
  awk -v s="$s" -v n="$n" -v clk="$clk" -v cores="$(nproc)" 'BEGIN {
    k = split(s, a, " "); for (i = 1; i <= k; i++) t[(i - 1) % 8 + 1] += a[i]
    if (n == 0) n = 1; ours = 0
    for (i = 1; i <= 6; i++) { printf "%.0f ", t[i] / clk * 1e6 / n; ours += t[i] }
    printf "%.0f %.0f", (t[7] - ours) / clk * 1e6 / n, t[7] / clk / t[8] * 100 }'
}
# CPU of the machine outside the processes measured, in % of one core.
others() { # key(round.mode.phase)
  awk -v t="$(v "$1.ticks")" -v clk="$clk" 'BEGIN { split(t, a, " "); o = a[7]; for (i = 1; i <= 6; i++) o -= a[i]
    printf "%.0f", o / clk / a[8] * 100 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.3f", a / b }'; }
meets() { awk -v x="$1" 'BEGIN { if (x == "n/a") print "n/a"; else print (x + 0 >= 0.90) ? "met" : "MISSED" }'; }

failures=()
verdicts=()
create_off=$(mean off create ok_rps)
create_on=$(mean on create ok_rps)
get_off=$(mean off get ok_rps)
get_on=$(mean on get ok_rps)
create_ratio=$(ratio "$create_on" "$create_off")
get_ratio=$(ratio "$get_on" "$get_off")
bsp=$(env | grep '^OTEL_' | sort | tr '\n' ' ' || true)

{
  printf 'scimbus tracing bench (tracing off vs on), %s\n' "$(date -u +%FT%TZ)"
  printf '  %s, %s cores, load %s; %s\n' "$(uname -n)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$quiet"
  printf '  %s rounds of (off, on); each: create then GET, %s s after %s s warm-up, %s connections, %s wrk threads;\n' \
    "$rounds" "$secs" "$warmup" "$conns" "$threads"
  printf '  services restarted for every round; database %s, bus prefix %s\n' "$db" "$prefix"
  printf '  GET: userName eq a random one of the %s preloaded users (%s), %s users stored at the end\n' \
    "$users" "$preload_note" "$count"
  printf '  tracing on: OTEL_EXPORTER_OTLP_ENDPOINT=%s (scimbus-bench otlp-sink, on this machine; decodes every export)\n' "$sink_url"
  printf '  other OTEL_*: %s\n' "${bsp:-none (batch processor defaults)}"
  printf '  SCIMBUS_PARTITIONS=%s SCIMBUS_STORE_BATCH=%s RUST_LOG=%s\n' \
    "${SCIMBUS_PARTITIONS:-1 (default)}" "${SCIMBUS_STORE_BATCH:-256 (default)}" "$RUST_LOG"

  printf '\n  %-7s %9s %7s %7s %6s %6s   %9s %7s %7s %6s %6s   %8s %8s\n' round "create/s" "p50 ms" "p99 ms" errors others \
    "GET/s" "p50 ms" "p99 ms" errors others spans server
  for m in "${modes[@]}"; do
    printf '  %-7s %9.0f %7.2f %7.2f %6s %5s%%   %9.0f %7.2f %7.2f %6s %5s%%   %8s %8s\n' "${m/./ }" \
      "$(v "$m.create.ok_rps")" "$(v "$m.create.p50_ms")" "$(v "$m.create.p99_ms")" "$(v "$m.create.errors")" "$(others "$m.create")" \
      "$(v "$m.get.ok_rps")" "$(v "$m.get.p50_ms")" "$(v "$m.get.p99_ms")" "$(v "$m.get.errors")" "$(others "$m.get")" \
      "$(v "$m.spans.spans")" "$(v "$m.spans.server_spans")"
  done
  printf '  %s\n' "(others: CPU of every other process on the machine during the measured run, % of one core; noise)"

  printf '\n  %-22s %10s %10s %8s   %s\n' "mean of the rounds" off on "on/off" "target: on/off >= 0.90"
  m=$(meets "$create_ratio")
  verdicts+=("$m")
  printf '  %-22s %10.0f %10.0f %8s   %s\n' "create/s" "$create_off" "$create_on" "$create_ratio" "$m"
  m=$(meets "$get_ratio")
  verdicts+=("$m")
  printf '  %-22s %10.0f %10.0f %8s   %s\n' "GET/s" "$get_off" "$get_on" "$get_ratio" "$m"
  for p in create get; do
    for k in p50 p99; do
      printf '  %-22s %10.2f %10.2f %8s\n' "$p $k ms" "$(mean off "$p" "${k}_ms")" "$(mean on "$p" "${k}_ms")" \
        "$(ratio "$(mean on "$p" "${k}_ms")" "$(mean off "$p" "${k}_ms")")"
    done
  done
  sp_off=0 sp_on=0 req_on=0 srv_on=0 exp_on=0 kb_on=0
  for ((r = 1; r <= rounds; r++)); do
    sp_off=$((sp_off + R[$r.off.spans.spans]))
    sp_on=$((sp_on + R[$r.on.spans.spans]))
    srv_on=$((srv_on + R[$r.on.spans.server_spans]))
    exp_on=$((exp_on + R[$r.on.spans.requests]))
    kb_on=$((kb_on + R[$r.on.spans.bytes] / 1024))
    for p in create get; do req_on=$((req_on + R[$r.on.$p.requests] + R[$r.on.$p.warmup_requests])); done
  done
  printf '  %-22s %10s %10s   %s\n' "spans received" "$sp_off" "$sp_on" \
    "(on: $srv_on server spans, $(awk -v s="$sp_on" -v n="$req_on" 'BEGIN { printf "%.2f", n ? s / n : 0 }') spans per request over $req_on requests incl. warm-ups; $exp_on exports, $kb_on KB)"

  printf '\n  %-26s %7s %7s %7s %8s %7s %7s %7s %7s   %s\n' "per request: CPU µs" ingress store nats postgres sink wrk total others "machine busy (of $(nproc)00%)"
  implied=()
  for p in create get; do
    read -r -a off_c <<<"$(cpu_per_request off "$p")"
    read -r -a on_c <<<"$(cpu_per_request on "$p")"
    # total: the processes measured (ingress .. wrk)
    off_t=$((off_c[0] + off_c[1] + off_c[2] + off_c[3] + off_c[4] + off_c[5]))
    on_t=$((on_c[0] + on_c[1] + on_c[2] + on_c[3] + on_c[4] + on_c[5]))
    printf '  %-26s %7s %7s %7s %8s %7s %7s %7s %7s   %s%%\n' "$p off" "${off_c[@]:0:6}" "$off_t" "${off_c[6]}" "${off_c[7]}"
    printf '  %-26s %7s %7s %7s %8s %7s %7s %7s %7s   %s%%\n' "$p on" "${on_c[@]:0:6}" "$on_t" "${on_c[6]}" "${on_c[7]}"
    d=()
    for i in 0 1 2 3 4 5; do d+=("$(printf '%+d' $((on_c[i] - off_c[i])))"); done
    d+=("$(printf '%+d' $((on_t - off_t)))" "$(printf '%+d' $((on_c[6] - off_c[6])))")
    printf '  %-26s %7s %7s %7s %8s %7s %7s %7s %7s\n' "$p on - off" "${d[@]}"
    implied+=("$(awk -v p="$p" -v a="$off_t" -v b="$on_t" -v s="${on_c[4]}" 'BEGIN { if (a == 0 || b == 0) exit
      printf "%s: %+.1f %% CPU per request with tracing on (%+.1f %% without the sink); on a saturated machine that alone makes on/off %.3f (%.3f without the sink)",
        p, (b - a) / a * 100, (b - s - a) / a * 100, a / b, a / (b - s) }')")
  done
  printf '  %s\n' "(summed over the rounds; postgres: this database's backends and the server's background processes; nats: the" \
    " server the services use; sink: the OTLP receiver, which a deployment runs elsewhere; others: the rest of the machine)"
  printf '  %s\n' "${implied[@]}"

  printf '\n  spans received while tracing was on, by service, kind and name:\n'
  awk '$1 == "span" { svc = $2; kind = $3; n = $4; $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); printf "    %-16s %-9s %9d  %s\n", svc, kind, n, $0 }' <<<"$final_counts"

  for m in "${modes[@]}"; do
    for p in create get; do
      if ((${R[$m.$p.unexpected]:-0} > 0 || ${R[$m.$p.warmup_unexpected]:-0} > 0)); then
        failures+=("round ${m/./ } $p: $(v "$m.$p.unexpected") of $(v "$m.$p.requests") responses were not $(v "$m.$p.expected") ($(v "$m.$p.statuses")), $(v "$m.$p.warmup_unexpected") in the warm-up")
      fi
    done
    if ((R[$m.spans.malformed] > 0)); then
      failures+=("round ${m/./ }: the sink could not decode ${R[$m.spans.malformed]} export(s)")
    fi
    if [[ $m == *.off ]]; then
      if ((R[$m.spans.spans] > 0 || R[$m.spans.requests] > 0)); then
        failures+=("round ${m/./ }: tracing was off, yet the sink received ${R[$m.spans.spans]} spans in ${R[$m.spans.requests]} exports")
      fi
    else
      for p in create get; do
        sent=$((R[$m.$p.requests] + R[$m.$p.warmup_requests]))
        got=${R[$m.spans.post]}
        [[ $p == get ]] && got=${R[$m.spans.get]}
        if ((got < sent)); then
          failures+=("round ${m/./ } $p: $sent requests answered, but only $got server spans of them received")
        fi
      done
    fi
  done
  printf '\n'
  if ((${#failures[@]} == 0)); then
    printf '  verdict: every request got its expected answer; tracing off exported nothing, tracing on a server span for every request\n'
  else
    for f in "${failures[@]}"; do printf '  FAIL: %s\n' "$f"; done
  fi
  printf '  target "tracing on costs at most 10 %% of throughput": create %s (%s), GET %s (%s)\n' \
    "$(meets "$create_ratio")" "$create_ratio" "$(meets "$get_ratio")" "$get_ratio"
  printf '\n  raw output: %s/ (<round>-<mode>-<phase>.{txt,cpu}, service logs, sink.count)\n' "$out"
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
