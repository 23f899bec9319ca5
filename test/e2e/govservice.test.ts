/**
 * The service catalog on real API servers. No kubelet runs, so, as envtest users do, the tests
 * drive Deployment status themselves on a control plane without controller manager; a second
 * control plane with kube-controller-manager covers garbage collection and quota refusals.
 */
import type { KubeClient } from '../../src/runtime/kube.js';
import type { Manager } from '../../src/runtime/manager.js';
import type { KubeObject } from '../../src/runtime/types.js';
import type { ControlPlane } from '../harness/controlplane.js';
import { markRolledOut } from '../harness/rollout.js';
import {
  clientFor,
  conditionOf,
  controlPlaneWithCrds,
  eventually,
  getObject,
  ROOT,
  startInProcessOperator,
  uniqueName,
} from './support.js';

const API = '/apis/gov.secovia.eu/v1alpha1';

/** metadata.managedFields: which field manager owns which fields. */
type ManagedFields = { manager: string; fieldsV1?: Record<string, Record<string, unknown>> }[];

interface Env {
  cp: ControlPlane;
  client: KubeClient;
  operator: Manager;
}

async function environment(controllerManager: boolean): Promise<Env> {
  const cp = await controlPlaneWithCrds({ controllerManager });
  const applied = await cp.kubectl([
    'apply',
    '-f',
    `${ROOT}config/samples/gov_v1alpha1_govserviceclass.yaml`,
  ]);
  if (applied.code !== 0) throw new Error(applied.stderr);
  return { cp, client: clientFor(cp), operator: await startInProcessOperator(cp) };
}

let plain: Env;
let full: Env;

beforeAll(async () => {
  plain = await environment(false);
  full = await environment(true);
}, 240_000);

afterAll(async () => {
  for (const e of [plain, full]) {
    await e?.operator.stop();
    e?.client.close();
    await e?.cp.stop();
  }
}, 60_000);

async function tenant(env: Env, name: string, spec: Record<string, unknown> = {}): Promise<void> {
  await env.client.request('POST', `${API}/govtenants`, {
    body: {
      apiVersion: 'gov.secovia.eu/v1alpha1',
      kind: 'GovTenant',
      metadata: { name },
      spec: {
        displayName: 'Град Скопје',
        country: 'MK',
        level: 'municipal',
        environments: [{ name: 'prod' }],
        dataResidency: { allowedCountries: ['MK'], classification: 'internal' },
        ingress: { allowedDomains: [`${name}.example`] },
        ...spec,
      },
    },
  });
  await eventually(
    async () =>
      conditionOf(await getObject(env.client, `${API}/govtenants/${name}`), 'Ready')?.status === 'True',
    30_000,
    `tenant ${name}`,
  );
}

const suspendTenant = (env: Env, name: string, suspended: boolean) =>
  env.client.request('PATCH', `${API}/govtenants/${name}`, {
    contentType: 'application/merge-patch+json',
    body: { spec: { suspended } },
  });

function service(name: string, namespace: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'gov.secovia.eu/v1alpha1', kind: 'GovService', metadata: { name, namespace }, spec };
}

const permits = (extra: Record<string, unknown> = {}) => ({
  class: 'e-permits',
  plan: 'small',
  parameters: { municipalityCode: '1000', permitTypes: ['renovation'] },
  ...extra,
});

async function create(env: Env, obj: KubeObject): Promise<void> {
  await env.client.request('POST', `${API}/namespaces/${obj.metadata.namespace}/govservices`, { body: obj });
}

const servicePath = (ns: string, name: string) => `${API}/namespaces/${ns}/govservices/${name}`;

async function readyReason(env: Env, ns: string, name: string, reason: string): Promise<KubeObject> {
  return eventually(
    async () => {
      const s = await getObject(env.client, servicePath(ns, name));
      return conditionOf(s, 'Ready')?.reason === reason ? s : undefined;
    },
    30_000,
    `${ns}/${name} Ready reason ${reason}`,
  );
}

/** What the kubelet and the deployment controller would report for a rolled-out Deployment. */
async function markDeploymentAvailable(env: Env, ns: string, name: string, replicas: number): Promise<void> {
  const path = `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;
  const d = await eventually(() => getObject(env.client, path), 20_000, 'deployment');
  await markRolledOut(env.client, d, replicas);
}

describe('GovService', () => {
  it('produces a hardened Deployment, Service, Ingress with TLS, PDB and ingress policy, and follows the Deployment to Ready', async () => {
    const t = uniqueName('mk-');
    const ns = `${t}-prod`;
    await tenant(plain, t);
    await create(
      plain,
      service('permits', ns, permits({ exposure: 'public', host: `permits.${t}.example`, version: '2.4.0' })),
    );
    const get = (p: string) => eventually(() => getObject(plain.client, p), 20_000, p);
    const d = await get(`/apis/apps/v1/namespaces/${ns}/deployments/permits`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Deployment's pod spec, read field by field below
    const pod = (d.spec as { template: { spec: Record<string, any> } }).template.spec;
    const container = pod.containers[0];
    expect(container.image).toBe(
      'registry.example.eu/secovia/e-permits@sha256:4f5a0d4c1e0b8a6f2c9d3e7b1a5c8f0e2d4b6a8c0e1f3a5b7c9d2e4f6a8b0c1d',
    );
    expect(container.resources).toEqual({
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { cpu: '250m', memory: '256Mi' },
    });
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
    expect(container.livenessProbe.httpGet).toMatchObject({ path: '/healthz' });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect((d.spec as { replicas: number }).replicas).toBe(2);
    const sa = await get(`/api/v1/namespaces/${ns}/serviceaccounts/permits`);
    expect((sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken).toBe(false);
    const cm = await get(`/api/v1/namespaces/${ns}/configmaps/permits-parameters`);
    expect(JSON.parse((cm as unknown as { data: Record<string, string> }).data['parameters.json']!)).toEqual({
      municipalityCode: '1000',
      permitTypes: ['renovation'],
    });
    await get(`/api/v1/namespaces/${ns}/services/permits`);
    const ingress = await get(`/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/permits`);
    expect(ingress.spec as { tls: unknown[]; ingressClassName: string }).toMatchObject({
      ingressClassName: 'nginx',
      tls: [{ hosts: [`permits.${t}.example`], secretName: 'permits-tls' }],
    });
    await get(`/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/permits`);
    await get(`/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/permits-ingress-controller`);
    for (const o of [d, sa, cm, ingress]) {
      expect(o.metadata.labels?.['gov.secovia.eu/tenant']).toBe(t);
      expect(o.metadata.ownerReferences?.[0]).toMatchObject({
        kind: 'GovService',
        name: 'permits',
        controller: true,
      });
    }
    await markDeploymentAvailable(plain, ns, 'permits', 2);
    const s = await readyReason(plain, ns, 'permits', 'Reconciled');
    expect(s.status).toMatchObject({
      url: `https://permits.${t}.example`,
      version: '2.4.0',
      readyReplicas: 2,
    });
    expect(conditionOf(s, 'Available')?.status).toBe('True');
  }, 90_000);

  it('uses an HPA for autoscaling plans and no Ingress for internal services; rolls pods when parameters change', async () => {
    const t = uniqueName('mk-');
    const ns = `${t}-prod`;
    await tenant(plain, t);
    await create(
      plain,
      service('pay', ns, {
        class: 'payments',
        plan: 'elastic',
        parameters: { currency: 'MKD', merchantId: 'SK-001' },
      }),
    );
    const hpa = await eventually(() =>
      getObject(plain.client, `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/pay`),
    );
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 12 });
    const path = `/apis/apps/v1/namespaces/${ns}/deployments/pay`;
    const before = await eventually(() => getObject(plain.client, path));
    expect(
      await getObject(plain.client, `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/pay`),
    ).toBeUndefined();
    const hash = (o?: KubeObject) =>
      (o?.spec as { template: { metadata: { annotations: Record<string, string> } } })?.template.metadata
        .annotations['gov.secovia.eu/parameters-hash'];
    await plain.client.request('PATCH', servicePath(ns, 'pay'), {
      contentType: 'application/merge-patch+json',
      body: { spec: { parameters: { currency: 'MKD', merchantId: 'SK-002' } } },
    });
    await eventually(
      async () => hash(await getObject(plain.client, path)) !== hash(before),
      20_000,
      'pod template changed',
    );
  }, 60_000);

  it.each([
    ['NamespaceNotTenant', 'default', permits(), undefined],
    ['ClassNotFound', 'TENANT', permits({ class: 'land-registry' }), 'land-registry'],
    ['VersionNotAllowed', 'TENANT', permits({ version: '9.9.9' }), '9.9.9'],
    ['PlanNotFound', 'TENANT', permits({ plan: 'gigantic' }), 'gigantic'],
    [
      'InvalidParameters',
      'TENANT',
      permits({ parameters: { municipalityCode: 'Skopje', permitTypes: ['castle'] } }),
      'municipalityCode',
    ],
  ])(
    'refuses with reason %s before creating anything',
    async (reason, where, spec, mentioned) => {
      const t = uniqueName('mk-');
      await tenant(plain, t);
      const ns = where === 'TENANT' ? `${t}-prod` : where;
      const name = uniqueName('svc-');
      await create(plain, service(name, ns, spec));
      const s = await readyReason(plain, ns, name, reason);
      if (mentioned) expect(conditionOf(s, 'Ready')?.message).toContain(mentioned);
      expect(
        await getObject(plain.client, `/apis/apps/v1/namespaces/${ns}/deployments/${name}`),
      ).toBeUndefined();
    },
    60_000,
  );

  it('refuses a class the tenant may not use, and a tenant classified above the class maximum', async () => {
    const limited = uniqueName('rs-');
    await tenant(plain, limited, { allowedServiceClasses: ['identity'] });
    await create(plain, service('permits', `${limited}-prod`, permits()));
    await readyReason(plain, `${limited}-prod`, 'permits', 'ClassNotAllowed');
    const secret = uniqueName('rs-');
    await tenant(plain, secret, {
      dataResidency: { allowedCountries: ['RS'], classification: 'restricted' },
    });
    await create(plain, service('permits', `${secret}-prod`, permits()));
    const s = await readyReason(plain, `${secret}-prod`, 'permits', 'ClassificationTooHigh');
    expect(conditionOf(s, 'Ready')?.message).toContain('confidential');
  }, 60_000);

  it('gives a host to one service only: the second reports HostConflict until the first lets go', async () => {
    const a = uniqueName('hu-');
    const b = uniqueName('rs-');
    // A domain both claim, new to this test: the tenants of earlier tests claim none of it.
    const shared = `shared-${a}.example`;
    const claim = (name: string) => ({ ingress: { allowedDomains: [`${name}.example`, shared] } });
    await tenant(plain, a, { environments: [{ name: 'prod' }, { name: 'test' }], ...claim(a) });
    await tenant(plain, b, claim(b));
    const host = `www.${shared}`;
    await create(plain, service('first', `${a}-prod`, permits({ exposure: 'public', host })));
    await eventually(() =>
      getObject(plain.client, `/apis/networking.k8s.io/v1/namespaces/${a}-prod/ingresses/first`),
    );
    // Both tenants ask for the shared domain; only the elder owns it, so the other never gets the host.
    await create(plain, service('other', `${b}-prod`, permits({ exposure: 'public', host })));
    const other = await readyReason(plain, `${b}-prod`, 'other', 'HostNotAllowed');
    expect(conditionOf(other, 'Ready')?.message).toContain('less those an older GovTenant holds');
    await create(plain, service('second', `${a}-test`, permits({ exposure: 'public', host })));
    const s = await readyReason(plain, `${a}-test`, 'second', 'HostConflict');
    expect(conditionOf(s, 'Ready')?.message).toContain(`${a}-prod/first`);
    await plain.client.request('DELETE', servicePath(`${a}-prod`, 'first'));
    await eventually(
      () => getObject(plain.client, `/apis/networking.k8s.io/v1/namespaces/${a}-test/ingresses/second`),
      30_000,
      'host freed',
    );
  }, 60_000);

  it('a service refused its host never blocks the owner of the domain, however early it came', async () => {
    const owner = uniqueName('rs-');
    // Sorts first: in a creation-time tie too, the squatter's service is the elder claimant.
    const squatter = uniqueName('al-');
    await tenant(plain, owner);
    await tenant(plain, squatter);
    const host = `login.${owner}.example`;
    await create(plain, service('squat', `${squatter}-prod`, permits({ exposure: 'public', host })));
    await readyReason(plain, `${squatter}-prod`, 'squat', 'HostNotAllowed');
    await create(plain, service('login', `${owner}-prod`, permits({ exposure: 'public', host })));
    const ingress = await eventually(
      () => getObject(plain.client, `/apis/networking.k8s.io/v1/namespaces/${owner}-prod/ingresses/login`),
      30_000,
      "the owner's Ingress",
    );
    expect((ingress.spec as { rules: { host: string }[] }).rules[0]!.host).toBe(host);
  }, 60_000);

  it("lets the ingress controller reach only the target ports of the tenant's public and federated services", async () => {
    const t = uniqueName('mk-');
    const ns = `${t}-prod`;
    const policyPath = `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/secovia-allow-ingress-controller`;
    const ports = async () =>
      ((await getObject(plain.client, policyPath))?.spec as { ingress: { ports: unknown[] }[] } | undefined)
        ?.ingress[0]?.ports;
    await tenant(plain, t);
    await create(plain, service('internal', ns, permits()));
    await eventually(() => getObject(plain.client, `/apis/apps/v1/namespaces/${ns}/deployments/internal`));
    // No exposed service: no allowance at all.
    expect(await getObject(plain.client, policyPath)).toBeUndefined();
    await create(
      plain,
      service('permits', ns, permits({ exposure: 'public', host: `permits.${t}.example` })),
    );
    await create(
      plain,
      service('delivery', ns, {
        class: 'e-delivery',
        plan: 'standard',
        exposure: 'federated',
        host: `delivery.${t}.example`,
      }),
    );
    const both = [
      { protocol: 'TCP', port: 8080 },
      { protocol: 'TCP', port: 8443 },
    ];
    await eventually(
      async () => JSON.stringify(await ports()) === JSON.stringify(both),
      20_000,
      'ports of permits (8080) and delivery (8443)',
    );
    const policy = await getObject(plain.client, policyPath);
    expect((policy?.spec as { ingress: { from: unknown[] }[] }).ingress[0]?.from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
    ]);
    await plain.client.request('PATCH', servicePath(ns, 'delivery'), {
      contentType: 'application/merge-patch+json',
      body: { spec: { exposure: 'internal', host: null } },
    });
    await eventually(
      async () => JSON.stringify(await ports()) === JSON.stringify([both[0]]),
      20_000,
      'only 8080 once delivery is internal',
    );
    await plain.client.request('DELETE', servicePath(ns, 'permits'));
    await eventually(async () => !(await getObject(plain.client, policyPath)), 20_000, 'policy pruned');
  }, 60_000);

  it('ends an API server refusal of one of its objects (422) in its status with the server message, not in retries', async () => {
    const t = uniqueName('mk-');
    const ns = `${t}-prod`;
    await tenant(plain, t);
    // A cluster policy that refuses this namespace's Deployment the way a validation does (HTTP 422).
    const policy = `refuse-${t}`;
    const vap = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
    await plain.client.request('POST', vap, {
      body: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: policy },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
            resourceRules: [
              {
                apiGroups: ['apps'],
                apiVersions: ['*'],
                operations: ['CREATE', 'UPDATE'],
                resources: ['deployments'],
              },
            ],
          },
          validations: [
            { expression: 'false', message: 'spec.template: refused by the test policy', reason: 'Invalid' },
          ],
        },
      },
    });
    await plain.client.request(
      'POST',
      '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings',
      {
        body: {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingAdmissionPolicyBinding',
          metadata: { name: policy },
          spec: { policyName: policy, validationActions: ['Deny'] },
        },
      },
    );
    try {
      // A new policy takes a moment to reach admission: a dry run tells when it refuses.
      const probe = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'probe' },
        spec: {
          selector: { matchLabels: { app: 'probe' } },
          template: {
            metadata: { labels: { app: 'probe' } },
            spec: { containers: [{ name: 'c', image: 'registry.example.eu/probe:1' }] },
          },
        },
      };
      await eventually(
        () =>
          plain.client
            .request('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
              query: { dryRun: 'All' },
              body: probe,
            })
            .then(
              () => false,
              (e: Error) => e.message.includes('refused by the test policy'),
            ),
        30_000,
        'the test policy in force',
      );
      await create(plain, service('permits', ns, permits()));
      const s = await readyReason(plain, ns, 'permits', 'ObjectInvalid');
      const ready = conditionOf(s, 'Ready');
      expect(ready?.message).toContain('Deployment permits refused by the API server (HTTP 422)');
      expect(ready?.message).toContain('spec.template: refused by the test policy');
      expect(ready?.observedGeneration).toBe(s.metadata.generation);
      const events = await plain.client.request<{ items: { reason: string; type: string }[] }>(
        'GET',
        `/api/v1/namespaces/${ns}/events?fieldSelector=involvedObject.name=permits`,
      );
      expect(events.items.filter((e) => e.type === 'Warning').map((e) => e.reason)).toContain(
        'ObjectInvalid',
      );
    } finally {
      await plain.client.request(
        'DELETE',
        `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/${policy}`,
      );
      await plain.client.request('DELETE', `${vap}/${policy}`);
    }
    // The refusal lifted, a change of the service tries again and succeeds (the policy's removal
    // reaches admission a moment later: each look that finds no Deployment changes the service again).
    const deployment = `/apis/apps/v1/namespaces/${ns}/deployments/permits`;
    await eventually(
      async () => {
        const d = await getObject(plain.client, deployment);
        if (d) return d;
        await plain.client.request('PATCH', servicePath(ns, 'permits'), {
          contentType: 'application/merge-patch+json',
          body: { metadata: { annotations: { 'e2e.example/retry': String(Date.now()) } } },
        });
        return undefined;
      },
      30_000,
      'Deployment created once the policy is gone',
    );
    await eventually(
      async () => {
        const reason = conditionOf(
          await getObject(plain.client, servicePath(ns, 'permits')),
          'Ready',
        )?.reason;
        return reason !== undefined && reason !== 'ObjectInvalid';
      },
      20_000,
      'Ready no longer ObjectInvalid',
    );
  }, 60_000);

  it('scales to zero while the tenant is suspended (condition Suspended) and back to the plan when resumed', async () => {
    const t = uniqueName('hu-');
    const ns = `${t}-prod`;
    await tenant(plain, t);
    await create(plain, service('permits', ns, permits()));
    const path = `/apis/apps/v1/namespaces/${ns}/deployments/permits`;
    await eventually(async () => (await getObject(plain.client, path))?.spec !== undefined);
    const suspend = (suspended: boolean) => suspendTenant(plain, t, suspended);
    await suspend(true);
    await eventually(
      async () => ((await getObject(plain.client, path))?.spec as { replicas: number }).replicas === 0,
      20_000,
      'scaled to zero',
    );
    const s = await readyReason(plain, ns, 'permits', 'TenantSuspended');
    expect(conditionOf(s, 'Suspended')?.status).toBe('True');
    expect(
      await getObject(plain.client, `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/permits`),
    ).toBeUndefined();
    await suspend(false);
    await eventually(
      async () => ((await getObject(plain.client, path))?.spec as { replicas: number }).replicas === 2,
      20_000,
      'back to plan',
    );
  }, 60_000);

  it('starts an autoscaled Deployment at the plan minimum, Ready only with that many ready, and leaves the replicas the HPA sets', async () => {
    const t = uniqueName('mk-');
    const ns = `${t}-prod`;
    await tenant(plain, t);
    await create(plain, service('permits', ns, permits({ plan: 'large' }))); // an HPA of 3 to 10
    const path = `/apis/apps/v1/namespaces/${ns}/deployments/permits`;
    const deployment = () => getObject(plain.client, path);
    const replicas = async () => ((await deployment())?.spec as { replicas?: number } | undefined)?.replicas;
    /** The field managers that own the Deployment's spec.replicas. */
    const owners = async () =>
      ((await deployment())?.metadata as { managedFields?: ManagedFields }).managedFields
        ?.filter((m) => m.fieldsV1?.['f:spec']?.['f:replicas'])
        .map((m) => m.manager);
    await eventually(async () => (await replicas()) === 3, 20_000, 'Deployment at the plan minimum');
    await eventually(
      () => getObject(plain.client, `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/permits`),
      20_000,
      'HPA',
    );
    // Held apart from the operator's own applies: never dropped to the default of 1 by them.
    expect(await owners()).toEqual(['secovia-operator-replicas']);

    // One ready replica, as a Deployment at 1 reports before its HPA raises it: not Ready.
    await markRolledOut(plain.client, (await deployment())!, 1);
    const waiting = await eventually(
      async () => {
        const s = await getObject(plain.client, servicePath(ns, 'permits'));
        return (s?.status as { readyReplicas?: number })?.readyReplicas === 1 ? s : undefined;
      },
      20_000,
      'status with one ready replica',
    );
    expect(conditionOf(waiting, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'MinimumReplicasNotReady',
      message: '1 of 3 replicas ready, the minimum of plan large',
      observedGeneration: waiting.metadata.generation,
    });
    await markRolledOut(plain.client, (await deployment())!, 3);
    await readyReason(plain, ns, 'permits', 'Reconciled');

    // The HPA scales through the scale subresource; the next apply of the Deployment leaves that.
    await plain.client.request('PATCH', `${path}/scale`, {
      query: { fieldManager: 'kube-controller-manager' },
      contentType: 'application/merge-patch+json',
      body: { spec: { replicas: 5 } },
    });
    const template = async () =>
      JSON.stringify(((await deployment())?.spec as { template?: unknown }).template);
    const before = await template();
    await plain.client.request('PATCH', servicePath(ns, 'permits'), {
      contentType: 'application/merge-patch+json',
      body: { spec: { parameters: { municipalityCode: '2000' } } },
    });
    await eventually(async () => (await template()) !== before, 20_000, 'Deployment applied anew');
    expect(await replicas()).toBe(5);
    expect(await owners()).toEqual(['kube-controller-manager']);

    // Resumed from zero: back at the minimum, held again until the HPA is back.
    const suspend = (suspended: boolean) => suspendTenant(plain, t, suspended);
    await suspend(true);
    await eventually(async () => (await replicas()) === 0, 20_000, 'scaled to zero');
    await suspend(false);
    await eventually(async () => (await replicas()) === 3, 20_000, 'back at the plan minimum');
    expect(await owners()).toEqual(['secovia-operator-replicas']);
  }, 90_000);

  it('keeps a service running on a version removed from the class (VersionDeprecated), and rolls out a new spec.version', async () => {
    const t = uniqueName('hu-');
    const ns = `${t}-prod`;
    await tenant(plain, t);
    const cls = uniqueName('cls-');
    await plain.client.request('POST', `${API}/govserviceclasses`, {
      body: {
        apiVersion: 'gov.secovia.eu/v1alpha1',
        kind: 'GovServiceClass',
        metadata: { name: cls },
        spec: {
          displayName: { en: 'Scheduler', el: 'Προγραμματισμός ραντεβού' },
          audience: ['G2C'],
          buildingBlock: 'scheduler',
          image: 'registry.example.eu/secovia/scheduler',
          versions: ['1.0.0', '1.1.0'],
          plans: [{ name: 'small', replicas: 1, resources: { cpu: '100m', memory: '128Mi' } }],
        },
      },
    });
    await create(plain, service('appointments', ns, { class: cls, plan: 'small', version: '1.0.0' }));
    const path = `/apis/apps/v1/namespaces/${ns}/deployments/appointments`;
    await eventually(() => getObject(plain.client, path));
    await plain.client.request('PATCH', `${API}/govserviceclasses/${cls}`, {
      contentType: 'application/merge-patch+json',
      body: { spec: { versions: ['1.1.0'] } },
    });
    await eventually(
      async () =>
        conditionOf(await getObject(plain.client, servicePath(ns, 'appointments')), 'VersionDeprecated')
          ?.status === 'True',
      20_000,
      'deprecated',
    );
    const image = async () =>
      (
        (await getObject(plain.client, path))?.spec as {
          template: { spec: { containers: { image: string }[] } };
        }
      ).template.spec.containers[0]?.image;
    expect(await image()).toBe('registry.example.eu/secovia/scheduler:1.0.0');
    await plain.client.request('PATCH', servicePath(ns, 'appointments'), {
      contentType: 'application/merge-patch+json',
      body: { spec: { version: '1.1.0' } },
    });
    await eventually(
      async () => (await image()) === 'registry.example.eu/secovia/scheduler:1.1.0',
      20_000,
      'rolled out',
    );
    await eventually(
      async () =>
        conditionOf(await getObject(plain.client, servicePath(ns, 'appointments')), 'VersionDeprecated')
          ?.status === 'False',
    );
  }, 60_000);

  it('restores a deleted or edited owned object (drift)', async () => {
    const t = uniqueName('hu-');
    const ns = `${t}-prod`;
    await tenant(plain, t);
    await create(plain, service('permits', ns, permits()));
    const svcPath = `/api/v1/namespaces/${ns}/services/permits`;
    const before = await eventually(() => getObject(plain.client, svcPath));
    await plain.client.request('DELETE', svcPath);
    await eventually(
      async () => {
        const now = await getObject(plain.client, svcPath);
        return now && now.metadata.uid !== before.metadata.uid;
      },
      20_000,
      'service restored',
    );
  }, 60_000);

  it('reports the class instances, and a class in use cannot be deleted: a condition lists its instances', async () => {
    const t = uniqueName('hu-');
    await tenant(plain, t);
    await create(
      plain,
      service('eid', `${t}-prod`, {
        class: 'identity',
        plan: 'small',
        parameters: { assuranceLevel: 'high' },
      }),
    );
    await eventually(
      async () =>
        (
          (await getObject(plain.client, `${API}/govserviceclasses/identity`))?.status as {
            instances?: number;
          }
        )?.instances === 1,
      20_000,
      'instances',
    );
    await plain.client.request('DELETE', `${API}/govserviceclasses/identity`);
    const cls = await eventually(
      async () => {
        const c = await getObject(plain.client, `${API}/govserviceclasses/identity`);
        return conditionOf(c, 'DeletionBlocked')?.status === 'True' ? c : undefined;
      },
      20_000,
      'deletion blocked',
    );
    expect(conditionOf(cls, 'DeletionBlocked')?.message).toContain(`${t}-prod/eid`);
    for (const s of (
      await plain.client.request<{ items: KubeObject[] }>('GET', `${API}/govservices`)
    ).items.filter((x) => (x.spec as { class: string }).class === 'identity')) {
      await plain.client.request('DELETE', servicePath(s.metadata.namespace!, s.metadata.name));
    }
    await eventually(
      async () => !(await getObject(plain.client, `${API}/govserviceclasses/identity`)),
      20_000,
      'class deleted once unused',
    );
  }, 60_000);

  it('deleting a GovService removes what it created (garbage collection)', async () => {
    const t = uniqueName('hu-');
    const ns = `${t}-prod`;
    await tenant(full, t);
    await create(full, service('permits', ns, permits({ exposure: 'public', host: `gc.${t}.example` })));
    const ingress = `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/permits`;
    await eventually(() => getObject(full.client, ingress));
    await full.client.request('DELETE', servicePath(ns, 'permits'));
    await eventually(
      async () =>
        !(await getObject(full.client, ingress)) &&
        !(await getObject(full.client, `/apis/apps/v1/namespaces/${ns}/deployments/permits`)) &&
        !(await getObject(full.client, `/api/v1/namespaces/${ns}/configmaps/permits-parameters`)),
      60_000,
      'children collected',
    );
  }, 90_000);

  it('turns a quota refusal of its pods into condition QuotaExceeded naming the quota, not a crash loop', async () => {
    const t = uniqueName('hu-');
    const ns = `${t}-prod`;
    await tenant(full, t, { quota: { cpu: '100m', memory: '1Gi' } });
    await create(full, service('permits', ns, permits()));
    const s = await readyReason(full, ns, 'permits', 'QuotaExceeded');
    expect(conditionOf(s, 'Ready')?.message).toContain('secovia-quota');
  }, 90_000);
});
