#!/usr/bin/env bash
# The demo: a local control plane, the CRDs, the operator, realistic samples, then `kubectl get govtenants`.
#   bash hack/demo.sh        start (or refresh) the demo
#   bash hack/demo.sh down   stop the operator and the control plane
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
name=demo
state=".control-plane/$name"

if [ "${1:-up}" = "down" ]; then
  [ -f "$state/operator.pid" ] && kill "$(cat "$state/operator.pid")" 2>/dev/null || true
  bash hack/control-plane.sh down "$name"
  exit 0
fi

[ -d node_modules ] || npm install --no-audit --no-fund
npm run --silent build
bin="$(bash hack/build-control-plane.sh)"
export PATH="$bin:$PATH"
eval "$(bash hack/control-plane.sh up "$name")"

echo "== installing the CRDs"
kubectl apply -f crds/ >/dev/null
kubectl wait --for condition=Established --timeout=60s -f crds/ >/dev/null

echo "== starting the operator (logs: $state/operator.log)"
kubectl create namespace secovia-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
if [ -f "$state/operator.pid" ] && kill -0 "$(cat "$state/operator.pid")" 2>/dev/null; then
  kill "$(cat "$state/operator.pid")"; sleep 1
fi
nohup node dist/src/main.js --metrics-port 0 --health-port 0 --namespace secovia-system \
  >"$state/operator.log" 2>&1 &
echo $! >"$state/operator.pid"

echo "== applying the samples: tenant roles and admission policy, tenants, the catalog, services"
kubectl apply -f config/rbac/tenant_roles.yaml -f config/admission/tenant_policies.yaml >/dev/null
kubectl apply -f config/samples/gov_v1alpha1_govtenant.yaml
kubectl wait --for condition=Ready govtenants --all --timeout=90s >/dev/null
kubectl apply -f config/samples/gov_v1alpha1_govserviceclass.yaml -f config/samples/gov_v1alpha1_govservice.yaml
kubectl wait --for=jsonpath='{.status.observedGeneration}'=1 govservices --all -A --timeout=60s >/dev/null

kubectl get govtenants
echo
kubectl get namespaces -l app.kubernetes.io/managed-by=secovia-operator -L gov.secovia.eu/tenant,gov.secovia.eu/country
echo
kubectl get govserviceclasses
echo
# The local control plane has no nodes: pods stay Pending, so services report Available=False.
kubectl get govservices -A
cat <<MSG

The demo control plane keeps running. Try:
  export KUBECONFIG=$PWD/$state/kubeconfig PATH=$bin:\$PATH
  kubectl describe govtenant hu-budapest
Stop it with: bash hack/demo.sh down
MSG
