#!/usr/bin/env bash
# Makes sure scim2-server (pinned, hash-checked: requirements.txt beside this
# file) is installed in its own venv under .data/tools, and prints the path of
# its `scim2-server` command. `make test` exports it as SCIMBUS_SCIM2_SERVER
# for the outbound tests, which start one server per test.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd -P)"
here="$root/tests/scim2-server"
tools="${SCIMBUS_STACK_DIR:-$root/.data}/tools"
venv="$tools/scim2-server-venv"
mkdir -p "$tools"
# The contents, not the path: checkouts elsewhere sharing SCIMBUS_STACK_DIR
# must not reinstall it for one another.
want=$( { sha256sum <"$here/requirements.txt"; python3 -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-64)
(
  # Parallel runs install once: the others wait here.
  if command -v flock >/dev/null; then
    flock -w 600 8 || { echo "scim2-server: another run holds $venv.lock" >&2; exit 1; }
  fi
  if [[ $(cat "$venv/.installed" 2>/dev/null) != "$want" ]]; then
    echo "scim2-server: installing into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
      --only-binary=:all: -r "$here/requirements.txt" >&2
    echo "$want" >"$venv/.installed"
  fi
) 8>"$venv.lock"
"$venv/bin/scim2-server" --help >/dev/null
echo "$venv/bin/scim2-server"
