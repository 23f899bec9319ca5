/** GovTenant on a real kube-apiserver + etcd + kube-controller-manager, with the operator in-process. */
import type { Manager } from '../../src/runtime/manager.js';
import type { KubeClient } from '../../src/runtime/kube.js';
import type { KubeObject } from '../../src/runtime/types.js';
import { reconcileTotal, restClientRequests } from '../../src/runtime/metrics.js';
import type { ControlPlane } from '../harness/controlplane.js';
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

const TENANTS = '/apis/gov.secovia.eu/v1alpha1/govtenants';

function tenant(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name },
    spec: {
      displayName: 'Општина Куманово',
      country: 'MK',
      level: 'municipal',
      environments: [{ name: 'prod' }, { name: 'test' }],
      dataResidency: { allowedCountries: ['MK'], classification: 'internal' },
      ...extra,
    },
  };
}

let cp: ControlPlane;
let client: KubeClient;
let operator: Manager;

const sum = async (
  metric: typeof restClientRequests | typeof reconcileTotal,
  match: (l: Record<string, unknown>) => boolean,
) => (await metric.get()).values.filter((v) => match(v.labels)).reduce((a, v) => a + v.value, 0);
const writeCount = () =>
  sum(restClientRequests, (l) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(String(l.method)));
const reconcileCount = () => sum(reconcileTotal, (l) => l.controller === 'govtenant');

beforeAll(async () => {
  cp = await controlPlaneWithCrds();
  client = clientFor(cp);
  for (const file of ['config/rbac/tenant_roles.yaml', 'config/admission/tenant_policies.yaml']) {
    const applied = await cp.kubectl(['apply', '-f', `${ROOT}${file}`]);
    if (applied.code !== 0) throw new Error(applied.stderr);
  }
  operator = await startInProcessOperator(cp);
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  client?.close();
  await cp?.stop();
}, 60_000);

const readyTenant = (name: string): Promise<KubeObject> =>
  eventually(
    async () => {
      const t = await getObject(client, `${TENANTS}/${name}`);
      const ready = conditionOf(t, 'Ready');
      return ready?.status === 'True' && ready.observedGeneration === t?.metadata.generation ? t : undefined;
    },
    30_000,
    `GovTenant ${name} Ready`,
  );

describe('GovTenant reconciler', () => {
  it('creates one labelled namespace per environment, sets its finalizer and reports Ready', async () => {
    const name = uniqueName('mk-');
    await client.request('POST', TENANTS, { body: tenant(name) });
    const t = await readyTenant(name);
    expect(t.metadata.finalizers).toContain('gov.secovia.eu/finalizer');
    expect((t.status as { namespaces: string[] }).namespaces.sort()).toEqual([
      `${name}-prod`,
      `${name}-test`,
    ]);
    const ns = await getObject(client, `/api/v1/namespaces/${name}-prod`);
    expect(ns?.metadata.labels).toMatchObject({
      'gov.secovia.eu/tenant': name,
      'gov.secovia.eu/country': 'MK',
      'gov.secovia.eu/level': 'municipal',
      'gov.secovia.eu/environment': 'prod',
      'pod-security.kubernetes.io/enforce': 'restricted',
      'app.kubernetes.io/managed-by': 'secovia-operator',
    });
    expect(ns?.metadata.ownerReferences ?? []).toEqual([]);
  });

  it('brings back a deleted namespace (drift) and keeps labels that others added', async () => {
    const name = uniqueName('mk-');
    await client.request('POST', TENANTS, { body: tenant(name) });
    await readyTenant(name);
    const path = `/api/v1/namespaces/${name}-test`;
    await client.request('PATCH', path, {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { 'team.example/cost-center': 'it-42' } } },
    });
    const before = await getObject(client, path);
    await client.request('DELETE', path);
    const after = await eventually(
      async () => {
        const ns = await getObject(client, path);
        return ns && ns.metadata.uid !== before?.metadata.uid && !ns.metadata.deletionTimestamp
          ? ns
          : undefined;
      },
      60_000,
      'namespace recreated',
    );
    expect(after.metadata.labels?.['gov.secovia.eu/tenant']).toBe(name);

    await client.request('PATCH', path, {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { 'team.example/cost-center': 'it-42', 'gov.secovia.eu/country': 'RS' } } },
    });
    const restored = await eventually(async () => {
      const ns = await getObject(client, path);
      return ns?.metadata.labels?.['gov.secovia.eu/country'] === 'MK' ? ns : undefined;
    });
    expect(restored.metadata.labels?.['team.example/cost-center']).toBe('it-42');
  }, 90_000);

  it('reports NamespaceConflict for a namespace it does not own and leaves that namespace untouched', async () => {
    const name = uniqueName('mk-');
    const foreign = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: `${name}-prod`, labels: { owner: 'someone-else' } },
    };
    const created = await client.request<KubeObject>('POST', '/api/v1/namespaces', { body: foreign });
    await client.request('POST', TENANTS, { body: tenant(name) });
    const t = await eventually(async () => {
      const obj = await getObject(client, `${TENANTS}/${name}`);
      return conditionOf(obj, 'NamespacesReady')?.reason === 'NamespaceConflict' ? obj : undefined;
    });
    expect(conditionOf(t, 'NamespacesReady')?.message).toContain(`${name}-prod`);
    expect(conditionOf(t, 'Ready')?.status).toBe('False');
    // The other environment is reconciled regardless.
    await eventually(() => getObject(client, `/api/v1/namespaces/${name}-test`));
    const ns = await getObject(client, `/api/v1/namespaces/${name}-prod`);
    expect(ns?.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(ns?.metadata.labels).toEqual({
      owner: 'someone-else',
      'kubernetes.io/metadata.name': `${name}-prod`,
    });
  });

  it("never adopts a namespace it did not create, even one labelled as the tenant's, and Delete leaves it", async () => {
    const name = uniqueName('mk-');
    // A namespace that someone labelled by hand as this tenant's: only the creator uid makes it the tenant's.
    const forged = await client.request<KubeObject>('POST', '/api/v1/namespaces', {
      body: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: `${name}-test`,
          labels: { 'gov.secovia.eu/tenant': name, 'app.kubernetes.io/managed-by': 'secovia-operator' },
        },
      },
    });
    await client.request('POST', TENANTS, { body: tenant(name, { deletionPolicy: 'Delete' }) });
    const t = await eventually(async () => {
      const obj = await getObject(client, `${TENANTS}/${name}`);
      return conditionOf(obj, 'NamespacesReady')?.reason === 'NamespaceConflict' ? obj : undefined;
    });
    expect(conditionOf(t, 'NamespacesReady')?.message).toContain(`${name}-test`);
    await eventually(() => getObject(client, `/api/v1/namespaces/${name}-prod`), 30_000, 'own namespace');
    await client.request('DELETE', `${TENANTS}/${name}`);
    await eventually(
      async () => !(await getObject(client, `/api/v1/namespaces/${name}-prod`)),
      90_000,
      'created namespace deleted',
    );
    const kept = await getObject(client, `/api/v1/namespaces/${name}-test`);
    expect(kept?.metadata.deletionTimestamp).toBeUndefined();
    expect(kept?.metadata.resourceVersion).toBe(forged.metadata.resourceVersion);
    const bindings = await client.request<{ items: unknown[] }>(
      'GET',
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${name}-test/rolebindings`,
    );
    expect(bindings.items).toEqual([]);
  }, 120_000);

  it('updates status.observedGeneration and namespaces when the spec changes, with no write when nothing changed', async () => {
    const name = uniqueName('mk-');
    await client.request('POST', TENANTS, { body: tenant(name) });
    const t = await readyTenant(name);
    await client.request('PATCH', `${TENANTS}/${name}`, {
      contentType: 'application/merge-patch+json',
      body: { spec: { environments: [{ name: 'prod' }, { name: 'test' }, { name: 'dev' }] } },
    });
    const t2 = await eventually(async () => {
      const obj = await getObject(client, `${TENANTS}/${name}`);
      return (obj?.status as { observedGeneration?: number })?.observedGeneration ===
        (t.metadata.generation ?? 0) + 1
        ? obj
        : undefined;
    });
    expect((t2.status as { namespaces: string[] }).namespaces).toContain(`${name}-dev`);
    // Converged: another full pass over the same tenant sends no write at all.
    const writesBefore = await writeCount();
    const reconciles = await reconcileCount();
    operator.controller('govtenant')?.queue.add(name);
    await eventually(async () => (await reconcileCount()) > reconciles);
    expect(await writeCount()).toBe(writesBefore);
    expect((await getObject(client, `${TENANTS}/${name}`))?.metadata.resourceVersion).toBe(
      t2.metadata.resourceVersion,
    );
  });
});

const listIn = async (path: string): Promise<KubeObject[]> =>
  (await client.request<{ items: KubeObject[] }>('GET', path)).items;

function fullTenant(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return tenant(name, {
    environments: [{ name: 'prod' }, { name: 'test', quota: { cpu: '2', memory: '4Gi' } }],
    quota: { cpu: '8', memory: '16Gi', storage: '100Gi', pods: 50 },
    limits: { defaultCpu: '250m', defaultMemory: '256Mi', maxCpu: '2', maxMemory: '4Gi' },
    access: {
      admins: [{ kind: 'Group', name: `${name}-admins` }],
      viewers: [{ kind: 'User', name: `auditor@${name}.example` }],
    },
    ...extra,
  });
}

async function canI(
  user: { name: string; groups?: string[] },
  verb: string,
  resource: string,
  namespace: string,
  group = '',
): Promise<boolean> {
  const review = await client.request<{ status: { allowed: boolean } }>(
    'POST',
    '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.name,
          groups: user.groups ?? [],
          resourceAttributes: { namespace, verb, group, resource },
        },
      },
    },
  );
  return review.status.allowed;
}

describe('GovTenant tenancy', () => {
  it('applies quota, limits, isolation policies and access bindings in every environment, and reports quota usage', async () => {
    const name = uniqueName('hu-');
    await client.request('POST', TENANTS, { body: fullTenant(name) });
    await readyTenant(name);
    const quota = await getObject(client, `/api/v1/namespaces/${name}-test/resourcequotas/secovia-quota`);
    expect((quota?.spec as { hard: Record<string, string> }).hard).toMatchObject({
      'limits.cpu': '2',
      'requests.memory': '4Gi',
      pods: '50',
    });
    expect(quota?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'GovTenant', name, controller: true });
    const limits = await getObject(client, `/api/v1/namespaces/${name}-prod/limitranges/secovia-limits`);
    expect(JSON.stringify(limits?.spec)).toContain('"defaultRequest":{"cpu":"250m","memory":"256Mi"}');
    const policies = (await listIn(`/apis/networking.k8s.io/v1/namespaces/${name}-prod/networkpolicies`)).map(
      (p) => p.metadata.name,
    );
    // No public or federated GovService: the ingress controller may reach nothing here.
    expect(policies.sort()).toEqual([
      'secovia-allow-egress',
      'secovia-allow-same-tenant',
      'secovia-default-deny',
    ]);
    const bindings = (
      await listIn(`/apis/rbac.authorization.k8s.io/v1/namespaces/${name}-prod/rolebindings`)
    ).map((b) => b.metadata.name);
    expect(bindings.sort()).toEqual(['secovia-tenant-admins', 'secovia-tenant-viewers']);
    // The controller manager fills the quota status; the tenant status reports it per environment.
    const t = await eventually(
      async () => {
        const obj = await getObject(client, `${TENANTS}/${name}`);
        const envs = (
          obj?.status as {
            environments?: {
              name: string;
              quota?: { hard: Record<string, string>; used: Record<string, string> };
            }[];
          }
        )?.environments;
        return envs?.find((e) => e.name === 'test')?.quota?.used?.pods === '0' ? envs : undefined;
      },
      60_000,
      'quota usage in status',
    );
    expect(t.find((e) => e.name === 'test')?.quota?.hard['limits.memory']).toBe('4Gi');
    const events = await listIn(
      `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=${name}`,
    );
    // One Event for what the first reconcile created, naming the objects by kind.
    const created = events.filter((e) => (e as unknown as { reason: string }).reason === 'ObjectsCreated');
    const message = created.map((e) => (e as unknown as { message: string }).message).join(' ');
    for (const kind of ['Namespace', 'ResourceQuota', 'LimitRange', 'NetworkPolicy', 'RoleBinding'])
      expect(message).toContain(`${kind} `);
    expect(message).toContain(`${name}-prod/secovia-quota`);
  }, 90_000);

  it("lets tenant A's admin run workloads in A, but not read B's secrets, change A's quota or policies, or escalate", async () => {
    const a = uniqueName('hu-');
    const b = uniqueName('rs-');
    await client.request('POST', TENANTS, { body: fullTenant(a) });
    await client.request('POST', TENANTS, { body: fullTenant(b) });
    await readyTenant(a);
    await readyTenant(b);
    const admin = { name: 'alice', groups: [`${a}-admins`] };
    expect(await canI(admin, 'create', 'deployments', `${a}-prod`, 'apps')).toBe(true);
    expect(await canI(admin, 'get', 'secrets', `${a}-test`)).toBe(true);
    expect(await canI(admin, 'get', 'secrets', `${b}-prod`)).toBe(false);
    expect(await canI(admin, 'list', 'pods', `${b}-prod`)).toBe(false);
    expect(await canI(admin, 'patch', 'resourcequotas', `${a}-prod`)).toBe(false);
    expect(await canI(admin, 'delete', 'networkpolicies', `${a}-prod`, 'networking.k8s.io')).toBe(false);
    expect(await canI(admin, 'patch', 'limitranges', `${a}-prod`)).toBe(false);
    expect(await canI(admin, 'create', 'rolebindings', `${a}-prod`, 'rbac.authorization.k8s.io')).toBe(false);
    expect(await canI(admin, 'patch', 'namespaces', '')).toBe(false);
    expect(await canI({ name: `auditor@${a}.example` }, 'get', 'secrets', `${a}-prod`)).toBe(false);
    expect(await canI({ name: `auditor@${a}.example` }, 'list', 'deployments', `${a}-prod`, 'apps')).toBe(
      true,
    );
    // And for real, impersonating the admin: a Deployment in A is created, B's secrets are refused.
    const as = ['--as', 'alice', '--as-group', `${a}-admins`];
    const created = await cp.kubectl([
      ...as,
      '-n',
      `${a}-prod`,
      'create',
      'deployment',
      'web',
      '--image=registry.example.eu/web:1.0',
    ]);
    expect(created.code).toBe(0);
    const denied = await cp.kubectl([...as, '-n', `${b}-prod`, 'get', 'secrets']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('forbidden');
  }, 90_000);

  it('restores a deleted ResourceQuota and an edited NetworkPolicy (drift)', async () => {
    const name = uniqueName('hu-');
    await client.request('POST', TENANTS, { body: fullTenant(name) });
    await readyTenant(name);
    const quotaPath = `/api/v1/namespaces/${name}-prod/resourcequotas/secovia-quota`;
    const before = await getObject(client, quotaPath);
    await client.request('DELETE', quotaPath);
    await eventually(
      async () => {
        const q = await getObject(client, quotaPath);
        return q && q.metadata.uid !== before?.metadata.uid;
      },
      20_000,
      'quota restored',
    );
    const policyPath = `/apis/networking.k8s.io/v1/namespaces/${name}-prod/networkpolicies/secovia-allow-same-tenant`;
    await client.request('PATCH', policyPath, {
      contentType: 'application/merge-patch+json',
      body: { spec: { ingress: [{}] } },
    });
    await eventually(
      async () => {
        const p = await getObject(client, policyPath);
        return JSON.stringify(p?.spec).includes('gov.secovia.eu/tenant');
      },
      20_000,
      'policy restored',
    );
  }, 60_000);

  it('opens ingress from the tenants named in allowFromTenants, and egress from them towards it', async () => {
    const caller = uniqueName('mk-');
    const callee = uniqueName('hu-');
    await client.request('POST', TENANTS, { body: fullTenant(caller) });
    await readyTenant(caller);
    await client.request('POST', TENANTS, {
      body: fullTenant(callee, { network: { isolation: 'strict', allowFromTenants: [caller] } }),
    });
    await readyTenant(callee);
    const allow = await eventually(() =>
      getObject(
        client,
        `/apis/networking.k8s.io/v1/namespaces/${callee}-prod/networkpolicies/secovia-allow-from-tenants`,
      ),
    );
    expect(JSON.stringify(allow.spec)).toContain(caller);
    await eventually(
      async () => {
        const egress = await getObject(
          client,
          `/apis/networking.k8s.io/v1/namespaces/${caller}-prod/networkpolicies/secovia-allow-egress`,
        );
        return JSON.stringify(egress?.spec).includes(callee);
      },
      20_000,
      'caller egress opened',
    );
    // Withdrawn allowance: the policy is pruned.
    await client.request('PATCH', `${TENANTS}/${callee}`, {
      contentType: 'application/merge-patch+json',
      body: { spec: { network: { isolation: 'strict', allowFromTenants: [] } } },
    });
    await eventually(
      async () =>
        !(await getObject(
          client,
          `/apis/networking.k8s.io/v1/namespaces/${callee}-prod/networkpolicies/secovia-allow-from-tenants`,
        )),
      20_000,
      'policy pruned',
    );
  }, 60_000);

  it('Retain (default): deleting the tenant keeps its namespaces, their data and their guard rails, labelled orphaned', async () => {
    const name = uniqueName('hu-');
    await client.request('POST', TENANTS, { body: fullTenant(name) });
    await readyTenant(name);
    await client.request('POST', `/api/v1/namespaces/${name}-prod/configmaps`, {
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'records' },
        data: { register: 'Петровић, Јована' },
      },
    });
    await client.request('DELETE', `${TENANTS}/${name}`);
    await eventually(async () => !(await getObject(client, `${TENANTS}/${name}`)), 30_000, 'tenant gone');
    const ns = await getObject(client, `/api/v1/namespaces/${name}-prod`);
    expect(ns?.metadata.labels?.['gov.secovia.eu/orphaned']).toBe('true');
    expect(ns?.metadata.deletionTimestamp).toBeUndefined();
    // Left behind without the tenant's label (no same-tenant policy reaches it) and without its access.
    expect(ns?.metadata.labels?.['gov.secovia.eu/tenant']).toBeUndefined();
    const bindings = await client.request<{ items: unknown[] }>(
      'GET',
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${name}-prod/rolebindings`,
    );
    expect(bindings.items).toEqual([]);
    const cm = await getObject(client, `/api/v1/namespaces/${name}-prod/configmaps/records`);
    expect((cm as unknown as { data: Record<string, string> }).data.register).toBe('Петровић, Јована');
    // Give the garbage collector time to act on any owner reference left behind: there must be none.
    await new Promise((r) => setTimeout(r, 3000));
    const quota = await getObject(client, `/api/v1/namespaces/${name}-prod/resourcequotas/secovia-quota`);
    expect(quota).toBeDefined();
    expect(quota?.metadata.ownerReferences ?? []).toEqual([]);
    expect(
      await getObject(
        client,
        `/apis/networking.k8s.io/v1/namespaces/${name}-prod/networkpolicies/secovia-default-deny`,
      ),
    ).toBeDefined();
  }, 90_000);

  it('Delete: deleting the tenant removes the namespaces it created (and only those)', async () => {
    const name = uniqueName('hu-');
    await client.request('POST', TENANTS, { body: fullTenant(name, { deletionPolicy: 'Delete' }) });
    await readyTenant(name);
    await client.request('DELETE', `${TENANTS}/${name}`);
    await eventually(
      async () =>
        !(await getObject(client, `/api/v1/namespaces/${name}-prod`)) &&
        !(await getObject(client, `/api/v1/namespaces/${name}-test`)),
      90_000,
      'namespaces deleted',
    );
    expect(await getObject(client, `${TENANTS}/${name}`)).toBeUndefined();
  }, 120_000);

  it('an environment removed from the spec follows the deletion policy: Retain orphans it, Delete removes it', async () => {
    const kept = uniqueName('hu-');
    const removed = uniqueName('hu-');
    await client.request('POST', TENANTS, { body: fullTenant(kept) });
    await client.request('POST', TENANTS, { body: fullTenant(removed, { deletionPolicy: 'Delete' }) });
    await readyTenant(kept);
    await readyTenant(removed);
    for (const name of [kept, removed]) {
      await client.request('PATCH', `${TENANTS}/${name}`, {
        contentType: 'application/merge-patch+json',
        body: { spec: { environments: [{ name: 'prod' }] } },
      });
    }
    await eventually(
      async () =>
        (await getObject(client, `/api/v1/namespaces/${kept}-test`))?.metadata.labels?.[
          'gov.secovia.eu/orphaned'
        ] === 'true',
      30_000,
      'orphaned',
    );
    await eventually(
      async () => !(await getObject(client, `/api/v1/namespaces/${removed}-test`)),
      90_000,
      'deleted',
    );
    const t = await readyTenant(kept);
    expect((t.status as { namespaces: string[] }).namespaces).toEqual([`${kept}-prod`]);
  }, 150_000);

  it('suspended: condition Suspended and namespaces marked; resuming clears both', async () => {
    const name = uniqueName('hu-');
    await client.request('POST', TENANTS, { body: fullTenant(name, { suspended: true }) });
    const t = await readyTenant(name);
    expect(conditionOf(t, 'Suspended')?.status).toBe('True');
    expect(
      (await getObject(client, `/api/v1/namespaces/${name}-prod`))?.metadata.labels?.[
        'gov.secovia.eu/suspended'
      ],
    ).toBe('true');
    const service = (svc: string): KubeObject => ({
      apiVersion: 'gov.secovia.eu/v1alpha1',
      kind: 'GovService',
      metadata: { name: svc, namespace: `${name}-prod` },
      spec: { class: 'e-permits', plan: 'small' },
    });
    const services = `/apis/gov.secovia.eu/v1alpha1/namespaces/${name}-prod/govservices`;
    // The admission policy refuses new services while the tenant is suspended (a new policy may take a moment to load).
    const refusal = await eventually(
      async () => {
        try {
          await client.request('POST', services, { body: service('probe') });
          await client.request('DELETE', `${services}/probe`);
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
      30_000,
      'suspended admission',
    );
    expect(refusal).toContain(`tenant ${name} is suspended`);
    await client.request('PATCH', `${TENANTS}/${name}`, {
      contentType: 'application/merge-patch+json',
      body: { spec: { suspended: false } },
    });
    await eventually(
      async () => conditionOf(await getObject(client, `${TENANTS}/${name}`), 'Suspended')?.status === 'False',
    );
    await eventually(
      async () =>
        (await getObject(client, `/api/v1/namespaces/${name}-prod`))?.metadata.labels?.[
          'gov.secovia.eu/suspended'
        ] === undefined,
    );
    await eventually(
      async () => !!(await client.request('POST', services, { body: service('resumed') })),
      30_000,
      'admitted again',
    );
  }, 90_000);
  it('suspended stops the tenant: pods deleted and refused, workloads refused, objects kept; resume brings the pods back', async () => {
    const name = uniqueName('hu-');
    const ns = `${name}-prod`;
    await client.request('POST', TENANTS, { body: tenant(name) });
    await readyTenant(name);
    const restricted = {
      securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'web',
          image: 'registry.example.eu/web:1.0',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
    };
    const deployment = (depName: string): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: depName, namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: depName } },
        template: { metadata: { labels: { app: depName } }, spec: restricted },
      },
    });
    const deployments = `/apis/apps/v1/namespaces/${ns}/deployments`;
    await client.request('POST', deployments, { body: deployment('web') });
    await client.request('POST', `/api/v1/namespaces/${ns}/configmaps`, {
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'records' },
        data: { register: 'Ивана' },
      },
    });
    const pods = async (): Promise<KubeObject[]> =>
      (await listIn(`/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dweb`)).filter(
        (p) => !p.metadata.deletionTimestamp,
      );
    // No kubelet: the pods stay Pending, and existing is what counts.
    await eventually(async () => (await pods()).length === 2, 60_000, 'two pods of web');

    const suspend = (suspended: boolean) =>
      client.request('PATCH', `${TENANTS}/${name}`, {
        contentType: 'application/merge-patch+json',
        body: { spec: { suspended } },
      });
    await suspend(true);
    await eventually(async () => (await pods()).length === 0, 60_000, 'pods deleted');
    // Stay gone: the ReplicaSet controller tried to replace them and was refused, naming the suspension.
    const failure = await eventually(
      async () => {
        const [rs] = await listIn(`/apis/apps/v1/namespaces/${ns}/replicasets?labelSelector=app%3Dweb`);
        const conditions = (rs?.status as { conditions?: { type: string; message?: string }[] })?.conditions;
        return conditions?.find((c) => c.type === 'ReplicaFailure')?.message;
      },
      60_000,
      'ReplicaSet refused new pods',
    );
    expect(failure).toContain(`tenant ${name} is suspended`);
    expect(await pods()).toEqual([]);

    const refused = async (path: string, body: KubeObject): Promise<string> => {
      try {
        await client.request('POST', path, { body });
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error(`${body.kind} admitted while the tenant is suspended`);
    };
    expect(
      await refused(`/api/v1/namespaces/${ns}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'sneaky', namespace: ns },
        spec: restricted,
      }),
    ).toContain(`tenant ${name} is suspended: no new Pod may be created in namespace ${ns}`);
    expect(await refused(deployments, deployment('another'))).toContain(
      `tenant ${name} is suspended: no new Deployment may be created in namespace ${ns}`,
    );
    // Data and objects are kept.
    const kept = await getObject(client, `${deployments}/web`);
    expect((kept?.spec as { replicas: number }).replicas).toBe(2);
    expect(await getObject(client, `/api/v1/namespaces/${ns}/configmaps/records`)).toBeDefined();
    const t = await readyTenant(name);
    expect(conditionOf(t, 'Suspended')?.message).toContain('pods are stopped');

    await suspend(false);
    await eventually(async () => (await pods()).length === 2, 30_000, 'pods back after resume');
    await eventually(
      async () => !!(await client.request('POST', deployments, { body: deployment('another') })),
      30_000,
      'workloads admitted again',
    );
  }, 240_000);
});
