/**
 * The control plane under the operator fails, the operator does not: the API server and, separately,
 * etcd are restarted mid-run and the same operator (never restarted) recovers its watches and
 * converges; concurrent writers cause conflicts (409) that are retried until everything converges.
 */
import type { Manager } from '../../src/runtime/manager.js';
import type { KubeClient } from '../../src/runtime/kube.js';
import { registry } from '../../src/runtime/metrics.js';
import type { KubeObject } from '../../src/runtime/types.js';
import type { ControlPlane } from '../harness/controlplane.js';
import {
  clientFor,
  conditionOf,
  controlPlaneWithCrds,
  eventually,
  getObject,
  startInProcessOperator,
} from './support.js';

const TENANTS = '/apis/gov.secovia.eu/v1alpha1/govtenants';
const BATCH = 25;

let cp: ControlPlane;
let client: KubeClient;
let manager: Manager;

beforeAll(async () => {
  cp = await controlPlaneWithCrds({ controllerManager: false });
  client = clientFor(cp);
  manager = await startInProcessOperator(cp);
}, 180_000);

afterAll(async () => {
  await manager?.stop();
  client?.close();
  await cp?.stop();
}, 60_000);

function tenant(name: string): KubeObject {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name },
    spec: {
      displayName: `Občina ${name}`,
      country: 'SI',
      level: 'municipal',
      environments: [{ name: 'prod' }],
      quota: { cpu: '2', memory: '4Gi' },
      access: { admins: [{ kind: 'Group', name: `${name}-it` }] },
      dataResidency: { allowedCountries: ['SI'], classification: 'internal' },
    },
  };
}

const names = (prefix: string): string[] => Array.from({ length: BATCH }, (_, i) => `${prefix}-${i}`);

/** Creates, retrying while the control plane is still coming back (a client's job, not the operator's). */
const create = (name: string): Promise<unknown> =>
  eventually(
    () =>
      client.request('POST', TENANTS, { body: tenant(name) }).then(
        () => true,
        (e: { status?: number }) => e.status === 409 || Promise.reject(e),
      ),
    60_000,
    `create ${name}`,
  );

const allReady = (all: string[]): Promise<boolean> =>
  eventually(
    async () => {
      const items = (await client.request<{ items: KubeObject[] }>('GET', TENANTS)).items;
      const ready = new Set(
        items.filter((t) => conditionOf(t, 'Ready')?.status === 'True').map((t) => t.metadata.name),
      );
      return all.every((n) => ready.has(n));
    },
    120_000,
    `${all.length} tenants Ready`,
  );

async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** A deleted policy comes back: proves the watches of owned objects are live again, not only the tenants'. */
async function driftRepaired(tenantName: string): Promise<void> {
  const path = `/apis/networking.k8s.io/v1/namespaces/${tenantName}-prod/networkpolicies/secovia-default-deny`;
  const before = await getObject(client, path);
  await client.request('DELETE', path);
  await eventually(
    async () => {
      const now = await getObject(client, path);
      return !!now && now.metadata.uid !== before?.metadata.uid;
    },
    60_000,
    `policy of ${tenantName} restored`,
  );
}

// An API server restart cuts every watch; an etcd restart may not (the API server's watch cache can
// keep serving its clients), so there the proof of live watches is the drift repaired at the end.
describe.each([
  ['API server', 'a', () => cp.restartApiServer(), true],
  ['etcd', 'e', () => cp.restartEtcd(), false],
] as const)('restart of the %s mid-run', (_what, prefix, restart, cutsWatches) => {
  it('watches recover and everything converges without restarting the operator', async () => {
    const watchesBefore = await counter('rest_client_requests_total', { method: 'WATCH' });
    const before = names(`${prefix}1`);
    const creating = Promise.all(before.map(create));
    await new Promise((r) => setTimeout(r, 500));
    await restart();
    await creating;
    const after = names(`${prefix}2`);
    await Promise.all(after.map(create));
    await allReady([...before, ...after]);
    // Cut watches were opened again (not a re-listing crutch): more watch requests than before.
    const watchesAfter = await counter('rest_client_requests_total', { method: 'WATCH' });
    if (cutsWatches) expect(watchesAfter).toBeGreaterThan(watchesBefore);
    expect(manager.isLeader()).toBe(true);
    await driftRepaired(after[0]!);
  }, 200_000);
});

describe('concurrent writers', () => {
  it('conflicts (409) are retried and the other writer keeps its changes', async () => {
    const conflictsBefore = await counter('rest_client_requests_total', { code: '409' });
    const all: string[] = [];
    // A second writer edits each new tenant without pause until the operator's conditional finalizer
    // write got through: that write is made from the cache, which a busy writer keeps a step behind.
    for (let round = 0; round < 6; round++) {
      const batch = names(`c${round}`);
      all.push(...batch);
      await Promise.all(
        batch.map(async (name) => {
          await client.request('POST', TENANTS, { body: tenant(name) });
          for (let i = 0; ; i++) {
            const t = await client.request<KubeObject>('PATCH', `${TENANTS}/${name}`, {
              contentType: 'application/merge-patch+json',
              body: { metadata: { labels: { 'example.eu/touched': String(i) } } },
            });
            if (t.metadata.finalizers?.length) break;
          }
          await client.request('PATCH', `${TENANTS}/${name}`, {
            contentType: 'application/merge-patch+json',
            body: { metadata: { labels: { 'example.eu/touched': 'last' } } },
          });
        }),
      );
      if ((await counter('rest_client_requests_total', { code: '409' })) > conflictsBefore) break;
    }
    expect(await counter('rest_client_requests_total', { code: '409' })).toBeGreaterThan(conflictsBefore);
    await allReady(all);
    for (const name of all) {
      const t = await getObject(client, `${TENANTS}/${name}`);
      expect(t?.metadata.labels?.['example.eu/touched']).toBe('last');
      expect(t?.metadata.finalizers).toEqual(['gov.secovia.eu/finalizer']);
    }
  }, 200_000);
});

describe('bad input admission cannot see', () => {
  it('limits that are invalid only once merged turn QuotaApplied False before anything is applied', async () => {
    const name = 'merged-limits';
    const bad = tenant(name);
    Object.assign(bad.spec as object, {
      limits: { defaultCpu: '250m' },
      environments: [{ name: 'prod' }, { name: 'test', limits: { maxCpu: '100m' } }],
    });
    await client.request('POST', TENANTS, { body: bad });
    const t = await eventually(
      async () => {
        const o = await getObject(client, `${TENANTS}/${name}`);
        return conditionOf(o, 'QuotaApplied')?.reason === 'InvalidLimits' ? o : undefined;
      },
      30_000,
      'QuotaApplied InvalidLimits',
    );
    expect(conditionOf(t, 'QuotaApplied')).toMatchObject({
      status: 'False',
      message: 'spec.environments[1].limits: maxCpu 100m is below defaultCpu 250m (from spec.limits)',
    });
    expect(conditionOf(t, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidLimits' });
    expect(await getObject(client, `/api/v1/namespaces/${name}-prod`)).toBeUndefined();
    // Fixed spec: applied and Ready.
    await client.request('PATCH', `${TENANTS}/${name}`, {
      contentType: 'application/merge-patch+json',
      body: { spec: { environments: [{ name: 'prod' }, { name: 'test', limits: { maxCpu: '500m' } }] } },
    });
    await allReady([name]);
  }, 60_000);
});
