#!/usr/bin/env bash
# Local control planes (etcd + kube-apiserver + kube-controller-manager) that keep running in the
# background, with their state in .control-plane/NAME/:
#   bash hack/control-plane.sh up [NAME]       start (default NAME: local), print `export KUBECONFIG=...`
#   bash hack/control-plane.sh down [NAME]     stop it and remove its state
#   bash hack/control-plane.sh status [NAME]   running or not
#   bash hack/control-plane.sh env [NAME]      print `export KUBECONFIG=...`
# Typical use: eval "$(bash hack/control-plane.sh up)"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm install --no-audit --no-fund >&2
exec node --import ./hack/register-ts.mjs hack/control-plane.ts "$@"
