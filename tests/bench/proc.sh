# shellcheck shell=bash
# Sourced by run.sh and outbound.sh: what processes of this machine spent,
# read from /proc.

clk=$(getconf CLK_TCK)

# User + system clock ticks of processes, with those of their exited
# (waited-for) children.
ticks() { # pids...
  local p t=0 st f
  for p in "$@"; do
    st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    read -r -a f <<<"${st##*) }" # fields from 3 (state) on: utime 14, stime 15, cutime 16, cstime 17
    t=$((t + f[11] + f[12] + f[13] + f[14]))
  done
  echo "$t"
}

# Ticks of a Postgres server: the postmaster and every backend (every
# database's), those that exited included.
pg_ticks() { # postmaster pid, or nothing
  [[ -n $1 ]] || {
    echo 0
    return
  }
  # shellcheck disable=SC2046 # pgrep prints one pid per word
  ticks "$1" $(pgrep -P "$1")
}

# The NATS server the services use: the one listening on SCIMBUS_NATS_URL's
# port (tests elsewhere on the machine may run servers of their own, whose
# exits would make a sum over every nats-server go backwards); all of them
# when that cannot be told. Call find_nats once SCIMBUS_NATS_URL is set.
nats_pid=
find_nats() {
  local hostport port
  hostport=${SCIMBUS_NATS_URL%%,*}
  hostport=${hostport#*://}
  hostport=${hostport#*@}
  port=${hostport##*:}
  port=${port%%/*}
  [[ $port =~ ^[0-9]+$ ]] || port=4222
  if command -v ss >/dev/null 2>&1; then
    nats_pid=$(ss -Hltnp "sport = :$port" 2>/dev/null | sed -n 's/.*"nats-server",pid=\([0-9]*\).*/\1/p' | head -n 1)
  fi
}
nats_ticks() {
  if [[ -n $nats_pid ]]; then
    ticks "$nats_pid"
  else
    # shellcheck disable=SC2046 # pgrep prints one pid per word
    ticks $(pgrep -x nats-server)
  fi
}

# The postmaster of the server a backend belongs to, if it runs here and
# can be seen (nothing otherwise).
postmaster_of() { # backend pid
  local st f
  [[ -n $1 && $(cat "/proc/$1/comm" 2>/dev/null) == postgres ]] || return 0
  st=$(<"/proc/$1/stat")
  read -r -a f <<<"${st##*) }"
  [[ $(cat "/proc/${f[1]}/comm" 2>/dev/null) != postgres ]] || printf '%s' "${f[1]}"
}

# Peak resident memory of a process so far (VmHWM), in MB.
peak_rss() { awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || printf 'n/a'; }

# µs of CPU per unit between two readings of `ticks`.
per_unit_us() { # before after units
  awk -v a="$1" -v b="$2" -v n="$3" -v clk="$clk" 'BEGIN { if (n + 0 == 0) print "n/a"; else printf "%.0f", (b - a) / clk * 1e6 / n }'
}
