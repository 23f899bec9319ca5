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
  client?.close();
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

  it('serves /readyz once its caches synced, /healthz, and controller-runtime metrics on /metrics', async () => {
    const p = operator();
    const ports = await eventually(
      () => {
        const m = /"healthPort":(\d+),.*?|"metricsPort":(\d+)/.exec(p.output());
        const line = p
          .output()
          .split('\n')
          .find((l) => l.includes('serving metrics and probes'));
        if (!m || !line) return undefined;
        return JSON.parse(line) as { metricsPort: number; healthPort: number };
      },
      30_000,
      'ports logged',
    );
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${ports.healthPort}/readyz`)).status === 200,
      30_000,
      'ready',
    );
    expect((await fetch(`http://127.0.0.1:${ports.healthPort}/healthz`)).status).toBe(200);
    await eventually(() => becameLeader(p), 30_000, 'leader');
    await tenantReady(uniqueName('gr-'));
    const metrics = await (await fetch(`http://127.0.0.1:${ports.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(
      /controller_runtime_reconcile_total\{controller="govtenant",result="success"\} [1-9]/,
    );
    expect(metrics).toMatch(/workqueue_adds_total\{name="govtenant",controller="govtenant"\} [1-9]/);
    expect(metrics).toContain('controller_runtime_reconcile_time_seconds_bucket');
    expect(metrics).toMatch(
      /rest_client_requests_total\{code="201",method="PATCH"|rest_client_requests_total\{code="20\d",method="PATCH"/,
    );
    expect(metrics).toMatch(/leader_election_master_status\{name="secovia-operator-leader"\} 1/);
  }, 90_000);

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
