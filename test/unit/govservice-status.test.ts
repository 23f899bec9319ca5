/**
 * The status of a GovService from its Deployment: Ready is never True with fewer ready replicas than
 * the plan guarantees (its replicas, or its autoscaler's minimum), and an autoscaled service does not
 * flap while its HPA raises the Deployment to the minimum or scales it above.
 */
import type { GovService, GovTenant } from '../../src/api/index.js';
import type { Plan } from '../../src/controllers/govservice/checks.js';
import {
  serviceStatus,
  type DeploymentStatus,
  type Observed,
} from '../../src/controllers/govservice/status.js';
import type { Condition } from '../../src/runtime/types.js';

const AUTOSCALED: Plan = {
  name: 'standard',
  autoscaling: { minReplicas: 2, maxReplicas: 6, cpuUtilization: 75 },
};
const FIXED: Plan = { name: 'small', replicas: 2 };
const GENERATION = 3;
const NOW = new Date('2025-03-01T10:00:00Z');

const service = (conditions?: Condition[]): GovService => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovService',
  metadata: { name: 'delivery', namespace: 'mk-skopje-prod', generation: GENERATION },
  spec: { class: 'e-delivery', plan: 'standard', exposure: 'internal' },
  ...(conditions ? { status: { conditions } } : {}),
});

const tenant = (suspended = false): GovTenant =>
  ({ metadata: { name: 'mk-skopje' }, spec: { suspended } }) as unknown as GovTenant;

const observed = (plan: Plan, extra: Partial<Observed> = {}): Observed => ({
  problems: [],
  tenant: tenant(),
  version: '5.1.0',
  plan,
  ...extra,
});

/** A Deployment's status as the deployment controller reports it (maxUnavailable 0, minReadySeconds 0). */
function deployment(replicas: number, ready: number, updated = replicas): DeploymentStatus {
  const available = ready >= replicas;
  return {
    replicas,
    readyReplicas: ready,
    updatedReplicas: updated,
    conditions: [
      available
        ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' } // prettier-ignore
        : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, // prettier-ignore
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet has successfully progressed.' }, // prettier-ignore
    ],
  };
}

const condition = (status: { conditions?: Condition[] }, type: string): Condition | undefined =>
  status.conditions?.find((c) => c.type === type);

function ready(plan: Plan, d: DeploymentStatus | undefined, extra: Partial<Observed> = {}): Condition {
  return condition(serviceStatus(service(), observed(plan, extra), d, NOW), 'Ready')!;
}

type Expected = Pick<Condition, 'status' | 'reason' | 'message'>;
const waiting = (ready: number, plan = 'standard', of = 2): Expected => ({
  status: 'False',
  reason: 'MinimumReplicasNotReady',
  message: `${ready} of ${of} replicas ready, the minimum of plan ${plan}`,
});
const readyWith = (ready: number, of: number): Expected => ({
  status: 'True',
  reason: 'Reconciled',
  message: `${ready} of ${of} replicas ready, at least the minimum 2 of plan standard`,
});
const rollingOut: Expected = { status: 'False', reason: 'RollingOut', message: '1 of 2 replicas updated' };
const HA: Plan = { name: 'ha', replicas: 3 };

describe('serviceStatus: Ready by the replicas the plan guarantees', () => {
  it.each<[string, Plan, DeploymentStatus | undefined, Expected]>([
    // An autoscaled plan (HPA minimum 2): never True with fewer than 2 ready.
    ['autoscaled, no Deployment status yet', AUTOSCALED, undefined, waiting(0)],
    ['autoscaled, at 1, nothing ready', AUTOSCALED, deployment(1, 0), waiting(0)],
    // The Deployment is Available here: the HPA has not raised it to its minimum yet.
    ['autoscaled, at 1, its pod ready', AUTOSCALED, deployment(1, 1), waiting(1)],
    ['autoscaled, raised to 2, one ready', AUTOSCALED, deployment(2, 1), waiting(1)],
    ['autoscaled, at 4, a pod lost: one ready', AUTOSCALED, deployment(4, 1), waiting(1)],
    ['autoscaled, the minimum ready', AUTOSCALED, deployment(2, 2), readyWith(2, 2)],
    // Decided: an autoscaled plan guarantees its minimum, not the HPA's current target: Ready stays
    // True while the HPA scales above it (the next test: the scale-up shows elsewhere).
    ['autoscaled, scaled to 4 by the HPA, 2 ready', AUTOSCALED, deployment(4, 2), readyWith(2, 4)],
    ['autoscaled, rolling out, the minimum ready', AUTOSCALED, deployment(2, 2, 1), rollingOut],
    ['autoscaled, rolling out, one ready', AUTOSCALED, deployment(2, 1, 1), waiting(1)],
    // A fixed plan of 2, as before: the Deployment's Available, then the rollout.
    [
      'fixed, one ready',
      FIXED,
      deployment(2, 1),
      {
        status: 'False',
        reason: 'MinimumReplicasUnavailable',
        message: 'Not True: Available; Available: Deployment does not have minimum availability.',
      },
    ],
    [
      'fixed, both ready',
      FIXED,
      deployment(2, 2),
      { status: 'True', reason: 'Reconciled', message: 'All conditions True: Available' },
    ],
    ['fixed, rolling out', FIXED, deployment(2, 2, 1), rollingOut],
    // A larger plan whose Deployment status still reports the former 2 replicas, all available.
    ['fixed 3, status of 2', HA, deployment(2, 2), waiting(2, 'ha', 3)],
  ])('%s', (_what, plan, d, expected) => {
    expect(ready(plan, d)).toEqual({
      type: 'Ready',
      ...expected,
      lastTransitionTime: '2025-03-01T10:00:00Z',
      observedGeneration: GENERATION,
    });
  });

  it('shows a scale-up above the minimum in the copied Available and the replicas, Ready staying True', () => {
    const status = serviceStatus(service(), observed(AUTOSCALED), deployment(4, 2), NOW);
    expect(condition(status, 'Ready')?.status).toBe('True');
    expect(condition(status, 'Available')).toMatchObject({
      status: 'False',
      reason: 'MinimumReplicasUnavailable',
    });
    expect(status).toMatchObject({ replicas: 4, readyReplicas: 2 });
  });

  it('never turns an autoscaled service Ready before the minimum while its Deployment converges as it did on a node', () => {
    // Created at 1, its pod ready, raised to 2 by the HPA, the second pod ready.
    const steps = [undefined, deployment(1, 0), deployment(1, 1), deployment(2, 1), deployment(2, 2)];
    let s = service();
    const seen: [string, number][] = [];
    steps.forEach((d, i) => {
      const status = serviceStatus(s, observed(AUTOSCALED), d, new Date(NOW.getTime() + i * 1000));
      seen.push([condition(status, 'Ready')!.status, status.readyReplicas ?? 0]);
      s = { ...s, status };
    });
    expect(seen).toEqual([
      ['False', 0],
      ['False', 0],
      ['False', 1],
      ['False', 1],
      ['True', 2],
    ]);
    expect(condition(s.status!, 'Ready')?.lastTransitionTime).toBe('2025-03-01T10:00:04Z');
  });
});

describe('serviceStatus: what comes before the replicas', () => {
  it.each<[string, Partial<Observed>, string]>([
    [
      'a problem',
      { problems: [{ reason: 'QuotaExceeded', message: 'Deployment refused: exceeded quota' }] },
      'QuotaExceeded',
    ],
    ['a suspended tenant', { tenant: tenant(true) }, 'TenantSuspended'],
  ])('%s: Ready False', (_what, extra, reason) => {
    expect(ready(AUTOSCALED, deployment(1, 0), extra)).toMatchObject({ status: 'False', reason });
  });
});

describe('serviceStatus: a Deployment status older than its spec', () => {
  it.each<[string, Plan]>([
    ['autoscaled', AUTOSCALED],
    ['fixed', FIXED],
  ])('%s: not Ready until the deployment controller has observed the latest spec', (_name, plan) => {
    const d = { ...deployment(2, 2), observedGeneration: 4 };
    expect(ready(plan, d, { deploymentGeneration: 5 })).toMatchObject({
      status: 'False',
      reason: 'RollingOut',
      message: "the Deployment's status is of generation 4, older than its spec",
    });
    expect(ready(plan, d, { deploymentGeneration: 4 })).toMatchObject({ status: 'True' });
  });
});
