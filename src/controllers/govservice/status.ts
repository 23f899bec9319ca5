/** Pure status of a GovService: its conditions and what runs, from the checks and the real Deployment. */
import type { GovService, GovServiceStatus, GovTenant } from '../../api/index.js';
import { readyFrom, setCondition, type ConditionUpdate } from '../../runtime/conditions.js';
import type { Condition } from '../../runtime/types.js';
import type { Plan, Problem } from './checks.js';
import { minReplicas, serviceUrl } from './desired.js';

/** The status of the service's Deployment, as the deployment controller reports it. */
export interface DeploymentStatus {
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  observedGeneration?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

/** The cache keeps these fields of a Deployment's status and no other. */
export const DEPLOYMENT_STATUS_READ = Object.keys({
  replicas: true,
  readyReplicas: true,
  updatedReplicas: true,
  observedGeneration: true,
  conditions: true,
} satisfies Record<keyof DeploymentStatus, true>);

/** What the reconcile found: problems (checks or refusals), else the tenant, version and plan it applied. */
export interface Observed {
  problems: Problem[];
  tenant?: GovTenant;
  version?: string;
  deprecated?: boolean;
  plan?: Plan;
  /** The Deployment's metadata.generation: a status that has not observed it yet describes an older spec. */
  deploymentGeneration?: number;
}

const deploymentCondition = (d: DeploymentStatus | undefined, type: string) =>
  d?.conditions?.find((c) => c.type === type);

/** A ReplicaSet that cannot create pods because of a quota says so in the Deployment's ReplicaFailure condition. */
function podQuotaProblem(d: DeploymentStatus | undefined): Problem | undefined {
  const failure = deploymentCondition(d, 'ReplicaFailure');
  if (failure?.status !== 'True' || !/exceeded quota/.test(failure.message ?? '')) return undefined;
  return { reason: 'QuotaExceeded', message: `Pods refused: ${failure.message}` };
}

function workloadConditions(
  s: GovService,
  obs: Observed,
  d: DeploymentStatus | undefined,
): ConditionUpdate[] {
  const g = s.metadata.generation;
  const available = deploymentCondition(d, 'Available');
  const progressing = deploymentCondition(d, 'Progressing');
  const copy = (
    type: string,
    c?: { status: string; reason?: string; message?: string },
  ): ConditionUpdate => ({
    type,
    status: c?.status === 'True' || c?.status === 'False' ? c.status : 'Unknown',
    reason: c?.reason?.replace(/[^A-Za-z0-9]/g, '') || 'DeploymentNotObserved',
    message: c?.message ?? 'The Deployment has not reported this condition yet',
    observedGeneration: g,
  });
  const suspended = !!obs.tenant?.spec?.suspended;
  return [
    copy('Available', available),
    copy('Progressing', progressing),
    suspended
      ? {
          type: 'Suspended',
          status: 'True',
          reason: 'TenantSuspended',
          message: `Tenant ${obs.tenant?.metadata.name} is suspended: scaled to zero`,
          observedGeneration: g,
        }
      : {
          type: 'Suspended',
          status: 'False',
          reason: 'TenantActive',
          message: 'The tenant is active',
          observedGeneration: g,
        },
    obs.deprecated
      ? {
          type: 'VersionDeprecated',
          status: 'True',
          reason: 'VersionRemovedFromClass',
          message: `Version ${obs.version} is no longer offered by class ${s.spec!.class}; it keeps running, choose one of the class versions`,
          observedGeneration: g,
        }
      : {
          type: 'VersionDeprecated',
          status: 'False',
          reason: 'VersionOffered',
          message: `Version ${obs.version} is offered by the class`,
          observedGeneration: g,
        },
  ];
}

const notReady = (reason: string, message: string, g?: number): ConditionUpdate => ({
  type: 'Ready',
  status: 'False',
  reason,
  message,
  observedGeneration: g,
});

/** Ready False for a problem (of the checks, an apply or the pods' quota) or a suspended tenant. */
function blockedCondition(
  obs: Observed,
  d: DeploymentStatus | undefined,
  g?: number,
): ConditionUpdate | undefined {
  const problems = obs.problems.length ? obs.problems : [podQuotaProblem(d)].filter((p): p is Problem => !!p);
  if (problems.length) return notReady(problems[0]!.reason, problems.map((p) => p.message).join('; '), g);
  if (obs.tenant?.spec?.suspended)
    return notReady('TenantSuspended', 'Scaled to zero while the tenant is suspended', g);
  return undefined;
}

/**
 * Ready by the replicas: at least those the plan guarantees ready, and fully rolled out. A fixed
 * plan guarantees its replicas: the Deployment must also be Available (with maxUnavailable 0, every
 * replica available). An autoscaled plan guarantees its autoscaler's minimum, and that is what
 * counts: the Deployment's Available compares with the HPA's current target, so it is True on a
 * Deployment that the HPA has not raised to its minimum yet, and False during any scale-up above it:
 * Ready stays True then, and the scale-up shows in the copied Available and in the replicas.
 */
function replicasCondition(
  plan: Plan,
  d: DeploymentStatus | undefined,
  conditions: Condition[],
  g?: number,
): ConditionUpdate {
  const available = readyFrom(conditions, ['Available'], g);
  if (!plan.autoscaling && available.status !== 'True') return available;
  const ready = d?.readyReplicas ?? 0;
  const min = minReplicas(plan);
  if (ready < min) {
    const message = `${ready} of ${min} replicas ready, the minimum of plan ${plan.name}`;
    return notReady('MinimumReplicasNotReady', message, g);
  }
  const updated = d?.updatedReplicas ?? 0;
  const wanted = d?.replicas ?? 0;
  if (updated !== wanted) return notReady('RollingOut', `${updated} of ${wanted} replicas updated`, g);
  if (!plan.autoscaling) return available;
  const message = `${ready} of ${wanted} replicas ready, at least the minimum ${min} of plan ${plan.name}`;
  return { type: 'Ready', status: 'True', reason: 'Reconciled', message, observedGeneration: g };
}

/**
 * Ready: no problem, not suspended, and ready by the replicas. Never True with fewer ready replicas
 * than the plan guarantees: its replicas, or its autoscaler's minimum.
 */
function readyCondition(
  s: GovService,
  obs: Observed,
  d: DeploymentStatus | undefined,
  conditions: Condition[],
): ConditionUpdate {
  const g = s.metadata.generation;
  const blocked = blockedCondition(obs, d, g);
  if (blocked) return blocked;
  const seen = d?.observedGeneration ?? 0;
  if (obs.plan && obs.deploymentGeneration !== undefined && seen < obs.deploymentGeneration)
    return notReady('RollingOut', `the Deployment's status is of generation ${seen}, older than its spec`, g);
  return obs.plan ? replicasCondition(obs.plan, d, conditions, g) : readyFrom(conditions, ['Available'], g);
}

/** The service's status: conditions from the checks or the Deployment, and what runs where. */
export function serviceStatus(
  s: GovService,
  obs: Observed,
  d: DeploymentStatus | undefined,
  now: Date,
): GovServiceStatus {
  let conditions: Condition[] = s.status?.conditions ?? [];
  const workload = obs.problems.length ? [] : workloadConditions(s, obs, d);
  for (const c of workload) conditions = setCondition(conditions, c, now);
  conditions = setCondition(conditions, readyCondition(s, obs, d, conditions), now);
  const running = obs.problems.length
    ? {}
    : {
        url: serviceUrl(s),
        version: obs.version,
        replicas: d?.replicas ?? 0,
        readyReplicas: d?.readyReplicas ?? 0,
      };
  return { ...s.status, observedGeneration: s.metadata.generation, conditions, ...running };
}
