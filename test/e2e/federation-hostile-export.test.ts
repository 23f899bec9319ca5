/**
 * A hostile peer (MK) writes its own export for HU by hand: foreign subjects, reserved and taken
 * namespace names, policies naming local tenants, an unbounded quota, a backdoor class and a
 * javascript: link. HU's operator (as installed, least privilege) imports only what its own rules
 * allow, names every refusal in the Federation's status and in Warning events, and leaves no trace:
 * no foreign subject has a right, no local policy opens, no reserved or foreign namespace changes.
 */
import type { KubeClient } from '../../src/runtime/kube.js';
import type { Manager } from '../../src/runtime/manager.js';
import type { KubeObject } from '../../src/runtime/types.js';
import type { ControlPlane } from '../harness/controlplane.js';
import {
  exportReaderToken,
  NS,
  peerKubeconfig,
  startOperatorAsInstall,
  storePeerCredentials,
} from './federation-support.js';
import { clientFor, conditionOf, controlPlaneWithCrds, eventually, getObject } from './support.js';

const API = '/apis/gov.secovia.eu/v1alpha1';
const TENANTS = `${API}/govtenants`;

let hu: { cp: ControlPlane; client: KubeClient; operator: Manager };
let mk: { cp: ControlPlane; client: KubeClient };

const post = (client: KubeClient, path: string, body: object) =>
  client.request<KubeObject>('POST', path, { body });

const localTenant = (name: string, environments = ['prod'], extra: object = {}) => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovTenant',
  metadata: { name },
  spec: {
    displayName: name,
    country: 'HU',
    level: 'municipal',
    environments: environments.map((e) => ({ name: e })),
    dataResidency: { allowedCountries: ['HU'] },
    ...extra,
  },
});

const hostileTenant = (name: string, environments: string[], extra: object = {}) => ({
  name,
  spec: {
    displayName: `Општина ${name}`,
    country: 'MK',
    level: 'municipal',
    contacts: [{ name: 'Марија Петровска', email: 'marija@skopje.example' }],
    environments: environments.map((e) => ({ name: e })),
    quota: { cpu: '100000', memory: '400Ti' },
    access: { admins: [{ kind: 'Group', name: 'system:authenticated' }] },
    network: { isolation: 'none', allowEgressCIDRs: ['0.0.0.0/0'] },
    podSecurity: 'baseline',
    dataResidency: { allowedCountries: ['MK', 'HU'], classification: 'internal' },
    ...extra,
  },
});

const service = (name: string, url: string) => ({
  namespace: 'mk-skopje-grad-prod',
  name,
  tenant: 'mk-skopje-grad',
  class: 'backdoor',
  version: '1.0.0',
  url,
  classification: 'internal',
});

const hostileExport = {
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'FederationExport',
  from: { member: 'mk-skopje', country: 'MK' },
  to: { member: 'hu-central', country: 'HU' },
  tenants: [
    hostileTenant('mk-skopje-grad', ['prod'], {
      network: { isolation: 'none', allowFromTenants: ['hu-budapest', 'mk-bitola'] },
    }),
    hostileTenant('mk-bitola', ['prod'], { network: { allowFromTenants: ['hu-budapest'] } }),
    hostileTenant('ingress', ['nginx']),
    hostileTenant('hu-budapest', ['prod']),
    hostileTenant('mk-ohrid', ['prod']),
  ],
  serviceClasses: [
    {
      name: 'backdoor',
      spec: {
        displayName: { en: 'Messaging' },
        audience: ['G2G'],
        buildingBlock: 'messaging',
        image: 'evil.example.ru/backdoor',
        versions: ['1.0.0'],
        plans: [{ name: 'small', replicas: 1, resources: { cpu: '100m', memory: '128Mi' } }],
      },
    },
  ],
  services: [
    service('evil', 'javascript:alert(document.cookie)'),
    service('good', 'https://mail.skopje.example'),
  ],
};

interface PeerStatus {
  name: string;
  imported?: number;
  skipped?: { kind: string; name: string; reason: string; message?: string }[];
}

async function peerStatus(): Promise<PeerStatus | undefined> {
  const f = await getObject(hu.client, `${API}/federations/see`);
  return (f?.status as { peers?: PeerStatus[] } | undefined)?.peers?.[0];
}

const kubectlHu = async (args: string[]): Promise<string> => {
  const r = await hu.cp.kubectl(args);
  return r.stdout.trim() || r.stderr.trim();
};

beforeAll(async () => {
  const mkCp = await controlPlaneWithCrds({ controllerManager: false, name: 'mk' });
  mk = { cp: mkCp, client: clientFor(mkCp) };
  const huCp = await controlPlaneWithCrds({ controllerManager: false, name: 'hu' });
  const huClient = clientFor(huCp);
  for (const c of [mk.client, huClient]) await post(c, '/api/v1/namespaces', { metadata: { name: NS } });
  await post(huClient, '/api/v1/namespaces', { metadata: { name: 'ingress-nginx' } });
  const token = await exportReaderToken(mk.client, 'hu-central');
  await storePeerCredentials(huClient, 'mk-skopje', peerKubeconfig('mk-skopje', mk.cp, token));
  hu = { cp: huCp, client: huClient, operator: await startOperatorAsInstall(huCp) };
  // Local tenants first: one the peer names, and one deleted (Retain) whose namespace stays behind.
  await post(hu.client, TENANTS, localTenant('hu-budapest'));
  await post(hu.client, TENANTS, localTenant('mk-ohrid', ['prod'], { access: { admins: [{ kind: 'Group', name: 'ohrid-it' }] } })); // prettier-ignore
  await eventually(() => getObject(hu.client, '/api/v1/namespaces/mk-ohrid-prod'), 30_000, 'ohrid ns');
  await post(hu.client, '/api/v1/namespaces/mk-ohrid-prod/configmaps', {
    metadata: { name: 'register' },
    data: { entry: 'Петровски, Марко' },
  });
  await hu.client.request('DELETE', `${TENANTS}/mk-ohrid`);
  await eventually(async () => !(await getObject(hu.client, `${TENANTS}/mk-ohrid`)), 30_000, 'ohrid gone');
  await post(mk.client, `/api/v1/namespaces/${NS}/configmaps`, {
    metadata: { name: 'secovia-export-hu-central' },
    data: { 'export.json': JSON.stringify(hostileExport) },
  });
  await post(hu.client, `${API}/federations`, {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'Federation',
    metadata: { name: 'see' },
    spec: {
      localMember: 'hu-central',
      localCountry: 'HU',
      peers: [
        {
          name: 'mk-skopje',
          country: 'MK',
          kubeconfigSecretRef: { namespace: NS, name: 'peer-mk-skopje' },
          importAccess: { admins: [{ kind: 'Group', name: 'hu-federation-ops' }] },
        },
      ],
      import: { acceptCountries: ['MK'] },
      syncIntervalSeconds: 10,
    },
  });
  await eventually(async () => (await peerStatus())?.imported, 60_000, 'first import');
}, 240_000);

afterAll(async () => {
  await hu?.operator?.stop();
  for (const m of [hu, mk]) {
    m?.client.close();
    await m?.cp.stop();
  }
}, 120_000);

test('every refusal is named in the status and in a Warning event', async () => {
  const s = await eventually(
    async () => {
      const p = await peerStatus();
      // Settled: a service import waiting for its tenant's new namespace (NamespaceNotReady) is transient.
      const settled = !p?.skipped?.some((k) => k.reason === 'NamespaceNotReady');
      return settled && (p?.skipped?.length ?? 0) >= 4 && p;
    },
    30_000,
    'skipped, settled',
  );
  expect(s.skipped!.map((k) => [k.kind, k.name, k.reason]).sort()).toEqual([
    ['GovServiceImport', 'mk-skopje-grad-prod/evil', 'InvalidExport'],
    ['GovTenant', 'hu-budapest', 'Conflict'],
    ['GovTenant', 'ingress', 'ReservedNamespace'],
    ['GovTenant', 'mk-ohrid', 'NamespaceTaken'],
  ]);
  const events = await hu.client.request<{ items: { type: string; reason: string; message: string }[] }>(
    'GET',
    '/api/v1/namespaces/default/events',
    { query: { fieldSelector: 'involvedObject.name=see' } },
  );
  const warnings = events.items.filter((e) => e.type === 'Warning').map((e) => e.reason);
  expect(warnings).toEqual(expect.arrayContaining(['InvalidExport', 'ReservedNamespace', 'NamespaceTaken']));
  expect(warnings).toContain('Conflict');
}, 60_000);

test('an imported tenant is shaped by local rules: local access only, strict, restricted, capped', async () => {
  const t = await eventually(() => getObject(hu.client, `${TENANTS}/mk-skopje-grad`), 30_000, 'import');
  const spec = t.spec as Record<string, unknown>;
  expect(spec.access).toEqual({ admins: [{ kind: 'Group', name: 'hu-federation-ops' }] });
  expect(spec.contacts).toBeUndefined();
  expect(spec.podSecurity).toBe('restricted');
  expect(spec.network).toEqual({
    isolation: 'strict',
    allowedServiceTypes: ['ClusterIP'],
    allowFromTenants: ['mk-bitola'],
  });
  expect(spec.quota).toEqual({ cpu: '4', memory: '8Gi', storage: '100Gi', pods: 50 });
  const ns = await eventually(
    () => getObject(hu.client, '/api/v1/namespaces/mk-skopje-grad-prod'),
    30_000,
    'imported namespace',
  );
  expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  await eventually(
    async () =>
      (await kubectlHu(['auth', 'can-i', 'create', 'pods', '-n', 'mk-skopje-grad-prod', '--as', 'ops', '--as-group', 'hu-federation-ops'])) === 'yes', // prettier-ignore
    30_000,
    'the local mapping administers the import',
  );
  // Anyone authenticated, as the peer asked: no right at all.
  for (const verb of ['create', 'get', 'list'])
    expect(
      await kubectlHu(['auth', 'can-i', verb, 'pods', '-n', 'mk-skopje-grad-prod', '--as', 'stranger', '--as-group', 'system:authenticated']), // prettier-ignore
    ).toBe('no');
  const bindings = await hu.client.request<{ items: { subjects?: { name: string }[] }[] }>(
    'GET',
    '/apis/rbac.authorization.k8s.io/v1/rolebindings',
  );
  const subjects = bindings.items.flatMap((b) => (b.subjects ?? []).map((s) => s.name));
  expect(subjects).not.toContain('system:authenticated');
}, 90_000);

test('no local tenant is opened, and no reserved or foreign namespace is touched', async () => {
  await eventually(() => getObject(hu.client, '/api/v1/namespaces/mk-bitola-prod'), 30_000, 'bitola');
  const policies = await hu.client.request<{ items: KubeObject[] }>(
    'GET',
    '/apis/networking.k8s.io/v1/namespaces/hu-budapest-prod/networkpolicies',
  );
  expect(policies.items.length).toBeGreaterThan(0);
  expect(JSON.stringify(policies.items)).not.toMatch(/mk-skopje-grad|mk-bitola/);
  const bitola = await getObject(hu.client, `${TENANTS}/mk-bitola`);
  expect((bitola?.spec as { network?: object }).network).toEqual({
    isolation: 'strict',
    allowedServiceTypes: ['ClusterIP'],
  });
  const ingressNs = await getObject(hu.client, '/api/v1/namespaces/ingress-nginx');
  expect(Object.keys(ingressNs?.metadata.labels ?? {})).toEqual(['kubernetes.io/metadata.name']);
  // The namesake's retained namespace: its data, no tenant label, no access, not adopted.
  const ohrid = await getObject(hu.client, '/api/v1/namespaces/mk-ohrid-prod');
  expect(ohrid?.metadata.labels?.['gov.secovia.eu/tenant']).toBeUndefined();
  expect(ohrid?.metadata.labels?.['gov.secovia.eu/orphaned']).toBe('true');
  const data = await getObject(hu.client, '/api/v1/namespaces/mk-ohrid-prod/configmaps/register');
  expect((data as unknown as { data: Record<string, string> }).data.entry).toBe('Петровски, Марко');
  const ohridBindings = await hu.client.request<{ items: unknown[] }>(
    'GET',
    '/apis/rbac.authorization.k8s.io/v1/namespaces/mk-ohrid-prod/rolebindings',
  );
  expect(ohridBindings.items).toEqual([]);
  expect(await getObject(hu.client, `${TENANTS}/mk-ohrid`)).toBeUndefined();
}, 60_000);

test('an imported class is not covered by *, and only an https link is listed', async () => {
  await eventually(() => getObject(hu.client, `${API}/govserviceclasses/backdoor`), 30_000, 'class');
  await post(hu.client, `${API}/namespaces/hu-budapest-prod/govservices`, {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovService',
    metadata: { name: 'messaging' },
    spec: { class: 'backdoor', plan: 'small', exposure: 'internal' },
  });
  const gs = await eventually(
    async () => {
      const o = await getObject(hu.client, `${API}/namespaces/hu-budapest-prod/govservices/messaging`);
      return conditionOf(o, 'Ready')?.reason === 'ClassNotAllowed' && o;
    },
    30_000,
    'ClassNotAllowed',
  );
  expect(conditionOf(gs, 'Ready')?.message).toContain('imported from mk-skopje');
  expect(
    await getObject(hu.client, '/apis/apps/v1/namespaces/hu-budapest-prod/deployments/messaging'),
  ).toBeUndefined();
  const good = await eventually(
    () => getObject(hu.client, `${API}/namespaces/mk-skopje-grad-prod/govserviceimports/good`),
    30_000,
    'https import',
  );
  expect((good.spec as { url: string }).url).toBe('https://mail.skopje.example');
  expect(
    await getObject(hu.client, `${API}/namespaces/mk-skopje-grad-prod/govserviceimports/evil`),
  ).toBeUndefined();
}, 60_000);

test('a local tenant leaves a removed environment behind, listed, and a namesake never inherits it', async () => {
  await post(hu.client, TENANTS, localTenant('hu-pecs', ['prod', 'test']));
  await eventually(() => getObject(hu.client, '/api/v1/namespaces/hu-pecs-test'), 30_000, 'pecs-test');
  await hu.client.request('PATCH', `${TENANTS}/hu-pecs`, {
    contentType: 'application/merge-patch+json',
    body: { spec: { environments: [{ name: 'prod' }] } },
  });
  const t = await eventually(
    async () => {
      const o = await getObject(hu.client, `${TENANTS}/hu-pecs`);
      const retained = (o?.status as { retainedNamespaces?: string[] })?.retainedNamespaces;
      return retained?.includes('hu-pecs-test') && o;
    },
    30_000,
    'retainedNamespaces',
  );
  expect((t.status as { namespaces: string[] }).namespaces).toEqual(['hu-pecs-prod']);
  const left = await getObject(hu.client, '/api/v1/namespaces/hu-pecs-test');
  expect(left?.metadata.labels?.['gov.secovia.eu/tenant']).toBeUndefined();
  // The tenant is deleted (Retain) and created again: the new one's environment is not the old one's.
  await hu.client.request('DELETE', `${TENANTS}/hu-pecs`);
  await eventually(async () => !(await getObject(hu.client, `${TENANTS}/hu-pecs`)), 30_000, 'pecs gone');
  await post(hu.client, TENANTS, localTenant('hu-pecs', ['prod']));
  const again = await eventually(
    async () => {
      const o = await getObject(hu.client, `${TENANTS}/hu-pecs`);
      return conditionOf(o, 'NamespacesReady')?.reason === 'NamespaceConflict' && o;
    },
    30_000,
    'NamespaceConflict for the namesake',
  );
  expect(conditionOf(again, 'NamespacesReady')?.message).toContain('hu-pecs-prod');
  const prod = await getObject(hu.client, '/api/v1/namespaces/hu-pecs-prod');
  expect(prod?.metadata.labels?.['gov.secovia.eu/tenant']).toBeUndefined();
}, 90_000);
