#!/usr/bin/env bash
# Local control planes (etcd + kube-apiserver + kube-controller-manager) that keep running:
#   bash hack/control-plane.sh up|down|status|env [NAME]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund >&2
exec node --import ./hack/register-ts.mjs hack/control-plane.ts "$@"
