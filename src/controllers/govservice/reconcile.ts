/** GovService reconciler: load -> check -> desired -> apply -> prune -> status from the Deployment. */
import type { GovService, GovServiceClass, GovServiceStatus, GovTenant } from '../../api/index.js';
import type { ApplyOutcome } from '../../runtime/apply.js';
import { Index, NamespaceIndex, type Informer } from '../../runtime/cache.js';
import type { ReconcileResult } from '../../runtime/controller.js';
import { byControllerRef, Controller } from '../../runtime/controller.js';
import { statusChanged } from '../../runtime/conditions.js';
import { ApiError } from '../../runtime/kube.js';
import type { Logger } from '../../runtime/log.js';
import type { Manager } from '../../runtime/manager.js';
import { objectKey, type ResourceType } from '../../runtime/resources.js';
import type { KubeObject } from '../../runtime/types.js';
import { APP_VERSION, isManaged, managedSelector, SERVICE, TENANT } from '../labels.js';
import { resourceFor, resources } from '../resources.js';
import { hostAllowed } from '../govtenant/guardrails.js';
import { checkService, type Problem } from './checks.js';
import { replicasToHold, serviceObjects, type ServiceInputs, type ServiceSettings } from './desired.js';
import { serviceStatus, type DeploymentStatus, type Observed } from './status.js';

/** Kinds a GovService owns: watched for drift, pruned when the spec no longer asks for them. */
const OWNED_KINDS: ResourceType[] = [
  resources.ServiceAccount,
  resources.ConfigMap,
  resources.Deployment,
  resources.Service,
  resources.Ingress,
  resources.HorizontalPodAutoscaler,
  resources.PodDisruptionBudget,
  resources.NetworkPolicy,
];

interface ServiceContext {
  manager: Manager;
  settings: ServiceSettings;
  services: Informer<GovService>;
  classes: Informer<GovServiceClass>;
  tenants: Informer<GovTenant>;
  namespaces: Informer;
  owned: Map<string, Informer>;
  /** The same owned objects by namespace: prune looks at the service's namespace only. */
  ownedIn: Map<string, NamespaceIndex>;
  /** Services by host: a host conflict is a lookup, not a scan of every service. */
  byHost: Index<GovService>;
  log: Logger;
}

const tenantOfNamespace = (ctx: ServiceContext, namespace: string): GovTenant | undefined => {
  const name = ctx.namespaces.get(namespace)?.metadata.labels?.[TENANT];
  return name ? ctx.tenants.get(name) : undefined;
};

export function serviceController(
  manager: Manager,
  settings: ServiceSettings & { workers: number },
): Controller {
  const services = manager.informer<GovService>(resources.GovService);
  const classes = manager.informer<GovServiceClass>(resources.GovServiceClass);
  const tenants = manager.informer<GovTenant>(resources.GovTenant);
  const namespaces = manager.informer(resources.Namespace);
  const owned = new Map(OWNED_KINDS.map((r) => [r.kind, manager.informer(r, managedSelector)]));
  const log = manager.logger.child({ controller: 'govservice' });
  const ownedIn = new Map([...owned].map(([kind, informer]) => [kind, new NamespaceIndex(informer)]));
  const byHost = new Index(services, (s) => (s.spec?.host ? [s.spec.host] : []));
  const byClass = new Index(services, (s) => (s.spec?.class ? [s.spec.class] : []));
  const ctx: ServiceContext = {
    manager,
    settings,
    services,
    classes,
    tenants,
    namespaces,
    owned,
    ownedIn,
    byHost,
    log,
  };
  const keysOf = (list: GovService[]): string[] =>
    list.map((s) => objectKey(s.metadata.name, s.metadata.namespace));
  const hostOf = (o?: KubeObject): string | undefined => (o?.spec as GovService['spec'])?.host;
  // Host conflicts involve two services: a change of either re-checks the other.
  const sameHost = (o: KubeObject, old?: KubeObject): string[] => {
    const hosts = new Set([hostOf(o), hostOf(old)].filter((h): h is string => !!h));
    return keysOf([...hosts].flatMap((h) => byHost.list(h)));
  };
  const ofTenant = (t: KubeObject): string[] =>
    keysOf(
      services.list(
        (s) => ctx.namespaces.get(s.metadata.namespace ?? '')?.metadata.labels?.[TENANT] === t.metadata.name,
      ),
    );
  return new Controller({
    name: 'govservice',
    primary: services,
    watches: [
      { informer: services, map: sameHost },
      { informer: classes, map: (c) => keysOf(byClass.list(c.metadata.name)) },
      { informer: tenants, map: ofTenant },
      ...[...owned.values()].map((informer) => ({ informer, map: byControllerRef('GovService', true) })),
    ],
    workers: settings.workers,
    logger: log,
    reconcile: (key) => reconcileService(key, ctx),
  });
}

/**
 * The other services that may hold this service's host: only those whose tenant owns a domain over
 * it. A service refused the host (HostNotAllowed) never blocks its owner's, however early it came.
 */
function othersWithHost(ctx: ServiceContext, s: GovService): GovService[] {
  const host = s.spec?.host;
  if (!host) return [];
  const entitled = (o: GovService): boolean =>
    hostAllowed(
      host,
      tenantOfNamespace(ctx, o.metadata.namespace ?? '')?.status?.ingressDomains ?? [],
      false,
    );
  return ctx.byHost.list(host).filter((o) => o.metadata.uid !== s.metadata.uid && entitled(o));
}

export async function reconcileService(key: string, ctx: ServiceContext): Promise<ReconcileResult | void> {
  const s = ctx.services.get(key);
  if (!s?.spec || s.metadata.deletionTimestamp) return; // children go with it: they carry owner references
  const namespace = s.metadata.namespace ?? '';
  const log = ctx.log.child({ name: s.metadata.name, namespace });
  const tenant = tenantOfNamespace(ctx, namespace);
  const deployment = ctx.owned.get('Deployment')!.get(s.metadata.name, namespace);
  const checked = checkService({
    service: s,
    namespaceTenant: tenant,
    serviceClass: ctx.classes.get(s.spec.class),
    otherServices: othersWithHost(ctx, s),
    runningVersion: deployment?.metadata.labels?.[APP_VERSION],
  });
  if (checked.problems.length || !tenant || !checked.version || !checked.plan) {
    return writeStatus(s, ctx, { problems: checked.problems, tenant });
  }
  const inputs: ServiceInputs = {
    service: s,
    serviceClass: ctx.classes.get(s.spec.class)!,
    tenant,
    version: checked.version,
    plan: checked.plan,
    settings: ctx.settings,
  };
  const desired = { objects: serviceObjects(inputs), hold: holdFor(ctx, inputs, deployment) };
  const refused = await applyAll(s, ctx, log, desired);
  await prune(s, ctx, log, new Set(desired.objects.map(keyOf)));
  await writeStatus(s, ctx, {
    problems: refused ? [refused] : [],
    tenant,
    version: checked.version,
    deprecated: checked.deprecated,
    plan: checked.plan,
  });
}

const keyOf = (o: KubeObject): string => `${o.kind}/${o.metadata.name}`;

/** The objects to apply, and the replicas to hold the Deployment at (see replicasToHold). */
interface Desired {
  objects: KubeObject[];
  hold?: number;
}

function holdFor(ctx: ServiceContext, inputs: ServiceInputs, deployment?: KubeObject): number | undefined {
  const { name, namespace } = inputs.service.metadata;
  return replicasToHold(inputs, {
    replicas: (deployment?.spec as { replicas?: number } | undefined)?.replicas,
    autoscalerExists: !!ctx.owned.get('HorizontalPodAutoscaler')!.get(name, namespace),
  });
}

/**
 * Holds the replicas of an autoscaled Deployment (see replicasToHold) before its apply when it exists,
 * so that the apply never drops replicas that it owned (a fixed plan's, zero while suspended) to the
 * default of 1, and after the apply that creates it.
 */
async function applyHolding(
  ctx: ServiceContext,
  log: Logger,
  obj: KubeObject,
  hold: number | undefined,
): Promise<ApplyOutcome> {
  if (obj.kind !== 'Deployment' || hold === undefined) return ctx.manager.applier.apply(obj);
  const holdReplicas = async () => {
    await ctx.manager.applier.hold(obj, { spec: { replicas: hold } }, 'replicas');
    log.info('held Deployment replicas until the HPA holds them', {
      object: obj.metadata.name,
      replicas: hold,
    });
  };
  const exists = !!ctx.owned.get('Deployment')!.get(obj.metadata.name, obj.metadata.namespace);
  if (exists) await holdReplicas();
  const outcome = await ctx.manager.applier.apply(obj);
  if (!exists) await holdReplicas();
  return outcome;
}

/** Applies every object; a quota refusal becomes a problem naming the quota instead of a crash loop. */
async function applyAll(
  s: GovService,
  ctx: ServiceContext,
  log: Logger,
  desired: Desired,
): Promise<Problem | undefined> {
  for (const obj of desired.objects) {
    try {
      const { action } = await applyHolding(ctx, log, obj, desired.hold);
      if (action === 'unchanged') continue;
      const verb = action === 'created' ? 'Created' : 'Updated';
      ctx.manager.events.record(
        s,
        'Normal',
        `${obj.kind}${verb}`,
        `${verb} ${obj.kind} ${obj.metadata.name}`,
      );
      log.info(`${action} ${obj.kind}`, {
        kind: obj.kind,
        object: obj.metadata.name,
        tenant: obj.metadata.labels?.[TENANT],
      });
    } catch (e) {
      const problem = refusalProblem(obj, e);
      if (!problem) throw e;
      return problem;
    }
  }
  return undefined;
}

/** Refusals that retrying the same object cannot fix, by HTTP status: the object itself is at fault. */
const REFUSED_OBJECT: Record<number, string> = {
  400: 'ObjectRejected',
  413: 'ObjectTooLarge',
  422: 'ObjectInvalid',
};

/**
 * An API server refusal that only a change (of the spec, the quota, the tenant) can lift, as a
 * problem with the server's own message: it ends in the status instead of in retries. Anything
 * else (conflicts, timeouts, unavailability) is thrown and retried.
 */
export function refusalProblem(obj: KubeObject, e: unknown): Problem | undefined {
  if (!(e instanceof ApiError)) return undefined;
  const what = `${obj.kind} ${obj.metadata.name}`;
  if (e.status === 403 && /exceeded quota/.test(e.message))
    return { reason: 'QuotaExceeded', message: `${what} refused: ${e.message}` };
  if (e.status === 403 && /is suspended/.test(e.message))
    return { reason: 'TenantSuspended', message: `${what} refused: ${e.message}` };
  const reason = REFUSED_OBJECT[e.status];
  if (!reason) return undefined;
  return { reason, message: `${what} refused by the API server (HTTP ${e.status}): ${e.message}` };
}

async function prune(s: GovService, ctx: ServiceContext, log: Logger, keep: Set<string>): Promise<void> {
  for (const [kind, index] of ctx.ownedIn) {
    const stale = index
      .list(s.metadata.namespace ?? '')
      .filter(
        (o) =>
          isManaged(o.metadata.labels) &&
          o.metadata.labels?.[SERVICE] === s.metadata.name &&
          (o.metadata.ownerReferences ?? []).some((r) => r.uid === s.metadata.uid) &&
          !keep.has(`${kind}/${o.metadata.name}`),
      );
    for (const obj of stale) {
      if (!(await ctx.manager.applier.delete(resourceFor(obj.apiVersion, kind), obj))) continue;
      ctx.manager.events.record(
        s,
        'Normal',
        `${kind}Deleted`,
        `Deleted ${kind} ${obj.metadata.name}: no longer needed`,
      );
      log.info(`deleted ${kind}`, { kind, object: obj.metadata.name });
    }
  }
}

/** A Warning event when the service turns not Ready for a new reason that needs an admin (not a rollout). */
function warnOnNewProblem(s: GovService, ctx: ServiceContext, obs: Observed, status: GovServiceStatus): void {
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  if (!ready || ready.status !== 'False') return;
  const wasReason = s.status?.conditions?.find((c) => c.type === 'Ready')?.reason;
  const isProblem = obs.problems.length > 0 || ready.reason === 'QuotaExceeded';
  if (isProblem && ready.reason !== wasReason)
    ctx.manager.events.record(s, 'Warning', ready.reason, ready.message);
}

async function writeStatus(s: GovService, ctx: ServiceContext, obs: Observed): Promise<void> {
  const live = ctx.owned.get('Deployment')!.get(s.metadata.name, s.metadata.namespace);
  const d = obs.problems.length ? undefined : (live?.status as DeploymentStatus | undefined);
  const status = serviceStatus(s, { ...obs, deploymentGeneration: live?.metadata.generation }, d, new Date());
  if (!statusChanged(s.status, status)) return;
  warnOnNewProblem(s, ctx, obs, status);
  await ctx.manager.applier.applyStatus(s, status);
}
