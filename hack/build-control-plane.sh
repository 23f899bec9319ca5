#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kubectl and etcd from the published Go modules
# (k8s.io/kubernetes with its staging modules pinned to the matching v0.x releases; go.etcd.io/etcd)
# into a cache outside the repository. Prints the directory holding the binaries.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${SECOVIA_CACHE:-$HOME/.cache/secovia}"
out="$cache/bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"
bins=(kube-apiserver kube-controller-manager kubectl etcd)

have_all() { for b in "${bins[@]}"; do [ -x "$out/$b" ] || return 1; done; }
if have_all; then echo "$out"; exit 0; fi
command -v go >/dev/null || { echo "error: Go is required to build the local control plane (https://go.dev/dl)" >&2; exit 1; }

mkdir -p "$out" "$cache/build"
export GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
staging_version="v0.${K8S_VERSION#v1.}"

build_kubernetes() {
  local dir="$cache/build/kubernetes-$K8S_VERSION"
  mkdir -p "$dir" && cd "$dir"
  local modfile
  modfile="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  {
    echo "module secovia.local/controlplane"
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
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)
GO
  go mod tidy >/dev/null
  local pkg=k8s.io/component-base/version cgo=k8s.io/client-go/pkg/version ld="-s -w"
  for p in $pkg $cgo; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  go build -trimpath -ldflags "$ld" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl
}

build_etcd() {
  local dir="$cache/build/etcd-$ETCD_VERSION"
  mkdir -p "$dir" && cd "$dir"
  cat > go.mod <<MOD
module secovia.local/etcd

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
  cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  go mod tidy >/dev/null
  go build -trimpath -ldflags "-s -w" -o "$out/etcd" .
}

echo "building control plane $K8S_VERSION / etcd $ETCD_VERSION into $out (first time only)" >&2
[ -x "$out/etcd" ] || build_etcd
[ -x "$out/kube-apiserver" ] && [ -x "$out/kubectl" ] && [ -x "$out/kube-controller-manager" ] || build_kubernetes
have_all || { echo "error: control plane build did not produce all of: ${bins[*]}" >&2; exit 1; }
echo "$out"
