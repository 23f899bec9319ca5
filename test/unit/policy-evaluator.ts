/**
 * A small evaluator of networking.k8s.io/v1 NetworkPolicy semantics, to ask of generated policies:
 * may this pod reach that pod (or IP) on this port? A connection needs egress allowed at the
 * source and ingress allowed at the destination; a pod is isolated in a direction when any policy
 * of its namespace selects it for that direction, and then some selecting policy must allow it.
 */
import type { KubeObject } from '../../src/runtime/types.js';

type Labels = Record<string, string>;
interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: Requirement[];
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Port {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: Port[];
}
interface PolicySpec {
  podSelector: Selector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: Rule[];
  egress?: Rule[];
}

export interface Pod {
  namespace: string;
  labels: Labels;
}
export type Endpoint = Pod | { ip: string };
export interface World {
  namespaces: { name: string; labels: Labels }[];
  policies: KubeObject[];
}

const isPod = (e: Endpoint): e is Pod => 'namespace' in e;

export function selects(sel: Selector | undefined, labels: Labels): boolean {
  if (!sel) return true;
  const byLabels = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (sel.matchExpressions ?? []).every((r) => {
    const has = r.key in labels;
    if (r.operator === 'Exists') return has;
    if (r.operator === 'DoesNotExist') return !has;
    const inValues = has && (r.values ?? []).includes(labels[r.key]!);
    return r.operator === 'In' ? inValues : !inValues;
  });
  return byLabels && byExpressions;
}

const ipToInt = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : 2 ** 32 - 2 ** (32 - Number(bits));
  return (ipToInt(ip) & mask) >>> 0 === (ipToInt(base!) & mask) >>> 0;
}

function namespaceLabels(world: World, name: string): Labels {
  const ns = world.namespaces.find((n) => n.name === name);
  return { ...(ns?.labels ?? {}), 'kubernetes.io/metadata.name': name };
}

function peerMatches(world: World, policyNamespace: string, peer: Peer, other: Endpoint): boolean {
  if (peer.ipBlock) {
    return (
      !isPod(other) &&
      inCidr(other.ip, peer.ipBlock.cidr) &&
      !(peer.ipBlock.except ?? []).some((c) => inCidr(other.ip, c))
    );
  }
  if (!isPod(other)) return false;
  const nsOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, namespaceLabels(world, other.namespace))
    : other.namespace === policyNamespace;
  return nsOk && selects(peer.podSelector, other.labels);
}

function portMatches(ports: Port[] | undefined, port: number, protocol: string): boolean {
  if (!ports?.length) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    return typeof p.port === 'number' && port >= p.port && port <= (p.endPort ?? p.port);
  });
}

const typesOf = (spec: PolicySpec): string[] =>
  spec.policyTypes ?? ['Ingress', ...(spec.egress ? ['Egress'] : [])];

/** Whether `pod` accepts (Ingress) or sends (Egress) traffic with `other` under the world's policies. */
function allowedAt(
  world: World,
  pod: Pod,
  direction: 'Ingress' | 'Egress',
  other: Endpoint,
  port: number,
  protocol: string,
): boolean {
  const applicable = world.policies
    .filter((p) => p.metadata.namespace === pod.namespace)
    .map((p) => p.spec as PolicySpec)
    .filter((spec) => selects(spec.podSelector, pod.labels) && typesOf(spec).includes(direction));
  if (!applicable.length) return true;
  return applicable.some((spec) =>
    ((direction === 'Ingress' ? spec.ingress : spec.egress) ?? []).some((rule) => {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      const peerOk = !peers?.length || peers.some((peer) => peerMatches(world, pod.namespace, peer, other));
      return peerOk && portMatches(rule.ports, port, protocol);
    }),
  );
}

export function allowed(
  world: World,
  from: Endpoint,
  to: Endpoint,
  port: number,
  protocol: 'TCP' | 'UDP' = 'TCP',
): boolean {
  const egressOk = !isPod(from) || allowedAt(world, from, 'Egress', to, port, protocol);
  const ingressOk = !isPod(to) || allowedAt(world, to, 'Ingress', from, port, protocol);
  return egressOk && ingressOk;
}
