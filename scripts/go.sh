# Sourced by scripts/helm.sh and scripts/kube.sh: the machine's Go toolchain that builds them.

# find_go WHAT: print the path of a Go 1.21+ toolchain ($GO, /usr/local/go, or on PATH), or say
# that WHAT needs one and fail.
find_go() {
  local candidate version
  for candidate in "${GO:-}" /usr/local/go/bin/go "$(command -v go || true)"; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    version=$("$candidate" env GOVERSION 2>/dev/null || true)
    if [[ "$version" =~ ^go1\.([0-9]+) ]] && ((BASH_REMATCH[1] >= 21)); then
      echo "$candidate"
      return 0
    fi
  done
  echo "$1 needs Go 1.21 or newer (found none)" >&2
  return 1
}
