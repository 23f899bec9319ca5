#!/usr/bin/env bash
# Run by the EXPORTING member's admin: grants a peer member read access to exactly the export this
# cluster publishes for it (ConfigMap secovia-export-<peer>), mints a token, and prints a kubeconfig
# to hand to the peer's admin over a trusted channel. Nothing else of this cluster is readable with it.
#   bash hack/peer-credentials.sh PEER_MEMBER [NAMESPACE] [DURATION] > for-PEER.kubeconfig
# NAMESPACE is the operator's namespace (default secovia-system); DURATION a token lifetime such as
# 720h (default; the API server may cap it). The Helm chart creates the same ServiceAccount, Role and
# RoleBinding with --set federation.exportTo={PEER_MEMBER}; applying them again changes nothing.
# The peer's admin stores it:  kubectl -n secovia-system create secret generic <this-member> \
#                                --from-file=kubeconfig=for-PEER.kubeconfig
set -euo pipefail
peer="${1:?usage: peer-credentials.sh PEER_MEMBER [NAMESPACE] [DURATION]}"
ns="${2:-secovia-system}"
duration="${3:-720h}"
account="secovia-peer-$peer"

kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: $account, namespace: $ns, labels: {gov.secovia.eu/peer: $peer}}
automountServiceAccountToken: false
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: $account, namespace: $ns, labels: {gov.secovia.eu/peer: $peer}}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    resourceNames: [secovia-export-$peer]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: $account, namespace: $ns, labels: {gov.secovia.eu/peer: $peer}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: $account}
subjects: [{kind: ServiceAccount, name: $account, namespace: $ns}]
YAML

token="$(kubectl -n "$ns" create token "$account" --duration "$duration")"
server="$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
ca_data="$(kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')"
if [ -z "$ca_data" ]; then
  ca_file="$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.certificate-authority}')"
  [ -n "$ca_file" ] && ca_data="$(base64 -w0 <"$ca_file")"
fi
# A peer accepts only an https server with its CA inline: fail here rather than hand over a kubeconfig it refuses.
case "$server" in https://*) ;; *) echo "peer-credentials: the API server $server is not https://" >&2; exit 1 ;; esac
[ -n "$ca_data" ] || { echo "peer-credentials: no certificate authority for $server in the current kubeconfig" >&2; exit 1; }
cluster="$(kubectl config view --minify -o jsonpath='{.clusters[0].name}')"
cat <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
  - name: $cluster
    cluster:
      server: $server
      certificate-authority-data: $ca_data
users:
  - name: $account
    user:
      token: $token
contexts:
  - name: $cluster
    context: {cluster: $cluster, user: $account}
current-context: $cluster
KUBECONFIG
