/**
 * What crosses the border, and what an import becomes here: only the fields a peer needs leave the
 * cluster, and everything that would let a peer act here (access, isolation, Pod Security, quota,
 * names) is decided by the importing member.
 */
import type { Federation, GovServiceClass, GovTenant } from '../../src/api/index.js';
import { federationSpec, govTenantSpec } from '../../src/api/index.js';
import {
  exportFor,
  exportedTenantSpec,
  importPlan,
  type ExportDocument,
  type LocalView,
} from '../../src/controllers/federation/exchange.js';
import { reservedNamespaces } from '../../src/controllers/federation/names.js';
import { checkService } from '../../src/controllers/govservice/checks.js';

const HOSTILE_SPEC = govTenantSpec.parse({
  displayName: 'Град Скопје',
  country: 'MK',
  level: 'municipal',
  officialId: 'MK/GOV/4030996',
  contacts: [{ name: 'Марија Петровска', email: 'marija@skopje.example' }],
  environments: [{ name: 'prod', quota: { cpu: '100000' }, limits: { defaultCpu: '8', maxCpu: '64' } }],
  quota: { cpu: '100000', memory: '400Ti', pods: 100000 },
  limits: { defaultMemory: '16Gi', maxMemory: '64Gi' },
  access: { admins: [{ kind: 'Group', name: 'system:authenticated' }] },
  network: {
    isolation: 'none',
    allowFromTenants: ['mk-ohrid', 'hu-budapest'],
    allowEgressCIDRs: ['0.0.0.0/0'],
  },
  podSecurity: 'baseline',
  dataResidency: { allowedCountries: ['MK', 'HU'], classification: 'confidential' },
  deletionPolicy: 'Delete',
});

function federation(spec: Record<string, unknown> = {}, peer: Record<string, unknown> = {}): Federation {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'Federation',
    metadata: { name: 'see', uid: 'f1' },
    spec: federationSpec.parse({
      localMember: 'hu-central',
      localCountry: 'HU',
      peers: [
        {
          name: 'mk-skopje',
          country: 'MK',
          kubeconfigSecretRef: { namespace: 'secovia-system', name: 'mk' },
          ...peer,
        },
      ],
      import: { acceptCountries: ['MK'] },
      ...spec,
    }),
  };
}

const documentOf = (tenants: { name: string; spec: unknown }[], services: ExportDocument['services'] = []) =>
  ({
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'FederationExport',
    from: { member: 'mk-skopje', country: 'MK' },
    to: { member: 'hu-central', country: 'HU' },
    tenants,
    serviceClasses: [],
    services,
  }) satisfies ExportDocument;

const view = (patch: Partial<LocalView> = {}): LocalView => ({
  reserved: reservedNamespaces(['secovia-system', 'ingress-nginx']),
  namespaces: new Map(),
  tenants: new Map(),
  claimed: new Map(),
  ...patch,
});

function plan(tenants: { name: string; spec: unknown }[], local = view(), f = federation()) {
  return importPlan({ federation: f, peer: f.spec!.peers[0]!, document: documentOf(tenants), local });
}

const specOf = (o: { spec?: unknown }) => o.spec as GovTenant['spec'] & {};

describe('the export carries only what a peer needs', () => {
  it('drops contacts, access subjects and egress ranges, and names only tenants the peer also receives', () => {
    const out = exportedTenantSpec(HOSTILE_SPEC, new Set(['mk-ohrid']));
    expect(Object.keys(out).sort()).toEqual([
      'allowedServiceClasses',
      'country',
      'dataResidency',
      'displayName',
      'environments',
      'level',
      'limits',
      'network',
      'officialId',
      'quota',
      'suspended',
    ]);
    expect(out.network).toEqual({ isolation: 'strict', allowFromTenants: ['mk-ohrid'] });
    expect(JSON.stringify(out)).not.toMatch(/marija|system:authenticated|0\.0\.0\.0/);
  });

  it('leaves network out when no named tenant crosses, and still parses with the schema', () => {
    const out = exportedTenantSpec(HOSTILE_SPEC, new Set());
    expect(out.network).toBeUndefined();
    expect(govTenantSpec.safeParse(out).success).toBe(true);
  });

  it('is what exportFor publishes', () => {
    const f: Federation = {
      apiVersion: 'gov.secovia.eu/v1alpha1',
      kind: 'Federation',
      metadata: { name: 'see' },
      spec: federationSpec.parse({
        localMember: 'mk-skopje',
        localCountry: 'MK',
        peers: [{ name: 'hu-central', country: 'HU', kubeconfigSecretRef: { namespace: 's', name: 'hu' } }],
        export: { tenantSelector: { matchLabels: { f: 'y' } } },
      }),
    };
    const { document } = exportFor({
      federation: f,
      peer: f.spec!.peers[0]!,
      tenants: [
        { apiVersion: 'gov.secovia.eu/v1alpha1', kind: 'GovTenant', metadata: { name: 'mk-skopje-grad', labels: { f: 'y' } }, spec: HOSTILE_SPEC }, // prettier-ignore
      ],
      services: [],
      classes: [],
    });
    expect(document.tenants[0]!.spec).toEqual(exportedTenantSpec(HOSTILE_SPEC, new Set(['mk-skopje-grad'])));
  });
});

describe('an import is shaped by the local member', () => {
  it('takes access only from the local mapping (nobody by default), strict isolation, restricted, Retain', () => {
    const [t] = plan([{ name: 'mk-skopje-grad', spec: HOSTILE_SPEC }]).tenants;
    const spec = specOf(t!);
    expect(spec.access).toBeUndefined();
    expect(spec.contacts).toBeUndefined();
    expect(spec.network).toEqual({ isolation: 'strict', allowedServiceTypes: ['ClusterIP'] });
    expect(spec.podSecurity).toBe('restricted');
    expect(spec.deletionPolicy).toBe('Retain');
    expect(spec.displayName).toBe('Град Скопје');
    const mapped = federation(
      {},
      { importAccess: { admins: [{ kind: 'Group', name: 'hu-federation-ops' }] } },
    );
    const [withAccess] = plan([{ name: 'mk-skopje-grad', spec: HOSTILE_SPEC }], view(), mapped).tenants;
    expect(specOf(withAccess!).access).toEqual({ admins: [{ kind: 'Group', name: 'hu-federation-ops' }] });
  });

  it('keeps in allowFromTenants only tenants imported from the same origin in the same plan', () => {
    const other = { ...HOSTILE_SPEC, network: { isolation: 'strict' as const, allowedServiceTypes: [] } };
    const p = plan([
      { name: 'mk-skopje-grad', spec: HOSTILE_SPEC },
      { name: 'mk-ohrid', spec: other },
    ]);
    expect(specOf(p.tenants[0]!).network?.allowFromTenants).toEqual(['mk-ohrid']);
  });

  it('caps quota and limits by the local policy, lowering defaults with their maxima', () => {
    const [t] = plan([{ name: 'mk-skopje-grad', spec: HOSTILE_SPEC }]).tenants;
    const spec = specOf(t!);
    expect(spec.quota).toEqual({ cpu: '4', memory: '8Gi', storage: '100Gi', pods: 50 });
    expect(spec.limits).toEqual({ defaultMemory: '4Gi', maxCpu: '2', maxMemory: '4Gi' });
    expect(spec.environments[0]).toEqual({
      name: 'prod',
      quota: { cpu: '4', memory: '8Gi', storage: '100Gi', pods: 50 },
      limits: { defaultCpu: '2', maxCpu: '2', maxMemory: '4Gi' },
    });
    const modest = {
      ...HOSTILE_SPEC,
      quota: { cpu: '500m' },
      limits: { maxCpu: '1' },
      environments: [{ name: 'prod' }],
    };
    const wide = federation({ import: { acceptCountries: ['MK'], maxQuota: { cpu: '64' } } });
    const [m] = plan([{ name: 'mk-skopje-grad', spec: modest }], view(), wide).tenants;
    expect(specOf(m!).quota).toEqual({ cpu: '500m' });
    expect(specOf(m!).limits).toEqual({ maxCpu: '1', maxMemory: '4Gi' });
  });

  it.each([
    ['ingress', 'nginx', 'ReservedNamespace'],
    ['kube', 'system', 'ReservedNamespace'],
    ['kube-node', 'lease', 'ReservedNamespace'],
    ['secovia', 'system', 'ReservedNamespace'],
  ])('refuses tenant %s with environment %s (a platform namespace): %s', (name, env, reason) => {
    const p = plan([{ name, spec: { ...HOSTILE_SPEC, environments: [{ name: env }] } }]);
    expect(p.tenants).toEqual([]);
    expect(p.skipped).toEqual([expect.objectContaining({ kind: 'GovTenant', name, reason })]);
    expect(p.skipped[0]!.message).toContain(`${name}-${env}`);
  });

  it('refuses a namespace it did not create: a local one, a local tenant’s, a namesake’s retained one', () => {
    const local = view({
      namespaces: new Map([
        ['mk-a-prod', undefined],
        ['mk-b-prod', 'uid-of-a-deleted-namesake'],
        ['mk-own-prod', 'uid-own'],
      ]),
      claimed: new Map([['mk-c-prod', 'mk-c-local-owner']]),
      tenants: new Map([
        ['mk-own', { uid: 'uid-own', fromThisPeer: true }],
        ['mk-b', { uid: 'uid-new-b', fromThisPeer: true }],
      ]),
    });
    const only = (name: string) => ({ name, spec: { ...HOSTILE_SPEC, environments: [{ name: 'prod' }] } });
    const p = plan(['mk-a', 'mk-b', 'mk-c', 'mk-own'].map(only), local);
    expect(p.tenants.map((t) => t.metadata.name)).toEqual(['mk-own']);
    expect(p.skipped.map((s) => [s.name, s.reason])).toEqual([
      ['mk-a', 'NamespaceTaken'],
      ['mk-b', 'NamespaceTaken'],
      ['mk-c', 'NamespaceTaken'],
    ]);
  });

  it('refuses a service import whose URL is not https', () => {
    const service = {
      namespace: 'mk-skopje-grad-prod',
      name: 'permits',
      tenant: 'mk-skopje-grad',
      class: 'e-permits',
      classification: 'internal',
    };
    const f = federation();
    const p = importPlan({
      federation: f,
      peer: f.spec!.peers[0]!,
      local: view(),
      document: documentOf(
        [{ name: 'mk-skopje-grad', spec: HOSTILE_SPEC }],
        [
          { ...service, url: 'javascript:alert(document.cookie)' },
          { ...service, name: 'plain', url: 'http://permits.skopje.example' },
          { ...service, name: 'good', url: 'https://permits.skopje.example/apply' },
        ],
      ),
    });
    expect(p.serviceImports.map((s) => s.metadata.name)).toEqual(['good']);
    expect(p.skipped.map((s) => [s.name, s.reason])).toEqual([
      ['mk-skopje-grad-prod/permits', 'InvalidExport'],
      ['mk-skopje-grad-prod/plain', 'InvalidExport'],
    ]);
    expect(p.skipped[0]!.message).toContain('https://');
  });
});

describe('an imported GovServiceClass', () => {
  const cls = (labels: Record<string, string>): GovServiceClass => ({
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovServiceClass',
    metadata: { name: 'backdoor', labels },
    spec: {
      displayName: { en: 'Backdoor' },
      audience: ['G2G'],
      buildingBlock: 'messaging',
      image: 'evil.example.ru/backdoor',
      versions: ['1.0.0'],
      port: 8080,
      healthPath: '/healthz',
      plans: [{ name: 'small', replicas: 1, resources: { cpu: '100m', memory: '128Mi' } }],
      maxClassification: 'restricted',
    },
  });
  const tenant = (allowed: string[]): GovTenant => ({
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name: 'hu-budapest' },
    spec: govTenantSpec.parse({
      displayName: 'Budapest',
      country: 'HU',
      level: 'municipal',
      environments: [{ name: 'prod' }],
      dataResidency: { allowedCountries: ['HU'] },
      allowedServiceClasses: allowed,
    }),
  });
  const check = (allowed: string[], labels: Record<string, string>) =>
    checkService({
      service: {
        apiVersion: 'gov.secovia.eu/v1alpha1',
        kind: 'GovService',
        metadata: { name: 'x', namespace: 'hu-budapest-prod' },
        spec: { class: 'backdoor', plan: 'small', exposure: 'internal' },
      },
      namespaceTenant: tenant(allowed),
      serviceClass: cls(labels),
      otherServices: [],
    }).problems;

  it('is not covered by *: a tenant must name it', () => {
    const imported = { 'gov.secovia.eu/origin-member': 'ru-evil' };
    expect(JSON.stringify(check(['*'], imported))).toContain('ClassNotAllowed');
    expect(JSON.stringify(check(['*'], imported))).toContain('imported from ru-evil');
    expect(JSON.stringify(check(['backdoor'], imported))).not.toContain('ClassNotAllowed');
    expect(JSON.stringify(check(['*'], {}))).not.toContain('ClassNotAllowed');
  });
});
