/**
 * Two operator processes elect a leader on a real API server. The test steals the Lease while the
 * leader has hundreds of tenants to reconcile: the old leader stops at once (the API server's audit
 * log shows no write of it after it logged the loss) and exits non-zero; once the stolen Lease
 * expires, the other replica takes over and converges every tenant.
 */
import type { KubeClient } from '../../src/runtime/kube.js';
import { startAuditedControlPlane, type AuditedControlPlane, type AuditEvent } from '../harness/audit.js';
import type { ControlPlane } from '../harness/controlplane.js';
import {
  clientFor,
  conditionOf,
  eventually,
  getObject,
  ROOT,
  startOperatorProcess,
  type OperatorProcess,
} from './support.js';

const NS = 'secovia-system';
const OPERATOR_USER = `system:serviceaccount:${NS}:secovia-operator`;
const LEASE = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/secovia-operator-leader`;
const TENANTS = '/apis/gov.secovia.eu/v1alpha1/govtenants';
const COUNT = 150;
/** How long after the logged loss a request that was already in flight may still be received. */
const IN_FLIGHT_MS = 250;

let audited: AuditedControlPlane;
let cp: ControlPlane;
let admin: KubeClient;
const replicas: OperatorProcess[] = [];

const tenant = (name: string) => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovTenant',
  metadata: { name },
  spec: {
    displayName: `Δήμος ${name}`,
    country: 'GR',
    level: 'municipal',
    environments: [{ name: 'prod' }],
    dataResidency: { allowedCountries: ['GR'] },
  },
});

const holder = async (): Promise<string | undefined> =>
  ((await getObject(admin, LEASE))?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;

/** The identity a replica logged when it became leader. */
const identityOf = (r: OperatorProcess): string | undefined =>
  r
    .output()
    .split('\n')
    .filter((l) => l.includes('"became leader"'))
    .map((l) => (JSON.parse(l) as { identity?: string }).identity)[0];

beforeAll(async () => {
  audited = await startAuditedControlPlane({
    user: OPERATOR_USER,
    verbs: ['create', 'update', 'patch', 'delete'],
  });
  cp = audited.cp;
  admin = clientFor(cp);
  for (const args of [
    ['apply', '-f', `${ROOT}crds/`],
    ['wait', '--for', 'condition=Established', '--timeout=60s', '-f', `${ROOT}crds/`],
    ['create', 'namespace', NS],
    ['-n', NS, 'create', 'serviceaccount', 'secovia-operator'],
    ['create', 'clusterrolebinding', 'secovia-operator', '--clusterrole=cluster-admin', `--serviceaccount=${NS}:secovia-operator`], // prettier-ignore
  ]) {
    const r = await cp.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  }
  const token = await cp.kubectl(['-n', NS, 'create', 'token', 'secovia-operator', '--duration=2h']);
  const kubeconfig = cp.kubeconfigFor({ token: token.stdout.trim(), name: 'operator' });
  for (let i = 0; i < 2; i++)
    replicas.push(startOperatorProcess(cp, ['--kubeconfig', kubeconfig, '--namespace', NS, '--leader-elect', 'true', '--log-level', 'info'])); // prettier-ignore
}, 300_000);

afterAll(async () => {
  for (const r of replicas) r.child.kill('SIGKILL');
  admin?.close();
  await audited?.stop();
}, 60_000);

test('a leader whose Lease is taken stops writing at once and exits; the other takes over', async () => {
  const first = await eventually(holder, 60_000, 'a leader');
  const leader = await eventually(
    () => replicas.find((r) => identityOf(r) === first),
    30_000,
    'the leader replica',
  );
  const standby = replicas.find((r) => r !== leader)!;
  // Work that outlasts the leader: the Lease is taken while it is reconciling.
  for (let i = 0; i < COUNT; i++) await admin.request('POST', TENANTS, { body: tenant(`gr-lease-${i}`) });
  await eventually(
    () => readAudit().some((e) => e.userAgent.includes(first) && e.objectRef?.resource === 'namespaces'),
    30_000,
    'the leader writing',
  );
  const lease = (await getObject(admin, LEASE))!;
  const takenAt = Date.now();
  await admin.request('PUT', LEASE, {
    body: {
      ...lease,
      spec: {
        ...(lease.spec as object),
        holderIdentity: 'thief',
        leaseDurationSeconds: 15,
        renewTime: new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
      },
    },
  });
  const code = await leader.exited;
  expect(code).toBe(1);
  const lostLine = leader
    .output()
    .split('\n')
    .find((l) => l.includes('leader lease lost'));
  expect(lostLine).toContain('thief holds it now');
  const lostAt = Date.parse((JSON.parse(lostLine!) as { timestamp: string }).timestamp);
  // Noticed at the next renewal (every 2 s), not at the renew deadline (10 s).
  expect(lostAt - takenAt).toBeLessThan(5_000);
  const oldWrites = readAudit().filter((e) => e.userAgent.includes(first));
  expect(oldWrites.length).toBeGreaterThan(0);
  // Requests already on the wire when the loss was logged reach the server a moment later (and are
  // cut off, 504 context canceled); nothing may be sent afterwards.
  const late = oldWrites.filter((e) => Date.parse(e.requestReceivedTimestamp) > lostAt + IN_FLIGHT_MS);
  expect(late).toEqual([]);
  // The stolen Lease expires (15 s); the standby acquires it and converges every tenant.
  const next = await eventually(
    async () => {
      const h = await holder();
      return h && h !== 'thief' && h !== first ? h : undefined;
    },
    60_000,
    'a new leader',
  );
  expect(identityOf(standby)).toBe(next);
  await eventually(
    () => readAudit().some((e) => e.userAgent.includes(next)),
    60_000,
    'the new leader writing what the old one left',
  );
  await eventually(
    async () => {
      const list = await admin.request<{ items: { status?: unknown }[] }>('GET', TENANTS);
      return list.items.every((t) => conditionOf(t as never, 'Ready')?.status === 'True');
    },
    120_000,
    'every tenant Ready under the new leader',
  );
}, 300_000);

const readAudit = (): AuditEvent[] => audited.events();
