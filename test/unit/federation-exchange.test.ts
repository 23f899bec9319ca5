/** The pure exchange between members: what is offered to a peer and what an importer accepts. */
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { Federation, GovService, GovServiceClass, GovTenant } from '../../src/api/index.js';
import { federationSpec } from '../../src/api/index.js';
import {
  exportFor,
  importPlan,
  selectorMatches,
  type ExportDocument,
  type Peer,
} from '../../src/controllers/federation/exchange.js';
import { credentialsFrom, expiryOf } from '../../src/controllers/federation/peers.js';
import { heartbeat } from '../../src/controllers/federation/reconcile.js';
import type { KubeObject } from '../../src/runtime/types.js';

const FEDERATE = { 'gov.secovia.eu/federate': 'true' };

function fed(localMember: string, localCountry: string, spec: Record<string, unknown> = {}): Federation {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'Federation',
    metadata: { name: 'see', uid: 'f1', generation: 1 },
    spec: federationSpec.parse({
      localMember,
      localCountry,
      peers: [
        {
          name: 'hu-central',
          country: 'HU',
          kubeconfigSecretRef: { namespace: 'secovia-system', name: 'hu' },
        },
        {
          name: 'mk-skopje',
          country: 'MK',
          kubeconfigSecretRef: { namespace: 'secovia-system', name: 'mk' },
        },
        {
          name: 'rs-beograd',
          country: 'RS',
          kubeconfigSecretRef: { namespace: 'secovia-system', name: 'rs' },
        },
      ].filter((p) => p.name !== localMember),
      export: { tenantSelector: { matchLabels: FEDERATE }, federatedServices: true },
      import: { acceptCountries: ['HU', 'MK', 'RS'] },
      ...spec,
    }),
  };
}

const peerOf = (f: Federation, name: string): Peer => f.spec!.peers.find((p) => p.name === name)!;

function tenant(name: string, allowed: string[], labels: Record<string, string> = FEDERATE): GovTenant {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name, labels },
    spec: {
      displayName: `Општина ${name}`,
      country: 'HU',
      level: 'municipal',
      environments: [{ name: 'prod' }],
      network: { isolation: 'strict' },
      ingress: { allowWildcard: false },
      workloads: {},
      podSecurity: 'restricted',
      dataResidency: { allowedCountries: allowed, classification: 'confidential' },
      allowedServiceClasses: ['*'],
      suspended: false,
      deletionPolicy: 'Retain',
    },
  };
}

const service = (namespace: string, name: string, exposure: string, cls = 'e-permits'): GovService => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovService',
  metadata: { name, namespace },
  spec: { class: cls, plan: 'small', exposure: exposure as 'federated', host: `${name}.example` },
  status: { version: '2.4.0' },
});

const cls = (name: string): GovServiceClass => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovServiceClass',
  metadata: { name },
  spec: {
    displayName: { en: 'Building permits', el: 'Οικοδομικές άδειες' },
    audience: ['G2C'],
    buildingBlock: 'registration',
    image: 'registry.example.eu/secovia/e-permits',
    versions: ['2.4.0'],
    port: 8080,
    healthPath: '/healthz',
    plans: [{ name: 'small', replicas: 1, resources: { cpu: '100m', memory: '128Mi' } }],
    maxClassification: 'confidential',
  },
});

const hu = fed('hu-central', 'HU');
const mk = fed('mk-skopje', 'MK');

function exportHuTo(peer: string, tenants: GovTenant[], services: GovService[] = []) {
  return exportFor({
    federation: hu,
    peer: peerOf(hu, peer),
    tenants,
    services,
    classes: [cls('e-permits')],
  });
}

describe('selectorMatches', () => {
  it.each([
    [{ matchLabels: { a: '1' } }, { a: '1', b: '2' }, true],
    [{ matchLabels: { a: '1' } }, { a: '2' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'In' as const, values: ['1', '2'] }] }, { a: '2' }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn' as const, values: ['1'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists' as const }] }, {}, false],
    [{ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' as const }] }, { b: '1' }, true],
    [{}, { any: 'thing' }, true],
  ])('%j on %j is %s', (selector, labels, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });
});

describe('exportFor', () => {
  const tenants = [
    tenant('hu-budapest', ['HU', 'MK']),
    tenant('hu-only', ['HU']),
    tenant('hu-private', ['HU', 'MK'], {}),
    tenant('rs-imported', ['HU', 'MK'], { ...FEDERATE, 'gov.secovia.eu/origin-member': 'rs-beograd' }),
  ];
  const services = [
    service('hu-budapest-prod', 'permits', 'federated'),
    service('hu-budapest-prod', 'internal-only', 'internal', 'e-payments'),
    service('hu-only-prod', 'secret', 'federated'),
  ];

  it('offers selected, non-imported tenants allowed in the peer country, and says why others are not', () => {
    const { document, skipped } = exportHuTo('mk-skopje', tenants, services);
    expect(document.tenants.map((t) => t.name)).toEqual(['hu-budapest']);
    expect(skipped).toEqual([expect.objectContaining({ name: 'hu-only', reason: 'DataResidency' })]);
    expect(document.from).toEqual({ member: 'hu-central', country: 'HU' });
    expect(document.to).toEqual({ member: 'mk-skopje', country: 'MK' });
  });

  it('offers the federated services of exported tenants, with the classes their services use', () => {
    const { document } = exportHuTo('mk-skopje', tenants, services);
    expect(document.services).toEqual([
      {
        namespace: 'hu-budapest-prod',
        name: 'permits',
        tenant: 'hu-budapest',
        class: 'e-permits',
        version: '2.4.0',
        url: 'https://permits.example',
        classification: 'confidential',
      },
    ]);
    // e-payments is used but not present here: nothing to offer; e-permits is.
    expect(document.serviceClasses.map((c) => c.name)).toEqual(['e-permits']);
  });

  it('offers nothing of a tenant to a peer outside its countries, not even its services', () => {
    const { document } = exportHuTo('rs-beograd', tenants, services);
    expect(JSON.stringify(document)).not.toMatch(/hu-budapest|hu-only|permits/);
  });

  it('offers no tenant without a selector, and no service unless federatedServices', () => {
    const bare = fed('hu-central', 'HU', { export: {} });
    const r = exportFor({
      federation: bare,
      peer: peerOf(bare, 'mk-skopje'),
      tenants,
      services,
      classes: [],
    });
    expect(r.document.tenants).toEqual([]);
    const noServices = fed('hu-central', 'HU', { export: { tenantSelector: { matchLabels: FEDERATE } } });
    const s = exportFor({
      federation: noServices,
      peer: peerOf(noServices, 'mk-skopje'),
      tenants,
      services,
      classes: [],
    });
    expect(s.document.tenants).toHaveLength(1);
    expect(s.document.services).toEqual([]);
  });

  it('is the same text for the same input, whatever the order (no write when nothing changed)', () => {
    const a = exportHuTo('mk-skopje', tenants, services).document;
    const b = exportHuTo('mk-skopje', [...tenants].reverse(), [...services].reverse()).document;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});

describe('importPlan', () => {
  const doc = (patch: Partial<ExportDocument> = {}): ExportDocument => ({
    ...exportHuTo(
      'mk-skopje',
      [tenant('hu-budapest', ['HU', 'MK'])],
      [service('hu-budapest-prod', 'permits', 'federated')],
    ).document,
    ...patch,
  });
  const plan = (document: unknown, f = mk, staleSince?: string) =>
    importPlan({ federation: f, peer: peerOf(f, 'hu-central'), document, staleSince });

  it('imports tenants, classes and service imports labelled with their origin', () => {
    const p = plan(doc());
    expect(p.valid).toBe(true);
    expect(p.skipped).toEqual([]);
    const [t] = p.tenants as KubeObject[];
    expect(t!.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'secovia-operator',
      'gov.secovia.eu/origin-member': 'hu-central',
      'gov.secovia.eu/origin-country': 'HU',
      'gov.secovia.eu/federation': 'see',
    });
    expect((t!.spec as GovTenant['spec'])!.displayName).toBe('Општина hu-budapest');
    expect(p.classes.map((c) => c.metadata.name)).toEqual(['e-permits']);
    expect(p.serviceImports[0]).toMatchObject({
      kind: 'GovServiceImport',
      metadata: { name: 'permits', namespace: 'hu-budapest-prod' },
      spec: { originMember: 'hu-central', originCountry: 'HU', tenant: 'hu-budapest', class: 'e-permits' },
    });
  });

  it('refuses, on its own check, a tenant whose allowed countries exclude this member', () => {
    // An exporter that ignores residency: the importer still refuses.
    const leaky = doc({ tenants: [{ name: 'hu-only', spec: tenant('hu-only', ['HU']).spec }], services: [] });
    const p = plan(leaky);
    expect(p.tenants).toEqual([]);
    expect(p.skipped).toEqual([expect.objectContaining({ name: 'hu-only', reason: 'DataResidency' })]);
    expect(p.serviceImports).toEqual([]);
  });

  it('takes nothing from a country it does not accept, and concludes nothing from it', () => {
    const strict = fed('mk-skopje', 'MK', { import: { acceptCountries: ['RS'] } });
    const p = plan(doc(), strict);
    expect(p.valid).toBe(false);
    expect(p.tenants).toEqual([]);
    expect(p.skipped[0]).toMatchObject({ name: 'hu-budapest', reason: 'CountryNotAccepted' });
  });

  it('refuses a document from another member or meant for another member', () => {
    const wrongFrom = plan(doc({ from: { member: 'rs-beograd', country: 'RS' } }));
    expect(wrongFrom).toMatchObject({ valid: false, tenants: [], skipped: [{ reason: 'InvalidExport' }] });
    const wrongTo = plan(doc({ to: { member: 'mk-skopje', country: 'RS' } }));
    expect(wrongTo).toMatchObject({ valid: false, skipped: [{ reason: 'NotAddressedToUs' }] });
  });

  it('refuses what is not a document at all, and one invalid tenant without the others', () => {
    expect(plan({ hello: 'world' })).toMatchObject({ valid: false, skipped: [{ reason: 'InvalidExport' }] });
    const mixed = doc({
      tenants: [
        { name: 'hu-budapest', spec: tenant('hu-budapest', ['HU', 'MK']).spec },
        { name: 'Not_A_Name', spec: tenant('x', ['MK']).spec },
        { name: 'hu-bad', spec: { displayName: 'no country' } },
      ],
    });
    const p = plan(mixed);
    expect(p.valid).toBe(true);
    expect(p.tenants.map((t) => t.metadata.name)).toEqual(['hu-budapest']);
    expect(p.skipped.map((s) => [s.name, s.reason])).toEqual([
      ['Not_A_Name', 'InvalidExport'],
      ['hu-bad', 'InvalidExport'],
    ]);
  });

  it('lists no service import for a tenant that is not imported, or outside its tenant namespaces', () => {
    const p = plan(
      doc({
        services: [
          { ...doc().services[0]!, tenant: 'hu-other' },
          { ...doc().services[0]!, namespace: 'kube-system' },
        ],
      }),
    );
    expect(p.serviceImports).toEqual([]);
    expect(p.skipped.map((s) => s.reason)).toEqual(['TenantNotImported', 'InvalidExport']);
  });

  it('marks every import Stale while the origin is out of reach', () => {
    const p = plan(doc(), mk, '2026-11-26T05:00:00Z');
    for (const o of [...p.tenants, ...p.classes, ...p.serviceImports])
      expect(o.metadata.annotations).toEqual({ 'gov.secovia.eu/stale-since': '2026-11-26T05:00:00Z' });
  });
});

describe('heartbeat of observedAt', () => {
  const staleAfterMs = 300_000;
  it('keeps the recorded time within a third of staleAfterSeconds, then moves it', () => {
    const previous = '2026-11-26T05:00:00Z';
    expect(heartbeat(previous, new Date('2026-11-26T05:01:39Z'), staleAfterMs)).toBe(previous);
    expect(heartbeat(previous, new Date('2026-11-26T05:01:40.5Z'), staleAfterMs)).toBe(
      '2026-11-26T05:01:40Z',
    );
    expect(heartbeat(undefined, new Date('2026-11-26T05:00:00.9Z'), staleAfterMs)).toBe(
      '2026-11-26T05:00:00Z',
    );
    expect(heartbeat(previous, undefined, staleAfterMs)).toBe(previous);
  });
});

describe('peer credentials', () => {
  const peer = peerOf(mk, 'hu-central');
  const jwt = (claims: object): string =>
    ['{"alg":"none"}', JSON.stringify(claims), 'sig']
      .map((s) => Buffer.from(s).toString('base64url'))
      .join('.');
  // A self-signed certificate valid until 2036-11-23T05:24:10Z (test/fixtures/certs).
  const pem = readFileSync(new URL('../fixtures/certs/peer-client.crt', import.meta.url), 'utf8');
  const kubeconfig = (user: object): string =>
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'hu',
          cluster: {
            server: 'https://127.0.0.1:6443',
            'certificate-authority-data': Buffer.from(pem).toString('base64'),
          },
        },
      ],
      users: [{ name: 'peer', user }],
      contexts: [{ name: 'hu', context: { cluster: 'hu', user: 'peer' } }],
      'current-context': 'hu',
    });
  const secret = (data: Record<string, string>): KubeObject =>
    ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'hu', namespace: 'secovia-system' },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    }) as KubeObject;

  it('says what is missing or wrong without repeating any of the secret content', () => {
    expect(credentialsFrom(peer, undefined)).toEqual({
      reason: 'CredentialsUnavailable',
      problem: 'Secret secovia-system/hu not found',
    });
    expect(credentialsFrom(peer, secret({ other: 'x' }))).toEqual({
      reason: 'CredentialsUnavailable',
      problem: 'Secret secovia-system/hu has no key kubeconfig',
    });
    const leaked = '{"users": [{"user": {"token": "s3cr3t-value"}}], [unbalanced';
    const bad = credentialsFrom(peer, secret({ kubeconfig: leaked }));
    expect(bad).toEqual({
      reason: 'CredentialsRejected',
      problem: 'Secret secovia-system/hu key kubeconfig: the kubeconfig is not valid YAML',
    });
    expect(JSON.stringify(bad)).not.toContain('s3cr3t');
  });

  it('reads the expiry of a bearer token, and is silent about opaque ones', () => {
    const exp = Date.UTC(2027, 0, 1) / 1000;
    const c = credentialsFrom(peer, secret({ kubeconfig: kubeconfig({ token: jwt({ exp }) }) }));
    expect(c).toMatchObject({ expiresAt: '2027-01-01T00:00:00Z' });
    const opaque = credentialsFrom(peer, secret({ kubeconfig: kubeconfig({ token: 'abcdef' }) }));
    expect(opaque).not.toHaveProperty('problem');
    expect((opaque as { expiresAt?: string }).expiresAt).toBeUndefined();
  });

  it('reads the end of validity of a client certificate, and is silent about an unreadable one', () => {
    const withCert = kubeconfig({
      'client-certificate-data': Buffer.from(pem).toString('base64'),
      'client-key-data': Buffer.from('a key, not read here').toString('base64'),
    });
    expect(credentialsFrom(peer, secret({ kubeconfig: withCert }))).toMatchObject({
      expiresAt: '2036-11-23T05:24:10Z',
    });
    expect(expiryOf({ certData: Buffer.from('not a cert').toString('base64') })).toBeUndefined();
  });
});
