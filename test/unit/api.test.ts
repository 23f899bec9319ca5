/** The zod schemas accept the samples, keep every script intact, and name the field they reject. */
import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import type { z } from 'zod';
import {
  federationSpec,
  govServiceClassSpec,
  govServiceSpec,
  govTenantSpec,
  kindDefinitions,
} from '../../src/api/index.js';
import type { KubeObject } from '../../src/runtime/types.js';

const SAMPLES = new URL('../../config/samples/', import.meta.url);
const specOf: Record<string, z.ZodType> = Object.fromEntries(kindDefinitions.map((d) => [d.kind, d.spec]));

const samples: { file: string; doc: KubeObject }[] = readdirSync(SAMPLES)
  .filter((f) => f.startsWith('gov_') && f.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(new URL(file, SAMPLES), 'utf8')).map((d) => ({
      file,
      doc: d.toJS() as KubeObject,
    })),
  );
const ofKind = (kind: string) => samples.filter((s) => s.doc.kind === kind).map((s) => s.doc);
const specNamed = (kind: string, name: string): Record<string, unknown> =>
  structuredClone(ofKind(kind).find((d) => d.metadata.name === name)!.spec) as Record<string, unknown>;
const budapest = specNamed('GovTenant', 'hu-budapest');
const ePermits = specNamed('GovServiceClass', 'e-permits');

describe('samples', () => {
  it('cover every kind: 3 tenants, 5 classes, services and a federation', () => {
    expect(ofKind('GovTenant')).toHaveLength(3);
    expect(ofKind('GovServiceClass')).toHaveLength(5);
    expect(ofKind('GovService').length).toBeGreaterThanOrEqual(3);
    expect(ofKind('Federation')).toHaveLength(1);
  });

  it('are all listed in the kustomization', () => {
    const kustomization = readFileSync(new URL('kustomization.yaml', SAMPLES), 'utf8');
    for (const file of new Set(samples.map((s) => s.file))) expect(kustomization).toContain(file);
  });

  it.each(samples.map((s) => [s.doc.kind, s.doc.metadata.name, s.doc] as const))(
    '%s %s is accepted by its schema',
    (kind, _name, doc) => {
      expect(doc.apiVersion).toBe('gov.secovia.eu/v1alpha1');
      const result = specOf[kind]!.safeParse(doc.spec);
      expect(result.error?.issues ?? []).toEqual([]);
    },
  );

  it('place services in <tenant>-<environment> namespaces, on classes and plans that exist', () => {
    const namespaces = ofKind('GovTenant').flatMap((t) =>
      govTenantSpec.parse(t.spec).environments.map((e) => `${t.metadata.name}-${e.name}`),
    );
    const classes = new Map(
      ofKind('GovServiceClass').map((c) => [c.metadata.name, govServiceClassSpec.parse(c.spec)]),
    );
    for (const s of ofKind('GovService')) {
      const spec = govServiceSpec.parse(s.spec);
      expect(namespaces).toContain(s.metadata.namespace);
      const cls = classes.get(spec.class);
      expect(cls?.plans.map((p) => p.name)).toContain(spec.plan);
      if (spec.version) expect(cls?.versions).toContain(spec.version);
    }
  });

  it('fill in the documented defaults', () => {
    const rs = govTenantSpec.parse(specNamed('GovTenant', 'rs-ite'));
    expect(rs).toMatchObject({
      suspended: false,
      deletionPolicy: 'Retain',
      network: { isolation: 'strict' },
    });
    const mk = govTenantSpec.parse(specNamed('GovTenant', 'mk-mioa'));
    expect(mk).toMatchObject({ podSecurity: 'restricted', network: { isolation: 'strict' } });
    const fed = federationSpec.parse({ localMember: 'hu-central', localCountry: 'HU' });
    expect(fed).toEqual({
      localMember: 'hu-central',
      localCountry: 'HU',
      peers: [],
      export: { federatedServices: false, consumption: false },
      import: {
        acceptCountries: [],
        consumption: false,
        onWithdraw: 'Delete',
        staleAfterSeconds: 300,
        onFederationDelete: 'Keep',
        maxQuota: { cpu: '4', memory: '8Gi', storage: '100Gi', pods: 50 },
        maxLimits: { maxCpu: '2', maxMemory: '4Gi' },
      },
      syncIntervalSeconds: 60,
    });
    const svc = govServiceSpec.parse({ class: 'payments', plan: 'small' });
    expect(svc.exposure).toBe('internal');
  });
});

describe('names in every script round-trip unchanged', () => {
  const names = [
    ['Latin with diacritics', 'Budapest Főváros Önkormányzata'],
    ['Romanian', 'Primăria Municipiului Timișoara'],
    ['Croatian', 'Grad Đakovo – Upravni odjel'],
    ['Cyrillic (Macedonian)', 'Министерство за информатичко општество и администрација'],
    ['Cyrillic (Serbian)', 'Канцеларија за информационе технологије и електронску управу'],
    ['Greek', 'Υπουργείο Ψηφιακής Διακυβέρνησης'],
    ['Albanian', 'Agjencia Kombëtare e Shoqërisë së Informacionit'],
  ];

  it.each(names)('%s: %s', (_script, name) => {
    const viaYaml = parseAllDocuments(stringify({ ...budapest, displayName: name }))[0]!.toJS() as unknown;
    const tenant = govTenantSpec.parse(viaYaml);
    expect(tenant.displayName).toBe(name);
    const cls = govServiceClassSpec.parse({ ...ePermits, displayName: { en: 'Permits', 'sr-Latn': name } });
    expect(cls.displayName['sr-Latn']).toBe(name);
  });

  it('keeps decomposed accents decomposed: nothing is normalised on the way', () => {
    const decomposed = 'Budapest Főváros Önkormányzata'.normalize('NFD');
    const tenant = govTenantSpec.parse({ ...budapest, displayName: decomposed });
    expect(tenant.displayName).toBe(decomposed);
    expect(tenant.displayName).not.toBe(decomposed.normalize('NFC'));
  });
});

type Mutate = (spec: Record<string, any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

const rejected = (schema: z.ZodType, base: unknown, mutate: Mutate): (string | number)[][] => {
  const spec = structuredClone(base) as Record<string, unknown>;
  mutate(spec);
  const result = schema.safeParse(spec);
  expect(result.success).toBe(false);
  return (result.error?.issues ?? []).map((i) => i.path as (string | number)[]);
};

describe('GovTenant rejects', () => {
  it.each<[string, Mutate, (string | number)[]]>([
    ['a lower-case country', (s) => (s.country = 'hu'), ['country']],
    ['an alpha-3 country', (s) => (s.country = 'HUN'), ['country']],
    ['an unknown level', (s) => (s.level = 'city'), ['level']],
    ['a missing level', (s) => delete s.level, ['level']],
    [
      'an unknown classification',
      (s) => (s.dataResidency.classification = 'secret'),
      ['dataResidency', 'classification'],
    ],
    [
      'no allowed countries',
      (s) => (s.dataResidency.allowedCountries = []),
      ['dataResidency', 'allowedCountries'],
    ],
    [
      'a bad allowed country',
      (s) => (s.dataResidency.allowedCountries = ['HU', 'mk']),
      ['dataResidency', 'allowedCountries', 1],
    ],
    ['a quantity that is not one', (s) => (s.quota.cpu = 'lots'), ['quota', 'cpu']],
    [
      'a bad override quantity',
      (s) => (s.environments[1].quota.memory = '8 GB'),
      ['environments', 1, 'quota', 'memory'],
    ],
    ['two environments of one name', (s) => s.environments.push({ name: 'prod' }), ['environments']],
    [
      'an environment name that is no DNS label',
      (s) => (s.environments[0].name = 'Prod'),
      ['environments', 0, 'name'],
    ],
    ['an official id that is not COUNTRY/CLASS/CODE', (s) => (s.officialId = '735715'), ['officialId']],
    [
      'a service account without namespace',
      (s) => delete s.access.admins[1].namespace,
      ['access', 'admins', 1, 'namespace'],
    ],
    [
      'a group with a namespace',
      (s) => (s.access.admins[0].namespace = 'x'),
      ['access', 'admins', 0, 'namespace'],
    ],
    [
      'an egress range that is no CIDR',
      (s) => (s.network.allowEgressCIDRs = ['10.0.0.300/8']),
      ['network', 'allowEgressCIDRs', 0],
    ],
    ['an unknown deletion policy', (s) => (s.deletionPolicy = 'Purge'), ['deletionPolicy']],
  ])('%s', (_what, mutate, path) => {
    expect(rejected(govTenantSpec, budapest, mutate)).toContainEqual(path);
  });
});

describe('GovServiceClass rejects', () => {
  it.each<[string, Mutate, (string | number)[]]>([
    [
      'a plan with both replicas and autoscaling',
      (s) => (s.plans[0].autoscaling = { minReplicas: 1, maxReplicas: 2 }),
      ['plans', 0, 'replicas'],
    ],
    ['a plan with neither', (s) => delete s.plans[0].replicas, ['plans', 0, 'replicas']],
    [
      'minReplicas above maxReplicas',
      (s) => (s.plans[1].autoscaling.minReplicas = 11),
      ['plans', 1, 'autoscaling', 'minReplicas'],
    ],
    ['two plans of one name', (s) => (s.plans[1].name = 'small'), ['plans']],
    ['an unknown classification', (s) => (s.maxClassification = 'secret'), ['maxClassification']],
    ['an unknown audience', (s) => (s.audience = ['G2X']), ['audience', 0]],
    ['an image with a tag', (s) => (s.image = 'registry.example.eu/secovia/e-permits:2.4.0'), ['image']],
    ['no versions', (s) => (s.versions = []), ['versions']],
    ['a repeated version', (s) => (s.versions = ['2.4.0', '2.4.0']), ['versions']],
    ['a digest of an unlisted version', (s) => (s.digests = { '9.9.9': s.digests['2.4.0'] }), ['digests']],
    [
      'a display name keyed by no language code',
      (s) => (s.displayName = { English: 'Permits' }),
      ['displayName', 'English'],
    ],
    [
      'a resource quantity that is not one',
      (s) => (s.plans[0].resources.cpu = 'lots'),
      ['plans', 0, 'resources', 'cpu'],
    ],
  ])('%s', (_what, mutate, path) => {
    expect(rejected(govServiceClassSpec, ePermits, mutate)).toContainEqual(path);
  });
});

describe('GovService and Federation reject', () => {
  const service = { class: 'e-permits', plan: 'small', exposure: 'public', host: 'permits.budapest.example' };
  const federation = specNamed('Federation', 'hu-central');

  it.each<[string, z.ZodType, unknown, Mutate, (string | number)[]]>([
    ['a public service without host', govServiceSpec, service, (s) => delete s.host, ['host']],
    ['an unknown exposure', govServiceSpec, service, (s) => (s.exposure = 'open'), ['exposure']],
    ['a version that is no image tag', govServiceSpec, service, (s) => (s.version = 'v 2'), ['version']],
    [
      'a peer of a bad country',
      federationSpec,
      federation,
      (s) => (s.peers[0].country = 'MKD'),
      ['peers', 0, 'country'],
    ],
    ['two peers of one name', federationSpec, federation, (s) => (s.peers[1].name = 'mk-skopje'), ['peers']],
    [
      'an unknown withdrawal policy',
      federationSpec,
      federation,
      (s) => (s.import.onWithdraw = 'Keep'),
      ['import', 'onWithdraw'],
    ],
    [
      'an In requirement without values',
      federationSpec,
      federation,
      (s) => (s.export.tenantSelector = { matchExpressions: [{ key: 'a', operator: 'In' }] }),
      ['export', 'tenantSelector', 'matchExpressions', 0, 'values'],
    ],
  ])('%s', (_what, schema, base, mutate, path) => {
    expect(rejected(schema, base, mutate)).toContainEqual(path);
  });
});
