/** Resource types and the REST paths that address them; the built-in kinds an operator commonly reads and writes. */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** A resource type from `group/version` (or a core `version`), kind, plural and scope. */
export const rt = (gv: string, kind: string, plural: string, namespaced: boolean): ResourceType => {
  const [group, version] = gv.includes('/') ? (gv.split('/') as [string, string]) : ['', gv];
  return { group, version, kind, plural, namespaced };
};

export const builtinResources = {
  Namespace: rt('v1', 'Namespace', 'namespaces', false),
  ResourceQuota: rt('v1', 'ResourceQuota', 'resourcequotas', true),
  LimitRange: rt('v1', 'LimitRange', 'limitranges', true),
  ServiceAccount: rt('v1', 'ServiceAccount', 'serviceaccounts', true),
  ConfigMap: rt('v1', 'ConfigMap', 'configmaps', true),
  Secret: rt('v1', 'Secret', 'secrets', true),
  Service: rt('v1', 'Service', 'services', true),
  Event: rt('v1', 'Event', 'events', true),
  Deployment: rt('apps/v1', 'Deployment', 'deployments', true),
  NetworkPolicy: rt('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', true),
  Ingress: rt('networking.k8s.io/v1', 'Ingress', 'ingresses', true),
  RoleBinding: rt('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', true),
  HorizontalPodAutoscaler: rt('autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true),
  PodDisruptionBudget: rt('policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true),
  Lease: rt('coordination.k8s.io/v1', 'Lease', 'leases', true),
} as const;

export const apiVersionOf = (r: ResourceType): string => (r.group ? `${r.group}/${r.version}` : r.version);

/** The resource type of an object's apiVersion and kind. */
export type ResourceResolver = (apiVersion: string, kind: string) => ResourceType;

/** Resolves within `table` (an operator's own: its kinds beside the built-in ones); throws for any other type. */
export function resolverOf(table: Record<string, ResourceType>): ResourceResolver {
  const types = Object.values(table);
  return (apiVersion, kind) => {
    const found = types.find((r) => r.kind === kind && apiVersionOf(r) === apiVersion);
    if (!found) throw new Error(`unknown resource type ${apiVersion} ${kind}`);
    return found;
  };
}

/** Path of a collection: all namespaces when a namespaced type is listed without a namespace. */
export function collectionPath(r: ResourceType, namespace?: string): string {
  const prefix = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${prefix}${ns}/${r.plural}`;
}

export function objectPath(r: ResourceType, name: string, namespace?: string): string {
  if (r.namespaced && !namespace) throw new Error(`${r.kind} ${name}: namespace required`);
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}

/** The cache and queue key of an object: `namespace/name`, or `name` when cluster-scoped. */
export const objectKey = (name: string, namespace?: string): string =>
  namespace ? `${namespace}/${name}` : name;

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
