/**
 * GovServices on a real node (test/harness/node.ts): kubelet, containerd, kube-proxy, kube-router and
 * CoreDNS. Nothing is driven by hand here: the pods of the sample catalog's image start, pass their
 * probes, and the GovService's status follows the real Deployment; a version change rolls out for
 * real; suspending the tenant takes every pod away and resuming brings them back; an autoscaled
 * service (kube-controller-manager runs the HPA controller) is Ready only with its plan's minimum of
 * ready pods. The page is fetched from this machine through the Service's ClusterIP (kube-proxy's rules).
 */
import type { KubeClient } from '../../src/runtime/kube.js';
import type { Manager } from '../../src/runtime/manager.js';
import type { KubeObject } from '../../src/runtime/types.js';
import type { ControlPlane } from '../harness/controlplane.js';
import type { LocalNode } from '../harness/node.js';
import {
  leftBehind,
  NODE_START_TIMEOUT_MS,
  startNodeOperator,
  stopNodeOperator,
  type NodeOperator,
} from './node-support.js';
import { conditionOf, eventually, getObject } from './support.js';

const API = '/apis/gov.secovia.eu/v1alpha1';
const TENANT = 'pelagonia';
const NS = `${TENANT}-prod`;

let setup: NodeOperator;
let cp: ControlPlane;
let node: LocalNode;
let client: KubeClient;
let operator: Manager;
let kubectl: NodeOperator['kubectl'];

beforeAll(async () => {
  setup = await startNodeOperator();
  ({ cp, node, client, operator, kubectl } = setup);
  await client.request('POST', `${API}/govtenants`, {
    body: {
      apiVersion: 'gov.secovia.eu/v1alpha1',
      kind: 'GovTenant',
      metadata: { name: TENANT },
      spec: {
        displayName: 'Општина Пелагонија',
        country: 'MK',
        level: 'regional',
        environments: [{ name: 'prod' }],
        dataResidency: { allowedCountries: ['MK'] },
        quota: { cpu: '2', memory: '2Gi', pods: 10 },
      },
    },
  });
  await eventually(
    async () =>
      conditionOf(await getObject(client, `${API}/govtenants/${TENANT}`), 'Ready')?.status === 'True',
    60_000,
    'tenant Ready',
  );
}, NODE_START_TIMEOUT_MS);

afterAll(() => stopNodeOperator(setup), 180_000);

interface ServiceStatus {
  readyReplicas?: number;
  version?: string;
  url?: string;
}

/** eventually(), and on timeout the namespace's pods and events in the error: what the kubelet saw. */
const until = <T>(check: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> =>
  eventually(check, ms, what, async () => {
    const pods = await cp.kubectl(['-n', NS, 'get', 'pods,replicasets', '-o', 'wide']);
    const events = await cp.kubectl(['-n', NS, 'get', 'events', '--sort-by=.lastTimestamp']);
    return `${pods.stdout}\n${events.stdout.split('\n').slice(-25).join('\n')}`;
  });

const servicePath = `${API}/namespaces/${NS}/govservices/permits`;
const govService = () => getObject(client, servicePath);

/** The page of the service, fetched from this machine through its Service's ClusterIP. */
async function page(): Promise<{ status: number; body: string; version: string | null }> {
  const svc = await client.request<KubeObject>('GET', `/api/v1/namespaces/${NS}/services/permits`);
  const ip = (svc.spec as { clusterIP: string }).clusterIP;
  const res = await fetch(`http://${ip}/`, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: await res.text(), version: res.headers.get('x-secovia-version') };
}

/** The page once it is served in full (a pod that is starting or stopping may answer with less). */
const servedPage = async () => {
  const r = await page();
  return r.status === 200 && r.body.includes('</h1>') ? r : undefined;
};

const readyPods = async (): Promise<number> => {
  const out = await kubectl('-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/instance=permits', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}'); // prettier-ignore
  return out.split(' ').filter((s) => s === 'True').length;
};

describe('a GovService on a real node', () => {
  it('runs its pods to Ready, and its status follows the real Deployment', async () => {
    await client.request('POST', `${API}/namespaces/${NS}/govservices`, {
      body: {
        apiVersion: 'gov.secovia.eu/v1alpha1',
        kind: 'GovService',
        metadata: { name: 'permits', namespace: NS },
        spec: {
          class: 'e-permits',
          plan: 'small',
          version: '2.3.1',
          parameters: { municipalityCode: '7500' },
        },
      },
    });
    const ready = await until(
      async () => {
        const s = await govService();
        return conditionOf(s, 'Ready')?.status === 'True' ? s : undefined;
      },
      120_000,
      'GovService Ready',
    );
    const status = ready.status as ServiceStatus;
    expect(status.readyReplicas).toBe(2);
    expect(status.version).toBe('2.3.1');
    expect(conditionOf(ready, 'Available')?.status).toBe('True');
    expect(await readyPods()).toBe(2);
    const p = await until(servedPage, 30_000, 'page through the ClusterIP');
    expect(p.status).toBe(200);
    expect(p.body).toContain('e-permits 2.3.1');
    expect(p.body).toContain(`tenant ${TENANT} (MK)`);
  }, 180_000);

  it('rolls a version change out for real, pinned by digest', async () => {
    // As an admin mirroring the catalog would: pin 2.4.0 to the digest of the image on the node.
    const digest = node.images['registry.example.eu/secovia/e-permits:2.4.0']!;
    await client.request('PATCH', `${API}/govserviceclasses/e-permits`, {
      contentType: 'application/merge-patch+json',
      body: { spec: { digests: { '2.4.0': digest } } },
    });
    await client.request('PATCH', servicePath, {
      contentType: 'application/merge-patch+json',
      body: { spec: { version: '2.4.0' } },
    });
    await until(
      async () => {
        const s = await govService();
        const st = s?.status as ServiceStatus | undefined;
        return (
          conditionOf(s, 'Ready')?.status === 'True' && st?.version === '2.4.0' && st.readyReplicas === 2
        );
      },
      120_000,
      'GovService Ready at 2.4.0',
    );
    const p = await until(
      async () => {
        const r = await page();
        return r.version === '2.4.0' ? r : undefined;
      },
      30_000,
      'page of 2.4.0',
    );
    expect(p.body).toContain('e-permits 2.4.0');
    // Once the old pods are gone, every pod runs exactly the image of that digest.
    const images = await until(
      async () => {
        const ids = (await kubectl('-n', NS, 'get', 'pods', '-o', 'jsonpath={.items[*].status.containerStatuses[0].imageID}')).split(' ').filter(Boolean); // prettier-ignore
        return ids.length === 2 && ids.every((id) => id.endsWith(digest)) ? ids : undefined;
      },
      60_000,
      'only pods of the pinned digest',
    );
    expect(images).toHaveLength(2);
  }, 180_000);

  it('takes every pod of a suspended tenant away and brings them back on resume', async () => {
    const suspend = (suspended: boolean) =>
      client.request('PATCH', `${API}/govtenants/${TENANT}`, {
        contentType: 'application/merge-patch+json',
        body: { spec: { suspended } },
      });
    await suspend(true);
    await until(
      async () => (await kubectl('-n', NS, 'get', 'pods', '-o', 'name')).trim() === '',
      120_000,
      'no pod left in the suspended tenant',
    );
    await expect(page()).rejects.toThrow();
    await suspend(false);
    await until(async () => (await readyPods()) === 2, 120_000, 'two Ready pods after resume');
    const p = await until(servedPage, 30_000, 'page after resume');
    expect(p.body).toContain('e-permits 2.4.0');
  }, 300_000);

  it('reports an autoscaled service Ready only once the plan minimum is ready, never with fewer', async () => {
    // The sample plan asks 500m and 768Mi a pod: fitted to the node, as the demo does.
    const autoscaling = { minReplicas: 2, maxReplicas: 6, cpuUtilization: 75 };
    await client.request('PATCH', `${API}/govserviceclasses/e-delivery`, {
      contentType: 'application/merge-patch+json',
      body: {
        spec: { plans: [{ name: 'standard', autoscaling, resources: { cpu: '100m', memory: '64Mi' } }] },
      },
    });
    // Every status the service goes through, as a watch delivers it, from before its creation.
    const seen: { ready?: string; readyReplicas: number }[] = [];
    const stop = new AbortController();
    const watching: Promise<unknown> = client
      .watch<KubeObject>(
        `${API}/namespaces/${NS}/govservices`,
        { fieldSelector: 'metadata.name=delivery' },
        (e) => {
          if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
          const readyReplicas = (e.object.status as ServiceStatus | undefined)?.readyReplicas ?? 0;
          seen.push({ ready: conditionOf(e.object, 'Ready')?.status, readyReplicas });
        },
        stop.signal,
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    try {
      await client.request('POST', `${API}/namespaces/${NS}/govservices`, {
        body: {
          apiVersion: 'gov.secovia.eu/v1alpha1',
          kind: 'GovService',
          metadata: { name: 'delivery', namespace: NS },
          spec: { class: 'e-delivery', plan: 'standard', version: '5.1.0' },
        },
      });
      // Until the HPA has looked at the Deployment: the moment it raised a Deployment of 1 to 2.
      await until(
        async () => {
          const hpa = await getObject(client, `/apis/autoscaling/v2/namespaces/${NS}/horizontalpodautoscalers/delivery`); // prettier-ignore
          const hpaReplicas = (hpa?.status as { currentReplicas?: number } | undefined)?.currentReplicas;
          const last = seen.at(-1);
          return hpaReplicas === 2 && last?.ready === 'True' && last.readyReplicas === 2;
        },
        120_000,
        'GovService Ready with 2 ready replicas, seen by the HPA',
      );
    } finally {
      stop.abort();
    }
    expect(await watching).toBeUndefined(); // the watch ended by the abort, not by an error
    expect(seen.filter((s) => s.ready === 'True' && s.readyReplicas < autoscaling.minReplicas)).toEqual([]);
    // Not Ready, then Ready for good: no flapping on the way.
    const firstReady = seen.findIndex((s) => s.ready === 'True');
    expect(seen.slice(firstReady).filter((s) => s.ready !== 'True')).toEqual([]);
  }, 180_000);

  it('stops leaving no pod, chain, ipset, mount or process behind', async () => {
    await operator.stop();
    await node.stop();
    expect(await leftBehind()).toBe('nothing left behind\n');
  }, 120_000);
});
