#!/usr/bin/env bash
# The demo on a local node: a control plane with a real node (kubelet, containerd...), the CRDs, the
# operator, realistic samples; it ends when every GovService is Ready and one page has been fetched
# through its Service. Needs root (the node runs containerd and kubelet) and Go (first run only).
#   bash hack/demo.sh        start (or refresh) the demo
#   bash hack/demo.sh down   stop the operator, the node and the control plane; nothing is left behind
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
name=demo
state=".control-plane/$name"
# The plans of config/samples ask for a production cluster (identity's `ha` alone is 3 x 1 CPU); on
# one small node every plan runs with these requests and limits instead.
demo_resources='{"cpu":"100m","memory":"64Mi"}'
# The page the demo fetches: a service of a tenant with strict network isolation.
page_namespace=hu-budapest-prod page_service=permits page_expect='e-permits 2.4.0'

stop_operator() {
  local pid
  pid="$(cat "$state/operator.pid" 2>/dev/null)" || return 0
  # Only if that pid is still our operator (a stale pid file may name another process by now).
  if ps -o command= -p "$pid" 2>/dev/null | grep -q 'dist/src/main.js'; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$state/operator.pid"
}

if [ "${1:-up}" = "down" ]; then
  stop_operator
  bash hack/control-plane.sh down "$name"
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "hack/demo.sh: the demo runs a node (containerd, kubelet): run it as root" >&2; exit 1; }
PATH="$(bash hack/ensure-node.sh):$PATH"
[ -d node_modules ] || npm install --no-audit --no-fund
npm run --silent build
bin="$(bash hack/build-control-plane.sh)"
bash hack/build-node.sh >/dev/null
export PATH="$bin:$PATH"
echo "== starting the control plane and its node (one node per machine: waits while another runs)"
eval "$(bash hack/control-plane.sh up "$name" --node)"
kubectl get nodes -o wide

echo "== installing the CRDs"
kubectl apply -f crds/ >/dev/null
kubectl wait --for condition=Established --timeout=60s -f crds/ >/dev/null

echo "== starting the operator (logs: $state/operator.log)"
kubectl create namespace secovia-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
stop_operator
nohup node dist/src/main.js --metrics-port 0 --health-port 0 --namespace secovia-system \
  >"$state/operator.log" 2>&1 &
echo $! >"$state/operator.pid"

echo "== applying the samples: tenant roles and admission policy, tenants, the catalog, services"
kubectl apply -f config/rbac/tenant_roles.yaml -f config/admission/tenant_policies.yaml >/dev/null
kubectl apply -f config/samples/gov_v1alpha1_govtenant.yaml
kubectl wait --for condition=Ready govtenants --all --timeout=90s >/dev/null
kubectl apply -f config/samples/gov_v1alpha1_govserviceclass.yaml

for class in $(kubectl get govserviceclasses -o name); do
  ops=()
  for i in $(seq 0 $(($(kubectl get "$class" -o jsonpath='{.spec.plans[*].name}' | wc -w) - 1))); do
    ops+=("{\"op\":\"replace\",\"path\":\"/spec/plans/$i/resources\",\"value\":$demo_resources}")
  done
  kubectl patch "$class" --type json -p "[$(IFS=,; echo "${ops[*]}")]" >/dev/null
done
echo "one small node: every plan of the catalog runs with requests and limits $demo_resources here (config/samples keeps its production plans)"
image=registry.example.eu/secovia/e-permits:2.4.0
digest="$(node -p "require('./$state/node/images/images.json').find((i) => i.name === '$image').digest")"
kubectl patch govserviceclass e-permits --type merge -p "{\"spec\":{\"digests\":{\"2.4.0\":\"$digest\"}}}" >/dev/null
echo "e-permits 2.4.0 pinned to $digest, the image on the node (the sample's digest names no real image)"

kubectl apply -f config/samples/gov_v1alpha1_govservice.yaml
echo "== waiting until every GovService is Ready (pods pulled from the node's own images, probes passing)"
wait_ready() {
  kubectl wait --for condition=Ready govservices --all -A --timeout=300s >/dev/null && return 0
  kubectl get govservices,pods -A -o wide
  echo "hack/demo.sh: not every GovService turned Ready within 5 minutes (operator log: $state/operator.log)" >&2
  exit 1
}
wait_ready
# An autoscaled service starts with one pod, Ready at once; its autoscaler then scales it to the
# plan's minimum, so wait for that too and then for Ready again.
kubectl get hpa -A -o jsonpath='{range .items[*]}{.metadata.namespace} {.spec.scaleTargetRef.name} {.spec.minReplicas}{"\n"}{end}' |
  while read -r namespace deployment min; do
    kubectl -n "$namespace" wait "deployment/$deployment" --for=jsonpath='{.status.readyReplicas}'="$min" --timeout=120s >/dev/null
  done
wait_ready

kubectl get govtenants
echo
kubectl get namespaces -l app.kubernetes.io/managed-by=secovia-operator -L gov.secovia.eu/tenant,gov.secovia.eu/country
echo
kubectl get govserviceclasses
echo
kubectl get govservices -A
echo

# The page, from this machine through the Service's ClusterIP (kube-proxy's rules): curl if there is one.
ip="$(kubectl -n "$page_namespace" get service "$page_service" -o jsonpath='{.spec.clusterIP}')"
if command -v curl >/dev/null; then
  fetch="curl -sS --max-time 3 http://$ip/"
else
  fetch="node -e 'fetch(\"http://$ip/\").then((r) => r.text()).then((t) => process.stdout.write(t))'"
fi
for attempt in $(seq 10); do
  page="$(eval "$fetch" 2>&1)" && grep -q "$page_expect" <<<"$page" && break
  [ "$attempt" = 10 ] && { echo "hack/demo.sh: $fetch did not return the page of $page_expect: $page" >&2; exit 1; }
  sleep 1
done
echo "The page of GovService $page_namespace/$page_service, through its Service (ClusterIP $ip):"
echo "  \$ $fetch"
echo "  $page"
cat <<MSG

The demo keeps running (ready in ${SECONDS} s). Try:
  export KUBECONFIG=$PWD/$state/kubeconfig PATH=$bin:\$PATH
  kubectl describe govtenant hu-budapest
  kubectl get pods -A -o wide
  $fetch
Stop it with: bash hack/demo.sh down
MSG
