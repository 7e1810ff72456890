#!/usr/bin/env bash
# Build (once, cached) versitygw, an Apache-2.0 S3-compatible object server written in Go, which
# the attachment tests run as the real S3 store (its POSIX backend keeps objects in a folder).
#
#   scripts/versitygw.sh path    build versitygw if needed and print the binary's path
#
# Built from source through the Go module proxy (the only way this project's machines can get
# it); cached in $SLRT_VERSITYGW_BIN_DIR (default ~/.cache/slrt/versitygw-$VERSION, shared by
# every worktree and CI run) and rebuilt only when missing. tests/support/harness.py and
# dev/slrt_dev/sandbox call this script the first time a test needs an S3 server.
#
# Environment: GO (a go binary; default /usr/local/go/bin/go, else go on PATH).
set -euo pipefail

VERSITYGW_VERSION="v1.8.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/go.sh
source "$ROOT/scripts/go.sh"
BIN_DIR="${SLRT_VERSITYGW_BIN_DIR:-$HOME/.cache/slrt/versitygw-$VERSITYGW_VERSION}"
BIN="$BIN_DIR/versitygw"

log() { printf '==> %s\n' "$*" >&2; }

ensure_versitygw() {
  [[ -x "$BIN" ]] && return 0
  mkdir -p "$BIN_DIR"
  # One build at a time (parallel test workers, a CI job next to a developer's shell).
  exec 9>"$BIN_DIR/.build.lock"
  flock 9
  if [[ -x "$BIN" ]]; then
    flock -u 9
    return 0
  fi
  local go_bin started
  go_bin=$(find_go "scripts/versitygw.sh: building versitygw $VERSITYGW_VERSION")
  started=$SECONDS
  log "building versitygw $VERSITYGW_VERSION (a few minutes on 2 cores; cached in $BIN_DIR)"
  GOBIN="$BIN_DIR.tmp" CGO_ENABLED=0 GOFLAGS="-buildvcs=false" GOTOOLCHAIN=auto \
    nice "$go_bin" install -trimpath -ldflags "-w -s" \
    "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  mv "$BIN_DIR.tmp/versitygw" "$BIN"
  rmdir "$BIN_DIR.tmp" 2>/dev/null || true
  log "versitygw $VERSITYGW_VERSION built in $((SECONDS - started))s"
  flock -u 9
}

case "${1:-path}" in
  path) ensure_versitygw >&2 && echo "$BIN" ;;
  *) echo "usage: scripts/versitygw.sh path" >&2; exit 2 ;;
esac
