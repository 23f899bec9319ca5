/**
 * Every permission the operator holds, in one table: the Helm chart's and config/rbac's ClusterRole
 * and Role are generated from it (npm run generate), and an e2e test compares it with the requests
 * the operator really makes. No wildcards; a verb is here because a code path sends it.
 */
import { TENANT_ADMIN_ROLE, TENANT_VIEWER_ROLE } from './govtenant/desired.js';
import { GROUP } from '../api/constants.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'bind';

/** The part of the operator that needs a permission. */
export type Consumer = 'runtime' | 'tenants' | 'catalog' | 'services' | 'federation' | 'consumption';

export interface Permission {
  apiGroup: string;
  resources: string[];
  verbs: Verb[];
  resourceNames?: string[];
  /** `cluster`: the ClusterRole; `namespace`: a Role in the operator's own namespace only. */
  scope: 'cluster' | 'namespace';
  usedBy: Consumer[];
  /**
   * `request`: the operator sends requests with these verbs. `write`: the API server checks it on the
   * operator's behalf while admitting a write (RBAC escalation on RoleBindings, owner references that
   * block deletion under OwnerReferencesPermissionEnforcement); no request of its own shows it.
   */
  checkedOn: 'request' | 'write';
  why: string;
}

const CORE = '';
const RBAC = 'rbac.authorization.k8s.io';
// Server-side apply of an object that does not exist yet is authorized as `create`, otherwise `patch`.
const APPLY: Verb[] = ['create', 'patch'];
const CACHE: Verb[] = ['list', 'watch'];

const permission = (
  p: Omit<Permission, 'checkedOn'> & Partial<Pick<Permission, 'checkedOn'>>,
): Permission => ({
  checkedOn: 'request',
  ...p,
});

export const PERMISSIONS: readonly Permission[] = [
  // The runtime: leader election and Events.
  permission({
    apiGroup: 'coordination.k8s.io',
    resources: ['leases'],
    verbs: ['get', 'create', 'update'],
    scope: 'namespace',
    usedBy: ['runtime'],
    why: 'leader election on the Lease secovia-operator-leader',
  }),
  permission({
    apiGroup: CORE,
    resources: ['events'],
    verbs: ['create'],
    scope: 'cluster',
    usedBy: ['runtime'],
    why: 'Events on what it changed: in tenant namespaces, and in default for cluster-scoped objects',
  }),
  // GovTenant.
  permission({
    apiGroup: GROUP,
    resources: ['govtenants', 'govserviceclasses'],
    verbs: [...CACHE, 'patch'],
    scope: 'cluster',
    usedBy: ['tenants', 'catalog'],
    why: 'cache, and the finalizer set and removed with a merge patch',
  }),
  permission({
    apiGroup: GROUP,
    resources: ['govtenants/status', 'govserviceclasses/status', 'govservices/status'],
    verbs: ['patch'],
    scope: 'cluster',
    usedBy: ['tenants', 'catalog', 'services'],
    why: 'status through the status subresource (server-side apply)',
  }),
  // The consumption ledger.
  permission({
    apiGroup: GROUP,
    resources: ['govconsumptions'],
    verbs: [...CACHE, ...APPLY],
    scope: 'cluster',
    usedBy: ['consumption', 'federation'],
    why: 'cache, the ledger object of each tenant and month, and the records of what peers report (import.consumption); never deleted: they are the record',
  }),
  permission({
    apiGroup: GROUP,
    resources: ['govconsumptions/status'],
    verbs: ['patch'],
    scope: 'cluster',
    usedBy: ['consumption', 'federation'],
    why: 'the sampled or reported totals, through the status subresource',
  }),
  permission({
    apiGroup: CORE,
    resources: ['namespaces'],
    verbs: [...CACHE, ...APPLY, 'delete'],
    scope: 'cluster',
    usedBy: ['tenants', 'services'],
    why: 'environment namespaces; delete only under deletionPolicy Delete, for namespaces it created',
  }),
  permission({
    apiGroup: CORE,
    resources: ['resourcequotas', 'limitranges'],
    verbs: [...CACHE, ...APPLY, 'delete'],
    scope: 'cluster',
    usedBy: ['tenants'],
    why: 'quota and limits of each environment, pruned when the spec drops them',
  }),
  permission({
    apiGroup: 'networking.k8s.io',
    resources: ['networkpolicies'],
    verbs: [...CACHE, ...APPLY, 'delete'],
    scope: 'cluster',
    usedBy: ['tenants', 'services'],
    why: 'tenant isolation and the ingress controller policy of exposed services, pruned when not wanted',
  }),
  permission({
    apiGroup: RBAC,
    resources: ['rolebindings'],
    verbs: [...CACHE, ...APPLY, 'delete'],
    scope: 'cluster',
    usedBy: ['tenants'],
    why: 'bindings of spec.access subjects, pruned when the spec drops them',
  }),
  permission({
    apiGroup: RBAC,
    resources: ['clusterroles'],
    verbs: ['bind'],
    resourceNames: [TENANT_ADMIN_ROLE, TENANT_VIEWER_ROLE],
    scope: 'cluster',
    usedBy: ['tenants'],
    checkedOn: 'write',
    why: 'a RoleBinding may grant these two roles without the operator holding what they grant',
  }),
  permission({
    apiGroup: CORE,
    resources: ['pods'],
    verbs: ['list', 'delete'],
    scope: 'cluster',
    usedBy: ['tenants'],
    why: 'a suspended tenant runs nothing: the pods of its namespaces are deleted (never created)',
  }),
  permission({
    apiGroup: 'apps',
    resources: ['replicasets', 'statefulsets', 'daemonsets'],
    verbs: ['list', 'patch'],
    scope: 'cluster',
    usedBy: ['tenants'],
    why: 'on resume, an annotation wakes the controllers that suspension kept from creating pods',
  }),
  permission({
    apiGroup: 'batch',
    resources: ['jobs'],
    verbs: ['list', 'patch'],
    scope: 'cluster',
    usedBy: ['tenants'],
    why: 'on resume, an annotation wakes the Job controller that suspension kept from creating pods',
  }),
  // GovService.
  permission({
    apiGroup: GROUP,
    resources: ['govservices'],
    verbs: CACHE,
    scope: 'cluster',
    usedBy: ['tenants', 'catalog', 'services'],
    why: 'cache: services of a tenant and instances of a class',
  }),
  permission({
    apiGroup: GROUP,
    resources: ['govservices/finalizers'],
    verbs: ['update'],
    scope: 'cluster',
    usedBy: ['services'],
    checkedOn: 'write',
    why: 'owner references with blockOwnerDeletion on the objects of a GovService',
  }),
  permission({
    apiGroup: CORE,
    resources: ['serviceaccounts', 'configmaps', 'services'],
    verbs: [...CACHE, ...APPLY],
    scope: 'cluster',
    usedBy: ['services'],
    why: 'always wanted while the GovService exists; garbage collection removes them with it',
  }),
  permission({
    apiGroup: 'apps',
    resources: ['deployments'],
    verbs: [...CACHE, ...APPLY],
    scope: 'cluster',
    usedBy: ['services'],
    why: 'always wanted while the GovService exists; garbage collection removes it with it',
  }),
  permission({
    apiGroup: 'networking.k8s.io',
    resources: ['ingresses'],
    verbs: [...CACHE, ...APPLY, 'delete'],
    scope: 'cluster',
    usedBy: ['services'],
    why: 'public and federated services; pruned when a service becomes internal',
  }),
  permission({
    apiGroup: 'autoscaling',
    resources: ['horizontalpodautoscalers'],
    verbs: [...CACHE, ...APPLY, 'delete'],
    scope: 'cluster',
    usedBy: ['services'],
    why: 'autoscaling plans; pruned on a fixed plan or while suspended',
  }),
  permission({
    apiGroup: 'policy',
    resources: ['poddisruptionbudgets'],
    verbs: [...CACHE, ...APPLY, 'delete'],
    scope: 'cluster',
    usedBy: ['services'],
    why: 'plans of more than one replica; pruned otherwise',
  }),
  // Federation.
  permission({
    apiGroup: GROUP,
    resources: ['federations'],
    verbs: [...CACHE, 'patch'],
    scope: 'cluster',
    usedBy: ['federation'],
    why: 'the Federation object and its finalizer',
  }),
  permission({
    apiGroup: GROUP,
    resources: ['federations/status', 'govserviceimports/status'],
    verbs: ['patch'],
    scope: 'cluster',
    usedBy: ['federation'],
    why: 'peer and import status',
  }),
  permission({
    apiGroup: GROUP,
    resources: ['govserviceimports'],
    verbs: [...CACHE, ...APPLY, 'delete'],
    scope: 'cluster',
    usedBy: ['federation'],
    why: 'services imported from peers, deleted when withdrawn (onWithdraw: Delete)',
  }),
  permission({
    apiGroup: GROUP,
    resources: ['govtenants', 'govserviceclasses'],
    verbs: ['create', 'delete'],
    scope: 'cluster',
    usedBy: ['federation'],
    why: 'tenants and classes imported from peers, deleted when withdrawn',
  }),
  permission({
    apiGroup: CORE,
    resources: ['secrets'],
    verbs: CACHE,
    scope: 'namespace',
    usedBy: ['federation'],
    why: 'kubeconfig Secrets of the peers, in the operator namespace only',
  }),
  permission({
    apiGroup: CORE,
    resources: ['configmaps'],
    verbs: ['delete'],
    scope: 'namespace',
    usedBy: ['federation'],
    why: 'export ConfigMaps secovia-export-<peer> (cached and applied under the cluster-wide rule) removed when a peer leaves, in the operator namespace only',
  }),
];

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** The rules of the ClusterRole (`cluster`) or of the Role in the operator's namespace (`namespace`). */
export function policyRules(scope: Permission['scope']): PolicyRule[] {
  return PERMISSIONS.filter((p) => p.scope === scope).map((p) => ({
    apiGroups: [p.apiGroup],
    resources: p.resources,
    verbs: p.verbs,
    ...(p.resourceNames ? { resourceNames: p.resourceNames } : {}),
  }));
}

/** One request as RBAC sees it: verb, API group, resource (with `/subresource`), namespace, name. */
export interface RequestAttributes {
  verb: string;
  apiGroup: string;
  resource: string;
  namespace?: string;
  name?: string;
}

/** The permissions that allow a request made in a cluster where the operator runs in `operatorNamespace`. */
export function permissionsFor(req: RequestAttributes, operatorNamespace: string): Permission[] {
  return PERMISSIONS.filter(
    (p) =>
      p.apiGroup === req.apiGroup &&
      p.resources.includes(req.resource) &&
      (p.verbs as string[]).includes(req.verb) &&
      (!p.resourceNames || (req.name !== undefined && p.resourceNames.includes(req.name))) &&
      (p.scope === 'cluster' || req.namespace === operatorNamespace),
  );
}
