#!/usr/bin/env bash
# Builds the helm CLI from its published Go module (helm.sh/helm/v3) into a cache outside the
# repository, the way hack/build-control-plane.sh builds the control plane. Prints the binary's path.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${SECOVIA_CACHE:-$HOME/.cache/secovia}"
out="$cache/bin/helm-$HELM_VERSION"
if [ -x "$out/helm" ]; then echo "$out/helm"; exit 0; fi
command -v go >/dev/null || { echo "error: Go is required to build helm (https://go.dev/dl)" >&2; exit 1; }

echo "building helm $HELM_VERSION into $out (first time only)" >&2
mkdir -p "$out"
# The Kubernetes version that `helm template` assumes without a cluster, as helm's own Makefile sets it.
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ld="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ld="$ld -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$minor"
done
GOBIN="$out" CGO_ENABLED=0 GOFLAGS="-buildvcs=false" \
  go install -trimpath -ldflags "$ld" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
[ -x "$out/helm" ] || { echo "error: helm build did not produce $out/helm" >&2; exit 1; }
echo "$out/helm"
