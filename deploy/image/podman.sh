#!/usr/bin/env bash
# podman as the scimbus image is built and tested with: its configuration
# from this directory (containers.conf), its images and containers under
# <repo>/.data/containers, and the tools it needs installed when missing.
#
#   deploy/image/podman.sh images               any podman command, e.g. to
#   deploy/image/podman.sh run --rm localhost/scimbus:0.1.0 /bin/scimbus --help
#
# Sourced (by build.sh and tests/image/image-test.sh) it defines
# image_tools, image_podman_env and podman_ (podman with those settings).
# See docs/image.md.

IMAGE_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
IMAGE_REPO=$(cd "$IMAGE_SCRIPTS/../.." && pwd -P)
IMAGE_DATA=$IMAGE_REPO/.data/containers
# vfs: each container gets a plain copy of the image (tens of MB here), with
# no mount that a killed run could leave behind, and it works wherever
# podman does (overlay needs a kernel and a file system that allow it).
IMAGE_STORAGE_DRIVER=vfs

image_log() { printf 'image: %s\n' "$*" >&2; }
image_die() {
  printf 'image: error: %s\n' "$*" >&2
  exit 1
}

# Installs what is missing of podman, runc and file (Debian packages).
image_tools() {
  local pkgs=() out
  command -v podman >/dev/null 2>&1 || pkgs+=(podman)
  command -v runc >/dev/null 2>&1 || pkgs+=(runc)
  command -v file >/dev/null 2>&1 || pkgs+=(file)
  ((${#pkgs[@]})) || return 0
  command -v apt-get >/dev/null 2>&1 ||
    image_die "${pkgs[*]} missing and there is no apt-get to install them (Debian packages: ${pkgs[*]})"
  [[ $EUID == 0 ]] ||
    image_die "${pkgs[*]} missing; installing them takes root: apt-get install -y ${pkgs[*]}"
  image_log "installing ${pkgs[*]} (apt-get)"
  if ! out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" 2>&1); then
    image_log "apt-get install failed, updating the package lists once"
    DEBIAN_FRONTEND=noninteractive apt-get update >&2 ||
      image_die "apt-get update failed: ${pkgs[*]} cannot be installed"
    out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" 2>&1) ||
      image_die "apt-get install -y ${pkgs[*]} failed: $(tail -n 3 <<<"$out")"
  fi
  local t
  for t in podman runc file; do
    command -v "$t" >/dev/null 2>&1 || image_die "$t is still missing after apt-get install"
  done
}

# Points podman at this directory's containers.conf and at a storage.conf
# (made from storage.conf.in) that keeps everything under .data/containers.
image_podman_env() {
  mkdir -p "$IMAGE_DATA/tmp"
  local conf=$IMAGE_DATA/storage.conf want
  want=$(sed -e "s|@DATA@|$IMAGE_DATA|g" -e "s|@DRIVER@|$IMAGE_STORAGE_DRIVER|g" \
    "$IMAGE_SCRIPTS/storage.conf.in")
  if [[ ! -f $conf || $(cat "$conf") != "$want" ]]; then
    printf '%s\n' "$want" >"$conf"
  fi
  export CONTAINERS_CONF=$IMAGE_SCRIPTS/containers.conf
  export CONTAINERS_STORAGE_CONF=$conf
  # Not named in a configuration file (those take no relative paths):
  # podman's own state (locks, events log) next to the storage.
  IMAGE_PODMAN_FLAGS=(--tmpdir "$IMAGE_DATA/tmp")
}

podman_() { podman "${IMAGE_PODMAN_FLAGS[@]}" "$@"; }

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  image_tools
  image_podman_env
  exec podman "${IMAGE_PODMAN_FLAGS[@]}" "$@"
fi
