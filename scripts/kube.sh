#!/usr/bin/env bash
# Build (once, cached) a real etcd and kube-apiserver, and prove the SLRT chart against them.
#
#   scripts/kube.sh path    build the binaries if needed and print the directory holding them
#   scripts/kube.sh check   start etcd and kube-apiserver on loopback and run the server-side
#                           stage (tests/deploy/kube_stage.py): server-side dry-run of every
#                           values set in a namespace enforcing the restricted Pod Security level,
#                           then a real helm install --no-hooks, upgrade, rollback and uninstall
#
# Neither binary can be fetched prebuilt on this project's machines, and `go install` refuses both
# (their modules carry replace directives). A small wrapper module does what it cannot: it
# requires k8s.io/kubernetes at KUBE_VERSION, pins every k8s.io/X v0.0.0 staging module it names to
# the matching v0.N.M, adds go.etcd.io/etcd/server/v3 at the version Kubernetes requires, and
# builds cmd/kube-apiserver and etcd's server. The version is passed to the linker as Kubernetes'
# own build does; without it the server reports v0.0.0 and the chart's kubeVersion check fails.
# The build takes about ten minutes on 2 cores (run under nice: the machine is shared); the
# binaries are cached in $SLRT_KUBE_BIN_DIR (default ~/.cache/slrt/kube-$KUBE_VERSION, shared by
# every clone on the machine) and rebuilt only when missing or when they report another version.
#
# Environment: GO (a go binary; default /usr/local/go/bin/go, else go on PATH), PYTHON (default
# .venv/bin/python), SLRT_KUBE_BIN_DIR.
set -euo pipefail

KUBE_VERSION="v1.37.2"
ETCD_VERSION="v3.7.0" # the go.etcd.io/etcd/server/v3 that k8s.io/kubernetes $KUBE_VERSION requires

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/go.sh
source "$ROOT/scripts/go.sh"
BIN_DIR="${SLRT_KUBE_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/slrt/kube-$KUBE_VERSION}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"

log() { printf '==> %s\n' "$*" >&2; }

binaries_are_current() {
  [[ -x "$BIN_DIR/kube-apiserver" && -x "$BIN_DIR/etcd" ]] || return 1
  [[ "$("$BIN_DIR/kube-apiserver" --version 2>/dev/null)" == "kube-apiserver $KUBE_VERSION" ]] || return 1
  "$BIN_DIR/etcd" --version 2>/dev/null | grep -qx "etcd Version: ${ETCD_VERSION#v}"
}

ensure_binaries() {
  if binaries_are_current; then
    return 0
  fi
  mkdir -p "$BIN_DIR"
  exec 8>"$BIN_DIR/.build.lock"
  flock 8
  if binaries_are_current; then
    flock -u 8
    return 0
  fi
  local go_bin started src minor
  go_bin=$(find_go "scripts/kube.sh: building Kubernetes $KUBE_VERSION")
  started=$SECONDS
  src="$BIN_DIR/src"
  rm -rf "$src"
  mkdir -p "$src"
  log "building kube-apiserver $KUBE_VERSION and etcd $ETCD_VERSION with $("$go_bin" version | cut -d' ' -f3)" \
    "(about ten minutes on 2 cores, under nice; cached in $BIN_DIR)"
  minor="${KUBE_VERSION#v1.}" # 37.2
  export GOFLAGS="-buildvcs=false -mod=mod" GOTOOLCHAIN=auto CGO_ENABLED=0
  (
    cd "$src"
    "$go_bin" mod init slrt.local/kube-build >/dev/null 2>&1
    "$go_bin" mod edit -require="k8s.io/kubernetes@$KUBE_VERSION"
    local gomod staging
    gomod=$("$go_bin" mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | "$PYTHON" -c \
      'import json, sys; print(json.load(sys.stdin)["GoMod"])')
    # Every staging module Kubernetes names as v0.0.0 is published as v0.<minor>.<patch>.
    for staging in $(grep -oE '^\s*k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | awk '{print $1}'); do
      "$go_bin" mod edit -replace="$staging=$staging@v0.$minor"
    done
    "$go_bin" get "k8s.io/kubernetes@$KUBE_VERSION" "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    local pkg="k8s.io/component-base/version" ldflags
    ldflags="-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*}"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    ldflags+=" -X $pkg/verflag.programName=kube-apiserver"
    nice -n 19 "$go_bin" build -trimpath -ldflags "$ldflags" -o "$BIN_DIR/kube-apiserver" \
      k8s.io/kubernetes/cmd/kube-apiserver
    nice -n 19 "$go_bin" build -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd" go.etcd.io/etcd/server/v3
  )
  if ! binaries_are_current; then
    echo "scripts/kube.sh: built into $BIN_DIR but the binaries report" \
      "'$("$BIN_DIR/kube-apiserver" --version 2>&1)' and '$("$BIN_DIR/etcd" --version 2>&1 | head -1)'" >&2
    return 1
  fi
  log "kube-apiserver $KUBE_VERSION and etcd $ETCD_VERSION built in $((SECONDS - started))s"
  flock -u 8
}

check() {
  ensure_binaries
  local helm
  helm=$(bash "$ROOT/scripts/helm.sh" path)
  (cd "$ROOT" && "$PYTHON" -m tests.deploy.kube_stage --bin-dir "$BIN_DIR" --helm "$helm")
}

case "${1:-}" in
  path) ensure_binaries; echo "$BIN_DIR" ;;
  check) check ;;
  *) echo "usage: scripts/kube.sh path|check" >&2; exit 2 ;;
esac
