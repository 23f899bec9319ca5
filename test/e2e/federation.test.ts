/**
 * Federation across three real control planes (HU, MK, RS), each with its own operator and only
 * read-only credentials to the others: residency enforced on both sides, imports kept equal to
 * their origin, conflicts left alone, withdrawal, credential rotation and a partition.
 */
import type { KubeClient } from '../../src/runtime/kube.js';
import type { Manager } from '../../src/runtime/manager.js';
import { registry } from '../../src/runtime/metrics.js';
import type { KubeObject } from '../../src/runtime/types.js';
import type { ControlPlane } from '../harness/controlplane.js';
import { clientFor, conditionOf, controlPlaneWithCrds, eventually, getObject } from './support.js';
import {
  exportReaderToken,
  federationOf,
  peerKubeconfig,
  startOperatorAsInstall,
  storePeerCredentials,
} from './federation-support.js';

const NS = 'secovia-system';
const API = '/apis/gov.secovia.eu/v1alpha1';
const TENANTS = `${API}/govtenants`;
const CLASSES = `${API}/govserviceclasses`;
const FEDERATIONS = `${API}/federations`;
const tenantPath = (name: string): string => `${TENANTS}/${name}`;

interface Member {
  name: string;
  country: string;
  cp: ControlPlane;
  client: KubeClient;
  operator: Manager;
}

const members: Record<'hu' | 'mk' | 'rs', Member> = {} as never;
const MEMBERS = [
  { key: 'hu', name: 'hu-central', country: 'HU' },
  { key: 'mk', name: 'mk-skopje', country: 'MK' },
  { key: 'rs', name: 'rs-beograd', country: 'RS' },
] as const;

async function create(client: KubeClient, path: string, body: object): Promise<KubeObject> {
  return client.request<KubeObject>('POST', path, { body });
}

const peerToken = (exporter: Member, peer: string, account?: string): Promise<string> =>
  exportReaderToken(exporter.client, peer, account);

const startOperator = (m: Member): Promise<Manager> => startOperatorAsInstall(m.cp);

const putCredentials = (importer: Member, exporter: Member, token: string): Promise<void> =>
  storePeerCredentials(importer.client, exporter.name, peerKubeconfig(exporter.name, exporter.cp, token));

function federation(self: Member, accept: string[]): object {
  const others = Object.values(members).filter((m) => m !== self);
  return federationOf(self, others, {
    export: {
      tenantSelector: { matchLabels: { 'gov.secovia.eu/federate': 'true' } },
      federatedServices: true,
    },
    import: { acceptCountries: accept, onWithdraw: 'Delete', staleAfterSeconds: 30 },
    syncIntervalSeconds: 10,
  });
}

function tenant(name: string, allowed: string[], displayName: string, federate = true): object {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name, labels: federate ? { 'gov.secovia.eu/federate': 'true' } : {} },
    spec: {
      displayName,
      country: 'HU',
      level: 'municipal',
      environments: [{ name: 'prod' }],
      dataResidency: { allowedCountries: allowed, classification: 'internal' },
      ingress: { allowedDomains: [`${name.replace(/^[a-z]{2}-/, '')}.example`] },
    },
  };
}

interface PeerStatus {
  name: string;
  reachable?: boolean;
  stale?: boolean;
  imported?: number;
  exported?: number;
  observedAt?: string;
  credentialsExpireAt?: string;
  kubernetesVersion?: string;
  skipped?: { kind: string; name: string; reason: string; message?: string }[];
}

async function peerStatus(m: Member, peer: string): Promise<PeerStatus | undefined> {
  const f = await getObject(m.client, `${FEDERATIONS}/see`);
  return (f?.status as { peers?: PeerStatus[] } | undefined)?.peers?.find((p) => p.name === peer);
}

const spec = (o: KubeObject | undefined) => o?.spec as Record<string, unknown> | undefined;
const labels = (o: KubeObject | undefined) => o?.metadata.labels ?? {};

async function eventsFor(m: Member, name: string): Promise<string[]> {
  const list = await m.client.request<{ items: { reason: string; involvedObject: { name: string } }[] }>(
    'GET',
    '/api/v1/namespaces/default/events',
  );
  return list.items.filter((e) => e.involvedObject.name === name).map((e) => e.reason);
}

beforeAll(async () => {
  for (const { key, name, country } of MEMBERS) {
    const cp = await controlPlaneWithCrds({ controllerManager: false, name: key });
    const client = clientFor(cp);
    await create(client, '/api/v1/namespaces', { metadata: { name: NS } });
    members[key] = { name, country, cp, client, operator: undefined as never };
  }
  for (const exporter of Object.values(members)) {
    for (const importer of Object.values(members).filter((m) => m !== exporter)) {
      await putCredentials(importer, exporter, await peerToken(exporter, importer.name));
    }
  }
  for (const m of Object.values(members)) m.operator = await startOperator(m);
  const accept = { hu: ['MK', 'RS'], mk: ['HU', 'RS'], rs: ['HU', 'MK'] };
  for (const [key, m] of Object.entries(members)) {
    await create(m.client, FEDERATIONS, federation(m, accept[key as keyof typeof accept]));
  }
  await create(members.hu.client, CLASSES, {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovServiceClass',
    metadata: { name: 'e-permits' },
    spec: {
      displayName: { en: 'Building permits', hu: 'Építési engedélyek', mk: 'Градежни дозволи' },
      audience: ['G2C'],
      buildingBlock: 'registration',
      image: 'registry.example.eu/secovia/e-permits',
      versions: ['2.4.0'],
      plans: [{ name: 'small', replicas: 1, resources: { cpu: '100m', memory: '128Mi' } }],
    },
  });
}, 240_000);

afterAll(async () => {
  for (const m of Object.values(members)) {
    await m.operator?.stop();
    m.client?.close();
    await m.cp?.stop();
  }
}, 120_000);

test('every member reports its peers reachable with their Kubernetes version', async () => {
  for (const m of Object.values(members)) {
    const f = await eventually(
      async () => {
        const obj = await getObject(m.client, `${FEDERATIONS}/see`);
        return conditionOf(obj, 'Ready')?.status === 'True' && obj;
      },
      60_000,
      `Federation Ready on ${m.name}`,
    );
    const peers = (f.status as { peers: PeerStatus[] }).peers;
    expect(peers.map((p) => [p.name, p.reachable])).toEqual(
      Object.values(members)
        .filter((o) => o !== m)
        .map((o) => [o.name, true]),
    );
    expect(peers.every((p) => p.kubernetesVersion === 'v1.34.4' && p.credentialsExpireAt)).toBe(true);
    expect(conditionOf(f, 'Degraded')?.status).toBe('False');
  }
  const metrics = await registry.metrics();
  expect(metrics).toMatch(/^secovia_federation_peer_reachable\{federation="see",peer="mk-skopje"\} 1$/m);
  expect(metrics).toMatch(
    /^secovia_federation_sync_duration_seconds_count\{federation="see",peer="hu-central"\} [1-9]/m,
  );
}, 90_000);

test('a tenant allowed in HU and MK is imported by MK and never seen by RS', async () => {
  const { hu, mk, rs } = members;
  await create(hu.client, TENANTS, tenant('hu-budapest', ['HU', 'MK'], 'Budapest Főváros Önkormányzata'));
  const imported = await eventually(
    () => getObject(mk.client, tenantPath('hu-budapest')),
    30_000,
    'import on MK',
  );
  expect(spec(imported)?.displayName).toBe('Budapest Főváros Önkormányzata');
  expect(labels(imported)).toMatchObject({
    'gov.secovia.eu/origin-member': 'hu-central',
    'gov.secovia.eu/origin-country': 'HU',
    'gov.secovia.eu/federation': 'see',
  });
  // Reconciled like any local tenant: its namespace exists on MK.
  await eventually(
    () => getObject(mk.client, '/api/v1/namespaces/hu-budapest-prod'),
    30_000,
    'namespace on MK',
  );
  // HU records why RS is not offered it; RS's own status and cluster show nothing of it.
  await eventually(
    async () => {
      const s = await peerStatus(hu, 'rs-beograd');
      return s?.skipped?.some((k) => k.name === 'hu-budapest' && k.reason === 'DataResidency');
    },
    30_000,
    'HU lists hu-budapest skipped for RS',
  );
  const rsView = await peerStatus(rs, 'hu-central');
  expect(JSON.stringify(rsView)).not.toContain('hu-budapest');
  expect(await getObject(rs.client, tenantPath('hu-budapest'))).toBeUndefined();
  // RS's credentials read RS's export on HU and nothing else.
  const exportForRs = await hu.client.request<{ data: Record<string, string> }>(
    'GET',
    `/api/v1/namespaces/${NS}/configmaps/secovia-export-rs-beograd`,
  );
  expect(exportForRs.data['export.json']).not.toContain('hu-budapest');
  const rsToken = await peerToken(hu, 'rs-beograd', 'probe-rs');
  const peek = await hu.cp.kubectl(['get', 'configmap', 'secovia-export-mk-skopje', '-n', NS], {
    asToken: rsToken,
  });
  expect(peek.code).not.toBe(0);
  expect(peek.stderr).toMatch(/forbidden/i);
}, 120_000);

test('a federated service appears on MK as a GovServiceImport, with its class', async () => {
  const { hu, mk } = members;
  await eventually(
    () => getObject(hu.client, '/api/v1/namespaces/hu-budapest-prod'),
    30_000,
    'namespace on HU',
  );
  await create(hu.client, `${API}/namespaces/hu-budapest-prod/govservices`, {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovService',
    metadata: { name: 'permits' },
    spec: { class: 'e-permits', plan: 'small', exposure: 'federated', host: 'permits.budapest.example' },
  });
  const gsi = await eventually(
    async () => {
      const o = await getObject(mk.client, `${API}/namespaces/hu-budapest-prod/govserviceimports/permits`);
      return spec(o)?.version ? o : undefined;
    },
    45_000,
    'GovServiceImport on MK',
  );
  expect(gsi.spec).toEqual({
    originMember: 'hu-central',
    originCountry: 'HU',
    tenant: 'hu-budapest',
    service: 'permits',
    class: 'e-permits',
    version: '2.4.0',
    url: 'https://permits.budapest.example',
    classification: 'internal',
  });
  const ready = await eventually(
    async () => {
      const o = await getObject(mk.client, `${API}/namespaces/hu-budapest-prod/govserviceimports/permits`);
      return conditionOf(o, 'Ready')?.status === 'True' && o;
    },
    30_000,
    'import Ready',
  );
  expect(conditionOf(ready, 'Stale')?.status).toBe('False');
  const cls = await getObject(mk.client, `${CLASSES}/e-permits`);
  expect(labels(cls)['gov.secovia.eu/origin-member']).toBe('hu-central');
  expect((spec(cls)?.displayName as Record<string, string>).mk).toBe('Градежни дозволи');
}, 120_000);

test('a local edit of an imported tenant on MK is reverted, with an event', async () => {
  const { mk } = members;
  await mk.client.request('PATCH', tenantPath('hu-budapest'), {
    contentType: 'application/merge-patch+json',
    body: { spec: { displayName: 'Changed locally', officialId: 'MK/GOV/1' } },
  });
  const reverted = await eventually(
    async () => {
      const o = await getObject(mk.client, tenantPath('hu-budapest'));
      return spec(o)?.displayName === 'Budapest Főváros Önkormányzata' && !spec(o)?.officialId && o;
    },
    30_000,
    'revert on MK',
  );
  expect(spec(reverted)?.environments).toEqual([{ name: 'prod' }]);
  await eventually(
    async () => (await eventsFor(mk, 'hu-budapest')).includes('ImportReverted'),
    15_000,
    'event',
  );
}, 60_000);

test('a same-named tenant that MK created itself is left untouched, reported as Conflict', async () => {
  const { hu, mk } = members;
  await create(mk.client, TENANTS, tenant('hu-szeged', ['MK'], 'Local Szeged', false));
  await create(hu.client, TENANTS, tenant('hu-szeged', ['HU', 'MK'], 'Szeged Megyei Jogú Város'));
  await eventually(
    async () => {
      const s = await peerStatus(mk, 'hu-central');
      return s?.skipped?.some((k) => k.name === 'hu-szeged' && k.reason === 'Conflict');
    },
    30_000,
    'Conflict on MK',
  );
  const local = await getObject(mk.client, tenantPath('hu-szeged'));
  expect(spec(local)?.displayName).toBe('Local Szeged');
  expect(labels(local)['gov.secovia.eu/origin-member']).toBeUndefined();
}, 60_000);

test('withdrawal deletes the import with onWithdraw Delete and releases it with Orphan', async () => {
  const { hu, mk } = members;
  await create(hu.client, TENANTS, tenant('hu-pecs', ['HU', 'MK'], 'Pécs'));
  await create(hu.client, TENANTS, tenant('hu-gyor', ['HU', 'MK'], 'Győr'));
  await eventually(() => getObject(mk.client, tenantPath('hu-pecs')), 30_000, 'hu-pecs on MK');
  await eventually(() => getObject(mk.client, tenantPath('hu-gyor')), 30_000, 'hu-gyor on MK');
  const unlabel = { metadata: { labels: { 'gov.secovia.eu/federate': null } } };
  await hu.client.request('PATCH', tenantPath('hu-pecs'), {
    contentType: 'application/merge-patch+json',
    body: unlabel,
  });
  await eventually(
    async () => !(await getObject(mk.client, tenantPath('hu-pecs'))),
    45_000,
    'hu-pecs deleted on MK',
  );
  await mk.client.request('PATCH', `${FEDERATIONS}/see`, {
    contentType: 'application/merge-patch+json',
    body: { spec: { import: { onWithdraw: 'Orphan' } } },
  });
  await hu.client.request('PATCH', tenantPath('hu-gyor'), {
    contentType: 'application/merge-patch+json',
    body: unlabel,
  });
  const released = await eventually(
    async () => {
      const o = await getObject(mk.client, tenantPath('hu-gyor'));
      return o && !labels(o)['gov.secovia.eu/origin-member'] && o;
    },
    45_000,
    'hu-gyor released on MK',
  );
  expect(released.metadata.annotations?.['gov.secovia.eu/withdrawn-from']).toBe('hu-central');
  expect(labels(released)['gov.secovia.eu/origin-country']).toBe('HU');
  expect(spec(released)?.displayName).toBe('Győr');
  await mk.client.request('PATCH', `${FEDERATIONS}/see`, {
    contentType: 'application/merge-patch+json',
    body: { spec: { import: { onWithdraw: 'Delete' } } },
  });
}, 120_000);

test("an import that this cluster's own admission refuses is skipped with its message, the rest goes on", async () => {
  const { hu, mk } = members;
  const vap = '/apis/admissionregistration.k8s.io/v1';
  await create(mk.client, `${vap}/validatingadmissionpolicies`, {
    metadata: { name: 'no-refused-tenants' },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: ['gov.secovia.eu'],
            apiVersions: ['*'],
            resources: ['govtenants'],
            operations: ['CREATE', 'UPDATE'],
          },
        ],
      },
      validations: [
        {
          expression: "!object.spec.displayName.startsWith('Refused')",
          message: 'MK admits no such tenant',
          reason: 'Invalid',
        },
      ],
    },
  });
  await create(mk.client, `${vap}/validatingadmissionpolicybindings`, {
    metadata: { name: 'no-refused-tenants' },
    spec: { policyName: 'no-refused-tenants', validationActions: ['Deny'] },
  });
  // The policy takes effect a moment after it is created: wait until MK refuses such a tenant itself.
  const refusedStatus = await eventually(
    () =>
      mk.client
        .request('POST', TENANTS, {
          query: { dryRun: 'All' },
          body: tenant('probe', ['MK'], 'Refused probe'),
        })
        .then(
          () => undefined,
          (e: { status?: number }) => e.status,
        ),
    30_000,
    'policy in force on MK',
  );
  expect(refusedStatus).toBe(422);
  await create(hu.client, TENANTS, tenant('hu-sopron', ['HU', 'MK'], 'Refused Sopron'));
  await create(hu.client, TENANTS, tenant('hu-eger', ['HU', 'MK'], 'Eger'));
  await eventually(() => getObject(mk.client, tenantPath('hu-eger')), 30_000, 'hu-eger imported');
  const skipped = await eventually(
    async () => {
      const s = await peerStatus(mk, 'hu-central');
      return s?.skipped?.find((k) => k.name === 'hu-sopron' && k.reason === 'InvalidExport');
    },
    30_000,
    'hu-sopron skipped on MK',
  );
  expect(skipped.message).toContain('MK admits no such tenant');
  expect(await getObject(mk.client, tenantPath('hu-sopron'))).toBeUndefined();
  const f = await getObject(mk.client, `${FEDERATIONS}/see`);
  expect(conditionOf(f, 'Ready')?.status).toBe('True');
}, 90_000);

test('a rotated credential Secret is used without a restart', async () => {
  const { hu, mk } = members;
  const before = await peerStatus(mk, 'hu-central');
  const token = await peerToken(hu, 'mk-skopje', 'peer-mk-skopje-rotated');
  await putCredentials(mk, hu, token);
  // The old credentials stop working: only the rotated ones can bring the next tenant over.
  await hu.client.request('DELETE', `/api/v1/namespaces/${NS}/serviceaccounts/peer-mk-skopje`);
  await create(hu.client, TENANTS, tenant('hu-debrecen', ['HU', 'MK'], 'Debrecen'));
  await eventually(() => getObject(mk.client, tenantPath('hu-debrecen')), 45_000, 'import after rotation');
  const after = await eventually(
    async () => {
      const s = await peerStatus(mk, 'hu-central');
      return s?.credentialsExpireAt !== before?.credentialsExpireAt && s?.reachable && s;
    },
    30_000,
    'new expiry reported',
  );
  expect(Date.parse(after.credentialsExpireAt!)).toBeGreaterThan(Date.now());
  const f = await getObject(mk.client, `${FEDERATIONS}/see`);
  expect(JSON.stringify(f?.status)).not.toContain(token);
  // Credentials withdrawn: reported by name, never by content; stored again: back in contact.
  await mk.client.request('DELETE', `/api/v1/namespaces/${NS}/secrets/peer-hu-central`);
  const missing = await eventually(
    async () => {
      const o = await getObject(mk.client, `${FEDERATIONS}/see`);
      return conditionOf(o, 'Ready')?.reason === 'CredentialsUnavailable' && o;
    },
    30_000,
    'credentials reported missing',
  );
  expect(conditionOf(missing, 'Ready')?.message).toContain(`Secret ${NS}/peer-hu-central not found`);
  await putCredentials(mk, hu, token);
  await eventually(
    async () => conditionOf(await getObject(mk.client, `${FEDERATIONS}/see`), 'Ready')?.status === 'True',
    45_000,
    'Ready again with the credentials back',
  );
}, 120_000);

test('a partitioned origin turns imports Stale without deleting them, and they recover', async () => {
  const { hu, mk } = members;
  await hu.operator.stop();
  await hu.cp.stopApiServer();
  await hu.cp.stopEtcd();
  await eventually(
    async () => (await peerStatus(mk, 'hu-central'))?.reachable === false,
    30_000,
    'unreachable',
  );
  const staleTenant = await eventually(
    async () => {
      const o = await getObject(mk.client, tenantPath('hu-budapest'));
      return conditionOf(o, 'Stale')?.status === 'True' && o;
    },
    75_000,
    'imported tenant Stale',
  );
  expect(conditionOf(staleTenant, 'Stale')?.reason).toBe('OriginUnreachable');
  // The same reconcile marks the service import and then the Federation's status: wait for both.
  await eventually(
    async () => {
      const gsi = await getObject(mk.client, `${API}/namespaces/hu-budapest-prod/govserviceimports/permits`);
      return conditionOf(gsi, 'Stale')?.status === 'True';
    },
    30_000,
    'service import Stale',
  );
  const fed = await eventually(
    async () => {
      const f = await getObject(mk.client, `${FEDERATIONS}/see`);
      const peer = (f?.status as { peers?: PeerStatus[] } | undefined)?.peers?.find(
        (p) => p.name === 'hu-central',
      );
      return peer?.stale === true && f;
    },
    30_000,
    'peer reported stale',
  );
  expect(conditionOf(fed, 'Degraded')?.status).toBe('True');
  expect(conditionOf(fed, 'Ready')?.reason).toBe('PeerUnreachable');
  // Nothing was deleted.
  for (const name of ['hu-budapest', 'hu-debrecen'])
    expect(await getObject(mk.client, tenantPath(name))).toBeDefined();

  await hu.cp.startEtcd();
  await hu.cp.startApiServer();
  hu.operator = await startOperator(hu);
  await eventually(
    async () => {
      const o = await getObject(mk.client, tenantPath('hu-budapest'));
      return conditionOf(o, 'Stale')?.status === 'False';
    },
    90_000,
    'imported tenant fresh again',
  );
  await eventually(
    async () => {
      const o = await getObject(mk.client, `${API}/namespaces/hu-budapest-prod/govserviceimports/permits`);
      return conditionOf(o, 'Stale')?.status === 'False';
    },
    30_000,
    'service import fresh again',
  );
  const s = await eventually(
    async () => {
      const p = await peerStatus(mk, 'hu-central');
      return p?.stale === false && p;
    },
    30_000,
    'peer reported fresh',
  );
  expect(s).toMatchObject({ reachable: true, stale: false });
  const recovered = await getObject(mk.client, `${FEDERATIONS}/see`);
  expect(conditionOf(recovered, 'Degraded')?.status).toBe('False');
}, 240_000);

test('deleting a Federation keeps its imports and is not held up by an unreachable peer', async () => {
  const { hu, mk } = members;
  await hu.cp.stopApiServer();
  await mk.client.request('DELETE', `${FEDERATIONS}/see`);
  await eventually(
    async () => !(await getObject(mk.client, `${FEDERATIONS}/see`)),
    30_000,
    'Federation gone',
  );
  const kept = await getObject(mk.client, tenantPath('hu-budapest'));
  expect(labels(kept)['gov.secovia.eu/origin-member']).toBe('hu-central');
  expect(
    await getObject(mk.client, `${API}/namespaces/hu-budapest-prod/govserviceimports/permits`),
  ).toBeDefined();
  // What MK exported is withdrawn with its Federation.
  const exports = await mk.client.request<{ items: KubeObject[] }>(
    'GET',
    `/api/v1/namespaces/${NS}/configmaps`,
    {
      query: { labelSelector: 'gov.secovia.eu/federation=see' },
    },
  );
  expect(exports.items).toEqual([]);
}, 90_000);
