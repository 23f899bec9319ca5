/**
 * The operator as users run it: its image (built here without a container engine, hack/operator-image.ts)
 * installed with the Helm chart into a cluster with a real node. The pods start and pass their probes,
 * the two replicas elect one leader, the leader reconciles a tenant and a GovService under the chart's
 * ServiceAccount (through the `kubernetes` Service, as any pod reaches the API); a leader killed with
 * SIGKILL (no chance to release its Lease) hands over once the Lease expires and returns as standby,
 * and a deleted leader pod is replaced while the other replica takes over.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildOperatorImage } from '../../hack/operator-image.js';
import type { KubeClient } from '../../src/runtime/kube.js';
import type { KubeObject } from '../../src/runtime/types.js';
import type { ControlPlane } from '../harness/controlplane.js';
import { startNodeCluster, type LocalNode } from '../harness/node.js';
import { clientFor, conditionOf, eventually, getObject, govTenant, ROOT } from './support.js';

const run = promisify(execFile);
const API = '/apis/gov.secovia.eu/v1alpha1';
const NS = 'secovia-system';
const LEASE = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/secovia-operator-leader`;

let cp: ControlPlane;
let node: LocalNode;
let client: KubeClient;

async function kubectl(...args: string[]): Promise<string> {
  const r = await cp.kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const diagnose = async (): Promise<string> => {
  const pods = await cp.kubectl(['get', 'pods', '-A', '-o', 'wide']);
  const events = await cp.kubectl(['get', 'events', '-A', '--sort-by=.lastTimestamp']);
  return `${pods.stdout}\n${events.stdout.split('\n').slice(-20).join('\n')}`;
};

const until = <T>(check: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> =>
  eventually(check, ms, what, diagnose);

beforeAll(async () => {
  ({ cp, node } = await startNodeCluster());
  client = clientFor(cp);
  const image = buildOperatorImage(join(node.dir, 'operator-image'));
  await node.importImages(join(node.dir, 'operator-image', 'operator.tar'));
  const helm = (await run('bash', [`${ROOT}hack/build-helm.sh`])).stdout.trim();
  // The chart as a member administration installs it: its defaults, its image, its CRDs.
  await run(
    helm,
    [
      'install',
      'secovia-operator',
      `${ROOT}charts/secovia-operator`,
      '--namespace',
      NS,
      '--create-namespace',
    ],
    { env: cp.env },
  );
  expect(image.name).toBe(
    (await kubectl('-n', NS, 'get', 'deployment', 'secovia-operator', '-o', 'jsonpath={.spec.template.spec.containers[0].image}')).trim(), // prettier-ignore
  );
}, 900_000);

afterAll(async () => {
  client?.close();
  await node?.stop();
  await cp?.stop();
}, 180_000);

const holder = async (): Promise<string | undefined> =>
  ((await getObject(client, LEASE))?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;

const operatorPods = async (): Promise<{ name: string; ready: boolean; deleting: boolean }[]> => {
  const list = await client.request<{ items: KubeObject[] }>(
    'GET',
    `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent('app.kubernetes.io/name=secovia-operator')}`,
  );
  return list.items.map((p) => ({
    name: p.metadata.name,
    deleting: !!p.metadata.deletionTimestamp,
    ready:
      ((p.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).find(
        (c) => c.type === 'Ready',
      )?.status === 'True',
  }));
};

/** Waits until a replica other than the one in pod `previous` holds the Lease. */
const otherLeader = (previous: string): Promise<string> =>
  until(
    async () => {
      const h = await holder();
      return h && !h.startsWith(`${previous}_`) ? h : undefined;
    },
    120_000,
    `a Lease holder other than ${previous}`,
  );

async function tenantReady(name: string): Promise<void> {
  await client.request('POST', `${API}/govtenants`, {
    body: govTenant(name, { quota: { cpu: '1', memory: '1Gi', pods: 10 } }),
  });
  await until(
    async () => conditionOf(await getObject(client, `${API}/govtenants/${name}`), 'Ready')?.status === 'True',
    90_000,
    `tenant ${name} Ready`,
  );
}

describe('the chart on a real node', () => {
  it('starts two operator pods that pass their probes and elect one leader', async () => {
    const pods = await until(
      async () => {
        const p = await operatorPods();
        return p.length === 2 && p.every((x) => x.ready) ? p : undefined;
      },
      180_000,
      'two Ready operator pods',
    );
    const leader = await until(holder, 60_000, 'a Lease holder');
    // The identity is POD_NAME_suffix: exactly one of the two pods leads.
    expect(pods.filter((p) => leader.startsWith(`${p.name}_`))).toHaveLength(1);
  }, 240_000);

  it('reconciles a tenant and a GovService under the chart ServiceAccount, with real pods', async () => {
    await kubectl('apply', '-f', `${ROOT}config/samples/gov_v1alpha1_govserviceclass.yaml`);
    await tenantReady('thessaloniki');
    await client.request('POST', `${API}/namespaces/thessaloniki-prod/govservices`, {
      body: {
        apiVersion: 'gov.secovia.eu/v1alpha1',
        kind: 'GovService',
        metadata: { name: 'permits', namespace: 'thessaloniki-prod' },
        spec: {
          class: 'e-permits',
          plan: 'small',
          version: '2.3.1',
          parameters: { municipalityCode: '54625' },
        },
      },
    });
    const svc = await until(
      async () => {
        const s = await getObject(client, `${API}/namespaces/thessaloniki-prod/govservices/permits`);
        return conditionOf(s, 'Ready')?.status === 'True' ? s : undefined;
      },
      180_000,
      'GovService Ready',
    );
    expect((svc.status as { readyReplicas?: number }).readyReplicas).toBe(2);
    // Written by the chart's ServiceAccount, as the managed fields record it.
    const ns = await client.request<KubeObject>('GET', '/api/v1/namespaces/thessaloniki-prod');
    const managers = ((ns.metadata as { managedFields?: { manager: string }[] }).managedFields ?? []).map(
      (m) => m.manager,
    );
    expect(managers).toContain('secovia-operator');
  }, 300_000);

  it('hands leadership over when the leader is killed (SIGKILL: no Lease release), and the killed container returns as standby', async () => {
    const before = (await holder())!;
    const leaderPod = before.slice(0, before.lastIndexOf('_'));
    const pod = await client.request<KubeObject>('GET', `/api/v1/namespaces/${NS}/pods/${leaderPod}`);
    const status = pod.status as { containerStatuses: { containerID: string; restartCount: number }[] };
    const container = status.containerStatuses[0]!.containerID.replace('containerd://', '');
    await node.ctr(['tasks', 'kill', '--signal', 'SIGKILL', container]);
    await otherLeader(leaderPod);
    await until(
      async () => {
        const p = await client.request<KubeObject>('GET', `/api/v1/namespaces/${NS}/pods/${leaderPod}`);
        const s = p.status as { containerStatuses: { ready: boolean; restartCount: number }[] };
        return s.containerStatuses[0]!.restartCount > status.containerStatuses[0]!.restartCount && s.containerStatuses[0]!.ready; // prettier-ignore
      },
      120_000,
      'the killed container restarted and Ready',
    );
    await tenantReady('larissa');
  }, 300_000);

  it('replaces a deleted leader pod while the other replica takes over', async () => {
    const before = (await holder())!;
    const leaderPod = before.slice(0, before.lastIndexOf('_'));
    await kubectl('-n', NS, 'delete', 'pod', leaderPod, '--grace-period=0', '--force');
    await otherLeader(leaderPod);
    await until(
      async () => {
        const p = await operatorPods();
        return p.filter((x) => x.ready && !x.deleting && x.name !== leaderPod).length === 2;
      },
      180_000,
      'the deleted pod replaced',
    );
    await tenantReady('volos');
  }, 420_000);

  it('stops leaving no pod, chain, ipset, mount or process behind', async () => {
    await node.stop();
    const check = await run('bash', [`${ROOT}hack/node.sh`, 'check']).catch((e: { stdout: string }) => e);
    expect(check.stdout).toBe('nothing left behind\n');
  }, 120_000);
});
