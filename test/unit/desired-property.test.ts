/**
 * Random specs fed to the pure checks and desired-state builders: whatever the schema admits,
 * nothing throws, and what comes out is well-formed enough for the API server to take.
 */
import fc from 'fast-check';
import type { GovService, GovServiceClass, GovTenant } from '../../src/api/index.js';
import { govServiceClassSpec, govServiceSpec, govTenantSpec } from '../../src/api/index.js';
import { checkService } from '../../src/controllers/govservice/checks.js';
import { serviceObjects } from '../../src/controllers/govservice/desired.js';
import {
  checkNegativeQuantities,
  checkTenant,
  checkTenantLimits,
} from '../../src/controllers/govtenant/checks.js';
import {
  environmentObjects,
  namespaceName,
  tenantNamespace,
} from '../../src/controllers/govtenant/desired.js';
import { isCamelCaseReason } from '../../src/runtime/conditions.js';
import { quantityValue } from '../../src/runtime/apply.js';
import type { KubeObject } from '../../src/runtime/types.js';

/** Printed by fast-check on failure together with the counterexample; fixed so that a run is reproducible. */
const SEED = Number(process.env.PROPERTY_SEED ?? 20261126);
const RUNS = { seed: SEED, numRuns: 300 };

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const dnsLabel = fc.stringMatching(/^[a-z]([-a-z0-9]{0,8}[a-z0-9])?$/);
const script = fc.constantFrom('Općina Čakovec', 'Град Скопје', 'Δήμος Θεσσαλονίκης', 'Tiranë', '');
/** Quantities in every notation the API server accepts, plus a few it does not. */
const quantity = fc.oneof(
  { arbitrary: fc.nat(100_000), weight: 10 },
  {
    arbitrary: fc
      .tuple(
        fc.oneof(fc.nat(5000).map(String), fc.constantFrom('0.5', '.25', '1.', '2.75')),
        fc.constantFrom('', 'm', 'k', 'M', 'G', 'Ki', 'Mi', 'Gi', 'Ti', 'e3', 'E-2', 'u', 'n'),
      )
      .map(([n, s]) => n + s),
    weight: 30,
  },
  { arbitrary: fc.constantFrom('lots', '-1', '1.2.3'), weight: 1 },
);
const quota = fc.record(
  { cpu: quantity, memory: quantity, storage: quantity, pods: fc.nat(100_000) },
  { requiredKeys: [] },
);
const limits = fc.record(
  { defaultCpu: quantity, defaultMemory: quantity, maxCpu: quantity, maxMemory: quantity },
  { requiredKeys: [] },
);
const subject = fc.oneof(
  fc.record({ kind: fc.constantFrom('User', 'Group'), name: fc.string({ minLength: 1, maxLength: 20 }) }),
  fc.record({ kind: fc.constant('ServiceAccount'), name: dnsLabel, namespace: dnsLabel }),
);
const environments = fc.uniqueArray(
  fc.record({ name: dnsLabel, quota, limits }, { requiredKeys: ['name'] }),
  { minLength: 1, maxLength: 4, selector: (e) => e.name },
);

const tenantSpec = fc.record(
  {
    displayName: script.map((s) => s || 'x'),
    country: fc.constantFrom('HU', 'MK', 'RS', 'GR', 'AL', 'hu'),
    level: fc.constantFrom('national', 'regional', 'municipal', 'agency'),
    environments,
    quota,
    limits,
    access: fc.record({
      admins: fc.array(subject, { maxLength: 3 }),
      viewers: fc.array(subject, { maxLength: 3 }),
    }),
    network: fc.record(
      {
        isolation: fc.constantFrom('strict', 'none'),
        allowFromTenants: fc.uniqueArray(dnsLabel, { maxLength: 3 }),
        allowEgressCIDRs: fc.uniqueArray(
          fc.constantFrom('10.0.0.0/8', '192.0.2.0/24', '2001:db8::/32', '1.2.3/4'),
          {
            maxLength: 3,
          },
        ),
      },
      { requiredKeys: [] },
    ),
    // Domains that cover the services' hosts (permits.example.eu, a.b.example): HostNotAllowed has its own tests.
    ingress: fc.record({
      allowedDomains: fc.constantFrom(['example'], ['example.eu', 'b.example'], ['other.test', 'example']),
      allowWildcard: fc.boolean(),
    }),
    podSecurity: fc.constantFrom('restricted', 'baseline'),
    dataResidency: fc.record({
      allowedCountries: fc.uniqueArray(fc.constantFrom('HU', 'MK', 'GR'), { minLength: 1, maxLength: 3 }),
      classification: fc.constantFrom('public', 'internal', 'confidential', 'restricted'),
    }),
    suspended: fc.boolean(),
    deletionPolicy: fc.constantFrom('Retain', 'Delete'),
  },
  { requiredKeys: ['displayName', 'country', 'level', 'environments', 'dataResidency', 'ingress'] },
);

/** A tenant as the API server would store it: only specs the schema admits, defaults filled in. */
const admittedTenant = fc
  .tuple(dnsLabel, tenantSpec, fc.uuid())
  .map(([name, raw, uid]) => ({ name, parsed: govTenantSpec.safeParse(raw), uid }))
  .filter(({ parsed }) => parsed.success)
  .map(({ name, parsed, uid }): GovTenant => ({
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name, uid },
    spec: parsed.data!,
    status: { ingressDomains: parsed.data!.ingress?.allowedDomains ?? [] },
  }));

function assertWellFormed(o: KubeObject, namespace?: string): void {
  expect(o.metadata.name.length).toBeLessThanOrEqual(63);
  if (namespace) expect(o.metadata.namespace).toBe(namespace);
  for (const v of Object.values(o.metadata.labels ?? {})) expect(v).toMatch(LABEL_VALUE);
  // Plain JSON: what is built is what is sent (no NaN, no undefined inside arrays, no functions).
  expect(JSON.parse(JSON.stringify(o))).toEqual(o);
}

describe('GovTenant desired state on random specs', () => {
  it('never throws, and every object lands in its environment namespace with valid labels', () => {
    fc.assert(
      fc.property(admittedTenant, fc.array(dnsLabel, { maxLength: 3 }), (t, peers) => {
        const problems = checkTenant(t);
        expect(Array.isArray(problems)).toBe(true);
        for (const env of t.spec!.environments) {
          const ns = namespaceName(t.metadata.name, env.name);
          assertWellFormed(tenantNamespace(t, env.name, { createdBy: t.metadata.uid }));
          const settings = { ingressNamespace: 'ingress-nginx' };
          for (const o of environmentObjects(t, env, { settings, peersAllowingUs: peers }))
            assertWellFormed(o, ns);
        }
      }),
      RUNS,
    );
  });

  it('accepts exactly the merged limits whose maxima are at least their defaults', () => {
    const seen = { refused: 0, accepted: 0 };
    fc.assert(
      fc.property(admittedTenant, (t) => {
        const bad = t.spec!.environments.some((env) => {
          const l = { ...t.spec!.limits, ...env.limits };
          return (
            quantityValue(l.maxCpu)! < quantityValue(l.defaultCpu)! ||
            quantityValue(l.maxMemory)! < quantityValue(l.defaultMemory)!
          );
        });
        const problems = checkTenantLimits(t);
        expect(problems.length > 0).toBe(bad);
        seen[bad ? 'refused' : 'accepted']++;
        for (const p of problems) expect(p).toMatch(/^spec\.environments\[\d+\]\.limits: max(Cpu|Memory) /);
      }),
      RUNS,
    );
    // Both sides of the property were exercised, not just the easy one.
    expect(seen.refused).toBeGreaterThan(10);
    expect(seen.accepted).toBeGreaterThan(10);
  });

  it('names every negative quota or limit, and nothing else', () => {
    fc.assert(
      fc.property(admittedTenant, (t) => {
        const s = t.spec!;
        const all = [s.quota, s.limits, ...s.environments.flatMap((e) => [e.quota, e.limits])];
        const negatives = all.flatMap((v) => Object.values(v ?? {})).filter((v) => String(v).startsWith('-'));
        const problems = checkNegativeQuantities(t);
        expect(problems).toHaveLength(negatives.length);
        for (const p of problems)
          expect(p).toMatch(/^spec\.(environments\[\d+\]\.)?(quota|limits)\.\w+: -\S+ is negative$/);
      }),
      RUNS,
    );
  });
});

const plan = fc.oneof(
  fc.record({
    name: dnsLabel,
    replicas: fc.nat(100),
    resources: fc.record({ cpu: quantity, memory: quantity }),
  }),
  fc.record({
    name: dnsLabel,
    autoscaling: fc
      .tuple(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 100 }),
      )
      .map(([a, b, cpuUtilization]) => ({
        minReplicas: Math.min(a, b),
        maxReplicas: Math.max(a, b),
        cpuUtilization,
      })),
  }),
);
const classSpec = fc.record(
  {
    displayName: fc.constant({ en: 'Permits', mk: 'Дозволи' }),
    audience: fc.constant(['G2C']),
    buildingBlock: fc.constantFrom('registration', 'payments', 'identity'),
    image: fc.constant('registry.example.eu/secovia/permits'),
    versions: fc.uniqueArray(fc.constantFrom('1.0.0', '2.4.0', 'v3'), { minLength: 1, maxLength: 3 }),
    port: fc.integer({ min: 1, max: 65535 }),
    healthPath: fc.constantFrom('/healthz', '/', '/ready'),
    plans: fc.uniqueArray(plan, { minLength: 1, maxLength: 3, selector: (p) => p.name }),
    parametersSchema: fc.constantFrom(
      { type: 'object' },
      { type: 'object', required: ['code'], properties: { code: { type: 'string', pattern: '^[0-9]{4}$' } } },
      { type: 'nonsense' },
    ),
    maxClassification: fc.constantFrom('public', 'internal', 'confidential', 'restricted'),
  },
  { requiredKeys: ['displayName', 'audience', 'buildingBlock', 'image', 'versions', 'plans'] },
);
const serviceSpec = fc.record(
  {
    class: fc.constant('permits'),
    version: fc.constantFrom('1.0.0', '2.4.0', 'v3', '9.9.9'),
    plan: dnsLabel,
    /** Which plan of the class to ask for, when set (a random name seldom matches one). */
    planIndex: fc.nat(3),
    exposure: fc.constantFrom('internal', 'public', 'federated'),
    host: fc.constantFrom('permits.example.eu', 'a.b.example'),
    parameters: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ value: v, code: '1011' })),
  },
  { requiredKeys: ['class', 'plan', 'planIndex'] },
);

describe('GovService checks and desired state on random specs', () => {
  it('never throw; problems have CamelCase reasons; a clean check builds plain, well-formed objects', () => {
    let built = 0;
    fc.assert(
      fc.property(admittedTenant, classSpec, serviceSpec, (tenant, rawClass, rawService) => {
        const clsSpec = govServiceClassSpec.safeParse(rawClass);
        const { planIndex, ...raw } = rawService;
        const plans = clsSpec.data?.plans ?? [];
        const svcSpec = govServiceSpec.safeParse({ ...raw, plan: plans[planIndex]?.name ?? raw.plan });
        fc.pre(clsSpec.success && svcSpec.success);
        const namespace = namespaceName(tenant.metadata.name, tenant.spec!.environments[0]!.name);
        const serviceClass = {
          apiVersion: 'gov.secovia.eu/v1alpha1',
          kind: 'GovServiceClass',
          metadata: { name: 'permits' },
          spec: clsSpec.data,
        } as GovServiceClass;
        const service = {
          apiVersion: 'gov.secovia.eu/v1alpha1',
          kind: 'GovService',
          metadata: { name: 'svc', namespace, uid: 'uid-svc', generation: 1 },
          spec: svcSpec.data,
        } as GovService;
        const result = checkService({ service, serviceClass, namespaceTenant: tenant, otherServices: [] });
        for (const p of result.problems) expect(isCamelCaseReason(p.reason)).toBe(true);
        if (result.problems.length || !result.plan || !result.version) return;
        const settings = {
          ingressClassName: 'nginx',
          ingressNamespace: 'ingress-nginx',
          tlsSecretSuffix: '-tls',
        };
        const objects = serviceObjects({
          service,
          serviceClass,
          tenant,
          version: result.version,
          plan: result.plan,
          settings,
        });
        expect(objects.map((o) => o.kind)).toEqual(
          expect.arrayContaining(['Deployment', 'Service', 'ConfigMap']),
        );
        for (const o of objects) assertWellFormed(o, namespace);
        built++;
      }),
      { ...RUNS, numRuns: 200 },
    );
    expect(built).toBeGreaterThan(20);
  });
});
