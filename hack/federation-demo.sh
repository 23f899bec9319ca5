#!/usr/bin/env bash
# The federation walkthrough on three local control planes, one per country (hu, mk, rs), each with
# its own operator and only read-only credentials to the others.
#   bash hack/federation-demo.sh        start (or refresh) it and show what each member sees
#   bash hack/federation-demo.sh down   stop the operators and the control planes
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
members=(hu mk rs)
declare -A member=([hu]=hu-central [mk]=mk-skopje [rs]=rs-beograd)
declare -A country=([hu]=HU [mk]=MK [rs]=RS)
kc() { echo ".control-plane/$1/kubeconfig"; }

if [ "${1:-up}" = "down" ]; then
  for m in "${members[@]}"; do
    [ -f ".control-plane/$m/operator.pid" ] && kill "$(cat ".control-plane/$m/operator.pid")" 2>/dev/null || true
    bash hack/control-plane.sh down "$m"
  done
  exit 0
fi

[ -d node_modules ] || npm install --no-audit --no-fund
npm run --silent build
bin="$(bash hack/build-control-plane.sh)"
export PATH="$bin:$PATH"

for m in "${members[@]}"; do
  echo "== ${member[$m]} (${country[$m]}): control plane, CRDs, operator"
  bash hack/control-plane.sh up "$m" >/dev/null
  export KUBECONFIG="$(kc "$m")"
  kubectl apply -f crds/ >/dev/null
  kubectl wait --for condition=Established --timeout=60s -f crds/ >/dev/null
  kubectl create namespace secovia-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  pidfile=".control-plane/$m/operator.pid"
  [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null && sleep 1 || true
  nohup node dist/src/main.js --kubeconfig "$(kc "$m")" --namespace secovia-system --metrics-port 0 \
    --health-port 0 >".control-plane/$m/operator.log" 2>&1 &
  echo $! >"$pidfile"
done

echo "== read-only credentials: each member lets each peer read exactly the export meant for it"
for exporter in "${members[@]}"; do
  for importer in "${members[@]}"; do
    [ "$exporter" = "$importer" ] && continue
    creds="$(KUBECONFIG="$(kc "$exporter")" bash hack/peer-credentials.sh "${member[$importer]}")"
    KUBECONFIG="$(kc "$importer")" kubectl -n secovia-system create secret generic "${member[$exporter]}" \
      --from-literal=kubeconfig="$creds" --dry-run=client -o yaml | KUBECONFIG="$(kc "$importer")" kubectl apply -f - >/dev/null
  done
done

echo "== a Federation on each member"
for m in "${members[@]}"; do
  {
    echo "apiVersion: gov.secovia.eu/v1alpha1"
    echo "kind: Federation"
    echo "metadata: {name: see}"
    echo "spec:"
    echo "  localMember: ${member[$m]}"
    echo "  localCountry: ${country[$m]}"
    echo "  peers:"
    accept=()
    for p in "${members[@]}"; do
      [ "$p" = "$m" ] && continue
      echo "    - {name: ${member[$p]}, country: ${country[$p]}, kubeconfigSecretRef: {namespace: secovia-system, name: ${member[$p]}}}"
      accept+=("${country[$p]}")
    done
    echo "  export: {tenantSelector: {matchLabels: {gov.secovia.eu/federate: \"true\"}}, federatedServices: true}"
    echo "  import: {acceptCountries: [$(IFS=,; echo "${accept[*]}")], onWithdraw: Delete, staleAfterSeconds: 60}"
    echo "  syncIntervalSeconds: 10"
  } | KUBECONFIG="$(kc "$m")" kubectl apply -f - >/dev/null
done

echo "== on hu-central: a tenant allowed in HU and MK, labelled for federation"
KUBECONFIG="$(kc hu)" kubectl apply -f - <<'YAML'
apiVersion: gov.secovia.eu/v1alpha1
kind: GovTenant
metadata:
  name: hu-budapest
  labels: {gov.secovia.eu/federate: "true"}
spec:
  displayName: "Budapest Főváros Önkormányzata"
  country: HU
  level: municipal
  environments: [{name: prod}]
  dataResidency: {allowedCountries: [HU, MK], classification: internal}
YAML

for m in "${members[@]}"; do
  KUBECONFIG="$(kc "$m")" kubectl wait --for condition=Ready federation/see --timeout=90s >/dev/null
done
KUBECONFIG="$(kc mk)" kubectl wait --for condition=Ready govtenant/hu-budapest --timeout=60s >/dev/null

for m in "${members[@]}"; do
  echo
  echo "== ${member[$m]}: kubectl get govtenants -L gov.secovia.eu/origin-member"
  KUBECONFIG="$(kc "$m")" kubectl get govtenants -L gov.secovia.eu/origin-member 2>&1
done
echo
echo "== hu-central's Federation status: exported to MK, skipped for RS (DataResidency)"
KUBECONFIG="$(kc hu)" kubectl get federation see \
  -o jsonpath='{range .status.peers[*]}{.name}: reachable={.reachable} exported={.exported} skipped={.skipped[*].reason}{"\n"}{end}'
cat <<MSG

The three members keep running. Try, for example:
  export PATH=$bin:\$PATH
  KUBECONFIG=$(kc mk) kubectl describe govtenant hu-budapest     # Imported, Stale=False
  KUBECONFIG=$(kc mk) kubectl edit govtenant hu-budapest         # reverted within seconds
  bash hack/control-plane.sh down hu                             # MK marks hu-central unreachable, then Stale
Stop everything with: bash hack/federation-demo.sh down
MSG
