/**
 * Admission latency of the tenant guardrails: with N tenants converged (two namespaces each, with
 * their guardrail annotations), single ConfigMaps and Pods are created one at a time in random
 * tenant namespaces, with the ValidatingAdmissionPolicies of config/admission bound and unbound in
 * alternating rounds (so that the machine's changing load falls on both alike). The time of each
 * create is taken from the client: the whole request, admission included.
 *
 *   npm run build && node --import ./hack/register-ts.mjs bench/admission.ts [TENANTS] [SAMPLES] [ROUNDS]
 */
import type { KubeClient } from '../src/runtime/kube.js';
import type { KubeObject } from '../src/runtime/types.js';
import {
  benchPlane,
  createTenants,
  GROUP_PATH,
  percentiles,
  report,
  ROOT,
  round,
  sleep,
  startOperator,
  untilReady,
} from './support.js';

const TENANTS = Number(process.argv[2] ?? 1000);
/** Creates of each kind per round and setting. */
const SAMPLES = Number(process.argv[3] ?? 250);
const ROUNDS = Number(process.argv[4] ?? 2);
const IMAGE = 'registry.example.eu/secovia/web:1.0.0';

const serviceClass: KubeObject = {
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovServiceClass',
  metadata: { name: 'web' },
  spec: {
    displayName: { en: 'Web' },
    audience: ['G2C'],
    buildingBlock: 'messaging',
    image: 'registry.example.eu/secovia/web',
    versions: ['1.0.0'],
    plans: [{ name: 'small', replicas: 1, resources: { cpu: '100m', memory: '128Mi' } }],
  },
};

const namespaceOf = (i: number): string => `t${String(i).padStart(4, '0')}-prod`;

const configMap = (name: string, namespace: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace },
  data: { greeting: 'добар ден' },
});

/** A pod that Pod Security restricted and the guardrails admit (no kubelet: it stays Pending). */
const pod = (name: string, namespace: string, image = IMAGE): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace },
  spec: {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'web',
        image,
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      },
    ],
  },
});

/** One create after the other, each in a random tenant namespace; milliseconds each. */
async function timeCreates(
  client: KubeClient,
  kind: 'configmaps' | 'pods',
  prefix: string,
): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const ns = namespaceOf(Math.floor(Math.random() * TENANTS));
    const name = `${prefix}-${i}`;
    const body = kind === 'pods' ? pod(name, ns) : configMap(name, ns);
    const started = performance.now();
    await client.request('POST', `/api/v1/namespaces/${ns}/${kind}`, { body });
    ms.push(performance.now() - started);
  }
  return ms;
}

const plane = await benchPlane({ controllerManager: true });
const { client, cp } = plane;
const kubectl = async (args: string[]): Promise<void> => {
  const r = await cp.kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
};
const op = await startOperator(plane);
await client.request('POST', `${GROUP_PATH}/govserviceclasses`, { body: serviceClass });
const convergeStarted = Date.now();
await createTenants(client, TENANTS);
await untilReady(client, `${GROUP_PATH}/govtenants`, TENANTS);
const convergedMs = Date.now() - convergeStarted;
// The namespaces now carry every setting the policies read: the operator's own work would only add
// noise to the measurement (its quota status tail), so it stops here.
await op.stop();
// The policies as kustomize ships them; their bindings are what the rounds switch on and off.
await kubectl(['apply', '-k', `${ROOT}config/admission`]);
const bindings = (
  await client.request<{ items: KubeObject[] }>(
    'GET',
    '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings',
  )
).items.map((b) => ({
  apiVersion: b.apiVersion,
  kind: b.kind,
  metadata: { name: b.metadata.name, labels: b.metadata.labels },
  spec: b.spec,
}));

/** Whether the API server enforces the guardrails now: a pod from another registry is refused. */
async function enforced(): Promise<boolean> {
  const ns = namespaceOf(0);
  const refused = await client
    .request('POST', `/api/v1/namespaces/${ns}/pods`, {
      body: pod('probe', ns, 'docker.io/library/busybox'),
      query: { dryRun: 'All' },
    })
    .then(() => false)
    .catch((e: Error) => e.message.includes('secovia-tenant-workloads'));
  return refused;
}

async function setPolicies(on: boolean): Promise<void> {
  for (const b of bindings) {
    const path = `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/${b.metadata.name}`;
    if (on)
      await client.request(
        'POST',
        '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings',
        { body: b },
      );
    else await client.request('DELETE', path);
  }
  // The API server loads bindings a moment after they are stored: wait until it acts on them.
  for (let i = 0; (await enforced()) !== on; i++) {
    if (i > 300) throw new Error(`the guardrails are still ${on ? 'off' : 'on'} after 30 s`);
    await sleep(100);
  }
}

const samples = {
  without: { configmaps: [] as number[], pods: [] as number[] },
  with: { configmaps: [] as number[], pods: [] as number[] },
};
// Warm-up: connections, caches and the API server's code paths, not measured.
await timeCreates(client, 'configmaps', 'warm-cm');
await timeCreates(client, 'pods', 'warm-pod');
for (let r = 0; r < ROUNDS; r++) {
  for (const on of [false, true]) {
    await setPolicies(on);
    const key = on ? 'with' : 'without';
    samples[key].configmaps.push(...(await timeCreates(client, 'configmaps', `${key}-${r}-cm`)));
    samples[key].pods.push(...(await timeCreates(client, 'pods', `${key}-${r}-pod`)));
  }
}
const result = Object.fromEntries(
  (['configmaps', 'pods'] as const).map((kind) => {
    const without = percentiles(samples.without[kind], 2);
    const withPolicies = percentiles(samples.with[kind], 2);
    return [
      kind,
      {
        withoutMs: without,
        withMs: withPolicies,
        addedMs: {
          p50: round(withPolicies.p50 - without.p50, 2),
          p99: round(withPolicies.p99 - without.p99, 2),
        },
      },
    ];
  }),
);
report('admission', {
  tenants: TENANTS,
  namespaces: TENANTS * 2,
  policies: bindings.map((b) => b.metadata.name).sort(),
  samplesPerKindAndSetting: SAMPLES * ROUNDS,
  tenantsReadyMs: convergedMs,
  ...result,
});
await plane.stop();
