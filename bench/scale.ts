/**
 * Scale benchmark: N GovTenants (two environments each, full quota, limits, policies and bindings)
 * created at once on a fresh local control plane. Measures the time until all are Ready, the
 * operator's API requests and peak RSS, then the operator's writes while idle; and, on a second
 * fresh control plane, the limit: the same objects created by a minimal client straight against
 * the API server with the same concurrency.
 *
 *   node --import ./hack/register-ts.mjs bench/scale.ts [N] [IDLE_SECONDS]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { environmentObjects, tenantNamespace } from '../src/controllers/govtenant/desired.js';
import type { GovTenant } from '../src/api/index.js';
import { KubeClient } from '../src/runtime/kube.js';
import type { KubeObject } from '../src/runtime/types.js';
import { objectPath, resourceFor } from '../src/runtime/resources.js';
import { startControlPlane, type ControlPlane } from '../test/harness/controlplane.js';

const ROOT = new URL('../', import.meta.url).pathname;
const N = Number(process.argv[2] ?? 100);
const IDLE_SECONDS = Number(process.argv[3] ?? 60);
const CONCURRENCY = 16;

function tenantSpec(i: number): KubeObject {
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
      network: { isolation: 'strict', allowEgressCIDRs: ['192.0.2.0/24'] },
      dataResidency: { allowedCountries: ['MK'], classification: 'internal' },
    },
  };
}

async function pool<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function withCrds(): Promise<ControlPlane> {
  const cp = await startControlPlane({ controllerManager: true });
  await cp.kubectl(['apply', '-f', `${ROOT}crds/`]);
  await cp.kubectl(['wait', '--for', 'condition=Established', '--timeout=60s', '-f', `${ROOT}crds/`]);
  await cp.kubectl(['create', 'namespace', 'secovia-system']);
  return cp;
}

const metric = (text: string, name: string, match: (labels: string) => boolean): number =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && match(l.slice(name.length, l.indexOf('}') + 1)))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);

const WRITE = (labels: string): boolean => /method="(POST|PUT|PATCH|DELETE)"/.test(labels);

async function readyCount(client: KubeClient): Promise<number> {
  const list = await client.request<{ items: KubeObject[] }>(
    'GET',
    '/apis/gov.secovia.eu/v1alpha1/govtenants',
  );
  return list.items.filter((t) =>
    ((t.status as { conditions?: { type: string; status: string }[] })?.conditions ?? []).some(
      (c) => c.type === 'Ready' && c.status === 'True',
    ),
  ).length;
}

async function operatorRun(): Promise<Record<string, number>> {
  const cp = await withCrds();
  const client = KubeClient.load({ kubeconfig: cp.kubeconfigPath });
  const op = spawn(
    process.execPath,
    [
      `${ROOT}dist/src/main.js`,
      '--leader-elect',
      'false',
      '--metrics-port',
      '0',
      '--health-port',
      '0',
      '--log-level',
      'info',
      '--workers',
      '8',
    ],
    {
      env: { ...process.env, KUBECONFIG: cp.kubeconfigPath, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  // Only the start-up lines are kept: the port is in them.
  op.stdout.on('data', (d: Buffer) => {
    if (out.length < 100_000) out += d.toString();
  });
  const peakRss = (): number =>
    Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${op.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  while (!/"metricsPort":(\d+)/.test(out)) await new Promise((r) => setTimeout(r, 100));
  const metricsUrl = `http://127.0.0.1:${/"metricsPort":(\d+)/.exec(out)![1]}/metrics`;
  const scrape = async (): Promise<string> => (await fetch(metricsUrl)).text();
  const tenants = Array.from({ length: N }, (_, i) => tenantSpec(i));
  const started = Date.now();
  await pool(
    tenants,
    async (t) => void (await client.request('POST', '/apis/gov.secovia.eu/v1alpha1/govtenants', { body: t })),
  );
  while ((await readyCount(client)) < N) await new Promise((r) => setTimeout(r, 250));
  const convergeMs = Date.now() - started;
  const m1 = await scrape();
  const result = {
    convergeSeconds: convergeMs / 1000,
    requests: metric(m1, 'rest_client_requests_total', (l) => !/method="WATCH"/.test(l)),
    writes: metric(m1, 'rest_client_requests_total', WRITE),
    peakRssMiB: Math.round(peakRss()),
    idleSeconds: IDLE_SECONDS,
    idleWrites: 0,
  };
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  result.idleWrites = metric(await scrape(), 'rest_client_requests_total', WRITE) - result.writes;
  result.peakRssMiB = Math.round(peakRss());
  op.kill('SIGTERM');
  await new Promise((r) => op.once('exit', r));
  client.close();
  await cp.stop();
  return result;
}

/** The floor: the same objects, built by the same pure functions, created directly. */
async function limitRun(): Promise<number> {
  const cp = await withCrds();
  const client = KubeClient.load({ kubeconfig: cp.kubeconfigPath });
  const settings = { ingressNamespace: 'ingress-nginx' };
  const started = Date.now();
  await pool(
    Array.from({ length: N }, (_, i) => tenantSpec(i)),
    async (spec) => {
      const t = (await client.request<KubeObject>('POST', '/apis/gov.secovia.eu/v1alpha1/govtenants', {
        body: spec,
      })) as GovTenant;
      for (const env of t.spec!.environments) {
        const objects = [
          tenantNamespace(t, env.name, { createdBy: t.metadata.uid }),
          ...environmentObjects(t, env, { settings }),
        ];
        for (const o of objects) {
          await client.request(
            'PATCH',
            objectPath(resourceFor(o.apiVersion, o.kind), o.metadata.name, o.metadata.namespace),
            {
              query: { fieldManager: 'bench', force: true },
              contentType: 'application/apply-patch+yaml',
              body: o,
            },
          );
        }
      }
      await client.request('PATCH', `/apis/gov.secovia.eu/v1alpha1/govtenants/${t.metadata.name}/status`, {
        query: { fieldManager: 'bench', force: true },
        contentType: 'application/apply-patch+yaml',
        body: {
          apiVersion: t.apiVersion,
          kind: t.kind,
          metadata: { name: t.metadata.name },
          status: { observedGeneration: 1 },
        },
      });
    },
  );
  const ms = Date.now() - started;
  client.close();
  await cp.stop();
  return ms / 1000;
}

const operator = await operatorRun();
const limitSeconds = await limitRun();
const ratio = operator.convergeSeconds! / limitSeconds;
console.log(
  JSON.stringify(
    {
      n: N,
      machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      ...operator,
      limitSeconds,
      ratio: Math.round(ratio * 100) / 100,
    },
    null,
    2,
  ),
);
