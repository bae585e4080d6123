#!/usr/bin/env bash
# Makes sure Debian's Chromium and its ChromeDriver are installed (packages
# `chromium` and `chromium-driver`, with apt-get, as root) and prints
# ChromeDriver's path. `make test` exports it as SCIMBUS_CHROMEDRIVER for the
# operator console's browser tests (tests/console). Already installed: nothing
# is done. The browser and driver come from the same package set, so their
# versions agree.
set -euo pipefail
say() { echo "chromium: $*" >&2; }
driver=$(command -v chromedriver || true)
browser=$(command -v chromium || true)
if [[ -z $driver || -z $browser ]]; then
  command -v apt-get >/dev/null 2>&1 ||
    { say "chromium and chromedriver are missing and there is no apt-get (Debian packages: chromium chromium-driver)"; exit 1; }
  sudo=()
  if [[ $EUID != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { say "installing chromium takes root: apt-get install -y chromium chromium-driver"; exit 1; }
    sudo=(sudo -n)
  fi
  install() {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver >&2
  }
  say "installing Debian's chromium and chromium-driver (apt-get)"
  if ! install; then
    say "apt-get install failed, updating the package lists once"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || true
    install || { say "apt-get install -y chromium chromium-driver failed"; exit 1; }
  fi
  driver=$(command -v chromedriver) || { say "chromedriver is still missing after apt-get install"; exit 1; }
fi
"$driver" --version >/dev/null 2>&1 || { say "$driver does not run"; exit 1; }
echo "$driver"
