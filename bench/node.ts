/**
 * A real node (test/harness/node.ts): GovService create to Ready with real pods, and the node's own
 * cost at rest. SAMPLES two-replica GovServices are created one at a time on an otherwise idle node;
 * each time runs from the create request to the GovService's Ready condition seen by a watch (the
 * operator, the deployment controller, the scheduler, the kubelet starting two containers and their
 * first passing readiness probes). Each service is deleted before the next, so that every sample
 * starts on the same node. Then KEEP services stay up and the node's processes (kubelet, containerd
 * and its shims, kube-proxy, kube-router, kube-scheduler) are measured at rest for REST_SECONDS: CPU
 * from /proc/PID/stat, resident memory from /proc/PID/status.
 *
 *   npm run build && node --import ./hack/register-ts.mjs bench/node.ts [SAMPLES] [KEEP] [REST_SECONDS]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { KubeClient } from '../src/runtime/kube.js';
import type { KubeObject } from '../src/runtime/types.js';
import type { NodeComponent } from '../test/harness/node.js';
import {
  benchPlane,
  GROUP_PATH,
  isReady,
  percentiles,
  report,
  round,
  sleep,
  startOperator,
  untilReady,
} from './support.js';

const SAMPLES = Number(process.argv[2] ?? 30);
const KEEP = Number(process.argv[3] ?? 5);
const REST_SECONDS = Number(process.argv[4] ?? 60);
const NS = 'bench-prod';

const serviceClass: KubeObject = {
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovServiceClass',
  metadata: { name: 'e-permits' },
  spec: {
    displayName: { en: 'Building permits' },
    audience: ['G2C'],
    buildingBlock: 'registration',
    image: 'registry.example.eu/secovia/e-permits',
    versions: ['2.3.1'],
    port: 8080,
    healthPath: '/healthz',
    plans: [{ name: 'small', replicas: 2, resources: { cpu: '50m', memory: '64Mi' } }],
  },
};

const tenant: KubeObject = {
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovTenant',
  metadata: { name: 'bench' },
  spec: {
    displayName: 'Bench',
    country: 'GR',
    level: 'municipal',
    environments: [{ name: 'prod' }],
    dataResidency: { allowedCountries: ['GR'] },
    quota: { cpu: '2', memory: '4Gi', pods: 60 },
  },
};

const service = (name: string): KubeObject => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovService',
  metadata: { name, namespace: NS },
  spec: { class: 'e-permits', plan: 'small', version: '2.3.1' },
});

/** Resolves when a watch of the namespace's GovServices first sees `name` Ready. */
async function readyAt(client: KubeClient, name: string, stop: AbortSignal): Promise<number> {
  const done = new AbortController();
  let at = 0;
  const path = `${GROUP_PATH}/namespaces/${NS}/govservices`;
  while (!at) {
    await client
      .watch<KubeObject>(
        path,
        { fieldSelector: `metadata.name=${name}` },
        (e) => {
          if (e.type !== 'ERROR' && e.type !== 'DELETED' && isReady(e.object)) {
            at = performance.now();
            done.abort();
          }
        },
        AbortSignal.any([done.signal, stop]),
      )
      .catch(() => undefined);
    if (stop.aborted) throw new Error(`${name} not Ready in time`);
  }
  return at;
}

async function podsGone(client: KubeClient): Promise<void> {
  for (;;) {
    const pods = await client.request<{ items: unknown[] }>('GET', `/api/v1/namespaces/${NS}/pods`);
    if (pods.items.length === 0) return;
    await sleep(200);
  }
}

/** utime + stime of a process in seconds, and its resident set in MiB. */
function usage(pid: number): { cpu: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  return { cpu: ticks / 100, rss };
}

const plane = await benchPlane({ controllerManager: true, node: true });
const { client, node } = plane;
const op = await startOperator(plane, 4);
await client.request('POST', `${GROUP_PATH}/govserviceclasses`, { body: serviceClass });
await client.request('POST', `${GROUP_PATH}/govtenants`, { body: tenant });
await untilReady(client, `${GROUP_PATH}/govtenants`, 1);

const deadline = AbortSignal.timeout(30 * 60_000);
const ms: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  const name = `svc${i}`;
  const ready = readyAt(client, name, deadline);
  const started = performance.now();
  await client.request('POST', `${GROUP_PATH}/namespaces/${NS}/govservices`, { body: service(name) });
  ms.push((await ready) - started);
  await client.request('DELETE', `${GROUP_PATH}/namespaces/${NS}/govservices/${name}`);
  await podsGone(client);
}

for (let i = 0; i < KEEP; i++) {
  await client.request('POST', `${GROUP_PATH}/namespaces/${NS}/govservices`, { body: service(`kept${i}`) });
}
await untilReady(client, `${GROUP_PATH}/namespaces/${NS}/govservices`, KEEP);
await sleep(10_000); // the start-up of the kept pods is not rest

const components: NodeComponent[] = ['kubelet', 'containerd', 'kube-proxy', 'kube-router', 'kube-scheduler'];
const shims = (): number[] =>
  execFileSync('pgrep', ['-f', `containerd-shim-runc-v2 .*-address ${node!.containerdSocket}`])
    .toString()
    .split('\n')
    .filter(Boolean)
    .map(Number);
const pidsOf = (): Record<string, number[]> => ({
  ...Object.fromEntries(components.map((c) => [c, [node!.pidOf(c)!]])),
  'containerd shims': shims(),
});
const pids = pidsOf();
const sample = () =>
  Object.fromEntries(
    Object.entries(pids).map(([name, list]) => {
      const u = list.map(usage);
      return [name, { cpu: u.reduce((a, b) => a + b.cpu, 0), rss: u.reduce((a, b) => a + b.rss, 0) }];
    }),
  );
const before = sample();
await sleep(REST_SECONDS * 1000);
const after = sample();
const atRest = Object.fromEntries(
  Object.keys(pids).map((name) => [
    name,
    {
      processes: pids[name]!.length,
      cpuPercentOfOneCore: round(((after[name]!.cpu - before[name]!.cpu) / REST_SECONDS) * 100, 1),
      rssMiB: Math.round(after[name]!.rss),
    },
  ]),
);
const totals = Object.values(atRest).reduce(
  (t, c) => ({ cpu: t.cpu + c.cpuPercentOfOneCore, rss: t.rss + c.rssMiB }),
  { cpu: 0, rss: 0 },
);
report('node', {
  samples: SAMPLES,
  createToReadyMs: percentiles(ms),
  atRest: {
    seconds: REST_SECONDS,
    pods: KEEP * 2 + 1,
    components: atRest,
    total: { cpuPercentOfOneCore: round(totals.cpu, 1), rssMiB: totals.rss },
  },
});
await op.stop();
await plane.stop();
process.exit(0);
