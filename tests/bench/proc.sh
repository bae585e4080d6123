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

# Ticks of the NATS servers of this machine.
nats_ticks() {
  # shellcheck disable=SC2046
  ticks $(pgrep -x nats-server)
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
