/** The operator as a real process: leader election between replicas, SIGTERM, and start-up errors. */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeClient } from '../../src/runtime/kube.js';
import type { ControlPlane } from '../harness/controlplane.js';
import {
  clientFor,
  conditionOf,
  controlPlaneWithCrds,
  eventually,
  getObject,
  startOperatorProcess,
  uniqueName,
  type OperatorProcess,
} from './support.js';

const TENANTS = '/apis/gov.secovia.eu/v1alpha1/govtenants';
const LEASE = '/apis/coordination.k8s.io/v1/namespaces/default/leases/secovia-operator-leader';

let cp: ControlPlane;
let client: KubeClient;
const running: OperatorProcess[] = [];

beforeAll(async () => {
  cp = await controlPlaneWithCrds({ controllerManager: false });
  client = clientFor(cp);
}, 180_000);

afterEach(() => {
  for (const p of running.splice(0)) p.child.kill('SIGKILL');
});

afterAll(async () => {
  await cp?.stop();
}, 60_000);

function operator(args: string[] = []): OperatorProcess {
  const p = startOperatorProcess(cp, ['--namespace', 'default', '--log-level', 'info', ...args]);
  running.push(p);
  return p;
}

const becameLeader = (p: OperatorProcess): boolean => p.output().includes('"message":"became leader"');

async function tenantReady(name: string): Promise<void> {
  await client.request('POST', TENANTS, {
    body: {
      apiVersion: 'gov.secovia.eu/v1alpha1',
      kind: 'GovTenant',
      metadata: { name },
      spec: {
        displayName: 'Δήμος Αθηναίων',
        country: 'GR',
        level: 'municipal',
        environments: [{ name: 'prod' }],
        dataResidency: { allowedCountries: ['GR'], classification: 'internal' },
      },
    },
  });
  await eventually(
    async () => conditionOf(await getObject(client, `${TENANTS}/${name}`), 'Ready')?.status === 'True',
    30_000,
    `${name} Ready`,
  );
}

describe('operator process', () => {
  it('elects exactly one leader among two replicas, and the standby takes over when the leader is killed', async () => {
    const a = operator();
    const b = operator();
    const leader = await eventually(() => [a, b].find(becameLeader), 30_000, 'a leader');
    const standby = leader === a ? b : a;
    await tenantReady(uniqueName('gr-'));
    expect(becameLeader(standby)).toBe(false);

    leader.child.kill('SIGKILL');
    await leader.exited;
    // The lease (15 s) must expire before the standby may act: never two writers at once.
    await eventually(() => becameLeader(standby), 40_000, 'standby takes over');
    const lease = await getObject(client, LEASE);
    expect((lease?.spec as { holderIdentity: string }).holderIdentity).not.toBe('');
    await tenantReady(uniqueName('gr-'));
  }, 120_000);

  it('ends cleanly within seconds on SIGTERM and releases its lease', async () => {
    const p = operator();
    await eventually(() => becameLeader(p), 30_000, 'leader');
    const started = Date.now();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(p.output()).toContain('shutdown complete');
    const lease = await getObject(client, LEASE);
    expect((lease?.spec as { holderIdentity?: string }).holderIdentity ?? '').toBe('');
  }, 60_000);

  it('rejects a bad flag with one clear line and exit code 2', async () => {
    const p = operator(['--metrics-port', 'eighty']);
    expect(await p.exited).toBe(2);
    const lines = p.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--metrics-port: "eighty" is not a port number/);
  }, 30_000);

  it('reports an unreachable API server with one clear line and exit code 1', async () => {
    const kubeconfig = join(tmpdir(), `unreachable-${process.pid}.yaml`);
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
      ].join('\n'),
    );
    const p = operator(['--kubeconfig', kubeconfig]);
    expect(await p.exited).toBe(1);
    const lines = p.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1/);
  }, 30_000);
});
