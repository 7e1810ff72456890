#!/usr/bin/env bash
# Build (once, cached) the real helm CLI and validate the SLRT chart with it.
#
#   scripts/helm.sh path    build helm if needed and print the binary's path
#   scripts/helm.sh check   lint (--strict), render and schema-validate the chart with the
#                           minimal and the production values; exit non-zero on any problem
#
# helm is built from source through the Go module proxy (the only way this project's machines
# can get it) with the same link flags as helm's own release Makefile: without them the binary
# reports "v3.22" and assumes Kubernetes v1.20 for .Capabilities and kubeVersion checks.
# The binary is cached in .slrt/cache/bin (git-ignored), or in $SLRT_HELM_BIN_DIR when set (CI
# can point that outside the clone to keep it across runs); it is rebuilt only when missing or
# when it does not report the pinned version.
#
# Environment: PYTHON (default .venv/bin/python, must have the dev extra: kubernetes-validate),
# GO (a go binary; default /usr/local/go/bin/go, else go on PATH), SLRT_HELM_OUT (rendered
# manifests, default .slrt/cache/helm-rendered).
set -euo pipefail

HELM_VERSION="v3.22.0"
# Kubernetes minor of the client-go that helm v3.22.0 is built against (k8s.io/client-go v0.37.0);
# helm's Makefile passes the same to the linker.
HELM_K8S_MAJOR="1"
HELM_K8S_MINOR="37"
# The Kubernetes versions the chart supports (Chart.yaml kubeVersion) and is validated against.
K8S_VALIDATE_VERSIONS=("1.30.0" "1.37.0")

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/go.sh
source "$ROOT/scripts/go.sh"
CHART="$ROOT/deploy/helm/slrt"
DEPS_CHART="$ROOT/deploy/helm/slrt-dev-deps"
BIN_DIR="${SLRT_HELM_BIN_DIR:-$ROOT/.slrt/cache/bin}"
HELM="$BIN_DIR/helm"
OUT="${SLRT_HELM_OUT:-$ROOT/.slrt/cache/helm-rendered}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
RELEASE="slrt"
NAMESPACE="slrt"

log() { printf '==> %s\n' "$*" >&2; }

helm_is_current() {
  [[ -x "$HELM" ]] && [[ "$("$HELM" version --template '{{.Version}}' 2>/dev/null)" == "$HELM_VERSION" ]]
}

# A Go that can build helm: helm v3.22.0 needs Go 1.26; Go 1.21+ fetches that toolchain itself
# from the module proxy (GOTOOLCHAIN=auto). /usr/local/go is preferred over a distribution Go.
ensure_helm() {
  if helm_is_current; then
    return 0
  fi
  mkdir -p "$BIN_DIR"
  # One build at a time (parallel test workers, a CI job next to a developer's shell).
  exec 9>"$BIN_DIR/.helm-build.lock"
  flock 9
  if helm_is_current; then
    flock -u 9
    return 0
  fi
  local go_bin started
  go_bin=$(find_go "scripts/helm.sh: building helm $HELM_VERSION")
  started=$SECONDS
  log "building helm $HELM_VERSION with $("$go_bin" version | cut -d' ' -f3) (a few minutes on 2 cores; cached in $BIN_DIR)"
  local pkg="helm.sh/helm/v3"
  local ldflags="-w -s"
  ldflags+=" -X $pkg/internal/version.version=$HELM_VERSION"
  ldflags+=" -X $pkg/internal/version.metadata="
  ldflags+=" -X $pkg/internal/version.gitTreeState=clean"
  ldflags+=" -X $pkg/pkg/lint/rules.k8sVersionMajor=$HELM_K8S_MAJOR"
  ldflags+=" -X $pkg/pkg/lint/rules.k8sVersionMinor=$HELM_K8S_MINOR"
  ldflags+=" -X $pkg/pkg/chartutil.k8sVersionMajor=$HELM_K8S_MAJOR"
  ldflags+=" -X $pkg/pkg/chartutil.k8sVersionMinor=$HELM_K8S_MINOR"
  GOBIN="$BIN_DIR" CGO_ENABLED=0 GOFLAGS="-buildvcs=false" GOTOOLCHAIN=auto \
    "$go_bin" install -trimpath -ldflags "$ldflags" "$pkg/cmd/helm@$HELM_VERSION"
  if ! helm_is_current; then
    echo "scripts/helm.sh: built $HELM but it reports '$("$HELM" version --template '{{.Version}}')'," \
      "not $HELM_VERSION" >&2
    return 1
  fi
  log "helm $HELM_VERSION built in $((SECONDS - started))s"
  flock -u 9
}

# What CI lints, renders and validates: "<chart>:<value set>" -> helm arguments.
targets=("slrt:minimal" "slrt:production" "slrt:dev" "slrt-dev-deps:default")
target_args() {
  case "$1" in
    slrt:minimal) echo "$CHART -f $CHART/ci/minimal-values.yaml" ;;
    slrt:production) echo "$CHART -f $CHART/examples/production-values.yaml" ;;
    slrt:dev) echo "$CHART -f $CHART/examples/dev-values.yaml" ;;
    slrt-dev-deps:default) echo "$DEPS_CHART" ;;
    *) echo "unknown target $1" >&2; return 1 ;;
  esac
}

check() {
  ensure_helm
  "$HELM" version --short
  if ! "$PYTHON" -c 'import kubernetes_validate' 2>/dev/null; then
    echo "scripts/helm.sh: $PYTHON lacks kubernetes-validate; install the dev extra:" \
      ".venv/bin/uv pip install --python .venv/bin/python -e '.[dev,local]'" >&2
    return 1
  fi
  mkdir -p "$OUT"
  local started=$SECONDS target args file version release
  for target in "${targets[@]}"; do
    args=$(target_args "$target")
    file="$OUT/${target//:/-}.yaml"
    release="${target%%:*}"
    [[ "$release" == "slrt" ]] && release="$RELEASE"
    log "helm lint --strict $target"
    # shellcheck disable=SC2086  # word splitting of the chart and -f arguments is intended
    "$HELM" lint --strict --namespace "$NAMESPACE" $args
    log "helm template $target -> $file"
    # shellcheck disable=SC2086
    "$HELM" template "$release" --namespace "$NAMESPACE" $args >"$file"
    for version in "${K8S_VALIDATE_VERSIONS[@]}"; do
      log "kubernetes-validate --strict -k $version $target"
      validate "$file" "$version"
    done
  done
  log "refusing values without the required endpoints"
  local refused
  if refused=$("$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" \
      --set temporal.address=temporal-frontend:7233 --set postgres.dsn=postgresql://x@db/slrt 2>&1); then
    echo "scripts/helm.sh: the chart rendered without kafka.bootstrap; values.schema.json must refuse it" >&2
    return 1
  fi
  grep -q "kafka" <<<"$refused" || { echo "$refused" >&2; return 1; }
  echo "refused as expected: $(grep -m1 -i "kafka" <<<"$refused")"
  log "chart checks passed in $((SECONDS - started))s"
}

# kubernetes-validate, but a kind it has no schema for is an error: every object the chart renders
# must be checked (the ServiceMonitor, a CRD, is covered by tests/deploy instead).
validate() {
  local file="$1" version="$2" output status=0
  output=$("$PYTHON" -m kubernetes_validate --strict --quiet -k "$version" "$file" 2>&1) || status=$?
  if [[ -n "$output" ]]; then
    local unexpected
    unexpected=$(grep -v "Couldn't find schema for kind ServiceMonitor " <<<"$output" || true)
    if [[ -n "$unexpected" ]]; then
      echo "$unexpected" >&2
      return 1
    fi
  fi
  if [[ $status -ne 0 ]]; then
    echo "$output" >&2
    return "$status"
  fi
  local total crds
  total=$(grep -c '^kind:' "$file" || true)
  crds=$(grep -c '^kind: ServiceMonitor$' "$file" || true)
  local message="ok: $((total - crds)) objects valid against Kubernetes $version (strict)"
  ((crds)) && message+=" + $crds ServiceMonitor (checked by tests/deploy)"
  echo "$message"
}

case "${1:-}" in
  path) ensure_helm; echo "$HELM" ;;
  check) check ;;
  *) echo "usage: scripts/helm.sh path|check" >&2; exit 2 ;;
esac
