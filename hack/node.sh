#!/usr/bin/env bash
# The host-wide state of the local node: the one script that creates it and the one that removes it.
# A node (test/harness/node.ts) changes this machine beyond its own directory: a bridge, sysctls,
# iptables chains and ipsets (kube-proxy, kube-router, CNI), network namespaces and mounts (pods),
# cgroups (kubelet), processes (containerd's shims outlive containerd). This script owns all of it.
#
#   bash hack/node.sh install          Debian packages the node needs (containerd, runc, CNI plugins...)
#   bash hack/node.sh setup            bridge and sysctls, saving what it changes (run as root)
#   bash hack/node.sh cleanup [STATE]  kill, unmount and delete everything a node left; restore sysctls
#   bash hack/node.sh check            list what a node left behind; exit 1 if anything
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=node.env
source "$here/node.env"
# What setup changed and cleanup restores, kept outside any node's directory.
saved=/run/secovia-node
packages=(containerd runc containernetworking-plugins iptables ipset conntrack iproute2 procps)
# Chain and set name prefixes of kube-proxy, kube-router and the CNI plugins.
chains='^(KUBE-|CNI-)'
sets='^(KUBE-|kube-router-|inet6:KUBE-|inet6:kube-router-)'

die() { echo "hack/node.sh: $*" >&2; exit 1; }
# The node's processes (by process name; containerd's shims show as containerd-shim).
node_processes() {
  local name
  for name in kubelet kube-proxy kube-router kube-scheduler containerd containerd-shim; do
    pgrep -a -x "$name" || true
  done
}

install() {
  local missing=()
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v ipset >/dev/null || missing+=(ipset)
  command -v conntrack >/dev/null || missing+=(conntrack)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v pkill >/dev/null || missing+=(procps)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
}

save_sysctl() {
  local key="$1" value="$2" file="$saved/sysctl-$1"
  [ -e "$file" ] || sysctl -n "$key" > "$file"
  sysctl -qw "$key=$value"
}

setup() {
  [ "$(id -u)" = 0 ] || die "a node needs root (it runs containerd and kubelet)"
  mkdir -p "$saved"
  nft list tables 2>/dev/null | sort > "$saved/nft-tables" || true
  [ -d /var/lib/kubelet ] || { mkdir -p /var/lib/kubelet && touch "$saved/created-var-lib-kubelet"; }
  if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    ip link add "$NODE_BRIDGE" type bridge
  fi
  ip addr replace "$NODE_IP/${POD_CIDR#*/}" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  save_sysctl net.ipv4.ip_forward 1
  save_sysctl net.bridge.bridge-nf-call-iptables 1
}

# Rules of the built-in chains that jump to ours, then our chains, for one table of one family.
clean_table() {
  local cmd="$1" table="$2" rule chain
  while IFS= read -r rule; do
    eval "$cmd -w -t $table -D ${rule#-A }" || true
  done < <($cmd -w -t "$table" -S 2>/dev/null | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j (KUBE-|CNI-)' || true)
  local ours
  ours="$($cmd -w -t "$table" -S 2>/dev/null | sed -n 's/^-N //p' | grep -E "$chains" || true)"
  for chain in $ours; do $cmd -w -t "$table" -F "$chain" 2>/dev/null || true; done
  for chain in $ours; do $cmd -w -t "$table" -X "$chain" 2>/dev/null || true; done
}

cleanup() {
  local state="${1:-}"
  # Processes first: nothing may recreate what is removed below.
  pkill -KILL -x kube-router 2>/dev/null || true
  pkill -KILL -x kube-proxy 2>/dev/null || true
  pkill -KILL -x kubelet 2>/dev/null || true
  pkill -KILL -x kube-scheduler 2>/dev/null || true
  # Every process of every pod, whether its shim still runs or not.
  local procs
  for procs in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$procs" ] || continue
    find "$procs" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  done
  if [ -n "$state" ]; then
    pkill -KILL -f "containerd --config $state/" 2>/dev/null || true
    pkill -KILL -f "containerd-shim-runc-v2 .*-address $state/" 2>/dev/null || true
  fi
  pkill -KILL -f "containerd-shim-runc-v2 -namespace k8s.io" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while [ -n "$(node_processes)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  # Mounts: pods' volumes, the kubelet's root bind mount, containerd's snapshots and sandbox shm.
  if [ -n "$state" ]; then
    awk -v s="$state/" 'index($2, s) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
      umount -l "$m" 2>/dev/null || true
    done
  fi
  # Pods' network namespaces (their veths go with them).
  for ns in /run/netns/cni-*; do
    [ -e "$ns" ] || continue
    umount -l "$ns" 2>/dev/null || true
    rm -f "$ns"
  done
  for family in iptables ip6tables; do
    command -v "$family" >/dev/null || continue
    for table in raw mangle nat filter; do clean_table "$family" "$table"; done
  done
  if command -v ipset >/dev/null; then
    { ipset list -n 2>/dev/null | grep -E "$sets" || true; } | while read -r s; do ipset destroy "$s" 2>/dev/null || true; done
  fi
  # nftables tables the node made (kube-proxy's own, or tables iptables-nft created for it).
  if command -v nft >/dev/null && [ -f "$saved/nft-tables" ]; then
    { nft list tables 2>/dev/null || true; } | sort | comm -13 "$saved/nft-tables" - | while read -r _ family name; do
      nft delete table "$family" "$name" 2>/dev/null || true
    done
  fi
  ip link del "$NODE_BRIDGE" 2>/dev/null || true
  # Allocations and results of our CNI network (host-local keeps its own under the state directory).
  rm -rf "/var/lib/cni/networks/$CNI_NETWORK"
  rm -f /var/lib/cni/results/"$CNI_NETWORK"-* 2>/dev/null || true
  # Pod cgroups of every hierarchy (deepest first; empty after the processes are gone).
  local root
  for root in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$root" ] || continue
    # A cgroup can be removed once its last process has been reaped: retry for a moment.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      find "$root" -depth -type d -exec rmdir {} + 2>/dev/null && break
      sleep 0.2
    done
  done
  if [ -f "$saved/created-var-lib-kubelet" ]; then rm -rf /var/lib/kubelet; fi
  for file in "$saved"/sysctl-*; do
    [ -e "$file" ] || continue
    sysctl -qw "${file#"$saved"/sysctl-}=$(cat "$file")" || true
  done
  rm -rf "$saved" /run/containerd/s /run/containerd/runc/k8s.io
  rmdir /run/containerd/runc /run/containerd 2>/dev/null || true
}

check() {
  local left=()
  local procs
  procs="$(node_processes)"
  [ -z "$procs" ] || left+=("processes: $procs")
  ip link show "$NODE_BRIDGE" >/dev/null 2>&1 && left+=("bridge $NODE_BRIDGE")
  compgen -G '/run/netns/cni-*' >/dev/null && left+=("network namespaces: $(echo /run/netns/cni-*)")
  local mounts
  mounts="$(awk '$2 ~ /kubelet|containerd|netns\/cni-/ { print $2 }' /proc/mounts)"
  [ -z "$mounts" ] || left+=("mounts: $mounts")
  for family in iptables ip6tables; do
    command -v "$family" >/dev/null || continue
    for table in raw mangle nat filter; do
      local c
      c="$($family -w -t "$table" -S 2>/dev/null | grep -E -- "^-N |-j " | grep -E -- "-N (KUBE-|CNI-)|-j (KUBE-|CNI-)" || true)"
      [ -z "$c" ] || left+=("$family $table: $(echo "$c" | head -3 | tr '\n' ';')")
    done
  done
  if command -v ipset >/dev/null; then
    local s
    s="$(ipset list -n 2>/dev/null | grep -E "$sets" || true)"
    [ -z "$s" ] || left+=("ipsets: $(echo "$s" | head -5 | tr '\n' ' ')")
  fi
  for root in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$root" ] && left+=("cgroup $root")
  done
  [ -d "$saved" ] && left+=("saved state $saved (setup without cleanup)")
  if [ ${#left[@]} -gt 0 ]; then
    printf 'left behind: %s\n' "${left[@]}"
    return 1
  fi
  echo "nothing left behind"
}

case "${1:-}" in
  install) install ;;
  setup) setup ;;
  cleanup) shift; cleanup "$@" ;;
  check) check ;;
  *) die "usage: bash hack/node.sh install | setup | cleanup [STATE] | check" ;;
esac
