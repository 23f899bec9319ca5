/** GovTenant reconciler: load -> finalize, or apply -> prune -> status. */
import type { GovService, GovServiceClass, GovTenant, GovTenantStatus } from '../../api/index.js';
import { classPortOf } from '../govservice/desired.js';
import { Index, NamespaceIndex, type Informer } from '../../runtime/cache.js';
import type { ReconcileResult } from '../../runtime/controller.js';
import { Controller, onSpecOrLabelChange } from '../../runtime/controller.js';
import { readyFrom, setCondition, statusChanged, type ConditionUpdate } from '../../runtime/conditions.js';
import { ApiError } from '../../runtime/kube.js';
import type { Logger } from '../../runtime/log.js';
import type { Manager } from '../../runtime/manager.js';
import { objectPath, type ResourceType } from '../../runtime/resources.js';
import type { Condition, KubeObject } from '../../runtime/types.js';
import {
  CREATED_BY_UID,
  ENVIRONMENT,
  FINALIZER,
  isManaged,
  managedSelector,
  ORIGIN_MEMBER,
  ORPHANED,
  SERVICE,
  STALE_SINCE,
  SUSPENDED,
  TENANT,
} from '../labels.js';
import { resourceFor, resources } from '../resources.js';
import { checkTenant } from './checks.js';
import {
  environmentObjects,
  namespaceName,
  retainedNamespace,
  tenantNamespace,
  type NamespaceGuardrails,
  type TenantSettings,
} from './desired.js';
import { stopPods, wakeControllers } from './suspension.js';
import {
  allowedRegistries,
  domainSuffixes,
  overlappingHolders,
  ownedDomains,
  type OwnedDomains,
} from './guardrails.js';

/** Kinds the tenant owns inside its namespaces: watched for drift, pruned when no longer wanted. */
const OWNED_KINDS: ResourceType[] = [
  resources.ResourceQuota,
  resources.LimitRange,
  resources.NetworkPolicy,
  resources.RoleBinding,
];

/** Which condition reports the objects of which kind. */
const CONDITION_OF_KIND: Record<string, string> = {
  ResourceQuota: 'QuotaApplied',
  LimitRange: 'QuotaApplied',
  NetworkPolicy: 'NetworkIsolated',
  RoleBinding: 'AccessGranted',
};
const READY_TYPES = ['NamespacesReady', 'QuotaApplied', 'NetworkIsolated', 'AccessGranted'];

export interface TenantContext {
  manager: Manager;
  settings: TenantSettings;
  tenants: Informer<GovTenant>;
  namespaces: Informer;
  owned: Map<string, Informer>;
  /** The same owned objects by namespace: prune looks at the tenant's namespaces only. */
  ownedIn: Map<string, NamespaceIndex>;
  /** The catalog: the default image registries of a tenant are those of the classes it may use. */
  classes: Informer<GovServiceClass>;
  /** The operator's IngressClass, allowed by default. */
  ingressClassName: string;
  /** Lookups instead of scans of every tenant or namespace: with 10 000 tenants a scan per reconcile or event made convergence quadratic. */
  indexes: TenantIndexes;
  log: Logger;
  /** Namespaces resumed a moment ago, and when: their workload controllers are woken once more. */
  resuming: Map<string, number>;
}

/** A namespace is the tenant's when it carries the tenant's label and our managed-by label. */
const belongsTo = (obj: KubeObject, tenant: string): boolean =>
  isManaged(obj.metadata.labels) && obj.metadata.labels?.[TENANT] === tenant;

const isOrphaned = (ns: KubeObject | undefined): boolean => ns?.metadata.labels?.[ORPHANED] === 'true';

/** Adoption is by creator uid alone: a namesake, or a label set by hand, never makes a namespace the tenant's. */
const createdByTenant = (ns: KubeObject, t: GovTenant): boolean =>
  isManaged(ns.metadata.labels) && ns.metadata.annotations?.[CREATED_BY_UID] === t.metadata.uid;

export interface TenantIndexes {
  /** GovServices by namespace. */
  servicesIn: NamespaceIndex<GovService>;
  /** Namespaces by the uid of the tenant that created them. */
  namespacesByCreator: Index;
  /** Tenants by the namespace names their environments take. */
  tenantsByNamespace: Index<GovTenant>;
  /** Tenants by uid. */
  tenantsByUid: Index<GovTenant>;
  /** Tenants by each tenant their allowFromTenants names. */
  tenantsByAllowed: Index<GovTenant>;
  /** Tenants by each allowed ingress domain. */
  tenantsByDomain: Index<GovTenant>;
  /** Tenants by each allowed ingress domain and each domain above it (a.b.eu: a.b.eu, b.eu, eu). */
  tenantsByDomainSuffix: Index<GovTenant>;
}

const domainsOf = (o?: KubeObject): string[] => (o?.spec as GovTenant['spec'])?.ingress?.allowedDomains ?? [];
const allowedBy = (o?: KubeObject): string[] =>
  (o?.spec as GovTenant['spec'])?.network?.allowFromTenants ?? [];

function tenantIndexes(
  tenants: Informer<GovTenant>,
  namespaces: Informer,
  services: Informer,
): TenantIndexes {
  return {
    servicesIn: new NamespaceIndex(services as Informer<GovService>),
    namespacesByCreator: new Index(namespaces, (ns) => {
      const uid = ns.metadata.annotations?.[CREATED_BY_UID];
      return uid ? [uid] : [];
    }),
    tenantsByNamespace: new Index(tenants, (t) =>
      (t.spec?.environments ?? []).map((e) => namespaceName(t.metadata.name, e.name)),
    ),
    tenantsByUid: new Index(tenants, (t) => (t.metadata.uid ? [t.metadata.uid] : [])),
    tenantsByAllowed: new Index(tenants, (t) => allowedBy(t)),
    tenantsByDomain: new Index(tenants, (t) => domainsOf(t)),
    tenantsByDomainSuffix: new Index(tenants, (t) => domainsOf(t).flatMap(domainSuffixes)),
  };
}

/** The tenants with an allowed domain that overlaps one of `domains` (domainsOverlap). */
const tenantsWithOverlappingDomains = (ctx: Pick<TenantContext, 'indexes'>, domains: string[]): GovTenant[] =>
  overlappingHolders(
    domains,
    (d) => ctx.indexes.tenantsByDomain.list(d),
    (d) => ctx.indexes.tenantsByDomainSuffix.list(d),
  );

/** The tenants whose ingress domains can clash with this tenant's: all that ownedDomains compares. */
const domainRivals = (ctx: TenantContext, t: GovTenant): GovTenant[] =>
  tenantsWithOverlappingDomains(ctx, domainsOf(t));

/** Namespaces this tenant left behind (Retain): kept with their data until removed by hand. */
const retainedNamespaces = (ctx: TenantContext, t: GovTenant): KubeObject[] =>
  createdNamespaces(ctx, t).filter((ns) => isOrphaned(ns));

/** Namespaces the tenant created and still claims, excluding those left behind as orphans. */
const activeNamespaces = (ctx: TenantContext, t: GovTenant): KubeObject[] =>
  createdNamespaces(ctx, t).filter((ns) => belongsTo(ns, t.metadata.name) && !isOrphaned(ns));

const createdNamespaces = (ctx: TenantContext, t: GovTenant): KubeObject[] =>
  t.metadata.uid
    ? ctx.indexes.namespacesByCreator.list(t.metadata.uid).filter((ns) => createdByTenant(ns, t))
    : [];

/**
 * Tenants whose allowFromTenants name this tenant: its egress towards them is opened. An imported
 * tenant's allowance counts only towards tenants of its own origin: a peer never opens a local tenant.
 */
const peersAllowing = (ctx: TenantContext, t: GovTenant): string[] => {
  const origin = t.metadata.labels?.[ORIGIN_MEMBER];
  return ctx.indexes.tenantsByAllowed
    .list(t.metadata.name)
    .filter((o) => !o.metadata.labels?.[ORIGIN_MEMBER] || o.metadata.labels[ORIGIN_MEMBER] === origin)
    .map((o) => o.metadata.name);
};

export function tenantController(
  manager: Manager,
  settings: TenantSettings & { workers: number; ingressClassName: string },
): Controller {
  const tenants = manager.informer<GovTenant>(resources.GovTenant);
  const namespaces = manager.informer(resources.Namespace);
  const owned = new Map(OWNED_KINDS.map((r) => [r.kind, manager.informer(r, managedSelector)]));
  const services = manager.informer(resources.GovService);
  const classes = manager.informer<GovServiceClass>(resources.GovServiceClass);
  const log = manager.logger.child({ controller: 'govtenant' });
  const ownedIn = new Map([...owned].map(([kind, informer]) => [kind, new NamespaceIndex(informer)]));
  const indexes = tenantIndexes(tenants, namespaces, services);
  const ctx: TenantContext = {
    manager,
    settings,
    tenants,
    namespaces,
    owned,
    ownedIn,
    classes,
    ingressClassName: settings.ingressClassName,
    indexes,
    log,
    resuming: new Map(),
  };
  const names = (list: GovTenant[]): string[] => list.map((t) => t.metadata.name);
  // An unlabelled namespace matters to the tenant whose environment name it takes (conflicts).
  const claimedBy = (ns: KubeObject): string[] => names(indexes.tenantsByNamespace.list(ns.metadata.name));
  const tenantLabel = (o: KubeObject): string[] =>
    o.metadata.labels?.[TENANT] ? [o.metadata.labels[TENANT]] : [];
  // A namespace left behind no longer carries the tenant label: its creator lists it in its status.
  const creator = (ns: KubeObject): string[] => {
    const uid = ns.metadata.annotations?.[CREATED_BY_UID];
    return uid ? names(indexes.tenantsByUid.list(uid)) : [];
  };
  const overlapping = (t: KubeObject, old?: KubeObject): string[] =>
    names(tenantsWithOverlappingDomains(ctx, [...domainsOf(t), ...domainsOf(old)])).filter(
      (n) => n !== t.metadata.name,
    );
  return new Controller({
    name: 'govtenant',
    primary: tenants,
    watches: [
      { informer: namespaces, map: (ns) => [...tenantLabel(ns), ...claimedBy(ns), ...creator(ns)] },
      // A tenant that starts or stops allowing others changes their egress.
      { informer: tenants, map: (t, old) => [...allowedBy(t), ...allowedBy(old)] },
      // Ingress domains are owned against every other tenant's, and registries come from the catalog.
      { informer: tenants, map: (t, old) => overlapping(t, old) },
      // Status-only changes of classes and services (the bulk of their events) change nothing here.
      { informer: classes, map: onSpecOrLabelChange(() => tenants.list().map((t) => t.metadata.name)) },
      {
        informer: services,
        map: onSpecOrLabelChange((s) => tenantLabel(namespaces.get(s.metadata.namespace ?? '') ?? s)),
      },
      ...[...owned.values()].map((informer) => ({ informer, map: tenantLabel })),
    ],
    workers: settings.workers,
    logger: log,
    reconcile: (key) => reconcileTenant(key, ctx),
  });
}

export async function reconcileTenant(key: string, ctx: TenantContext): Promise<ReconcileResult | void> {
  const t = ctx.tenants.get(key);
  if (!t?.spec) return;
  const log = ctx.log.child({ name: t.metadata.name, tenant: t.metadata.name });
  if (t.metadata.deletionTimestamp) return finalizeTenant(t, ctx, log);
  const problems = checkTenant(t);
  if (problems.length) return reportInvalid(t, ctx, problems);
  await ctx.manager.applier.setFinalizer(t, FINALIZER, true);
  const wasSuspended = new Set(
    t.spec.environments
      .map((e) => namespaceName(t.metadata.name, e.name))
      .filter((ns) => ctx.namespaces.get(ns)?.metadata.labels?.[SUSPENDED] === 'true'),
  );
  const outcome = await applyTenant(t, ctx, log);
  await releaseRemovedEnvironments(t, ctx, log);
  await pruneObjects(t, ctx, log, new Set(outcome.appliedKeys));
  const requeueAfterMs = await suspendOrResume(t, ctx, log, {
    namespaces: outcome.namespaces,
    wasSuspended,
  });
  await writeStatus(t, ctx, outcome);
  return requeueAfterMs ? { requeueAfterMs } : undefined;
}

/** While pods of a suspended tenant are terminating, or a namespace was just resumed: look again this soon. */
const SUSPENSION_RECHECK_MS = 3000;

/**
 * Suspended: the pods of every environment are deleted (admission already refuses new ones), and
 * looked for again until none is left. Resumed: the workload controllers are woken at once and once
 * more a moment later, when the API server's admission surely sees the namespace unsuspended.
 */
async function suspendOrResume(
  t: GovTenant,
  ctx: TenantContext,
  log: Logger,
  { namespaces, wasSuspended }: { namespaces: string[]; wasSuspended: Set<string> },
): Promise<number | undefined> {
  let recheck: number | undefined;
  const soon = (ms: number) => (recheck = Math.min(recheck ?? ms, ms));
  for (const namespace of namespaces) {
    if (ctx.namespaces.get(namespace)?.metadata.deletionTimestamp) continue;
    if (t.spec!.suspended) {
      ctx.resuming.delete(namespace);
      const { deleted, left } = await stopPods(ctx.manager, namespace);
      if (deleted.length) {
        const message = `Deleted ${deleted.length} pod(s) in ${namespace}: the tenant is suspended`;
        ctx.manager.events.record(t, 'Normal', 'PodsStopped', message);
        log.info('stopped pods', { namespace, pods: deleted });
      }
      if (left > 0) soon(SUSPENSION_RECHECK_MS);
      continue;
    }
    const now = Date.now();
    if (wasSuspended.has(namespace)) {
      const woken = await wakeControllers(ctx.manager, namespace, new Date(now));
      ctx.resuming.set(namespace, now);
      soon(SUSPENSION_RECHECK_MS);
      const message = `Resumed ${namespace}: ${woken.length} workload controller(s) woken`;
      ctx.manager.events.record(t, 'Normal', 'Resumed', message);
      log.info('resumed', { namespace, woken });
      continue;
    }
    const resumedAt = ctx.resuming.get(namespace);
    if (resumedAt === undefined) continue;
    if (now < resumedAt + SUSPENSION_RECHECK_MS) {
      soon(resumedAt + SUSPENSION_RECHECK_MS - now);
      continue;
    }
    await wakeControllers(ctx.manager, namespace, new Date(now));
    ctx.resuming.delete(namespace);
  }
  return recheck;
}

/** A spec that cannot be applied as a whole: nothing is applied; QuotaApplied and Ready say why. */
async function reportInvalid(t: GovTenant, ctx: TenantContext, problems: string[]): Promise<void> {
  const now = new Date();
  const invalid = (type: string): ConditionUpdate => ({
    type,
    status: 'False',
    reason: 'InvalidLimits',
    message: problems.join('; '),
    observedGeneration: t.metadata.generation,
  });
  const conditions = setCondition(
    setCondition(t.status?.conditions, invalid('QuotaApplied'), now),
    invalid('Ready'),
    now,
  );
  const status: GovTenantStatus = { ...t.status, observedGeneration: t.metadata.generation, conditions };
  if (!statusChanged(t.status, status)) return;
  ctx.manager.events.record(t, 'Warning', 'InvalidLimits', problems.join('; '));
  await ctx.manager.applier.applyStatus(t, status);
}

interface TenantOutcome {
  namespaces: string[];
  conflicts: string[];
  appliedKeys: string[];
  /** Condition type -> the API server's refusal of an object of that condition's kinds. */
  refused: Map<string, string>;
}

/** The tenant being reconciled with its context and logger, and what this reconcile changed. */
interface Scope {
  t: GovTenant;
  ctx: TenantContext;
  log: Logger;
  /** "Created NetworkPolicy" -> the objects: one Event per kind and verb, not one per object. */
  changed: Map<string, string[]>;
}

const keyOf = (o: KubeObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

async function applyTenant(t: GovTenant, ctx: TenantContext, log: Logger): Promise<TenantOutcome> {
  const outcome: TenantOutcome = { namespaces: [], conflicts: [], appliedKeys: [], refused: new Map() };
  const scope: Scope = { t, ctx, log, changed: new Map() };
  try {
    await applyEnvironments(scope, outcome);
  } finally {
    recordChanges(scope); // what was done before a failure is reported too
  }
  return outcome;
}

/**
 * The target ports of the Services of the public and federated GovServices in a namespace (their
 * class's container port): what the ingress controller may reach there.
 */
function exposedPorts(ctx: TenantContext, namespace: string): number[] {
  return ctx.indexes.servicesIn
    .list(namespace)
    .filter((s) => !!s.spec?.host && s.spec.exposure !== 'internal')
    .map((s) => ctx.classes.get(s.spec!.class))
    .filter((c): c is GovServiceClass => !!c?.spec)
    .map(classPortOf);
}

async function applyEnvironments(scope: Scope, outcome: TenantOutcome): Promise<void> {
  const { t, ctx } = scope;
  const peers = peersAllowing(ctx, t);
  const guardrails = namespaceGuardrails(t, ctx);
  for (const env of t.spec!.environments) {
    const name = namespaceName(t.metadata.name, env.name);
    const live = ctx.namespaces.get(name);
    // Never adopt: a namespace this tenant did not create itself stays untouched, whatever its labels.
    if (live && !createdByTenant(live, t)) {
      outcome.conflicts.push(name);
      continue;
    }
    const desiredNs = tenantNamespace(t, env.name, { createdBy: t.metadata.uid, guardrails });
    await applyAndReport(scope, desiredNs);
    outcome.namespaces.push(desiredNs.metadata.name);
    if (live?.metadata.deletionTimestamp) continue;
    const inputs = { settings: ctx.settings, peersAllowingUs: peers, exposedPorts: exposedPorts(ctx, name) };
    for (const obj of environmentObjects(t, env, inputs)) {
      await applyOrRefuse(scope, obj, outcome);
    }
  }
}

/** What the namespaces' guardrail annotations say, from the other tenants, the catalog and the settings. */
function namespaceGuardrails(t: GovTenant, ctx: TenantContext): NamespaceGuardrails {
  return {
    ownedDomains: ownedDomains(t, domainRivals(ctx, t)).owned,
    registries: allowedRegistries(t, ctx.classes.list()),
    defaultIngressClass: ctx.ingressClassName,
  };
}

/** Whether every allowed ingress domain is the tenant's, or which an elder tenant holds. */
function domainsCondition(t: GovTenant, { owned, conflicts }: OwnedDomains): ConditionUpdate {
  const observedGeneration = t.metadata.generation;
  if (!conflicts.length)
    return {
      type: 'IngressDomains',
      status: 'True',
      reason: 'DomainsOwned',
      message: owned.length
        ? `Hosts under ${owned.join(', ')} may be exposed`
        : 'No ingress domain allowed: no host may be exposed',
      observedGeneration,
    };
  return {
    type: 'IngressDomains',
    status: 'False',
    reason: 'DomainConflict',
    message: `spec.ingress.allowedDomains: ${conflicts
      .map((c) => `${c.domain} overlaps ${c.holderDomain} of GovTenant ${c.holder}, which is older`)
      .join('; ')}; hosts under it are refused`,
    observedGeneration,
  };
}

/** An object the API server refuses as invalid becomes a condition; anything else is retried. */
async function applyOrRefuse(scope: Scope, obj: KubeObject, out: TenantOutcome): Promise<void> {
  try {
    await applyAndReport(scope, obj);
    out.appliedKeys.push(keyOf(obj));
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 422 && e.status !== 400)) throw e;
    out.appliedKeys.push(keyOf(obj)); // keep what exists rather than prune it for a refused update
    out.refused.set(
      CONDITION_OF_KIND[obj.kind] ?? 'Ready',
      `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}: ${e.message}`,
    );
  }
}

async function applyAndReport(scope: Scope, desired: KubeObject): Promise<void> {
  const { action, object } = await scope.ctx.manager.applier.apply(desired);
  if (action === 'unchanged') return;
  const where = object.metadata.namespace ? `${object.metadata.namespace}/` : '';
  const change = `${action === 'created' ? 'Created' : 'Updated'} ${object.kind}`;
  scope.changed.set(change, [...(scope.changed.get(change) ?? []), `${where}${object.metadata.name}`]);
}

/** Events cap their message at 1024 characters: long lists of objects are split across Events. */
const EVENT_MESSAGE_BUDGET = 900;

/**
 * One log line per kind and verb ("Created NetworkPolicy a-prod/x, a-test/x") and one Event per verb
 * in a reconcile, naming every object by kind ("Created Namespace a-prod, a-test; ResourceQuota
 * a-prod/secovia-quota, ..."), not one per object nor per kind: a first reconcile makes twenty
 * objects of five kinds, and at scale the Events were the largest share of the operator's writes.
 */
function recordChanges({ t, ctx, log, changed }: Scope): void {
  for (const [change, objects] of changed) log.info(change, { kind: change.split(' ')[1], objects });
  for (const { reason, message } of changeEvents(changed))
    ctx.manager.events.record(t, 'Normal', reason, message);
}

/** The Events of a reconcile's changes ("Created Namespace" → its objects): one per verb, split when long. */
export function changeEvents(
  changed: ReadonlyMap<string, readonly string[]>,
): { reason: string; message: string }[] {
  const byVerb = new Map<string, [string, readonly string[]][]>();
  for (const [change, objects] of changed) {
    const [verb, kind] = change.split(' ') as [string, string];
    byVerb.set(verb, [...(byVerb.get(verb) ?? []), [kind, objects]]);
  }
  return [...byVerb].flatMap(([verb, kinds]) =>
    verbMessages(verb, kinds).map((message) => ({ reason: `Objects${verb}`, message })),
  );
}

/** "Created Namespace a, b; NetworkPolicy c, ...", in as many messages as the budget needs. */
function verbMessages(verb: string, kinds: [string, readonly string[]][]): string[] {
  const messages: string[] = [];
  let message = '';
  for (const [kind, objects] of kinds) {
    objects.forEach((o, i) => {
      const piece = i > 0 ? `, ${o}` : `${message ? '; ' : `${verb} `}${kind} ${o}`;
      if (message && message.length + piece.length > EVENT_MESSAGE_BUDGET) {
        messages.push(message);
        message = `${verb} ${kind} ${o}`;
      } else message += piece;
    });
  }
  if (message) messages.push(message);
  return messages;
}

/** Deletes managed objects of this tenant, in its active namespaces, that the spec no longer asks for. */
async function pruneObjects(t: GovTenant, ctx: TenantContext, log: Logger, keep: Set<string>): Promise<void> {
  const active = new Set(activeNamespaces(ctx, t).map((ns) => ns.metadata.name));
  for (const [kind, index] of ctx.ownedIn) {
    const stale = [...active]
      .flatMap((namespace) => index.list(namespace))
      .filter(
        (o) =>
          belongsTo(o, t.metadata.name) && !o.metadata.labels?.[SERVICE] && !keep.has(keyOf({ ...o, kind })),
      );
    for (const obj of stale) {
      if (!(await ctx.manager.applier.delete(resourceFor(obj.apiVersion, kind), obj))) continue;
      ctx.manager.events.record(
        t,
        'Normal',
        `${kind}Deleted`,
        `Deleted ${kind} ${obj.metadata.namespace}/${obj.metadata.name}: no longer in the spec`,
      );
      log.info(`deleted ${kind}`, { kind, object: obj.metadata.name, namespace: obj.metadata.namespace });
    }
  }
}

/** Environments removed from the spec follow the deletion policy. */
async function releaseRemovedEnvironments(t: GovTenant, ctx: TenantContext, log: Logger): Promise<void> {
  const wanted = new Set(t.spec!.environments.map((e) => namespaceName(t.metadata.name, e.name)));
  for (const ns of activeNamespaces(ctx, t).filter((n) => !wanted.has(n.metadata.name))) {
    await releaseNamespace(t, ctx, log, ns);
  }
}

/**
 * Retain: the namespace and everything in it stay, labelled orphaned, with no owner reference left
 * that garbage collection could follow. Delete: only a namespace this very tenant created goes.
 */
async function releaseNamespace(
  t: GovTenant,
  ctx: TenantContext,
  log: Logger,
  ns: KubeObject,
): Promise<void> {
  const policy = t.spec!.deletionPolicy ?? 'Retain';
  if (policy === 'Delete' && ns.metadata.annotations?.[CREATED_BY_UID] === t.metadata.uid) {
    if (ns.metadata.deletionTimestamp) return;
    await ctx.manager.applier.delete(resources.Namespace, ns);
    ctx.manager.events.record(
      t,
      'Normal',
      'NamespaceDeleted',
      `Deleted namespace ${ns.metadata.name} (deletionPolicy Delete)`,
    );
    log.info('deleted namespace', { namespace: ns.metadata.name, deletionPolicy: policy });
    return;
  }
  await dropOwnerReferences(t, ctx, ns.metadata.name);
  await revokeAccess(t, ctx, ns.metadata.name);
  const env = ns.metadata.labels?.[ENVIRONMENT] ?? ns.metadata.name.slice(t.metadata.name.length + 1);
  await ctx.manager.applier.apply(retainedNamespace(t, env, ns.metadata.annotations?.[CREATED_BY_UID]));
  ctx.manager.events.record(
    t,
    'Normal',
    'NamespaceOrphaned',
    `Released namespace ${ns.metadata.name}; it and its data are kept, without the tenant's label and access (deletionPolicy ${policy})`,
  );
  log.info('orphaned namespace', { namespace: ns.metadata.name, deletionPolicy: policy });
}

/** A namespace left behind keeps no one's access: the tenant's RoleBindings there are deleted. */
async function revokeAccess(t: GovTenant, ctx: TenantContext, namespace: string): Promise<void> {
  const bindings = ctx.ownedIn
    .get('RoleBinding')!
    .list(namespace)
    .filter((o) => belongsTo(o, t.metadata.name) && !o.metadata.labels?.[SERVICE]);
  for (const binding of bindings) await ctx.manager.applier.delete(resources.RoleBinding, binding);
}

async function dropOwnerReferences(t: GovTenant, ctx: TenantContext, namespace: string): Promise<void> {
  for (const [kind, index] of ctx.ownedIn) {
    const ownedByTenant = index
      .list(namespace)
      .filter((o) => (o.metadata.ownerReferences ?? []).some((r) => r.uid === t.metadata.uid));
    for (const obj of ownedByTenant) {
      const r = resourceFor(obj.apiVersion, kind);
      await ctx.manager.client.request('PATCH', objectPath(r, obj.metadata.name, namespace), {
        contentType: 'application/merge-patch+json',
        body: { metadata: { ownerReferences: null } },
      });
    }
  }
}

async function finalizeTenant(t: GovTenant, ctx: TenantContext, log: Logger): Promise<void> {
  if (!t.metadata.finalizers?.includes(FINALIZER)) return;
  for (const ns of activeNamespaces(ctx, t)) await releaseNamespace(t, ctx, log, ns);
  await ctx.manager.applier.setFinalizer(t, FINALIZER, false);
  log.info('tenant finalized', { deletionPolicy: t.spec!.deletionPolicy ?? 'Retain' });
}

function namespacesCondition(out: TenantOutcome, generation?: number): ConditionUpdate {
  if (out.conflicts.length) {
    return {
      type: 'NamespacesReady',
      status: 'False',
      reason: 'NamespaceConflict',
      message: `Namespace ${out.conflicts.join(', ')} already exists and does not belong to this tenant; it was left untouched`,
      observedGeneration: generation,
    };
  }
  const message = `${out.namespaces.length} environment namespace(s) present`;
  return {
    type: 'NamespacesReady',
    status: 'True',
    reason: 'NamespacesCreated',
    message,
    observedGeneration: generation,
  };
}

const APPLIED_REASON: Record<string, [string, string]> = {
  QuotaApplied: ['QuotaApplied', 'ResourceQuota and LimitRange applied in every environment'],
  NetworkIsolated: ['NetworkPoliciesApplied', 'NetworkPolicies applied in every environment'],
  AccessGranted: ['RoleBindingsApplied', 'Access RoleBindings applied in every environment'],
};

function appliedCondition(type: string, out: TenantOutcome, generation?: number): ConditionUpdate {
  const refused = out.refused.get(type);
  if (refused)
    return { type, status: 'False', reason: 'InvalidSpec', message: refused, observedGeneration: generation };
  const [reason, message] = APPLIED_REASON[type]!;
  return { type, status: 'True', reason, message, observedGeneration: generation };
}

function suspendedCondition(t: GovTenant): ConditionUpdate {
  return t.spec!.suspended
    ? {
        type: 'Suspended',
        status: 'True',
        reason: 'Suspended',
        message:
          'Tenant suspended: its pods are stopped, no new pod, workload or GovService is admitted, its GovServices are scaled to zero; data and objects are kept',
        observedGeneration: t.metadata.generation,
      }
    : {
        type: 'Suspended',
        status: 'False',
        reason: 'Active',
        message: 'Tenant active',
        observedGeneration: t.metadata.generation,
      };
}

/** An imported tenant says whether its origin member is in contact (the federation marks it). */
function staleCondition(t: GovTenant): ConditionUpdate[] {
  const origin = t.metadata.labels?.[ORIGIN_MEMBER];
  if (!origin) return [];
  const since = t.metadata.annotations?.[STALE_SINCE];
  const observedGeneration = t.metadata.generation;
  return [
    since
      ? {
          type: 'Stale',
          status: 'True',
          reason: 'OriginUnreachable',
          message: `No contact with ${origin} since ${since}; kept as last seen`,
          observedGeneration,
        }
      : {
          type: 'Stale',
          status: 'False',
          reason: 'OriginReachable',
          message: `Imported from ${origin} and kept equal to it`,
          observedGeneration,
        },
  ];
}

function environmentsStatus(t: GovTenant, ctx: TenantContext): NonNullable<GovTenantStatus['environments']> {
  const quotas = ctx.owned.get('ResourceQuota')!;
  return t.spec!.environments.map((env) => {
    const namespace = namespaceName(t.metadata.name, env.name);
    const ns = ctx.namespaces.get(namespace);
    const quota = quotas.get('secovia-quota', namespace)?.status as
      { hard?: Record<string, string>; used?: Record<string, string> } | undefined;
    return {
      name: env.name,
      namespace,
      ready: !!ns && ns.metadata.labels?.[TENANT] === t.metadata.name && !ns.metadata.deletionTimestamp,
      ...(quota?.hard ? { quota: { hard: quota.hard, used: quota.used ?? {} } } : {}),
    };
  });
}

async function writeStatus(t: GovTenant, ctx: TenantContext, out: TenantOutcome): Promise<void> {
  const now = new Date();
  const generation = t.metadata.generation;
  let conditions: Condition[] = t.status?.conditions ?? [];
  const updates = [
    namespacesCondition(out, generation),
    ...['QuotaApplied', 'NetworkIsolated', 'AccessGranted'].map((type) =>
      appliedCondition(type, out, generation),
    ),
  ];
  const domains = ownedDomains(t, domainRivals(ctx, t));
  for (const c of [...updates, suspendedCondition(t), domainsCondition(t, domains), ...staleCondition(t)])
    conditions = setCondition(conditions, c, now);
  conditions = setCondition(conditions, readyFrom(conditions, READY_TYPES, generation), now);
  const namespaces = new Set(out.namespaces);
  const status: GovTenantStatus = {
    ...t.status,
    observedGeneration: generation,
    conditions,
    namespaces: out.namespaces,
    environments: environmentsStatus(t, ctx),
    services: [...namespaces].reduce((n, ns) => n + ctx.indexes.servicesIn.list(ns).length, 0),
    ingressDomains: domains.owned,
    retainedNamespaces: retainedNamespaces(ctx, t)
      .map((ns) => ns.metadata.name)
      .filter((name) => !namespaces.has(name))
      .sort(),
  };
  if (!statusChanged(t.status, status)) return;
  const wasConflict =
    t.status?.conditions?.find((c) => c.type === 'NamespacesReady')?.reason === 'NamespaceConflict';
  if (out.conflicts.length && !wasConflict) {
    ctx.manager.events.record(
      t,
      'Warning',
      'NamespaceConflict',
      `Namespace ${out.conflicts.join(', ')} exists and is not this tenant's; left untouched`,
    );
  }
  await ctx.manager.applier.applyStatus(t, status);
}
