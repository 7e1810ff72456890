#!/usr/bin/env bash
# Development-only tools from the npm registry (dev/npm/package.json, pinned by its
# package-lock.json): panva's oidc-provider (the console's PKCE login test) and axe-core (the
# console's accessibility check). Installed once per lock into a cache, never into the repo.
#   scripts/npm-tools.sh         install if the lock changed; prints nothing else
#   scripts/npm-tools.sh path    print the node_modules folder
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${SLRT_NPM_DIR:-$HOME/.cache/slrt/npm-tools}"
STAMP="$DIR/.lock-$(sha256sum dev/npm/package-lock.json | cut -c1-12)"
if [ "${1:-}" = "path" ]; then
  echo "$DIR/node_modules"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm-tools: npm not found (node 20+ is needed for the console's browser tests)" >&2
  exit 0
fi
if [ ! -f "$STAMP" ]; then
  mkdir -p "$DIR"
  cp dev/npm/package.json dev/npm/package-lock.json "$DIR/"
  (cd "$DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  rm -f "$DIR"/.lock-*
  touch "$STAMP"
fi
