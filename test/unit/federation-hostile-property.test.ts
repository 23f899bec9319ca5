/**
 * Property: whatever a hostile peer puts in its export (within the schema), what this member
 * imports never binds a subject outside the local mapping, never takes a namespace the import did
 * not create itself, and never yields a policy that opens a local tenant.
 */
import fc from 'fast-check';
import type { Federation, GovTenant } from '../../src/api/index.js';
import { federationSpec, govTenantSpec } from '../../src/api/index.js';
import {
  importPlan,
  type ExportDocument,
  type LocalView,
} from '../../src/controllers/federation/exchange.js';
import { reservedNamespaces } from '../../src/controllers/federation/names.js';
import { environmentObjects, namespaceName } from '../../src/controllers/govtenant/desired.js';

const NAMES = ['hu-budapest', 'hu-szeged', 'ingress', 'kube', 'default', 'secovia', 'mk-skopje', 'mk-ohrid'];
const ENVS = ['prod', 'test', 'nginx', 'system', 'lease', 'public', 'budapest-prod'];
const LOCAL_MAPPING = [{ kind: 'Group' as const, name: 'hu-federation-ops' }];

const subjectArb = fc.record({
  kind: fc.constantFrom('User' as const, 'Group' as const),
  name: fc.constantFrom('system:authenticated', 'system:masters', 'mk-admins', 'hu-federation-ops'),
});

const hostileTenant = fc.record({
  name: fc.constantFrom(...NAMES),
  environments: fc.uniqueArray(fc.constantFrom(...ENVS), { minLength: 1, maxLength: 3 }),
  admins: fc.array(subjectArb, { maxLength: 3 }),
  viewers: fc.array(subjectArb, { maxLength: 2 }),
  isolation: fc.constantFrom('strict' as const, 'none' as const),
  allowFrom: fc.uniqueArray(fc.constantFrom(...NAMES), { maxLength: 4 }),
  podSecurity: fc.constantFrom('restricted' as const, 'baseline' as const),
  cpu: fc.constantFrom('100m', '4', '100000'),
});

type Hostile = typeof hostileTenant extends fc.Arbitrary<infer T> ? T : never;

const specOf = (h: Hostile) =>
  govTenantSpec.parse({
    displayName: `Општина ${h.name}`,
    country: 'MK',
    level: 'municipal',
    environments: h.environments.map((name) => ({ name })),
    quota: { cpu: h.cpu },
    access: { admins: h.admins, viewers: h.viewers },
    network: { isolation: h.isolation, allowFromTenants: h.allowFrom, allowEgressCIDRs: ['0.0.0.0/0'] },
    podSecurity: h.podSecurity,
    dataResidency: { allowedCountries: ['MK', 'HU'] },
  });

/** This cluster: some local tenants, some tenants already imported from the peer, some namespaces. */
const localArb = fc.record({
  localTenants: fc.uniqueArray(fc.constantFrom(...NAMES), { maxLength: 3 }),
  importedBefore: fc.uniqueArray(fc.constantFrom(...NAMES), { maxLength: 3 }),
  namespaces: fc.uniqueArray(
    fc.record({
      tenant: fc.constantFrom(...NAMES),
      env: fc.constantFrom(...ENVS),
      creator: fc.constantFrom('none', 'same-import', 'namesake'),
    }),
    { maxLength: 6, selector: (n) => `${n.tenant}-${n.env}` },
  ),
});

type Local = typeof localArb extends fc.Arbitrary<infer T> ? T : never;

function viewOf(l: Local): LocalView {
  const tenants = new Map<string, { uid?: string; fromThisPeer: boolean }>();
  for (const n of l.importedBefore) tenants.set(n, { uid: `import-${n}`, fromThisPeer: true });
  for (const n of l.localTenants) tenants.set(n, { uid: `local-${n}`, fromThisPeer: false });
  const creatorUid = (n: Local['namespaces'][number]): string | undefined =>
    n.creator === 'none'
      ? undefined
      : n.creator === 'same-import'
        ? `import-${n.tenant}`
        : `gone-${n.tenant}`;
  return {
    reserved: reservedNamespaces(['secovia-system', 'ingress-nginx']),
    namespaces: new Map(l.namespaces.map((n) => [namespaceName(n.tenant, n.env), creatorUid(n)])),
    tenants,
    claimed: new Map(l.localTenants.map((n) => [namespaceName(n, 'prod'), n])),
  };
}

const federation: Federation = {
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'Federation',
  metadata: { name: 'see' },
  spec: federationSpec.parse({
    localMember: 'hu-central',
    localCountry: 'HU',
    peers: [
      {
        name: 'mk-skopje',
        country: 'MK',
        kubeconfigSecretRef: { namespace: 'secovia-system', name: 'mk' },
        importAccess: { admins: LOCAL_MAPPING },
      },
    ],
    import: { acceptCountries: ['MK'] },
  }),
};

const documentOf = (tenants: Hostile[]): ExportDocument => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'FederationExport',
  from: { member: 'mk-skopje', country: 'MK' },
  to: { member: 'hu-central', country: 'HU' },
  tenants: tenants.map((h) => ({ name: h.name, spec: specOf(h) })),
  serviceClasses: [],
  services: [],
});

/** Every tenant a NetworkPolicy selects by the tenant label. */
function tenantsNamed(spec: unknown): string[] {
  const found: string[] = [];
  JSON.stringify(spec, (key, value: unknown) => {
    const e = value as { key?: string; values?: string[] };
    if (e && typeof e === 'object' && e.key === 'gov.secovia.eu/tenant') found.push(...(e.values ?? []));
    return value;
  });
  return found;
}

function checkImport(hostile: Hostile[], l: Local): number {
  const local = viewOf(l);
  const plan = importPlan({
    federation,
    peer: federation.spec!.peers[0]!,
    document: documentOf(hostile),
    local,
  });
  const localNames = new Set(l.localTenants);
  for (const obj of plan.tenants) {
    const t = {
      ...obj,
      metadata: { ...obj.metadata, uid: local.tenants.get(obj.metadata.name)?.uid },
    } as GovTenant;
    expect(localNames.has(t.metadata.name)).toBe(false);
    expect(t.spec!.podSecurity).toBe('restricted');
    for (const env of t.spec!.environments) {
      const ns = namespaceName(t.metadata.name, env.name);
      expect(local.reserved(ns)).toBe(false);
      const claimant = local.claimed.get(ns);
      if (claimant) expect(claimant).toBe(t.metadata.name);
      if (local.namespaces.has(ns)) expect(local.namespaces.get(ns)).toBe(t.metadata.uid);
      const objects = environmentObjects(t, env, { settings: { ingressNamespace: 'ingress-nginx' } });
      const subjects = objects
        .filter((o) => o.kind === 'RoleBinding')
        .flatMap((rb) => (rb as { subjects?: { name: string }[] }).subjects ?? []);
      expect(subjects.filter((s) => !LOCAL_MAPPING.some((m) => m.name === s.name))).toEqual([]);
      const named = objects.filter((o) => o.kind === 'NetworkPolicy').flatMap((np) => tenantsNamed(np.spec));
      expect(named.filter((n) => localNames.has(n))).toEqual([]);
    }
    // A local tenant's egress opens towards tenants naming it: no import names one.
    for (const n of t.spec!.network?.allowFromTenants ?? []) expect(localNames.has(n)).toBe(false);
  }
  return plan.tenants.length;
}

test('a hostile export never reaches beyond what the local member grants', () => {
  let imported = 0;
  fc.assert(
    fc.property(fc.array(hostileTenant, { maxLength: 6 }), localArb, (hostile, local) => {
      const unique = [...new Map(hostile.map((h) => [h.name, h])).values()];
      imported += checkImport(unique, local);
    }),
    { numRuns: 500, seed: 20261201 },
  );
  // Not vacuous: many hostile tenants are still imported, shaped by local rules.
  expect(imported).toBeGreaterThan(200);
});
