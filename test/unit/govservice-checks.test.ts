/** Checks of a GovService before anything is created: every reason, its order and its message, as tables. */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { GovService, GovServiceClass, GovTenant } from '../../src/api/index.js';
import { govServiceClassSpec, govServiceSpec, govTenantSpec } from '../../src/api/index.js';
import {
  checkService,
  compileParametersSchema,
  parameterErrors,
  type ServiceCheckContext,
} from '../../src/controllers/govservice/checks.js';

const SAMPLE = new URL('../../config/samples/gov_v1alpha1_govserviceclass.yaml', import.meta.url);
/** The catalog as the API server stores it: CRD defaults applied (the zod schema holds the same defaults). */
const catalog: GovServiceClass[] = parseAllDocuments(readFileSync(SAMPLE, 'utf8')).map((d) => {
  const raw = d.toJS() as GovServiceClass;
  return { ...raw, spec: govServiceClassSpec.parse(raw.spec) };
});
const cls = (name: string): GovServiceClass =>
  structuredClone(catalog.find((c) => c.metadata.name === name)!);
const schemaOf = (name: string): unknown => cls(name).spec!.parametersSchema;

type Classification = 'public' | 'internal' | 'confidential' | 'restricted';

/** Administrations of several countries, their names in their own scripts. */
const TENANTS = {
  'hu-budapest': { displayName: 'Budapest Főváros Önkormányzata', country: 'HU', level: 'municipal' },
  'mk-skopje': { displayName: 'Град Скопје', country: 'MK', level: 'municipal' },
  'gr-thessaloniki': { displayName: 'Δήμος Θεσσαλονίκης', country: 'GR', level: 'municipal' },
  'rs-mup': { displayName: 'Министарство унутрашњих послова', country: 'RS', level: 'national' },
  'ro-cluj': { displayName: 'Consiliul Județean Cluj', country: 'RO', level: 'regional' },
  'si-ljubljana': { displayName: 'Mestna občina Ljubljana', country: 'SI', level: 'municipal' },
} as const;
type TenantName = keyof typeof TENANTS;

function tenant(
  name: TenantName,
  opts: {
    classification?: Classification;
    allowed?: string[];
    suspended?: boolean;
    domains?: string[];
    /** The domains it owns; by default all it asks for, as when no older tenant holds one. */
    owned?: string[];
  } = {},
): GovTenant {
  const t = TENANTS[name];
  const spec = govTenantSpec.parse({
    ...t,
    environments: [{ name: 'prod' }, { name: 'test' }],
    dataResidency: { allowedCountries: [t.country], classification: opts.classification ?? 'internal' },
    allowedServiceClasses: opts.allowed ?? ['*'],
    suspended: opts.suspended ?? false,
    ingress: { allowedDomains: opts.domains ?? ['example.eu'] },
  });
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name, uid: `uid-${name}` },
    spec,
    status: { ingressDomains: opts.owned ?? spec.ingress?.allowedDomains ?? [] },
  };
}

function service(
  name: string,
  spec: Record<string, unknown>,
  meta: { namespace?: string; created?: string } = {},
): GovService {
  const namespace = meta.namespace ?? 'hu-budapest-prod';
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovService',
    metadata: {
      name,
      namespace,
      uid: `uid-${namespace}-${name}`,
      creationTimestamp: meta.created ?? '2026-10-01T08:00:00Z',
    },
    // As stored: the schema's defaults (exposure internal) applied, without its cross-field rules.
    spec: govServiceSpec.safeParse(spec).data ?? ({ exposure: 'internal', ...spec } as GovService['spec']),
  };
}

const permits = (spec: Record<string, unknown> = {}, meta: Parameters<typeof service>[2] = {}): GovService =>
  service(
    'permits',
    { class: 'e-permits', plan: 'small', parameters: { municipalityCode: '1011' }, ...spec },
    meta,
  );

const ctx = (over: Partial<ServiceCheckContext> = {}): ServiceCheckContext => ({
  service: permits(),
  namespaceTenant: tenant('hu-budapest'),
  serviceClass: cls('e-permits'),
  otherServices: [],
  ...over,
});
const reasons = (c: ServiceCheckContext): string[] => checkService(c).problems.map((p) => p.reason);
const messageOf = (c: ServiceCheckContext, reason: string): string =>
  checkService(c).problems.find((p) => p.reason === reason)?.message ?? `no ${reason}`;

/** A class whose parametersSchema does not compile. */
function brokenClass(): GovServiceClass {
  const c = cls('e-permits');
  c.spec!.parametersSchema = { type: 'object', properties: { municipalityCode: { type: 'strnig' } } };
  return c;
}

describe('checkService: each reason alone', () => {
  it.each<[string, Partial<ServiceCheckContext>, string, RegExp[]]>([
    [
      'a namespace of no tenant',
      { service: permits({}, { namespace: 'default' }), namespaceTenant: undefined },
      'NamespaceNotTenant',
      [/default/, /not an environment namespace of any GovTenant/],
    ],
    [
      'a class that does not exist',
      { service: permits({ class: 'land-registry' }), serviceClass: undefined },
      'ClassNotFound',
      [/^spec\.class:/, /GovServiceClass land-registry does not exist/],
    ],
    [
      'a version the class does not offer',
      { service: permits({ version: '1.9.9' }) },
      'VersionNotAllowed',
      [/^spec\.version:/, /1\.9\.9/, /e-permits/, /2\.3\.1, 2\.4\.0/],
    ],
    [
      'a plan the class does not have',
      { service: permits({ plan: 'xl' }) },
      'PlanNotFound',
      [/^spec\.plan:/, /no plan xl/, /plans: small, large/],
    ],
    [
      'a class the tenant may not use',
      { namespaceTenant: tenant('mk-skopje', { allowed: ['payments', 'identity'] }) },
      'ClassNotAllowed',
      [/^spec\.class:/, /mk-skopje/, /e-permits/, /spec\.allowedServiceClasses: payments, identity/],
    ],
    [
      'a tenant that may use no class at all',
      { namespaceTenant: tenant('si-ljubljana', { allowed: [] }) },
      'ClassNotAllowed',
      [/si-ljubljana/, /spec\.allowedServiceClasses: none/],
    ],
    [
      'a tenant classified above the class',
      { namespaceTenant: tenant('gr-thessaloniki', { classification: 'restricted' }) },
      'ClassificationTooHigh',
      [
        /spec\.dataResidency\.classification restricted/,
        /spec\.maxClassification confidential/,
        /gr-thessaloniki/,
      ],
    ],
    [
      'parameters the schema refuses',
      { service: permits({ parameters: { municipalityCode: 'Solun' } }) },
      'InvalidParameters',
      [/^spec\.parameters\.municipalityCode: must match pattern/],
    ],
    [
      'a public service without host',
      { service: permits({ exposure: 'public' }) },
      'HostRequired',
      [/^spec\.host:/, /spec\.exposure is public/],
    ],
    [
      'a federated service without host',
      { service: permits({ exposure: 'federated' }) },
      'HostRequired',
      [/^spec\.host:/, /spec\.exposure is federated/],
    ],
    [
      'a host an older service holds',
      {
        service: permits(
          { exposure: 'public', host: 'permits.example.eu' },
          { created: '2026-10-02T08:00:00Z' },
        ),
        otherServices: [
          service(
            'dozvole',
            { class: 'e-permits', plan: 'small', exposure: 'federated', host: 'permits.example.eu' },
            { namespace: 'mk-skopje-prod', created: '2026-10-01T08:00:00Z' },
          ),
        ],
      },
      'HostConflict',
      [/^spec\.host: permits\.example\.eu/, /GovService mk-skopje-prod\/dozvole/],
    ],
    [
      'a host outside the tenant’s allowed domains',
      { service: permits({ exposure: 'public', host: 'permits.budapest.example' }) },
      'HostNotAllowed',
      [
        /^spec\.host: permits\.budapest\.example is not under a domain/,
        /older GovTenant holds: example\.eu\)/,
      ],
    ],
    [
      'a host under a domain that only looks like the allowed one',
      { service: permits({ exposure: 'federated', host: 'permits.notexample.eu' }) },
      'HostNotAllowed',
      [/^spec\.host: permits\.notexample\.eu/],
    ],
    [
      'a host under a domain the tenant asks for but an older tenant holds',
      {
        service: permits({ exposure: 'public', host: 'permits.example.eu' }),
        namespaceTenant: tenant('hu-budapest', {
          domains: ['example.eu', 'budapest.example'],
          owned: ['budapest.example'],
        }),
      },
      'HostNotAllowed',
      [/^spec\.host: permits\.example\.eu/, /older GovTenant holds: budapest\.example\)/],
    ],
    [
      'a host of a tenant that allows no domain',
      {
        service: permits({ exposure: 'public', host: 'permits.example.eu' }),
        namespaceTenant: tenant('hu-budapest', { domains: [] }),
      },
      'HostNotAllowed',
      [/older GovTenant holds: none\)/],
    ],
    [
      'a class whose parametersSchema does not compile',
      { serviceClass: brokenClass() },
      'InvalidParametersSchema',
      [/spec\.parametersSchema/, /GovServiceClass e-permits/, /not a valid JSON schema/],
    ],
  ])('reports %s as %s, and nothing else', (_what, over, reason, patterns) => {
    const c = ctx(over);
    expect(reasons(c)).toEqual([reason]);
    for (const p of patterns) expect(messageOf(c, reason)).toMatch(p);
  });
});

describe('checkService: order and collection', () => {
  it('collects every problem it can evaluate, in the fixed order', () => {
    const c = ctx({
      service: permits(
        {
          version: '2.0.0',
          plan: 'xl',
          exposure: 'public',
          host: 'shared.example.eu',
          parameters: { municipalityCode: 7 },
        },
        { created: '2026-10-05T00:00:00Z' },
      ),
      namespaceTenant: tenant('rs-mup', { classification: 'restricted', allowed: ['identity'] }),
      otherServices: [
        service('other', { class: 'identity', plan: 'small', exposure: 'public', host: 'shared.example.eu' }),
      ],
    });
    expect(reasons(c)).toEqual([
      'VersionNotAllowed',
      'PlanNotFound',
      'ClassNotAllowed',
      'ClassificationTooHigh',
      'InvalidParameters',
      'HostConflict',
    ]);
    expect(checkService(c)).not.toHaveProperty('plan');
    expect(checkService(c)).not.toHaveProperty('version');
  });

  it.each<[string, Partial<ServiceCheckContext>, string[]]>([
    [
      'no tenant and no class: what needs neither still runs',
      {
        service: permits({ class: 'land-registry', exposure: 'public' }),
        namespaceTenant: undefined,
        serviceClass: undefined,
      },
      ['NamespaceNotTenant', 'ClassNotFound', 'HostRequired'],
    ],
    [
      'no tenant: the class checks still run, the tenant checks cannot',
      { service: permits({ plan: 'xl' }, { namespace: 'kube-system' }), namespaceTenant: undefined },
      ['NamespaceNotTenant', 'PlanNotFound'],
    ],
    [
      'no class: nothing that needs the class',
      { service: permits({ class: 'land-registry', version: '0.0.1', plan: 'xl' }), serviceClass: undefined },
      ['ClassNotFound'],
    ],
    [
      'host required and a broken schema: the schema last',
      { service: permits({ exposure: 'federated' }), serviceClass: brokenClass() },
      ['HostRequired', 'InvalidParametersSchema'],
    ],
    [
      'a host conflict and a broken schema: the schema last',
      {
        service: permits(
          { exposure: 'public', host: 'permits.example.eu' },
          { created: '2026-10-09T00:00:00Z' },
        ),
        otherServices: [
          permits({ exposure: 'public', host: 'permits.example.eu' }, { namespace: 'ro-cluj-prod' }),
        ],
        serviceClass: brokenClass(),
      },
      ['HostConflict', 'InvalidParametersSchema'],
    ],
    [
      'a broken schema: parameters are not judged by it',
      { service: permits({ parameters: { anything: true } }), serviceClass: brokenClass() },
      ['InvalidParametersSchema'],
    ],
  ])('%s', (_what, over, expected) => {
    expect(reasons(ctx(over))).toEqual(expected);
  });

  it('reports the class as missing when it has no spec', () => {
    const c = cls('e-permits');
    delete c.spec;
    expect(reasons(ctx({ serviceClass: c }))).toEqual(['ClassNotFound']);
  });
});

describe('checkService: what a valid service resolves to', () => {
  it.each<[string, string, Record<string, unknown>, string, string]>([
    [
      'e-permits, default version',
      'e-permits',
      { plan: 'small', parameters: { municipalityCode: '1011' } },
      '2.4.0',
      'small',
    ],
    [
      'e-permits, older version',
      'e-permits',
      { plan: 'large', version: '2.3.1', parameters: { municipalityCode: '54625' } },
      '2.3.1',
      'large',
    ],
    [
      'payments',
      'payments',
      { plan: 'elastic', parameters: { currency: 'MKD', merchantId: 'СК-0042' } },
      '3.1.0',
      'elastic',
    ],
    ['e-delivery without parameters', 'e-delivery', { plan: 'standard' }, '5.1.0', 'standard'],
    [
      'identity',
      'identity',
      { plan: 'ha', parameters: { assuranceLevel: 'high', eidasNode: 'https://eidas.gov.gr/node' } },
      '4.3.1',
      'ha',
    ],
  ])('%s', (_what, className, spec, version, plan) => {
    const r = checkService(
      ctx({ service: service('svc', { class: className, ...spec }), serviceClass: cls(className) }),
    );
    expect(r.problems).toEqual([]);
    expect(r.version).toBe(version);
    expect(r.plan).toEqual(cls(className).spec!.plans.find((p) => p.name === plan));
    expect(r.deprecated).toBe(false);
  });

  it.each<[TenantName, Classification]>([
    ['hu-budapest', 'internal'],
    ['mk-skopje', 'confidential'],
    ['gr-thessaloniki', 'public'],
    ['ro-cluj', 'internal'],
    ['si-ljubljana', 'confidential'],
  ])('admits %s (%s) to e-permits', (name, classification) => {
    expect(reasons(ctx({ namespaceTenant: tenant(name, { classification }) }))).toEqual([]);
  });

  it.each<[string[], boolean]>([
    [['*'], true],
    [['e-permits'], true],
    [['payments', 'e-permits'], true],
    [['payments'], false],
    [['e-permit'], false],
    [[], false],
  ])('allowedServiceClasses %j admits e-permits: %s', (allowed, admitted) => {
    const r = reasons(ctx({ namespaceTenant: tenant('ro-cluj', { allowed }) }));
    expect(r).toEqual(admitted ? [] : ['ClassNotAllowed']);
  });
});

describe('checkService: classification', () => {
  const levels: Classification[] = ['public', 'internal', 'confidential', 'restricted'];
  const matrix = levels.flatMap((t, ti) => levels.map((c, ci) => [t, c, ti > ci] as const));

  it.each(matrix)('a %s tenant on a class up to %s: refused %s', (tenantLevel, classMax, refused) => {
    const c = cls('civil-registry');
    c.spec!.maxClassification = classMax;
    const r = reasons(
      ctx({
        service: service('registry', {
          class: 'civil-registry',
          plan: 'standard',
          parameters: { registryOffice: 'Ληξιαρχείο Θεσσαλονίκης' },
        }),
        namespaceTenant: tenant('gr-thessaloniki', { classification: tenantLevel }),
        serviceClass: c,
      }),
    );
    expect(r).toEqual(refused ? ['ClassificationTooHigh'] : []);
  });
});

describe('checkService: versions withdrawn from the class', () => {
  it.each<
    [
      string,
      string | undefined,
      string | undefined,
      { reasons: string[]; version?: string; deprecated?: boolean },
    ]
  >([
    [
      'a withdrawn version that runs: kept, deprecated',
      '2.2.0',
      '2.2.0',
      { reasons: [], version: '2.2.0', deprecated: true },
    ],
    [
      'a withdrawn version that does not run yet: refused',
      '2.2.0',
      undefined,
      { reasons: ['VersionNotAllowed'] },
    ],
    ['a withdrawn version while another runs: refused', '2.2.0', '2.3.1', { reasons: ['VersionNotAllowed'] }],
    [
      'an offered version while a withdrawn one runs: an upgrade',
      '2.4.0',
      '2.2.0',
      { reasons: [], version: '2.4.0', deprecated: false },
    ],
    [
      'no version while a withdrawn one runs: the default, an upgrade',
      undefined,
      '2.2.0',
      { reasons: [], version: '2.4.0', deprecated: false },
    ],
    [
      'an offered version that runs: not deprecated',
      '2.3.1',
      '2.3.1',
      { reasons: [], version: '2.3.1', deprecated: false },
    ],
  ])('%s', (_what, version, runningVersion, expected) => {
    const r = checkService(ctx({ service: permits(version ? { version } : {}), runningVersion }));
    expect(r.problems.map((p) => p.reason)).toEqual(expected.reasons);
    expect(r.version).toBe(expected.version);
    expect(r.deprecated).toBe(expected.deprecated);
  });
});

describe('checkService: host uniqueness', () => {
  const HOST = 'dozvole.example.eu';
  const claimant = (name: string, namespace: string, created: string, exposure = 'public', host = HOST) =>
    service(
      name,
      { class: 'e-permits', plan: 'small', parameters: { municipalityCode: '1000' }, exposure, host },
      { namespace, created },
    );
  const conflicts = (s: GovService, others: GovService[]): string[] =>
    checkService(ctx({ service: s, otherServices: others })).problems.map((p) => p.message);

  const older = claimant('permits', 'mk-skopje-prod', '2026-10-01T08:00:00Z');
  const younger = claimant('permits', 'rs-mup-prod', '2026-10-03T08:00:00Z', 'federated');
  const sameTimeA = claimant('permits', 'gr-thessaloniki-prod', '2026-10-01T08:00:00Z');
  const sameTimeB = claimant('permits', 'hu-budapest-prod', '2026-10-01T08:00:00Z');

  it.each<[string, GovService, GovService[], string | undefined]>([
    ['the older keeps the host', older, [younger], undefined],
    ['the younger reports the older, as namespace/name', younger, [older], 'mk-skopje-prod/permits'],
    ['same creation time: the first namespace/name keeps it', sameTimeA, [sameTimeB], undefined],
    [
      'same creation time: the second namespace/name reports it',
      sameTimeB,
      [sameTimeA],
      'gr-thessaloniki-prod/permits',
    ],
    [
      'an internal service does not claim its host',
      younger,
      [claimant('permits', 'mk-skopje-prod', '2026-10-01T08:00:00Z', 'internal')],
      undefined,
    ],
    [
      'an internal service is never in conflict',
      claimant('permits', 'rs-mup-prod', '2026-10-03T08:00:00Z', 'internal'),
      [older],
      undefined,
    ],
    [
      'another host is no conflict',
      younger,
      [claimant('permits', 'mk-skopje-prod', '2026-10-01T08:00:00Z', 'public', 'other.example.eu')],
      undefined,
    ],
    ['the service itself in the list is ignored', younger, [younger], undefined],
    [
      'three claimants: the youngest names the eldest',
      younger,
      [claimant('b', 'ro-cluj-prod', '2026-10-02T08:00:00Z'), older],
      'mk-skopje-prod/permits',
    ],
  ])('%s', (_what, s, others, holder) => {
    const messages = conflicts(s, others);
    if (holder === undefined) expect(messages).toEqual([]);
    else
      expect(messages).toEqual([
        `spec.host: ${HOST} is already used by GovService ${holder}, which was created earlier`,
      ]);
  });

  it('lets exactly one of any two claimants report the conflict (property)', () => {
    const ns = fc.constantFrom('hu-budapest-prod', 'mk-skopje-prod', 'gr-thessaloniki-test', 'ro-cluj-prod');
    const name = fc.constantFrom('permits', 'dozvole', 'adeies', 'autorizatii');
    const time = fc.integer({ min: 0, max: 3 }).map((d) => `2026-10-0${d + 1}T08:00:00Z`);
    const arb = fc.tuple(ns, name, time, fc.constantFrom('public', 'federated'));
    fc.assert(
      fc.property(arb, arb, ([n1, a1, t1, e1], [n2, a2, t2, e2]) => {
        fc.pre(`${n1}/${a1}` !== `${n2}/${a2}`);
        const a = claimant(a1, n1, t1, e1);
        const b = claimant(a2, n2, t2, e2);
        const reported = [conflicts(a, [b]).length, conflicts(b, [a]).length];
        expect(reported.sort()).toEqual([0, 1]);
      }),
    );
  });
});

describe('parameterErrors', () => {
  it.each<[string, string, Record<string, unknown>]>([
    [
      'e-permits',
      'e-permits',
      { municipalityCode: '1011', permitTypes: ['new-building', 'renovation'], maxAttachmentMiB: 200 },
    ],
    [
      'civil-registry in Greek',
      'civil-registry',
      { registryOffice: 'Ληξιαρχείο Δήμου Θεσσαλονίκης', recordTypes: ['birth'] },
    ],
    [
      'payments in Cyrillic',
      'payments',
      { currency: 'RSD', merchantId: 'БГ-ГРАД-01', methods: ['card', 'instant-payment'] },
    ],
    [
      'e-delivery with Albanian diacritics',
      'e-delivery',
      { senderName: 'Bashkia Tiranë', retentionDays: 3650, channels: ['portal'] },
    ],
    [
      'identity with a URI',
      'identity',
      { assuranceLevel: 'substantial', eidasNode: 'https://eidas.gov.mk/node' },
    ],
  ])('accepts valid parameters of %s', (_what, className, parameters) => {
    expect(parameterErrors(schemaOf(className), parameters)).toEqual([]);
  });

  it.each<[string, string, Record<string, unknown> | undefined, string[]]>([
    [
      'no parameters, a required one',
      'e-permits',
      undefined,
      ['spec.parameters.municipalityCode: is required'],
    ],
    [
      'every failing path of e-permits at once',
      'e-permits',
      { municipalityCode: 'Szeged', permitTypes: ['renovation', 'castle'], maxAttachmentMiB: 500 },
      [
        'spec.parameters.municipalityCode: must match pattern "^[0-9]{4,6}$"',
        'spec.parameters.permitTypes.1: must be equal to one of the allowed values: new-building, renovation, demolition, change-of-use',
        'spec.parameters.maxAttachmentMiB: must be <= 200',
      ],
    ],
    [
      'two required parameters of payments missing',
      'payments',
      { methods: ['cash'] },
      [
        'spec.parameters.currency: is required',
        'spec.parameters.merchantId: is required',
        'spec.parameters.methods.0: must be equal to one of the allowed values: card, bank-transfer, instant-payment',
      ],
    ],
    [
      'a wrong type',
      'civil-registry',
      { registryOffice: 'Матична служба', retentionYears: 'сто' },
      ['spec.parameters.retentionYears: must be integer'],
    ],
    ['below a minimum', 'e-delivery', { retentionDays: 7 }, ['spec.parameters.retentionDays: must be >= 30']],
    [
      'a malformed URI',
      'identity',
      { assuranceLevel: 'high', eidasNode: 'not a uri' },
      ['spec.parameters.eidasNode: must match format "uri"'],
    ],
  ])('%s', (_what, className, parameters, expected) => {
    expect(parameterErrors(schemaOf(className), parameters)).toEqual(expected);
  });

  it.each<[string, unknown, Record<string, unknown>, string[]]>([
    [
      'an unknown parameter',
      { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false },
      { city: 'Београд', colour: 'blue' },
      ['spec.parameters.colour: is not a parameter of the class'],
    ],
    [
      'a nested path',
      {
        type: 'object',
        properties: {
          contact: {
            type: 'object',
            required: ['email'],
            properties: { email: { type: 'string', format: 'email' } },
          },
        },
      },
      { contact: { email: 'δήμος-at-thessaloniki' } },
      ['spec.parameters.contact.email: must match format "email"'],
    ],
    [
      'a missing nested property',
      { type: 'object', properties: { contact: { type: 'object', required: ['email'] } } },
      { contact: {} },
      ['spec.parameters.contact.email: is required'],
    ],
    [
      'a key with a slash, JSON pointer unescaped',
      { type: 'object', properties: { 'a/b': { type: 'integer' }, 'c~d': { type: 'integer' } } },
      { 'a/b': 'x', 'c~d': 'y' },
      ['spec.parameters.a/b: must be integer', 'spec.parameters.c~d: must be integer'],
    ],
  ])('%s', (_what, schema, parameters, expected) => {
    expect(parameterErrors(schema, parameters)).toEqual(expected);
  });

  it('lists each message once, even when several branches fail alike', () => {
    const schema = { anyOf: [{ required: ['a'] }, { required: ['a'] }] };
    expect(parameterErrors(schema, {}).filter((e) => e === 'spec.parameters.a: is required')).toHaveLength(1);
  });

  it('names the failing path in the InvalidParameters message', () => {
    const c = ctx({ service: permits({ parameters: { municipalityCode: '12', maxAttachmentMiB: 0 } }) });
    expect(messageOf(c, 'InvalidParameters')).toBe(
      'spec.parameters.municipalityCode: must match pattern "^[0-9]{4,6}$"; spec.parameters.maxAttachmentMiB: must be >= 1',
    );
  });

  it('returns nothing for a schema that does not compile: that is the class problem', () => {
    expect(parameterErrors(brokenClass().spec!.parametersSchema, { municipalityCode: 1 })).toEqual([]);
  });

  it('never changes the parameters (no defaults filled in, nothing removed)', () => {
    const parameters = { municipalityCode: '1011', extra: 'kept' };
    const before = structuredClone(parameters);
    parameterErrors(schemaOf('e-permits'), parameters);
    expect(parameters).toEqual(before);
  });
});

describe('compileParametersSchema', () => {
  it.each(catalog.map((c) => [c.metadata.name]))('compiles the schema of %s', (name) => {
    expect(compileParametersSchema(schemaOf(name)).ok).toBe(true);
  });

  it('compiles an equal schema once', () => {
    const a = compileParametersSchema(schemaOf('payments'));
    const b = compileParametersSchema(structuredClone(schemaOf('payments')));
    expect(a.ok && b.ok && a.validate === b.validate).toBe(true);
  });

  it.each<[string, unknown, RegExp]>([
    ['an unknown type', { type: 'objekt' }, /type/],
    ['a minimum that is no number', { type: 'integer', minimum: 'ten' }, /minimum/],
    ['an unresolvable reference', { $ref: '#/definitions/missing' }, /missing/],
  ])('refuses %s, saying why', (_what, schema, why) => {
    const r = compileParametersSchema(schema);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toMatch(why);
  });

  it('compiles two different schemas with the same $id (a class edited in place)', () => {
    const v1 = { $id: 'https://catalog.example.eu/permits', type: 'object', required: ['a'] };
    const v2 = { $id: 'https://catalog.example.eu/permits', type: 'object', required: ['b'] };
    expect(compileParametersSchema(v1).ok).toBe(true);
    expect(compileParametersSchema(v2).ok).toBe(true);
    expect(parameterErrors(v2, { a: 1 })).toEqual(['spec.parameters.b: is required']);
    expect(parameterErrors(v1, { a: 1 })).toEqual([]);
  });

  it('keeps working past the size of its cache', () => {
    for (let i = 0; i < 300; i++) compileParametersSchema({ type: 'object', maxProperties: i });
    expect(parameterErrors({ type: 'object', maxProperties: 1 }, { a: 1, b: 2 })).toEqual([
      'spec.parameters: must NOT have more than 1 properties',
    ]);
  });
});
