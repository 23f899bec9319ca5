/** Pure desired state of a GovTenant: the objects it should own, built without calling the API. */
import { SERVICE_TYPES } from '../../api/constants.js';
import type { GovTenant } from '../../api/index.js';
import type { KubeObject } from '../../runtime/types.js';
import {
  ALLOW_WILDCARD,
  ALLOWED_DOMAINS,
  ALLOWED_REGISTRIES,
  CLASSIFICATION,
  COUNTRY,
  CREATED_BY_UID,
  ENVIRONMENT,
  INGRESS_CLASSES,
  LEVEL,
  MANAGED_BY,
  NODE_SELECTOR,
  OPERATOR,
  ORPHANED,
  PRIORITY_CLASSES,
  SERVICE_TYPES as SERVICE_TYPES_LABEL,
  STORAGE_CLASSES,
  SUSPENDED,
  TENANT,
} from '../labels.js';

export const namespaceName = (tenant: string, environment: string): string => `${tenant}-${environment}`;

/** Labels every object of the tenant carries. */
export function tenantLabels(t: GovTenant): Record<string, string> {
  return {
    [MANAGED_BY]: OPERATOR,
    [TENANT]: t.metadata.name,
    [COUNTRY]: t.spec!.country,
    [LEVEL]: t.spec!.level,
    [CLASSIFICATION]: t.spec!.dataResidency.classification,
  };
}

function podSecurityLabels(level: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const mode of ['enforce', 'audit', 'warn']) {
    labels[`pod-security.kubernetes.io/${mode}`] = level;
    labels[`pod-security.kubernetes.io/${mode}-version`] = 'latest';
  }
  return labels;
}

/**
 * The value of the namespace label that admission reads: the allowed Service types in a fixed order,
 * joined by dots, ClusterIP always among them (ClusterIP.NodePort).
 */
export function serviceTypesLabel(t: GovTenant): string {
  const allowed: readonly string[] = t.spec!.network?.allowedServiceTypes ?? [];
  return SERVICE_TYPES.filter((type) => type === 'ClusterIP' || allowed.includes(type)).join('.');
}

export interface NamespaceOptions {
  /** Released by the deletion policy Retain: kept with its data, no longer the tenant's. */
  orphaned?: boolean;
  /**
   * The uid of the tenant that created the namespace, recorded once at creation and carried over
   * unchanged: Delete only ever removes a namespace whose creator is the tenant being deleted.
   */
  createdBy?: string;
  /** What admission reads from the namespace's annotations; computed from the cluster by the reconciler. */
  guardrails?: NamespaceGuardrails;
}

/** The tenant's settings that need more than the GovTenant itself: other tenants, the catalog, the operator. */
export interface NamespaceGuardrails {
  /** spec.ingress.allowedDomains that no elder tenant's domains overlap. */
  ownedDomains: string[];
  /** spec.workloads.allowedRegistries, or the registries of the classes the tenant may use. */
  registries: string[];
  /** The operator's IngressClass, allowed when spec.ingress.allowedClasses is unset. */
  defaultIngressClass: string;
}

/** The namespace annotations the admission guardrails read: comma-separated, key=value for the node pool. */
export function guardrailAnnotations(t: GovTenant, g: NamespaceGuardrails): Record<string, string> {
  const ingress = t.spec!.ingress;
  const workloads = t.spec!.workloads;
  const nodeSelector = Object.entries(workloads?.nodeSelector ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`);
  return {
    [ALLOWED_DOMAINS]: g.ownedDomains.join(','),
    [ALLOW_WILDCARD]: String(ingress?.allowWildcard ?? false),
    [INGRESS_CLASSES]: (ingress?.allowedClasses ?? [g.defaultIngressClass]).join(','),
    [ALLOWED_REGISTRIES]: g.registries.join(','),
    [STORAGE_CLASSES]: (workloads?.allowedStorageClasses ?? []).join(','),
    [PRIORITY_CLASSES]: (workloads?.allowedPriorityClasses ?? []).join(','),
    ...(nodeSelector.length ? { [NODE_SELECTOR]: nodeSelector.join(',') } : {}),
  };
}

/**
 * One namespace per environment. No owner reference on purpose: a deleted and reinstalled CRD must
 * never garbage-collect tenant namespaces; the deletion policy alone removes them.
 */
export function tenantNamespace(t: GovTenant, environment: string, opts: NamespaceOptions = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespaceName(t.metadata.name, environment),
      labels: {
        ...tenantLabels(t),
        [ENVIRONMENT]: environment,
        ...podSecurityLabels(t.spec!.podSecurity),
        [SERVICE_TYPES_LABEL]: serviceTypesLabel(t),
        ...(opts.orphaned ? { [ORPHANED]: 'true' } : {}),
        ...(t.spec!.suspended ? { [SUSPENDED]: 'true' } : {}),
      },
      ...(opts.createdBy || opts.guardrails
        ? {
            annotations: {
              ...(opts.createdBy ? { [CREATED_BY_UID]: opts.createdBy } : {}),
              ...(opts.guardrails ? guardrailAnnotations(t, opts.guardrails) : {}),
            },
          }
        : {}),
    },
  };
}

/**
 * A namespace left behind (deletionPolicy Retain, or its environment removed): it keeps its data,
 * its guard rails and its creator, but no longer the tenant label, so nothing of the tenant (its
 * same-tenant policy, a namesake) reaches it; it is the tenant's again only if that same tenant asks.
 */
export function retainedNamespace(t: GovTenant, environment: string, createdBy?: string): KubeObject {
  const ns = tenantNamespace(t, environment, { orphaned: true, createdBy });
  const labels = Object.fromEntries(
    Object.entries(ns.metadata.labels!).filter(([key]) => key !== TENANT && key !== SUSPENDED),
  );
  return { ...ns, metadata: { ...ns.metadata, labels } };
}

export interface TenantSettings {
  /** Namespace of the ingress controller whose pods may reach tenant workloads. */
  ingressNamespace: string;
}

type Environment = GovTenant['spec'] extends infer S
  ? S extends { environments: (infer E)[] }
    ? E
    : never
  : never;

/** Names of the objects the operator creates in every environment namespace. */
export const OBJECT_NAMES = {
  quota: 'secovia-quota',
  limits: 'secovia-limits',
  denyAll: 'secovia-default-deny',
  sameTenant: 'secovia-allow-same-tenant',
  ingressController: 'secovia-allow-ingress-controller',
  fromTenants: 'secovia-allow-from-tenants',
  egress: 'secovia-allow-egress',
  admins: 'secovia-tenant-admins',
  viewers: 'secovia-tenant-viewers',
} as const;

/** ClusterRoles shipped with the operator (config/rbac, the Helm chart) that tenant subjects are bound to. */
export const TENANT_ADMIN_ROLE = 'secovia-tenant-admin';
export const TENANT_VIEWER_ROLE = 'secovia-tenant-viewer';

function meta(t: GovTenant, env: Environment, name: string, owned: boolean): KubeObject['metadata'] {
  return {
    name,
    namespace: namespaceName(t.metadata.name, env.name),
    labels: { ...tenantLabels(t), [ENVIRONMENT]: env.name },
    ...(owned && t.metadata.uid
      ? {
          ownerReferences: [
            {
              apiVersion: t.apiVersion,
              kind: t.kind,
              name: t.metadata.name,
              uid: t.metadata.uid,
              controller: true,
            },
          ],
        }
      : {}),
  };
}

const compact = (o: Record<string, string | number | undefined>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(o)
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => [k, String(v)]),
  );

/** ResourceQuota of an environment: spec.quota with the environment's override on top. */
export function environmentQuota(t: GovTenant, env: Environment, owned = true): KubeObject | undefined {
  const q = { ...t.spec!.quota, ...env.quota };
  const hard = compact({
    'requests.cpu': q.cpu,
    'limits.cpu': q.cpu,
    'requests.memory': q.memory,
    'limits.memory': q.memory,
    'requests.storage': q.storage,
    pods: q.pods,
  });
  if (!Object.keys(hard).length) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: meta(t, env, OBJECT_NAMES.quota, owned),
    spec: { hard },
  };
}

/** LimitRange of an environment: defaults so that pods without resources fit the quota, and maxima. */
export function environmentLimits(t: GovTenant, env: Environment, owned = true): KubeObject | undefined {
  const l = { ...t.spec!.limits, ...env.limits };
  const defaults = compact({ cpu: l.defaultCpu, memory: l.defaultMemory });
  const max = compact({ cpu: l.maxCpu, memory: l.maxMemory });
  if (!Object.keys(defaults).length && !Object.keys(max).length) return undefined;
  const limit: Record<string, unknown> = { type: 'Container' };
  if (Object.keys(defaults).length) Object.assign(limit, { default: defaults, defaultRequest: defaults });
  if (Object.keys(max).length) limit.max = max;
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: meta(t, env, OBJECT_NAMES.limits, owned),
    spec: { limits: [limit] },
  };
}

type Subject = { kind: string; name: string; namespace?: string };

function binding(metadata: KubeObject['metadata'], role: string, subjects: Subject[]): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: subjects.map((s) =>
      s.kind === 'ServiceAccount'
        ? { kind: s.kind, name: s.name, namespace: s.namespace }
        : { apiGroup: 'rbac.authorization.k8s.io', kind: s.kind, name: s.name },
    ),
  };
}

/** RoleBindings of spec.access subjects to the tenant admin and viewer ClusterRoles. */
export function environmentBindings(t: GovTenant, env: Environment, owned = true): KubeObject[] {
  const { admins = [], viewers = [] } = t.spec!.access ?? {};
  return [
    ...(admins.length ? [binding(meta(t, env, OBJECT_NAMES.admins, owned), TENANT_ADMIN_ROLE, admins)] : []),
    ...(viewers.length
      ? [binding(meta(t, env, OBJECT_NAMES.viewers, owned), TENANT_VIEWER_ROLE, viewers)]
      : []),
  ];
}

const byNamespaceName = (name: string): Record<string, unknown> => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
});
const byTenants = (tenants: string[]): Record<string, unknown> => ({
  namespaceSelector: { matchExpressions: [{ key: TENANT, operator: 'In', values: [...tenants].sort() }] },
});

/** What isolation depends on beyond the tenant itself. */
export interface IsolationInputs {
  settings: TenantSettings;
  /** Tenants whose allowFromTenants name this tenant: egress towards them is opened so their allowance works. */
  peersAllowingUs?: string[];
  /**
   * TCP ports that the tenant's public and federated GovServices serve in this environment: the only
   * ports the ingress controller may reach. None: no ingress-controller policy at all.
   */
  exposedPorts?: number[];
  /** false when releasing a namespace: no owner reference that garbage collection could follow. */
  owned?: boolean;
}

/**
 * Isolation of an environment as plain NetworkPolicies (they add up: anything none of them allows
 * is denied): default deny both ways, then same tenant, the ingress controller, allowed tenants,
 * DNS and the allowed egress CIDRs.
 */
export function isolationPolicies(t: GovTenant, env: Environment, inputs: IsolationInputs): KubeObject[] {
  const network = t.spec!.network ?? {};
  if ((network.isolation ?? 'strict') !== 'strict') return [];
  const self = t.metadata.name;
  const policy = (name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(t, env, name, inputs.owned ?? true),
    spec: { podSelector: {}, ...spec },
  });
  const fromTenants = (network.allowFromTenants ?? []).filter((n) => n !== self);
  const exposedPorts = [...new Set(inputs.exposedPorts ?? [])].sort((a, b) => a - b);
  const dns = {
    to: [{ ...byNamespaceName('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  };
  const egress: Record<string, unknown>[] = [dns];
  const others = (inputs.peersAllowingUs ?? []).filter((n) => n !== self);
  if (others.length) egress.push({ to: [byTenants(others)] });
  for (const cidr of network.allowEgressCIDRs ?? []) egress.push({ to: [{ ipBlock: { cidr } }] });
  const sameTenant = { ingress: [{ from: [byTenants([self])] }], egress: [{ to: [byTenants([self])] }] };
  return [
    policy(OBJECT_NAMES.denyAll, { policyTypes: ['Ingress', 'Egress'] }),
    policy(OBJECT_NAMES.sameTenant, { policyTypes: ['Ingress', 'Egress'], ...sameTenant }),
    ...(exposedPorts.length
      ? [
          policy(OBJECT_NAMES.ingressController, {
            policyTypes: ['Ingress'],
            ingress: [
              {
                from: [byNamespaceName(inputs.settings.ingressNamespace)],
                ports: exposedPorts.map((port) => ({ protocol: 'TCP', port })),
              },
            ],
          }),
        ]
      : []),
    ...(fromTenants.length
      ? [
          policy(OBJECT_NAMES.fromTenants, {
            policyTypes: ['Ingress'],
            ingress: [{ from: [byTenants(fromTenants)] }],
          }),
        ]
      : []),
    policy(OBJECT_NAMES.egress, { policyTypes: ['Egress'], egress }),
  ];
}

/** Everything an environment namespace holds besides the namespace itself. */
export function environmentObjects(t: GovTenant, env: Environment, inputs: IsolationInputs): KubeObject[] {
  const owned = inputs.owned ?? true;
  return [
    environmentQuota(t, env, owned),
    environmentLimits(t, env, owned),
    ...isolationPolicies(t, env, inputs),
    ...environmentBindings(t, env, owned),
  ].filter((o): o is KubeObject => o !== undefined);
}
