/**
 * The pure parts of the ingress and workload guardrails: which domains a tenant owns (never one that
 * overlaps an older tenant's), which hosts they allow, the registry of an image reference, the
 * default registries from the catalog, and the namespace annotations admission reads.
 */
import type { GovServiceClass, GovTenant } from '../../src/api/index.js';
import { guardrailAnnotations, tenantNamespace } from '../../src/controllers/govtenant/desired.js';
import {
  allowedRegistries,
  domainCovers,
  hostAllowed,
  ownedDomains,
  registryOf,
} from '../../src/controllers/govtenant/guardrails.js';

function tenant(
  name: string,
  created: string,
  spec: Partial<NonNullable<GovTenant['spec']>> = {},
): GovTenant {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name, uid: `uid-${name}`, creationTimestamp: created },
    spec: {
      displayName: name,
      country: 'HU',
      level: 'municipal',
      environments: [{ name: 'prod' }],
      network: { isolation: 'strict' },
      podSecurity: 'restricted',
      dataResidency: { allowedCountries: ['HU'], classification: 'internal' },
      allowedServiceClasses: ['*'],
      suspended: false,
      deletionPolicy: 'Retain',
      ...spec,
    },
  } as GovTenant;
}

const withDomains = (name: string, created: string, allowedDomains: string[]) =>
  tenant(name, created, { ingress: { allowedDomains, allowWildcard: false } });

function serviceClass(name: string, image: string, origin?: string): GovServiceClass {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovServiceClass',
    metadata: { name, ...(origin ? { labels: { 'gov.secovia.eu/origin-member': origin } } : {}) },
    spec: { image } as GovServiceClass['spec'],
  };
}

describe('domain matching', () => {
  it.each([
    ['budapest.example', 'budapest.example', true],
    ['budapest.example', 'permits.budapest.example', true],
    ['budapest.example', 'a.b.budapest.example', true],
    ['budapest.example', 'evilbudapest.example', false],
    ['budapest.example', 'budapest.example.evil', false],
    ['permits.budapest.example', 'budapest.example', false],
  ])('%s covers %s: %s', (domain, host, covers) => {
    expect(domainCovers(domain, host)).toBe(covers);
  });

  it('allows a wildcard host only when wildcards are allowed, and only under a domain', () => {
    expect(hostAllowed('*.budapest.example', ['budapest.example'], false)).toBe(false);
    expect(hostAllowed('*.budapest.example', ['budapest.example'], true)).toBe(true);
    expect(hostAllowed('*.example', ['budapest.example'], true)).toBe(false);
    expect(hostAllowed('permits.budapest.example', [], true)).toBe(false);
  });
});

describe('owned domains', () => {
  const elder = withDomains('hu-budapest', '2026-01-01T00:00:00Z', ['budapest.example']);

  it('gives a younger tenant none of the domains that overlap an elder’s, either way round', () => {
    const sub = withDomains('hu-permits', '2026-02-01T00:00:00Z', [
      'permits.budapest.example',
      'pecs.example',
    ]);
    const parent = withDomains('hu-root', '2026-02-01T00:00:00Z', ['example']);
    const tenants = [elder, sub, parent];
    expect(ownedDomains(elder, tenants)).toEqual({ owned: ['budapest.example'], conflicts: [] });
    expect(ownedDomains(sub, tenants)).toEqual({
      owned: ['pecs.example'],
      conflicts: [
        { domain: 'permits.budapest.example', holder: 'hu-budapest', holderDomain: 'budapest.example' },
      ],
    });
    // hu-permits is older than hu-root by name at the same time: both elders are named, the eldest first.
    expect(ownedDomains(parent, tenants)).toEqual({
      owned: [],
      conflicts: [{ domain: 'example', holder: 'hu-budapest', holderDomain: 'budapest.example' }],
    });
  });

  it('breaks a tie in creation time by name, the same way from both sides', () => {
    const a = withDomains('a-tenant', '2026-03-01T00:00:00Z', ['same.example']);
    const b = withDomains('b-tenant', '2026-03-01T00:00:00Z', ['same.example']);
    expect(ownedDomains(a, [a, b]).owned).toEqual(['same.example']);
    expect(ownedDomains(b, [a, b]).owned).toEqual([]);
  });

  it('never lets two tenants both allow one host, whatever their domains (exhaustive over a small universe)', () => {
    const universe = ['example', 'a.example', 'b.example', 'x.a.example', 'other.test'];
    const hosts = ['example', 'a.example', 'y.a.example', 'x.a.example', 'b.example', 'z.other.test'];
    let pairs = 0;
    for (let m1 = 0; m1 < 1 << universe.length; m1++)
      for (let m2 = 0; m2 < 1 << universe.length; m2++) {
        const pick = (m: number) => universe.filter((_, i) => m & (1 << i));
        const t1 = withDomains('one', '2026-01-01T00:00:00Z', pick(m1));
        const t2 = withDomains('two', '2026-01-02T00:00:00Z', pick(m2));
        const o1 = ownedDomains(t1, [t1, t2]).owned;
        const o2 = ownedDomains(t2, [t1, t2]).owned;
        for (const h of hosts) expect(hostAllowed(h, o1, true) && hostAllowed(h, o2, true)).toBe(false);
        pairs++;
      }
    expect(pairs).toBe(1024);
  });
});

describe('registries', () => {
  it.each([
    ['registry.example.eu/secovia/permits:2.4.0', 'registry.example.eu'],
    ['registry.example.eu:5000/permits@sha256:abc', 'registry.example.eu:5000'],
    ['localhost/permits', 'localhost'],
    ['nginx', 'docker.io'],
    ['library/nginx:1.27', 'docker.io'],
    ['bitnami/redis', 'docker.io'],
  ])('%s comes from %s', (image, registry) => {
    expect(registryOf(image)).toBe(registry);
  });

  it('defaults to the registries of the classes the tenant may use, imported ones only when named', () => {
    const classes = [
      serviceClass('permits', 'registry.example.eu/secovia/permits'),
      serviceClass('payments', 'registry.example.eu/secovia/payments'),
      serviceClass('identity', 'ghcr.io/gov/identity'),
      serviceClass('mk-registry', 'registry.gov.mk/registry', 'mk-skopje'),
    ];
    expect(allowedRegistries(tenant('hu-a', '2026-01-01T00:00:00Z'), classes)).toEqual([
      'ghcr.io',
      'registry.example.eu',
    ]);
    const named = tenant('hu-b', '2026-01-01T00:00:00Z', {
      allowedServiceClasses: ['identity', 'mk-registry'],
    });
    expect(allowedRegistries(named, classes)).toEqual(['ghcr.io', 'registry.gov.mk']);
    const explicit = tenant('hu-c', '2026-01-01T00:00:00Z', {
      workloads: { allowedRegistries: ['mirror.gov.hu/secovia'] },
    });
    expect(allowedRegistries(explicit, classes)).toEqual(['mirror.gov.hu/secovia']);
  });
});

describe('the namespace annotations admission reads', () => {
  it('lists the owned domains, the settings and the node pool, defaulting the ingress class', () => {
    const t = tenant('hu-d', '2026-01-01T00:00:00Z', {
      ingress: { allowedDomains: ['budapest.example', 'conflicting.example'], allowWildcard: true },
      workloads: {
        allowedStorageClasses: ['encrypted-ssd'],
        nodeSelector: { 'pool.gov.hu/tenant': 'hu-d', 'kubernetes.io/arch': 'amd64' },
      },
    });
    const guardrails = {
      ownedDomains: ['budapest.example'],
      registries: ['registry.example.eu'],
      defaultIngressClass: 'nginx',
    };
    expect(guardrailAnnotations(t, guardrails)).toEqual({
      'gov.secovia.eu/allowed-domains': 'budapest.example',
      'gov.secovia.eu/allow-wildcard-hosts': 'true',
      'gov.secovia.eu/ingress-classes': 'nginx',
      'gov.secovia.eu/allowed-registries': 'registry.example.eu',
      'gov.secovia.eu/storage-classes': 'encrypted-ssd',
      'gov.secovia.eu/priority-classes': '',
      'gov.secovia.eu/node-selector': 'kubernetes.io/arch=amd64,pool.gov.hu/tenant=hu-d',
    });
    const ns = tenantNamespace(t, 'prod', { createdBy: 'uid-hu-d', guardrails });
    expect(ns.metadata.annotations).toMatchObject({
      'gov.secovia.eu/created-by-uid': 'uid-hu-d',
      'gov.secovia.eu/allowed-domains': 'budapest.example',
    });
    // Without a node pool there is no node-selector annotation, and no guardrails means none at all.
    expect(guardrailAnnotations(tenant('hu-e', '2026-01-01T00:00:00Z'), guardrails)).not.toHaveProperty(
      'gov.secovia.eu/node-selector',
    );
    expect(tenantNamespace(t, 'prod').metadata.annotations).toBeUndefined();
  });
});
