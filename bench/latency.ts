/**
 * Latency: on an idle operator, single GovTenants and then single GovServices are created one at a
 * time; each time from create to the Ready condition is taken from a watch (no polling delay).
 * There is no kubelet: a watch in this benchmark reports each new Deployment as rolled out at once,
 * as the deployment controller and kubelet would for a started pod, so a GovService's figure is the
 * operator's own latency plus one status write.
 *
 *   npm run build && node --import ./hack/register-ts.mjs bench/latency.ts [SAMPLES]
 */
import type { KubeClient } from '../src/runtime/kube.js';
import type { KubeObject } from '../src/runtime/types.js';
import {
  benchPlane,
  GROUP_PATH,
  isReady,
  percentiles,
  report,
  startOperator,
  untilReady,
} from './support.js';
import { markRolledOut } from '../test/harness/rollout.js';

const SAMPLES = Number(process.argv[2] ?? 50);

/** Resolves `until(name)` when a watch first sees that object Ready. */
function readyWatch(client: KubeClient, path: string, stop: AbortSignal): (name: string) => Promise<number> {
  const seen = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  void client.watch<KubeObject>(
    path,
    {},
    (e) => {
      if (e.type === 'ERROR' || !isReady(e.object) || seen.has(e.object.metadata.name)) return;
      seen.set(e.object.metadata.name, performance.now());
      waiters.get(e.object.metadata.name)?.(performance.now());
    },
    stop,
  );
  return (name) =>
    seen.has(name) ? Promise.resolve(seen.get(name)!) : new Promise((resolve) => waiters.set(name, resolve));
}

/** Plays deployment controller and kubelet: every Deployment is reported available as soon as it exists. */
function rolloutWatch(client: KubeClient, stop: AbortSignal): void {
  void client.watch<KubeObject>(
    '/apis/apps/v1/deployments',
    {},
    (e) => {
      const d = e.object as KubeObject & {
        spec?: { replicas?: number };
        status?: { observedGeneration?: number };
      };
      if (
        e.type === 'ERROR' ||
        e.type === 'DELETED' ||
        d.status?.observedGeneration === d.metadata.generation
      )
        return;
      void markRolledOut(client, d, d.spec?.replicas ?? 1).catch(() => undefined);
    },
    stop,
  );
}

async function timeEach(
  client: KubeClient,
  path: string,
  until: (name: string) => Promise<number>,
  objects: KubeObject[],
): Promise<number[]> {
  const ms: number[] = [];
  for (const o of objects) {
    const started = performance.now();
    await client.request('POST', path, { body: o });
    ms.push((await until(o.metadata.name)) - started);
  }
  return ms;
}

const tenant = (name: string): KubeObject => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovTenant',
  metadata: { name },
  spec: {
    displayName: `Δήμος ${name}`,
    country: 'GR',
    level: 'municipal',
    environments: [{ name: 'prod' }, { name: 'test' }],
    quota: { cpu: '8', memory: '16Gi', pods: 100 },
    limits: { defaultCpu: '250m', defaultMemory: '256Mi', maxCpu: '2', maxMemory: '4Gi' },
    access: { admins: [{ kind: 'Group', name: `${name}-it` }] },
    dataResidency: { allowedCountries: ['GR'], classification: 'internal' },
    ingress: { allowedDomains: [`${name}.example.eu`] },
  },
});

const serviceClass: KubeObject = {
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovServiceClass',
  metadata: { name: 'e-delivery' },
  spec: {
    displayName: { en: 'E-delivery', el: 'Ηλεκτρονική επίδοση' },
    audience: ['G2C'],
    buildingBlock: 'messaging',
    image: 'registry.example.eu/secovia/e-delivery',
    versions: ['1.0.0'],
    plans: [{ name: 'small', replicas: 2, resources: { cpu: '100m', memory: '128Mi' } }],
  },
};

const service = (name: string): KubeObject => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovService',
  metadata: { name, namespace: 'home-prod' },
  spec: { class: 'e-delivery', plan: 'small', exposure: 'public', host: `${name}.home.example.eu` },
});

const plane = await benchPlane({ controllerManager: false });
const op = await startOperator(plane, 4);
const stop = new AbortController();
const { client } = plane;
rolloutWatch(client, stop.signal);
await client.request('POST', `${GROUP_PATH}/govserviceclasses`, { body: serviceClass });
await client.request('POST', `${GROUP_PATH}/govtenants`, { body: tenant('home') });
await untilReady(client, `${GROUP_PATH}/govtenants`, 1);
const tenants = await timeEach(
  client,
  `${GROUP_PATH}/govtenants`,
  readyWatch(client, `${GROUP_PATH}/govtenants`, stop.signal),
  Array.from({ length: SAMPLES }, (_, i) => tenant(`lat${i}`)),
);
const servicesPath = `${GROUP_PATH}/namespaces/home-prod/govservices`;
const services = await timeEach(
  client,
  servicesPath,
  readyWatch(client, servicesPath, stop.signal),
  Array.from({ length: SAMPLES }, (_, i) => service(`svc${i}`)),
);
report('latency', {
  samples: SAMPLES,
  govTenantMs: percentiles(tenants),
  govServiceMs: percentiles(services),
});
stop.abort();
await op.stop();
await plane.stop();
