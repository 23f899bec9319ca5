/**
 * What the benchmarks share: a local control plane whose API server audits the operator's writes,
 * the operator as a real process under its own service account, the benchmark tenants, and the
 * counting of writes from the audit log (the API server's own record, not the operator's word).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { KubeClient } from '../src/runtime/kube.js';
import type { KubeObject } from '../src/runtime/types.js';
import { startControlPlane, type ControlPlane } from '../test/harness/controlplane.js';
import { imageEnvironment, imageNodeFlags } from '../hack/operator-image.js';
import { startNodeCluster, type LocalNode } from '../test/harness/node.js';

export const ROOT = new URL('../', import.meta.url).pathname;
export const GROUP_PATH = '/apis/gov.secovia.eu/v1alpha1';
const NAMESPACE = 'secovia-system';
const OPERATOR_SA = 'secovia-operator';
export const OPERATOR_USER = `system:serviceaccount:${NAMESPACE}:${OPERATOR_SA}`;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const machine = (): string => `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`;
export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Only the operator's writes are audited, at Metadata level: small, and nobody else's requests. */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: ["${OPERATOR_USER}"]
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
`;

export interface BenchPlane {
  cp: ControlPlane;
  /** Admin client of the benchmark itself. */
  client: KubeClient;
  /** Kubeconfig of the operator's own service account. */
  operatorKubeconfig: string;
  /** The real node, when asked for. */
  node?: LocalNode;
  auditLog: string;
  stop(): Promise<void>;
}

/** A fresh control plane with the CRDs, the operator's namespace and service account, and auditing. */
export async function benchPlane(opts: { controllerManager: boolean; node?: boolean }): Promise<BenchPlane> {
  const auditDir = mkdtempSync(join(tmpdir(), 'secovia-audit-'));
  const auditLog = join(auditDir, 'audit.log');
  writeFileSync(join(auditDir, 'policy.yaml'), AUDIT_POLICY);
  const audit = [
    `--audit-policy-file=${join(auditDir, 'policy.yaml')}`,
    `--audit-log-path=${auditLog}`,
    // 0 means the log library's default of 100 MB, after which the file is rotated and the writes
    // counted from it are only the latest (N = 10 000 makes some 300 MB): one file, never rotated.
    '--audit-log-maxsize=1000000',
  ];
  // With a node (test/harness/node.ts): its own control plane, controller manager included.
  const { cp, node } = opts.node
    ? await startNodeCluster({ extraApiServerFlags: audit })
    : {
        cp: await startControlPlane({
          controllerManager: opts.controllerManager,
          // Two thousand GovServices need more ClusterIPs than the test default (/24) holds; the last flag wins.
          extraApiServerFlags: [...audit, '--service-cluster-ip-range=10.0.0.0/16'],
        }),
        node: undefined,
      };
  for (const args of [
    ['apply', '-f', `${ROOT}crds/`],
    ['wait', '--for', 'condition=Established', '--timeout=60s', '-f', `${ROOT}crds/`],
    ['create', 'namespace', NAMESPACE],
    ['-n', NAMESPACE, 'create', 'serviceaccount', OPERATOR_SA],
    [
      'create',
      'clusterrolebinding',
      OPERATOR_SA,
      '--clusterrole=cluster-admin',
      `--serviceaccount=${NAMESPACE}:${OPERATOR_SA}`,
    ],
  ]) {
    const r = await cp.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  }
  const token = await cp.kubectl(['-n', NAMESPACE, 'create', 'token', OPERATOR_SA, '--duration=24h']);
  if (token.code !== 0) throw new Error(`token: ${token.stderr}`);
  const client = KubeClient.load({ kubeconfig: cp.kubeconfigPath, userAgent: 'secovia-bench' });
  return {
    cp,
    client,
    operatorKubeconfig: cp.kubeconfigFor({ token: token.stdout.trim(), name: OPERATOR_SA }),
    node,
    auditLog,
    stop: async () => {
      client.close();
      await node?.stop();
      await cp.stop();
      rmSync(auditDir, { recursive: true, force: true });
    },
  };
}

export interface AuditedWrite {
  at: number;
  verb: string;
  resource: string;
  subresource?: string;
  code: number;
}

/** The write of an audit log line, if it is the operator's and its response was sent. */
function auditedWrite(line: string): AuditedWrite | undefined {
  const e = JSON.parse(line) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (e.stage !== 'ResponseComplete' || e.user?.username !== OPERATOR_USER) return undefined;
  return {
    at: Date.parse(e.requestReceivedTimestamp),
    verb: e.verb,
    resource: e.objectRef?.resource ?? '?',
    subresource: e.objectRef?.subresource,
    code: e.responseStatus?.code ?? 0,
  };
}

/** The operator's writes that the API server recorded, optionally only those at or after `since`. */
export function operatorWrites(auditLog: string, since = 0): AuditedWrite[] {
  if (!existsSync(auditLog)) return [];
  // Read in pieces and parse only the operator's lines: the log of a large run is longer than a string may be.
  const writes: AuditedWrite[] = [];
  const fd = openSync(auditLog, 'r');
  const chunk = Buffer.alloc(16 * 2 ** 20);
  const utf8 = new StringDecoder('utf8'); // a character cut between two pieces stays whole
  let rest = '';
  try {
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) {
      const lines = (rest + utf8.write(chunk.subarray(0, n))).split('\n');
      rest = lines.pop()!;
      const mine = lines.filter((line) => line.includes(OPERATOR_USER)).map(auditedWrite);
      writes.push(...mine.filter((w): w is AuditedWrite => !!w && w.at >= since));
    }
  } finally {
    closeSync(fd);
  }
  return writes;
}

/** Writes by resource (and subresource), such as {"govtenants/status": 12, "events": 40}. */
export function byResource(writes: AuditedWrite[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const w of writes) {
    const key = w.subresource ? `${w.resource}/${w.subresource}` : w.resource;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export interface OperatorProcess {
  child: ChildProcess;
  metrics(): Promise<string>;
  ready(): Promise<boolean>;
  /** Resident set size now, and its peak, in MiB (from /proc). */
  rss(): { now: number; peak: number };
  /** Where the resident set is, in MiB (from /proc smaps): mapped files, malloc's heap, anonymous memory (V8's heap pages, malloc's mmaps). */
  rssBreakdown(): { files: number; mallocHeap: number; anonymous: number };
  /** Rejects, with the end of its log, if the operator exits before stop(): nothing waits for a process that is gone. */
  failed: Promise<never>;
  stop(): Promise<void>;
}

/** Resident kB of an smaps listing summed by what is mapped: files, malloc's [heap], anonymous memory. */
export function rssBreakdown(smaps: string): { files: number; mallocHeap: number; anonymous: number } {
  const kB = { files: 0, mallocHeap: 0, anonymous: 0 };
  let area: keyof typeof kB = 'anonymous';
  for (const line of smaps.split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (mapping) {
      const what = mapping[1]!;
      area = what === '[heap]' ? 'mallocHeap' : what.startsWith('/') ? 'files' : 'anonymous';
    } else if (line.startsWith('Rss:')) kB[area] += Number(/\d+/.exec(line)![0]);
  }
  return {
    files: Math.round(kB.files / 1024),
    mallocHeap: Math.round(kB.mallocHeap / 1024),
    anonymous: Math.round(kB.anonymous / 1024),
  };
}

/** The last `bytes` of a file. */
function tailOf(path: string, bytes = 8192): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The image's environment as the benchmarks give it to the operator: a variable set here wins. */
export const operatorEnvironment = (): Record<string, string> =>
  Object.fromEntries(Object.entries(imageEnvironment()).map(([k, v]) => [k, process.env[k] ?? v]));

/** The flags the operator's Node.js runs with: the image's, or OPERATOR_NODE_FLAGS when set. */
export const operatorNodeFlags = (): string[] =>
  process.env.OPERATOR_NODE_FLAGS === undefined
    ? imageNodeFlags()
    : process.env.OPERATOR_NODE_FLAGS.split(' ').filter(Boolean);

/** The built operator (dist/) as its own process, in the image's environment, with leader election as deployed. */
export async function startOperator(plane: BenchPlane, workers = 8): Promise<OperatorProcess> {
  const args = [
    '--metrics-port',
    '0',
    '--health-port',
    '0',
    '--workers',
    String(workers),
    '--log-level',
    'info', // the start-up line with the ports is at info
  ];
  // The image's Node.js flags (its ENTRYPOINT), else OPERATOR_NODE_FLAGS when set (such as
  // --max-old-space-size=192, or empty for none).
  const flags = operatorNodeFlags();
  // BENCH_CPU_PROF=DIR writes a V8 CPU profile of the operator there when it stops.
  const prof = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  // Logs go to a file, as a container runtime takes them: a pipe that this busy process drains late
  // would block the operator's synchronous writes and slow it down for nothing.
  // BENCH_LOG_DIR=DIR keeps the log there; else it goes with the control plane's directory.
  const logFile = join(process.env.BENCH_LOG_DIR ?? plane.cp.dir, `operator-${Date.now()}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(
    process.execPath,
    [...flags, ...prof, `${ROOT}dist/src/main.js`, ...args, '--namespace', NAMESPACE],
    {
      env: {
        ...process.env,
        ...operatorEnvironment(),
        KUBECONFIG: plane.operatorKubeconfig,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', fd, 'inherit'],
    },
  );
  closeSync(fd);
  process.once('exit', () => child.kill('SIGKILL')); // never outlive a benchmark that failed
  const out = (): string => readFileSync(logFile, 'utf8').slice(0, 100_000);
  const port = (name: string): string | undefined => new RegExp(`"${name}":(\\d+)`).exec(out())?.[1];
  for (let i = 0; !port('metricsPort') || !port('healthPort'); i++) {
    if (child.exitCode !== null || i > 600) throw new Error(`operator did not start:\n${out()}`);
    await sleep(100);
  }
  const [metricsPort, healthPort] = [port('metricsPort'), port('healthPort')];
  let stopping = false;
  const failed = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => {
      if (!stopping)
        reject(
          new Error(`the operator exited (${code ?? signal}) during the benchmark:\n${tailOf(logFile)}`),
        );
    }),
  );
  failed.catch(() => undefined); // observed by the benchmarks that race it
  const status = (field: string): number =>
    Number(
      new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0,
    ) / 1024;
  return {
    child,
    metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    ready: async () =>
      (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.ok ?? false,
    rss: () => ({ now: Math.round(status('VmRSS')), peak: Math.round(status('VmHWM')) }),
    rssBreakdown: () => rssBreakdown(readFileSync(`/proc/${child.pid}/smaps`, 'utf8')),
    failed,
    stop: async () => {
      stopping = true;
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Sum of a Prometheus counter or gauge over the series whose labels pass `match`. */
export const metric = (text: string, name: string, match: (labels: string) => boolean = () => true): number =>
  text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith(`${name} `) ||
        (l.startsWith(`${name}{`) && match(l.slice(name.length, l.indexOf('}') + 1))),
    )
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);

/** The operator's own count of its API requests (watches excluded). */
export const operatorRequests = (text: string): number =>
  metric(text, 'rest_client_requests_total', (l) => !/method="WATCH"/.test(l));

/** A benchmark tenant: two environments, full quota and limits, five policies, two bindings. */
export function benchTenant(i: number): KubeObject {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name: `t${String(i).padStart(4, '0')}` },
    spec: {
      displayName: `Општина ${i}`,
      country: 'MK',
      level: 'municipal',
      environments: [{ name: 'prod' }, { name: 'test' }],
      quota: { cpu: '8', memory: '16Gi', storage: '100Gi', pods: 100 },
      limits: { defaultCpu: '250m', defaultMemory: '256Mi', maxCpu: '2', maxMemory: '4Gi' },
      access: {
        admins: [{ kind: 'Group', name: `t${i}-admins` }],
        viewers: [{ kind: 'User', name: `audit${i}@example.eu` }],
      },
      network: {
        isolation: 'strict',
        allowFromTenants: [`t${String(i + 1).padStart(4, '0')}`],
        allowEgressCIDRs: ['192.0.2.0/24'],
      },
      dataResidency: { allowedCountries: ['MK'], classification: 'internal' },
      ingress: { allowedDomains: [`t${String(i).padStart(4, '0')}.example.eu`] },
    },
  };
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function pool<T>(
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export const isReady = (o: KubeObject): boolean =>
  ((o.status as { conditions?: { type: string; status: string }[] })?.conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );

/** Names of the objects of a collection whose Ready condition is True. */
export async function readyNames(client: KubeClient, path: string): Promise<Set<string>> {
  const list = await client.request<{ items: KubeObject[] }>('GET', path);
  return new Set(list.items.filter(isReady).map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`));
}

/** Polls until `count` objects of the collection are Ready; resolves with the milliseconds waited. */
export async function untilReady(
  client: KubeClient,
  path: string,
  count: number,
  timeoutMs = 1_800_000,
): Promise<number> {
  // A watch, not polling: listing a thousand tenants four times a second loads the API server under test.
  const started = Date.now();
  const ready = new Set<string>();
  const stop = AbortSignal.timeout(timeoutMs);
  while (ready.size < count) {
    if (stop.aborted) throw new Error(`not ${count} Ready in ${path} after ${timeoutMs} ms`);
    const done = new AbortController();
    await client
      .watch<KubeObject>(
        path,
        {},
        (e) => {
          const key = `${e.object.metadata.namespace ?? ''}/${e.object.metadata.name}`;
          if (e.type !== 'DELETED' && e.type !== 'ERROR' && isReady(e.object)) ready.add(key);
          else ready.delete(key);
          if (ready.size >= count) done.abort();
        },
        AbortSignal.any([done.signal, stop]),
      )
      .catch(() => sleep(500)); // a watch cut short is opened again
  }
  return Date.now() - started;
}

/** Creates the benchmark tenants 0..n-1 (16 at a time, as a busy GitOps sync would). */
export async function createTenants(client: KubeClient, n: number): Promise<void> {
  await pool(
    Array.from({ length: n }, (_, i) => benchTenant(i)),
    16,
    async (t) => void (await client.request('POST', `${GROUP_PATH}/govtenants`, { body: t })),
  );
}

/**
 * Waits until the operator has written nothing for `quietMs` (the convergence tail: quota usage
 * that kube-controller-manager fills in after creation, mirrored into tenant status). Resolves
 * with the time of its last write.
 */
export async function untilQuiet(auditLog: string, quietMs = 30_000, timeoutMs = 900_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    // Lease renewals of leader election go on every two seconds: they are not convergence.
    const last =
      operatorWrites(auditLog)
        .filter((w) => w.resource !== 'leases')
        .at(-1)?.at ?? started;
    if (Date.now() - last >= quietMs) return last;
    if (Date.now() - started > timeoutMs) throw new Error('the operator never stopped writing');
    await sleep(1000);
  }
}

/** p50, p99 and maximum of a sample of milliseconds, rounded to `digits` decimals. */
export function percentiles(ms: number[], digits = 0): { p50: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => round(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!, digits);
  return { p50: at(0.5), p99: at(0.99), max: at(1) };
}

/** Prints the result as JSON with the machine it ran on. */
export function report(name: string, result: Record<string, unknown>): void {
  const operator = {
    operatorNodeFlags: operatorNodeFlags().join(' '),
    operatorEnvironment: operatorEnvironment(),
  };
  console.log(JSON.stringify({ benchmark: name, machine: machine(), ...operator, ...result }, null, 2));
}
