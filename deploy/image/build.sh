#!/usr/bin/env bash
# `make image`: the scimbus container image, localhost/scimbus:<version of
# the workspace> (IMAGE=name:tag overrides it).
#
#   1. static release binaries of scimbus-ingress, scimbus-store,
#      scimbus-outbound and scimbus (glibc, +crt-static), checked with file
#      and ldd;
#   2. a build context under .data/image: bin/, etc/passwd, etc/group,
#      etc/ssl/certs/ca-certificates.crt (this machine's Debian
#      ca-certificates), the Containerfile;
#   3. podman build FROM scratch (deploy/image/podman.sh: podman's settings
#      and storage stay in this checkout), skipped when an image of that name
#      was built from the same context.
#
# Prints the image's name on stdout (progress on stderr), and its size.
# Installs podman, runc, file and ca-certificates when they are missing.
# See docs/image.md.
set -euo pipefail
# shellcheck source=deploy/image/podman.sh
source "$(dirname "${BASH_SOURCE[0]}")/podman.sh"
cd "$IMAGE_REPO"
started=$SECONDS

TRIPLE=x86_64-unknown-linux-gnu
BINS=(scimbus-ingress scimbus-store scimbus-outbound scimbus)
PACKAGES=(scimbus-ingress scimbus-store scimbus-outbound scimbus-cli)
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
CONTEXT=$IMAGE_REPO/.data/image

[[ $(uname -m) == x86_64 ]] || image_die "the image is built for $TRIPLE; this machine is $(uname -m)"

version=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n1)
[[ -n $version ]] || image_die "no version under [workspace.package] in Cargo.toml"
IMAGE=${IMAGE:-localhost/scimbus:$version}

image_tools
if [[ ! -s $CA_BUNDLE ]]; then
  [[ $EUID == 0 ]] || image_die "$CA_BUNDLE is missing; install Debian's ca-certificates (as root)"
  image_log "installing ca-certificates (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates >&2 ||
    { DEBIAN_FRONTEND=noninteractive apt-get update >&2 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates >&2; } ||
    image_die "apt-get could not install ca-certificates"
  [[ -s $CA_BUNDLE ]] || image_die "$CA_BUNDLE is still missing after installing ca-certificates"
fi
image_podman_env
# One build at a time per checkout: the others wait (cargo would wait too;
# the context and the tag would not).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$IMAGE_DATA/build.lock"
  flock -w 3600 9 || image_die "another build.sh holds $IMAGE_DATA/build.lock"
fi

# --- 1. static binaries -------------------------------------------------------
# +crt-static links glibc (and libgcc, libstdc++ of C dependencies) into the
# executables. An explicit --target keeps the flag off build scripts and
# proc macros, which must stay dynamic to be loaded by cargo and rustc.
target_dir=${CARGO_TARGET_DIR:-$IMAGE_REPO/target}
pkg_args=()
for p in "${PACKAGES[@]}"; do pkg_args+=(-p "$p"); done
image_log "building ${BINS[*]} (release, static, $TRIPLE)"
unset CARGO_ENCODED_RUSTFLAGS
RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR=$target_dir \
  nice -n 10 "${CARGO:-cargo}" build --release --locked --target "$TRIPLE" --bins "${pkg_args[@]}" >&2
out=$target_dir/$TRIPLE/release

for b in "${BINS[@]}"; do
  [[ -x $out/$b ]] || image_die "cargo did not produce $out/$b"
  kind=$(file -b "$out/$b")
  case $kind in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) image_die "$b is not static: file says: $kind" ;;
  esac
  deps=$(ldd "$out/$b" 2>&1 || true)
  case $deps in
    *"not a dynamic executable"* | *"statically linked"*) ;;
    *) image_die "$b is not static: ldd says: $deps" ;;
  esac
done
image_log "the binaries are static ($(file -b "$out/scimbus-ingress" | grep -o "static[-a-z]* linked"))"

# --- 2. the build context -----------------------------------------------------
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT/bin" "$CONTEXT/etc/ssl/certs"
for b in "${BINS[@]}"; do install -m 0755 "$out/$b" "$CONTEXT/bin/$b"; done
install -m 0644 "$IMAGE_SCRIPTS/passwd" "$CONTEXT/etc/passwd"
install -m 0644 "$IMAGE_SCRIPTS/group" "$CONTEXT/etc/group"
# -L: Debian's bundle is a regular file, but follow a link if it is one.
cp -L "$CA_BUNDLE" "$CONTEXT/etc/ssl/certs/ca-certificates.crt"
chmod 0644 "$CONTEXT/etc/ssl/certs/ca-certificates.crt"
install -m 0644 "$IMAGE_SCRIPTS/Containerfile" "$CONTEXT/Containerfile"

# What the image is made of: every file of the context with its mode, and
# the version. An image already built from the same is kept.
context_id=$(
  cd "$CONTEXT"
  {
    echo "version=$version"
    find . -type f -printf '%p %m\n' | LC_ALL=C sort
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-64
)

# --- 3. the image -------------------------------------------------------------
have=$(podman_ image inspect --format '{{index .Labels "io.scimbus.context"}}' "$IMAGE" 2>/dev/null || true)
if [[ $have == "$context_id" ]]; then
  image_log "$IMAGE is up to date (same binaries and files)"
else
  image_log "building $IMAGE"
  # The time of the last commit as the image's (and its files') time: the
  # same commit and context give the same image id.
  when=$(git -C "$IMAGE_REPO" log -1 --format=%ct 2>/dev/null || echo 0)
  podman_ build --quiet --format oci --pull=never --timestamp "${when:-0}" \
    --build-arg "VERSION=$version" --label "io.scimbus.context=$context_id" \
    -f "$CONTEXT/Containerfile" -t "$IMAGE" "$CONTEXT" >/dev/null
  # The image the tag pointed at before, now untagged.
  podman_ image prune -f >/dev/null || true
fi

size=$(podman_ image inspect --format '{{.Size}}' "$IMAGE")
image_log "$IMAGE: $((size / 1000000)) MB ($size bytes), $((SECONDS - started)) s"
printf '%s\n' "$IMAGE"
