#!/usr/bin/env bash
# Local control planes (etcd + kube-apiserver + kube-controller-manager) that keep running in the
# background, with their state in .control-plane/NAME/:
#   bash hack/control-plane.sh up [NAME]       start (default NAME: local), print `export KUBECONFIG=...`
#   bash hack/control-plane.sh up NAME --node  the same with a real node (root; one per machine)
#   bash hack/control-plane.sh down [NAME]     stop it and remove its state
#   bash hack/control-plane.sh status [NAME]   running or not
#   bash hack/control-plane.sh env [NAME]      print `export KUBECONFIG=...`
# Typical use: eval "$(bash hack/control-plane.sh up)"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm install --no-audit --no-fund >&2
PATH="$(bash hack/ensure-node.sh):$PATH"
exec node --import ./hack/register-ts.mjs hack/control-plane.ts "$@"
