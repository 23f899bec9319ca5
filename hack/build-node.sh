#!/usr/bin/env bash
# Builds what a local node runs beside the control plane, from the published Go modules, into the
# same cache as the control plane: kubelet, kube-proxy and kube-scheduler (k8s.io/kubernetes, same
# version and flags as the control plane), kube-router (its NetworkPolicy firewall only), CoreDNS
# (cluster DNS), and the tiny static programs the node's images need (hack/node/). Prints the
# directory holding the binaries.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${SECOVIA_CACHE:-$HOME/.cache/secovia}"
out="$cache/bin/node-$K8S_VERSION-router-$KUBE_ROUTER_VERSION-coredns-$COREDNS_VERSION"
bins=(kubelet kube-proxy kube-scheduler kube-router coredns)

have_all() { for b in "${bins[@]}"; do [ -x "$out/$b" ] || return 1; done; }
if have_all; then echo "$out"; exit 0; fi
command -v go >/dev/null || { echo "error: Go is required to build the local node (https://go.dev/dl)" >&2; exit 1; }

mkdir -p "$out" "$cache/build"
export GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
staging_version="v0.${K8S_VERSION#v1.}"

build_kubernetes_node() {
  local dir="$cache/build/kubernetes-node-$K8S_VERSION"
  mkdir -p "$dir" && cd "$dir"
  local modfile
  modfile="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  {
    echo "module secovia.local/node"
    echo
    echo "go $(sed -n 's/^go //p' "$modfile")"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    # k8s.io/kubernetes replaces every staging module with a local path; pin them to the release.
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 '"$staging_version"'#p' "$modfile"
  } > go.mod
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-proxy/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
	_ "k8s.io/kubernetes/cmd/kubelet/app"
)
GO
  go mod tidy >/dev/null
  local pkg=k8s.io/component-base/version cgo=k8s.io/client-go/pkg/version ld="-s -w"
  for p in $pkg $cgo; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  go build -trimpath -ldflags "$ld" -o "$out/" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kube-scheduler
}

# A module that requires one published command's module and builds its main package: the module's
# own replace directives do not apply to a dependency, so `go mod tidy` resolves it as a library.
build_command() {
  local name="$1" module="$2" version="$3" pkg="$4"
  local dir="$cache/build/$name-$version"
  mkdir -p "$dir" && cd "$dir"
  cat > go.mod <<MOD
module secovia.local/$name

go 1.24

require $module $version
MOD
  cat > tools.go <<GO
//go:build tools

package tools

import _ "$pkg"
GO
  go mod tidy >/dev/null
  go build -trimpath -ldflags "-s -w" -o "$out/$name" "$pkg"
}

echo "building the local node ($K8S_VERSION, kube-router $KUBE_ROUTER_VERSION, CoreDNS $COREDNS_VERSION) into $out (first time only)" >&2
[ -x "$out/kubelet" ] && [ -x "$out/kube-proxy" ] && [ -x "$out/kube-scheduler" ] || build_kubernetes_node
[ -x "$out/coredns" ] || build_command coredns github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns
[ -x "$out/kube-router" ] || build_command kube-router github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION" \
  github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
have_all || { echo "error: node build did not produce all of: ${bins[*]}" >&2; exit 1; }
echo "$out"
