/**
 * Property: whatever the members, tenants, selectors and accepted countries, no member ever imports
 * a tenant (or a service of one) outside the tenant's allowed countries; not even from an exporter
 * that ignores residency, since the importer checks again on its own.
 */
import fc from 'fast-check';
import type { Federation, GovService, GovTenant } from '../../src/api/index.js';
import { federationSpec, govTenantSpec } from '../../src/api/index.js';
import { exportFor, importPlan, type ExportDocument } from '../../src/controllers/federation/exchange.js';

const COUNTRIES = ['HU', 'MK', 'RS', 'BG', 'GR', 'AL', 'RO', 'SI'] as const;
const country = fc.constantFrom(...COUNTRIES);
const countries = fc.uniqueArray(country, { minLength: 1, maxLength: 4 });

const selector = fc.oneof(
  fc.constant(undefined),
  fc.constant({ matchLabels: { 'gov.secovia.eu/federate': 'true' } }),
  fc.record({
    matchExpressions: fc.constant([{ key: 'tier', operator: 'In' as const, values: ['a', 'b'] }]),
  }),
  fc.record({ matchExpressions: fc.constant([{ key: 'tier', operator: 'DoesNotExist' as const }]) }),
);

const tenantArb = fc.record({
  allowed: countries,
  federate: fc.boolean(),
  tier: fc.constantFrom('a', 'b', 'c', undefined),
  federatedService: fc.boolean(),
});

const memberArb = fc.record({
  selector,
  accept: fc.uniqueArray(country, { maxLength: COUNTRIES.length }),
  tenants: fc.array(tenantArb, { maxLength: 6 }),
  leaky: fc.boolean(),
});

interface Member {
  name: string;
  country: string;
  federation: Federation;
  tenants: GovTenant[];
  services: GovService[];
  leaky: boolean;
}

type MemberSpec = typeof memberArb extends fc.Arbitrary<infer T> ? T : never;

function build(countryList: readonly string[], specs: MemberSpec[]): Member[] {
  const names = countryList.map((c) => `${c.toLowerCase()}-member`);
  return countryList.map((c, i) => {
    const m = specs[i]!;
    const federation: Federation = {
      apiVersion: 'gov.secovia.eu/v1alpha1',
      kind: 'Federation',
      metadata: { name: 'see' },
      spec: federationSpec.parse({
        localMember: names[i],
        localCountry: c,
        peers: countryList
          .map((pc, j) => ({
            name: names[j]!,
            country: pc,
            kubeconfigSecretRef: { namespace: 'secovia-system', name: names[j]! },
          }))
          .filter((_, j) => j !== i),
        export: { tenantSelector: m.selector, federatedServices: true },
        import: { acceptCountries: m.accept },
      }),
    };
    const tenants: GovTenant[] = m.tenants.map((t, k) => ({
      apiVersion: 'gov.secovia.eu/v1alpha1',
      kind: 'GovTenant',
      metadata: {
        name: `${names[i]}-t${k}`,
        labels: {
          ...(t.federate ? { 'gov.secovia.eu/federate': 'true' } : {}),
          ...(t.tier ? { tier: t.tier } : {}),
        },
      },
      spec: govTenantSpec.parse({
        displayName: `Δήμος ${k}`,
        country: c,
        level: 'municipal',
        environments: [{ name: 'prod' }],
        dataResidency: { allowedCountries: t.allowed },
      }),
    }));
    const services: GovService[] = m.tenants.flatMap((t, k) =>
      t.federatedService
        ? [
            {
              apiVersion: 'gov.secovia.eu/v1alpha1',
              kind: 'GovService',
              metadata: { name: 'svc', namespace: `${names[i]}-t${k}-prod` },
              spec: { class: 'e-permits', plan: 'small', exposure: 'federated', host: `t${k}.example` },
            },
          ]
        : [],
    );
    return { name: names[i]!, country: c, federation, tenants, services, leaky: m.leaky };
  });
}

/** What `from` publishes for `to`: honestly, or (a compromised exporter) every tenant it has. */
function published(from: Member, to: Member): ExportDocument {
  const peer = from.federation.spec!.peers.find((p) => p.name === to.name)!;
  const { document } = exportFor({
    federation: from.federation,
    peer,
    tenants: from.tenants,
    services: from.services,
    classes: [],
  });
  if (!from.leaky) return document;
  return {
    ...document,
    tenants: from.tenants.map((t) => ({ name: t.metadata.name, spec: t.spec })),
    services: from.services.map((s) => ({
      namespace: s.metadata.namespace!,
      name: s.metadata.name,
      tenant: s.metadata.namespace!.replace(/-prod$/, ''),
      class: 'e-permits',
      url: `https://${s.spec!.host}`,
      classification: 'internal',
    })),
  };
}

/** Everything `to` imports from `from` stays within residency; returns how many tenants it imported. */
function checkPair(from: Member, to: Member): number {
  const document = published(from, to);
  // The exporter's own check, when it is honest: nothing offered outside the allowed countries.
  const offered = from.leaky ? [] : document.tenants;
  for (const t of offered)
    expect((t.spec as GovTenant['spec'])!.dataResidency.allowedCountries).toContain(to.country);
  const peer = to.federation.spec!.peers.find((p) => p.name === from.name)!;
  const plan = importPlan({ federation: to.federation, peer, document });
  const imported = new Set(plan.tenants.map((t) => t.metadata.name));
  for (const t of plan.tenants) {
    expect((t.spec as GovTenant['spec'])!.dataResidency.allowedCountries).toContain(to.country);
    expect(to.federation.spec!.import.acceptCountries).toContain(from.country);
  }
  for (const s of plan.serviceImports) expect(imported).toContain((s.spec as { tenant: string }).tenant);
  return plan.tenants.length;
}

test('no import anywhere outside a tenant’s allowed countries', () => {
  const scenario = fc
    .uniqueArray(country, { minLength: 2, maxLength: 4 })
    .chain((cs) =>
      fc.tuple(fc.constant(cs), fc.array(memberArb, { minLength: cs.length, maxLength: cs.length })),
    );
  let imports = 0;
  fc.assert(
    fc.property(scenario, ([cs, specs]) => {
      const members = build(cs, specs);
      for (const to of members)
        for (const from of members.filter((m) => m !== to)) imports += checkPair(from, to);
    }),
    { numRuns: 400, seed: 20261126 },
  );
  // The property is not vacuous: imports do happen across the generated federations.
  expect(imports).toBeGreaterThan(50);
});
