/**
 * Memory: the operator's resident set with TENANTS tenants (two environments each) and SERVICES
 * GovServices in their caches, with everything each owns (namespaces, quotas, limit ranges,
 * policies, bindings, deployments, services, ingresses, PDBs...). No controller manager runs, so no
 * pods exist: what is measured is the operator's own caches and state.
 *
 *   npm run build && node --import ./hack/register-ts.mjs bench/memory.ts [TENANTS] [SERVICES] [SETTLE_SECONDS]
 */
import type { KubeObject } from '../src/runtime/types.js';
import {
  benchPlane,
  metric,
  createTenants,
  GROUP_PATH,
  pool,
  report,
  sleep,
  startOperator,
  untilQuiet,
  untilReady,
} from './support.js';

const TENANTS = Number(process.argv[2] ?? 1000);
const SERVICES = Number(process.argv[3] ?? 2000);
const SETTLE_SECONDS = Number(process.argv[4] ?? 120);

const serviceClass: KubeObject = {
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovServiceClass',
  metadata: { name: 'e-permits' },
  spec: {
    displayName: { en: 'Building permits', mk: 'Градежни дозволи' },
    audience: ['G2C', 'G2B'],
    buildingBlock: 'registration',
    image: 'registry.example.eu/secovia/e-permits',
    versions: ['2.3.1', '2.4.0'],
    plans: [{ name: 'small', replicas: 2, resources: { cpu: '250m', memory: '256Mi' } }],
    parametersSchema: { type: 'object', properties: { municipalityCode: { type: 'string' } } },
  },
};

const service = (i: number): KubeObject => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovService',
  metadata: { name: `permits-${i}`, namespace: `t${String(i % TENANTS).padStart(4, '0')}-prod` },
  spec: {
    class: 'e-permits',
    plan: 'small',
    exposure: 'public',
    host: `permits-${i}.t${String(i % TENANTS).padStart(4, '0')}.example.eu`,
    parameters: { municipalityCode: String(1000 + i) },
  },
});

const plane = await benchPlane({ controllerManager: false });
const op = await startOperator(plane);
const { client } = plane;
await client.request('POST', `${GROUP_PATH}/govserviceclasses`, { body: serviceClass });
await createTenants(client, TENANTS);
await untilReady(client, `${GROUP_PATH}/govtenants`, TENANTS);
await pool(
  Array.from({ length: SERVICES }, (_, i) => service(i)),
  16,
  async (s) =>
    void (await client.request('POST', `${GROUP_PATH}/namespaces/${s.metadata.namespace}/govservices`, {
      body: s,
    })),
);
// Every service reconciled at least once: its status names the generation it saw.
for (;;) {
  const list = await client.request<{ items: KubeObject[] }>('GET', `${GROUP_PATH}/govservices`);
  if (
    list.items.filter((s) => (s.status as { observedGeneration?: number })?.observedGeneration).length >=
    SERVICES
  )
    break;
  await sleep(1000);
}
await untilQuiet(plane.auditLog, 15_000);
const afterConvergence = op.rss();
// Then idle: the garbage of the burst is collected and the heap shrinks to what the caches hold.
await sleep(SETTLE_SECONDS * 1000);
// At rest means before anything asks the operator for work, this benchmark's scrape included.
const settled = op.rss();
const settledIn = op.rssBreakdown();
const metrics = await op.metrics();
const deployments = await client.request<{ items: unknown[] }>('GET', '/apis/apps/v1/deployments');
report('memory', {
  tenants: TENANTS,
  services: SERVICES,
  deployments: deployments.items.length,
  rssMiBAtConvergence: afterConvergence.now,
  peakRssMiB: op.rss().peak,
  settleSeconds: SETTLE_SECONDS,
  rssMiBSettled: settled.now,
  rssMiBSettledIn: settledIn,
  // A scrape computes the consumption series of every tenant: what is resident once it is served.
  rssMiBAfterScrape: op.rss().now,
  heapUsedMiBSettled: Math.round(metric(metrics, 'nodejs_heap_size_used_bytes') / 2 ** 20),
  heapTotalMiBSettled: Math.round(metric(metrics, 'nodejs_heap_size_total_bytes') / 2 ** 20),
});
await op.stop();
await plane.stop();
