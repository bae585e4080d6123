#!/usr/bin/env bash
# Makes sure promtool (from Debian's `prometheus` package, the version pinned
# below) is unpacked under .data/tools, and prints its path. Nothing is
# installed system-wide and no Prometheus server starts: the package is
# downloaded with apt and unpacked with dpkg -x. `make test` exports the path
# as SCIMBUS_PROMTOOL for the tests that lint /metrics with
# `promtool check metrics`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd -P)"
tools="${SCIMBUS_STACK_DIR:-$root/.data}/tools"
version="2.42.0+ds-5+b6"
dir="$tools/prometheus-$version"
bin="$dir/usr/bin/promtool"
mkdir -p "$tools"
(
  if command -v flock >/dev/null; then
    flock -w 600 8 || { echo "promtool: another run holds $dir.lock" >&2; exit 1; }
  fi
  if [[ ! -x $bin ]]; then
    echo "promtool: unpacking Debian's prometheus $version into $dir" >&2
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    fetch() { (cd "$work" && apt-get download "prometheus=$version" >/dev/null 2>&1); }
    if ! fetch; then
      # A fresh machine may have no package lists yet.
      apt-get update >/dev/null 2>&1 || true
      fetch || { echo "promtool: cannot download Debian's prometheus $version with apt-get" >&2; exit 1; }
    fi
    rm -rf "$dir"
    dpkg -x "$work"/prometheus_*.deb "$dir"
  fi
) 8>"$dir.lock"
"$bin" --version >/dev/null 2>&1 || { echo "promtool: $bin does not run" >&2; exit 1; }
echo "$bin"
