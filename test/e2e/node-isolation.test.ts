/**
 * Tenant isolation with real packets, on a real node whose NetworkPolicies kube-router enforces.
 * Three GovTenants: A strict, with a public GovService (so the ingress controller may reach its
 * port); B allowing A in (A→B allowed, B→A denied); C with an allowed egress CIDR, the /32 of a
 * server pod in a plain namespace outside any tenant. Every cell of the matrix is a connection
 * attempt from a client pod of the row's namespace to a server of the column, and its result is the
 * exit code of the probe in the pod's status. Each cell is compared with the answer of the policy
 * evaluator (test/unit/policy-evaluator.ts, the fast check of test/unit/isolation.test.ts) for the
 * NetworkPolicies, namespaces and pod labels read from the API, and with the pattern the tenants ask
 * for, written out below.
 *
 * The probes run as ephemeral containers of client pods that exist before the matrix, not as a pod
 * per cell: kube-router programs a new pod's firewall a moment after the pod starts. Until then the
 * pod's packets pass unfiltered and the tenants that allow it in do not know its address yet
 * (cloudnativelabs/kube-router#873), so a fresh pod's first connection would race kube-router (in
 * a trial, B refused all four fresh pods of A that connected at once).
 */
import type { KubeObject } from '../../src/runtime/types.js';
import { allowed, type Endpoint, type Pod, type World } from '../unit/policy-evaluator.js';
import {
  leftBehind,
  NODE_START_TIMEOUT_MS,
  startNodeOperator,
  stopNodeOperator,
  type NodeOperator,
} from './node-support.js';
import { conditionOf, eventually, getObject, govTenant, INGRESS_NAMESPACE } from './support.js';

const API = '/apis/gov.secovia.eu/v1alpha1';
/** A catalog image: the tenant guardrails admit it, and it serves, connects and resolves. */
const IMAGE = 'registry.example.eu/secovia/e-permits:2.3.1';
/**
 * How long a probe waits for its connection: an allowed one between pods of this node opens in
 * milliseconds, and kube-router rejects a denied one at once, so 10 s only ever ends a lost packet.
 */
const PROBE_TIMEOUT = '10s';
/** Probes started together; each client pod runs a few of them. */
const BATCH = 10;
const OUTSIDE = 'outside';

const TENANTS = {
  A: { name: 'mk-ohrid', country: 'MK', displayName: 'Општина Охрид' },
  B: { name: 'hu-pecs', country: 'HU', displayName: 'Pécs Megyei Jogú Város' },
  C: { name: 'rs-nis', country: 'RS', displayName: 'Град Ниш' },
} as const;
type TenantKey = keyof typeof TENANTS;
const nsOf = (t: TenantKey): string => `${TENANTS[t].name}-prod`;
const PERMITS_NAME = `permits.${nsOf('A')}.svc.cluster.local`;

/**
 * What the tenants ask for. Rows: the client pod of A, B, C, the ingress controller's namespace and
 * the plain namespace. Columns: A's server pod on the port of A's public service (8080) and on
 * another (9090); a pod of that service, by address and through its Service's name; B's and C's
 * server pods; a lookup of that name; CoreDNS on its DNS port and on its health port; the server
 * pod outside any tenant whose address is C's allowed egress CIDR.
 */
const EXPECTED = `
         A:8080  A:9090  permits:8080  permits-svc:80  B:8080  C:8080  lookup  dns:53  dns:8080  outside:8080
A        yes     yes     yes           yes             yes     no      yes     yes     no        no
B        no      no      no            no              yes     no      yes     yes     no        no
C        no      no      no            no              no      yes     yes     yes     no        yes
ingress  yes     no      yes           yes             no      no      yes     yes     yes       yes
outside  no      no      no            no              no      no      yes     yes     yes       yes
`;

/**
 * Cells run first, until real packets agree with the policies (warmUp): for each row's client one
 * cell allowed and one denied, among them those that need its address known (A→B, ingress→A).
 */
const WARM_UP_MS = 120_000;
const WARM_UP: [string, string][] = [
  ['A', 'B:8080'],
  ['A', 'C:8080'],
  ['B', 'B:8080'],
  ['B', 'A:8080'],
  ['C', 'outside:8080'],
  ['C', 'A:8080'],
  ['ingress', 'A:8080'],
  ['ingress', 'A:9090'],
  ['outside', 'outside:8080'],
  ['outside', 'A:8080'],
];

interface PodInfo {
  name: string;
  namespace: string;
  ip: string;
  labels: Record<string, string>;
}
interface Leg {
  to: Endpoint;
  port: number;
  protocol?: 'TCP' | 'UDP';
}
interface Source {
  key: string;
  client: PodInfo;
}
interface Target {
  key: string;
  /** Arguments of the image's program: connect HOST:PORT or resolve NAME. */
  probe: string[];
  /** What the connection needs, for the evaluator: every leg allowed (a name needs DNS first). */
  legs: Leg[];
}
interface Cell {
  source: Source;
  target: Target;
}
interface Outcome {
  allowed: boolean;
  /** The probe's own words when denied: connection refused (rejected) or i/o timeout (dropped). */
  message: string;
}

let setup: NodeOperator;
const pods: Record<string, PodInfo> = {};
const timings: Record<string, number> = {};

const asPod = (p: PodInfo): Pod => ({ namespace: p.namespace, labels: p.labels });
const leg = (p: PodInfo, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): Leg => ({
  to: asPod(p),
  port,
  protocol,
});
const connect = (p: PodInfo, port: number): string[] => ['connect', `${p.ip}:${port}`];

async function timed<T>(what: string, step: () => Promise<T>): Promise<T> {
  const start = Date.now();
  const result = await step();
  timings[what] = (Date.now() - start) / 1000;
  return result;
}

/** The pods, ephemeral containers and last events of the namespaces: what the kubelet saw. */
async function diagnose(namespaces: string[]): Promise<string> {
  const parts = await Promise.all(
    namespaces.map(async (ns) => {
      const p = await setup.cp.kubectl(['-n', ns, 'get', 'pods', '-o', 'wide']);
      const e = await setup.cp.kubectl(['-n', ns, 'get', 'events', '--sort-by=.lastTimestamp']);
      return `--- ${ns}\n${p.stdout}${e.stdout.split('\n').slice(-15).join('\n')}`;
    }),
  );
  return parts.join('\n');
}

const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** A pod of the catalog's program serving on each port (one container each), restricted as Pod Security asks. */
function serverPod(namespace: string, name: string, ports: number[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 5,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: ports.map((port) => ({
        name: `serve-${port}`,
        image: IMAGE,
        env: [{ name: 'PORT', value: String(port) }],
        ports: [{ containerPort: port, protocol: 'TCP' }],
        readinessProbe: { tcpSocket: { port }, periodSeconds: 1 },
        securityContext: RESTRICTED_CONTAINER,
      })),
    },
  };
}

/** In a namespace: `web`, the server of the matrix (8080 and 9090), and `client`, where probes run. */
async function createPods(namespace: string): Promise<void> {
  for (const pod of [serverPod(namespace, 'web', [8080, 9090]), serverPod(namespace, 'client', [8080])]) {
    await setup.client.request('POST', `/api/v1/namespaces/${namespace}/pods`, { body: pod });
  }
}

const isReady = (p: KubeObject): boolean =>
  ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );

/** The first Ready pod matching the selector, with its address and labels. */
async function readyPod(namespace: string, selector: string): Promise<PodInfo> {
  return eventually(
    async () => {
      const list = await setup.client.request<{ items: KubeObject[] }>(
        'GET',
        `/api/v1/namespaces/${namespace}/pods`,
        { query: { labelSelector: selector } },
      );
      const p = list.items.find(isReady);
      const ip = (p?.status as { podIP?: string } | undefined)?.podIP;
      return p && ip ? { name: p.metadata.name, namespace, ip, labels: p.metadata.labels ?? {} } : undefined;
    },
    180_000,
    `a Ready pod ${selector} in ${namespace}`,
    () => diagnose([namespace]),
  );
}

async function createTenant(key: TenantKey, spec: Record<string, unknown>): Promise<void> {
  const { name, country, displayName } = TENANTS[key];
  await setup.client.request('POST', `${API}/govtenants`, {
    body: govTenant(name, { displayName, country, dataResidency: { allowedCountries: [country] }, ...spec }),
  });
}

const readyCondition = async (path: string): Promise<boolean> =>
  conditionOf(await getObject(setup.client, path), 'Ready')?.status === 'True';

beforeAll(async () => {
  setup = await timed('node and operator', () => startNodeOperator());
  await timed('tenants, service and pods Ready', async () => {
    for (const ns of [INGRESS_NAMESPACE, OUTSIDE]) {
      await setup.client.request('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      });
      await createPods(ns);
    }
    // C may reach exactly the outside server: its address is known once the pod runs.
    pods.outside = await readyPod(OUTSIDE, 'app=web');
    await createTenant('A', { ingress: { allowedDomains: ['ohrid.example'] } });
    await createTenant('B', { network: { allowFromTenants: [TENANTS.A.name] } });
    await createTenant('C', {
      network: { allowEgressCIDRs: [`${pods.outside.ip}/32`] },
    });
    for (const t of ['A', 'B', 'C'] as const) {
      await eventually(() => readyCondition(`${API}/govtenants/${TENANTS[t].name}`), 60_000, `${t} Ready`);
    }
    await setup.client.request('POST', `${API}/namespaces/${nsOf('A')}/govservices`, {
      body: {
        apiVersion: 'gov.secovia.eu/v1alpha1',
        kind: 'GovService',
        metadata: { name: 'permits', namespace: nsOf('A') },
        spec: {
          class: 'e-permits',
          plan: 'small',
          version: '2.3.1',
          exposure: 'public',
          host: 'permits.ohrid.example',
          parameters: { municipalityCode: '6000' },
        },
      },
    });
    for (const t of ['A', 'B', 'C'] as const) await createPods(nsOf(t));
    for (const t of ['A', 'B', 'C'] as const) pods[`web-${t}`] = await readyPod(nsOf(t), 'app=web');
    for (const ns of ['A', 'B', 'C', 'ingress', 'outside']) {
      const namespace = { ingress: INGRESS_NAMESPACE, outside: OUTSIDE }[ns] ?? nsOf(ns as TenantKey);
      pods[`client-${ns}`] = await readyPod(namespace, 'app=client');
    }
    pods.permits = await readyPod(nsOf('A'), 'app.kubernetes.io/instance=permits');
    pods.dns = await readyPod('kube-system', 'k8s-app=kube-dns');
    await eventually(
      () => readyCondition(`${API}/namespaces/${nsOf('A')}/govservices/permits`),
      120_000,
      'GovService permits Ready',
      () => diagnose([nsOf('A')]),
    );
  });
}, NODE_START_TIMEOUT_MS);

afterAll(() => stopNodeOperator(setup), 180_000);

const SOURCES = (): Source[] =>
  ['A', 'B', 'C', 'ingress', 'outside'].map((key) => ({ key, client: pods[`client-${key}`]! }));

function targets(): Target[] {
  const p = pods as Record<string, PodInfo>;
  const dnsLookup = leg(p.dns!, 53, 'UDP');
  return [
    { key: 'A:8080', probe: connect(p['web-A']!, 8080), legs: [leg(p['web-A']!, 8080)] },
    { key: 'A:9090', probe: connect(p['web-A']!, 9090), legs: [leg(p['web-A']!, 9090)] },
    { key: 'permits:8080', probe: connect(p.permits!, 8080), legs: [leg(p.permits!, 8080)] },
    // Through kube-proxy: the name's Service port 80 goes to the pods' port 8080.
    {
      key: 'permits-svc:80',
      probe: ['connect', `${PERMITS_NAME}:80`],
      legs: [dnsLookup, leg(p.permits!, 8080)],
    },
    { key: 'B:8080', probe: connect(p['web-B']!, 8080), legs: [leg(p['web-B']!, 8080)] },
    { key: 'C:8080', probe: connect(p['web-C']!, 8080), legs: [leg(p['web-C']!, 8080)] },
    { key: 'lookup', probe: ['resolve', PERMITS_NAME], legs: [dnsLookup] },
    { key: 'dns:53', probe: connect(p.dns!, 53), legs: [leg(p.dns!, 53)] },
    { key: 'dns:8080', probe: connect(p.dns!, 8080), legs: [leg(p.dns!, 8080)] },
    // Allowed to C by address (ipBlock), which NetworkPolicy matches as an address, not as a pod;
    // its namespace has no policy, so nothing restricts it on the way in.
    {
      key: 'outside:8080',
      probe: connect(p.outside!, 8080),
      legs: [{ to: { ip: p.outside!.ip }, port: 8080 }],
    },
  ];
}

/** EXPECTED as a function of row and column keys; its header and rows must be the matrix's own. */
function expectedAnswers(sources: Source[], cols: Target[]): (s: Source, t: Target) => boolean {
  const [header, ...rows] = EXPECTED.trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  expect(header).toEqual(cols.map((t) => t.key));
  expect(rows.map((r) => r[0])).toEqual(sources.map((s) => s.key));
  const table = new Map(rows.map(([key, ...cells]) => [key, cells]));
  return (s, t) => table.get(s.key)![cols.indexOf(t)] === 'yes';
}

function render(sources: Source[], cols: Target[], answer: (s: Source, t: Target) => boolean): string {
  const first = Math.max(...sources.map((s) => s.key.length));
  const line = (key: string, cells: string[]) =>
    [key.padEnd(first), ...cells.map((c, i) => c.padEnd(Math.max(cols[i]!.key.length, 3)))]
      .join('  ')
      .trimEnd();
  return [
    line(
      '',
      cols.map((t) => t.key),
    ),
    ...sources.map((s) =>
      line(
        s.key,
        cols.map((t) => (answer(s, t) ? 'yes' : 'no')),
      ),
    ),
  ].join('\n');
}

async function readWorld(): Promise<World> {
  const namespaces = await setup.client.request<{ items: KubeObject[] }>('GET', '/api/v1/namespaces');
  const policies = await setup.client.request<{ items: KubeObject[] }>(
    'GET',
    '/apis/networking.k8s.io/v1/networkpolicies',
  );
  return {
    namespaces: namespaces.items.map((n) => ({ name: n.metadata.name, labels: n.metadata.labels ?? {} })),
    policies: policies.items,
  };
}

const evaluatorAnswer = (world: World, s: Source, t: Target): boolean =>
  t.legs.every((l) => allowed(world, asPod(s.client), l.to, l.port, l.protocol ?? 'TCP'));

let probes = 0;

/** Starts the probe as an ephemeral container of the cell's client pod; returns the container's name. */
async function startProbe(cell: Cell): Promise<string> {
  const name = `probe-${probes++}`;
  const { namespace, name: pod } = cell.source.client;
  await setup.client.request('PATCH', `/api/v1/namespaces/${namespace}/pods/${pod}/ephemeralcontainers`, {
    contentType: 'application/strategic-merge-patch+json',
    body: {
      spec: {
        ephemeralContainers: [
          {
            name,
            image: IMAGE,
            args: cell.target.probe,
            env: [{ name: 'TIMEOUT', value: PROBE_TIMEOUT }],
            // On failure the probe's last words land in the status: refused, or timed out.
            terminationMessagePolicy: 'FallbackToLogsOnError',
            securityContext: RESTRICTED_CONTAINER,
          },
        ],
      },
    },
  });
  return name;
}

interface Terminated {
  exitCode: number;
  message?: string;
}

/** The probe's result: exit 0 connected (or resolved), exit 1 with the probe's own refusal denied; anything else is a broken probe. */
function outcomeOf(cell: Cell, t: Terminated): Outcome {
  const message = (t.message ?? '').trim();
  if (t.exitCode === 0) return { allowed: true, message };
  if (t.exitCode === 1 && /^(refused|unresolved):/m.test(message)) return { allowed: false, message };
  throw new Error(
    `probe ${cell.source.key} → ${cell.target.key} failed for another reason than the network: exit ${t.exitCode} ${message}`,
  );
}

/** Runs the cells, BATCH at a time, each batch's probes at once. */
async function runCells(cells: Cell[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let i = 0; i < cells.length; i += BATCH) {
    const batch = cells.slice(i, i + BATCH);
    const names = await Promise.all(batch.map(startProbe));
    const namespaces = [...new Set(batch.map((c) => c.source.client.namespace))];
    const done = await eventually(
      async () => {
        const clients = new Map<string, KubeObject>();
        for (const c of batch) {
          const { namespace, name } = c.source.client;
          if (!clients.has(namespace))
            clients.set(namespace, await setup.client.request('GET', `/api/v1/namespaces/${namespace}/pods/${name}`)); // prettier-ignore
        }
        const states = batch.map((c, j) => {
          const statuses = (
            clients.get(c.source.client.namespace)!.status as {
              ephemeralContainerStatuses?: { name: string; state?: { terminated?: Terminated } }[];
            }
          ).ephemeralContainerStatuses;
          return statuses?.find((st) => st.name === names[j])?.state?.terminated;
        });
        return states.every(Boolean) ? (states as Terminated[]) : undefined;
      },
      120_000,
      `probes ${names.join(', ')}`,
      () => diagnose(namespaces),
    );
    outcomes.push(...batch.map((c, j) => outcomeOf(c, done[j]!)));
  }
  return outcomes;
}

/**
 * kube-router applies policies a moment after they and the pods exist: until then a client may be
 * let through anywhere, or not yet be let in where it is allowed. Runs the cells until they agree
 * with the policies' answer, or WARM_UP_MS has passed: a gate, not a check, so that the matrix
 * itself shows any disagreement that remains.
 */
async function warmUp(
  cells: Cell[],
  answer: (c: Cell) => boolean,
): Promise<{ rounds: number; disagreeing: string }> {
  const deadline = Date.now() + WARM_UP_MS;
  for (let rounds = 1; ; rounds++) {
    const got = await runCells(cells);
    const disagreeing = cells
      .filter((c, i) => got[i]!.allowed !== answer(c))
      .map((c) => `${c.source.key} → ${c.target.key}`)
      .join(', ');
    if (!disagreeing || Date.now() > deadline) return { rounds, disagreeing };
  }
}

/** Column by column, so that a batch spreads over every client pod. */
const allCells = (sources: Source[], cols: Target[]): Cell[] =>
  cols.flatMap((target) => sources.map((source) => ({ source, target })));

const policyVersions = (w: World): string =>
  w.policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}@${p.metadata.resourceVersion}`).join(' ');

describe('tenant isolation with real packets', () => {
  it('allows and denies every cell as the evaluator and the tenants say', async () => {
    const sources = SOURCES();
    const cols = targets();
    const expected = expectedAnswers(sources, cols);
    const cellOf = ([row, col]: [string, string]): Cell => ({
      source: sources.find((s) => s.key === row)!,
      target: cols.find((t) => t.key === col)!,
    });

    const world = await readWorld();
    // No policy outside the tenants: the outside server may stand as a bare address for the evaluator.
    const unmanaged = [INGRESS_NAMESPACE, OUTSIDE, 'kube-system'];
    expect(world.policies.filter((p) => unmanaged.includes(p.metadata.namespace!))).toEqual([]);
    const warm = await timed('until kube-router enforces', () =>
      warmUp(WARM_UP.map(cellOf), (c) => evaluatorAnswer(world, c.source, c.target)),
    );
    const cells = allCells(sources, cols);
    const outcomes = await timed('matrix', () => runCells(cells));
    const after = await readWorld();
    const real = (s: Source, t: Target) =>
      outcomes[cells.findIndex((c) => c.source === s && c.target === t)]!.allowed;
    const denials = outcomes.filter((o) => !o.allowed);
    const timedOut = denials.filter((o) => /timeout/i.test(o.message)).length;

    console.log(
      [
        `isolation matrix: ${cells.length} real connection attempts in batches of ${BATCH} (yes: connected, no: denied)`,
        render(sources, cols, real),
        `denied: ${denials.length - timedOut} rejected at once, ${timedOut} after the ${PROBE_TIMEOUT} probe timeout`,
        `warm-up: ${warm.rounds} round(s) of ${WARM_UP.length} cells${warm.disagreeing ? `, still disagreeing with the evaluator after ${WARM_UP_MS / 1000} s: ${warm.disagreeing}` : ''}`,
        `timings (s): ${Object.entries(timings)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(', ')}`,
      ].join('\n'),
    );

    // The policies did not change since the warm-up: the evaluator answers for what kube-router enforced.
    expect(policyVersions(after)).toBe(policyVersions(world));
    expect(render(sources, cols, real)).toBe(render(sources, cols, (s, t) => evaluatorAnswer(world, s, t)));
    expect(render(sources, cols, real)).toBe(render(sources, cols, expected));
  }, 900_000);

  it('resolves names of the cluster from a tenant, and fails on a name that does not exist', async () => {
    const c = SOURCES().find((s) => s.key === 'C')!;
    const probe = (key: string, args: string[]): Cell => ({
      source: c,
      target: { key, probe: args, legs: [] },
    });
    const [present, absent, byName] = await runCells([
      probe('present', ['resolve', PERMITS_NAME]),
      probe('absent', ['resolve', `absent.${nsOf('A')}.svc.cluster.local`]),
      probe('by name', ['connect', `${PERMITS_NAME}:80`]),
    ]);
    expect(present).toEqual({ allowed: true, message: '' });
    expect(absent!.allowed).toBe(false);
    expect(absent!.message).toMatch(/^unresolved:.*no such host/);
    // The name resolves, but C may not connect to A.
    expect(byName!.allowed).toBe(false);
    expect(byName!.message).toMatch(/^refused:/);
  }, 300_000);

  it('stops leaving no pod, chain, ipset, mount or process behind', async () => {
    await setup.operator.stop();
    await setup.node.stop();
    expect(await leftBehind()).toBe('nothing left behind\n');
  }, 120_000);
});
