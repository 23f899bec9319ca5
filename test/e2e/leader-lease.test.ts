/**
 * Two operator processes elect a leader on a real API server, and the leader loses the lead while
 * it has many tenants to reconcile: its Lease is stolen, or its access to the API server is cut
 * (through a proxy on loopback: connections that hang, or that are reset). Either way the old leader
 * stops (the API server's audit log shows no write of it after it logged the loss) and exits
 * non-zero, and the other replica takes over and converges every tenant.
 */
import type { KubeClient } from '../../src/runtime/kube.js';
import { startAuditedControlPlane, type AuditedControlPlane, type AuditEvent } from '../harness/audit.js';
import type { ControlPlane } from '../harness/controlplane.js';
import { startTcpProxy, type CutMode, type TcpProxy } from '../harness/tcp-proxy.js';
import {
  clientFor,
  conditionOf,
  eventually,
  getObject,
  govTenant,
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
/** The operator's renew deadline (controller-runtime's default). */
const RENEW_DEADLINE_MS = 10_000;
/** How late a timer of the operator may fire on a loaded machine. */
const TIMER_SLACK_MS = 1_000;

let audited: AuditedControlPlane;
let cp: ControlPlane;
let admin: KubeClient;
let token: string;
/** The processes and proxies of the running test, stopped after it. */
let replicas: OperatorProcess[] = [];
let proxies: TcpProxy[] = [];

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
  token = (
    await cp.kubectl(['-n', NS, 'create', 'token', 'secovia-operator', '--duration=2h'])
  ).stdout.trim();
}, 300_000);

// A replica left leading is stopped with SIGTERM, so that it releases the Lease for the next test.
afterEach(async () => {
  for (const r of replicas) r.child.kill('SIGTERM');
  const stopped = Promise.all(replicas.map((r) => r.exited));
  const limit = new Promise((resolve) => setTimeout(resolve, 40_000).unref());
  await Promise.race([stopped, limit]);
  for (const r of replicas) r.child.kill('SIGKILL');
  for (const p of proxies) await p.close();
  [replicas, proxies] = [[], []];
}, 60_000);

afterAll(async () => {
  admin?.close();
  await audited?.stop();
}, 60_000);

/** An operator replica with leader election, reaching the API server at `server` (default directly). */
function startReplica(server?: string): OperatorProcess {
  const kubeconfig = cp.kubeconfigFor({ token, name: server ? 'operator-proxied' : 'operator', server });
  const r = startOperatorProcess(cp, ['--kubeconfig', kubeconfig, '--namespace', NS, '--leader-elect', 'true', '--log-level', 'info']); // prettier-ignore
  replicas.push(r);
  return r;
}

interface LogLine {
  message: string;
  timestamp: string;
  identity?: string;
}

/** The first line a replica logged whose message starts with `prefix`. */
const logged = (r: OperatorProcess, prefix: string): LogLine | undefined =>
  r
    .output()
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as LogLine];
      } catch {
        return []; // not a log line, or the start of one still being written
      }
    })
    .find((l) => l.message?.startsWith(prefix));

/** The identity a replica logged when it became leader; it is also in its requests' user agent. */
const identityOf = (r: OperatorProcess): string | undefined => logged(r, 'became leader')?.identity;

const holder = async (): Promise<string | undefined> =>
  ((await getObject(admin, LEASE))?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;

const writesOf = (identity: string): AuditEvent[] =>
  audited.events().filter((e) => e.userAgent.includes(identity));

/** When the API server received the last write of `identity` to the Lease that it accepted. */
const lastRenewalOf = (identity: string): number =>
  Math.max(
    ...writesOf(identity)
      .filter((e) => e.objectRef?.resource === 'leases' && [200, 201].includes(e.responseStatus?.code ?? 0))
      .map((e) => Date.parse(e.requestReceivedTimestamp)),
  );

/** Work that outlasts the leader: COUNT tenants, and the leader already writing their namespaces. */
async function keepBusy(leader: string, prefix: string): Promise<void> {
  for (let i = 0; i < COUNT; i++) await admin.request('POST', TENANTS, { body: govTenant(`${prefix}-${i}`) });
  await eventually(
    () => writesOf(leader).some((e) => e.objectRef?.resource === 'namespaces'),
    30_000,
    'the leader writing',
  );
}

/** When the old leader logged the loss, after checking that it wrote before and nothing after. */
function lossOf(old: OperatorProcess, identity: string, reason: string): number {
  const lost = logged(old, 'leader lease lost');
  expect(lost?.message).toContain(reason);
  const lostAt = Date.parse(lost!.timestamp);
  const oldWrites = writesOf(identity);
  expect(oldWrites.length).toBeGreaterThan(0);
  // Requests already on the wire when the loss was logged reach the server a moment later (and are
  // cut off, 504 context canceled); nothing may be sent afterwards.
  const late = oldWrites.filter((e) => Date.parse(e.requestReceivedTimestamp) > lostAt + IN_FLIGHT_MS);
  expect(late).toEqual([]);
  return lostAt;
}

/** The standby acquires the Lease and converges every tenant of `prefix`; returns when it led. */
async function takeOver(standby: OperatorProcess, old: string, prefix: string): Promise<number> {
  const next = await eventually(
    async () => {
      const h = await holder();
      return h && h !== 'thief' && h !== old ? h : undefined;
    },
    60_000,
    'a new leader',
  );
  await eventually(() => identityOf(standby) === next, 10_000, 'the standby logging that it leads');
  await eventually(() => writesOf(next).length > 0, 60_000, 'the new leader writing what the old one left');
  await eventually(
    async () => {
      const list = await admin.request<{ items: { metadata: { name: string }; status?: unknown }[] }>('GET', TENANTS); // prettier-ignore
      const mine = list.items.filter((t) => t.metadata.name.startsWith(`${prefix}-`));
      return mine.length === COUNT && mine.every((t) => conditionOf(t as never, 'Ready')?.status === 'True');
    },
    120_000,
    'every tenant Ready under the new leader',
  );
  return Date.parse(logged(standby, 'became leader')!.timestamp);
}

test('a leader whose Lease is taken stops writing at once and exits; the other takes over', async () => {
  const both = [startReplica(), startReplica()];
  const first = await eventually(holder, 60_000, 'a leader');
  const leader = await eventually(
    () => both.find((r) => identityOf(r) === first),
    30_000,
    'the leader replica',
  );
  const standby = both.find((r) => r !== leader)!;
  await keepBusy(first, 'gr-lease');
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
  expect(await leader.exited).toBe(1);
  const lostAt = lossOf(leader, first, 'thief holds it now');
  // Noticed at the next renewal (every 2 s), not at the renew deadline (10 s).
  expect(lostAt - takenAt).toBeLessThan(5_000);
  // The stolen Lease expires (15 s); the standby acquires it and converges every tenant.
  await takeOver(standby, first, 'gr-lease');
}, 300_000);

test.each<CutMode>(['hang', 'reset'])(
  'a leader cut off from the API server (connections %s) gives up at the renew deadline and exits; the other takes over',
  async (mode) => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(cp.server).port) });
    proxies.push(proxy);
    const cutOff = startReplica(`https://127.0.0.1:${proxy.port}`);
    const first = await eventually(() => identityOf(cutOff), 60_000, 'the proxied replica leading');
    const standby = startReplica();
    await keepBusy(first, `gr-cut-${mode}`);
    proxy.cut(mode);
    await eventually(() => logged(cutOff, 'leader lease lost'), 60_000, 'the cut-off leader giving up');
    // The path comes back: whatever the old leader still sent would now reach the audit log.
    proxy.restore();
    expect(await cutOff.exited).toBe(1);
    const lostAt = lossOf(cutOff, first, 'could not renew within the deadline');
    // It gives up at the renew deadline counted from its last renewal, however long requests hang.
    expect(lostAt - lastRenewalOf(first)).toBeLessThan(RENEW_DEADLINE_MS + TIMER_SLACK_MS);
    // Its Lease runs 15 s from its last renewal: the standby leads only after it gave up.
    const ledAt = await takeOver(standby, first, `gr-cut-${mode}`);
    expect(ledAt).toBeGreaterThan(lostAt);
  },
  300_000,
);
