/**
 * Tenant isolation as the generated NetworkPolicies express it, checked with a NetworkPolicy
 * evaluator: may tenant X's pod reach tenant Y's pod on port P?
 */
import fc from 'fast-check';
import type { GovTenant } from '../../src/api/index.js';
import { isolationPolicies, tenantNamespace } from '../../src/controllers/govtenant/desired.js';
import type { KubeObject } from '../../src/runtime/types.js';
import { allowed, type Endpoint, type Pod, type World } from './policy-evaluator.js';

const settings = { ingressNamespace: 'ingress-nginx' };

function tenant(name: string, country: string, network: Record<string, unknown> = {}): GovTenant {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name, uid: `uid-${name}` },
    spec: {
      displayName:
        { hu: 'Budapest Főváros', mk: 'Град Скопје', rs: 'Град Нови Сад', gr: 'Δήμος Αθηναίων' }[
          country.toLowerCase()
        ] ?? name,
      country,
      level: 'municipal',
      environments: [{ name: 'prod' }, { name: 'test' }],
      dataResidency: { allowedCountries: [country], classification: 'internal' },
      network: { isolation: 'strict', ...network },
    },
  } as unknown as GovTenant;
}

/** Ports of public or federated GovServices, by namespace: what the ingress controller may reach. */
type Exposed = Record<string, number[]>;

/** Namespaces and policies of the tenants, plus the cluster's own namespaces. */
function world(tenants: GovTenant[], exposed: Exposed = {}): World {
  const allowing = (name: string) =>
    tenants
      .filter((t) => (t.spec!.network?.allowFromTenants ?? []).includes(name))
      .map((t) => t.metadata.name);
  const namespaces: World['namespaces'] = [
    { name: 'ingress-nginx', labels: {} },
    { name: 'kube-system', labels: {} },
    { name: 'unmanaged', labels: { team: 'legacy' } },
  ];
  const policies: KubeObject[] = [];
  for (const t of tenants) {
    for (const env of t.spec!.environments) {
      const ns = tenantNamespace(t, env.name);
      namespaces.push({ name: ns.metadata.name, labels: ns.metadata.labels ?? {} });
      policies.push(
        ...isolationPolicies(t, env, {
          settings,
          peersAllowingUs: allowing(t.metadata.name),
          exposedPorts: exposed[ns.metadata.name],
        }),
      );
    }
  }
  return { namespaces, policies };
}

const pod = (namespace: string, labels: Record<string, string> = { app: 'web' }): Pod => ({
  namespace,
  labels,
});
const dns = pod('kube-system', { 'k8s-app': 'kube-dns' });
const ingressController = pod('ingress-nginx', { app: 'controller' });

describe('the policy evaluator itself', () => {
  const deny: KubeObject = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'deny', namespace: 'a' },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  };
  const allowAll: KubeObject = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'all', namespace: 'a' },
    spec: { podSelector: {}, ingress: [{}], egress: [{}], policyTypes: ['Ingress', 'Egress'] },
  };
  const ns = [
    { name: 'a', labels: {} },
    { name: 'b', labels: {} },
  ];

  it.each([
    ['no policy: everything is allowed', [], pod('b'), pod('a'), true],
    ['default deny blocks ingress', [deny], pod('b'), pod('a'), false],
    ['default deny blocks egress', [deny], pod('a'), pod('b'), false],
    ['an allow-all rule beside default deny allows', [deny, allowAll], pod('b'), pod('a'), true],
  ] as [string, KubeObject[], Endpoint, Endpoint, boolean][])('%s', (_name, policies, from, to, expected) => {
    expect(allowed({ namespaces: ns, policies }, from, to, 80)).toBe(expected);
  });

  it('matches ports, protocols and pod selectors', () => {
    const only8080: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'p', namespace: 'a' },
      spec: {
        podSelector: { matchLabels: { app: 'api' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 8080 }] }],
      },
    };
    const world = { namespaces: ns, policies: [only8080] };
    expect(allowed(world, pod('a', { role: 'client' }), pod('a', { app: 'api' }), 8080)).toBe(true);
    expect(allowed(world, pod('a', { role: 'client' }), pod('a', { app: 'api' }), 8081)).toBe(false);
    expect(allowed(world, pod('a', { role: 'client' }), pod('a', { app: 'api' }), 8080, 'UDP')).toBe(false);
    expect(allowed(world, pod('b', { role: 'client' }), pod('a', { app: 'api' }), 8080)).toBe(false);
    expect(allowed(world, pod('a', { role: 'other' }), pod('a', { app: 'api' }), 8080)).toBe(false);
    expect(allowed(world, pod('b'), pod('a', { app: 'web' }), 9999)).toBe(true);
  });
});

describe('tenant isolation policies', () => {
  const hu = tenant('hu-budapest', 'HU', {
    allowFromTenants: ['mk-skopje'],
    allowEgressCIDRs: ['192.0.2.0/24'],
  });
  const mk = tenant('mk-skopje', 'MK');
  const rs = tenant('rs-novisad', 'RS');
  const w = world([hu, mk, rs], { 'rs-novisad-prod': [8080, 9443], 'hu-budapest-prod': [3000] });

  it.each([
    ['same tenant, same environment', pod('rs-novisad-prod'), pod('rs-novisad-prod'), 8080, true],
    ['same tenant, across environments', pod('rs-novisad-test'), pod('rs-novisad-prod'), 8080, true],
    ['another tenant, any port', pod('rs-novisad-prod'), pod('mk-skopje-prod'), 8080, false],
    ['another tenant, the other way', pod('mk-skopje-prod'), pod('rs-novisad-prod'), 443, false],
    ['an unmanaged namespace', pod('unmanaged'), pod('rs-novisad-prod'), 8080, false],
    ['the ingress controller, an exposed port', ingressController, pod('rs-novisad-prod'), 8080, true],
    ['the ingress controller, another exposed port', ingressController, pod('rs-novisad-prod'), 9443, true],
    [
      'the ingress controller, a port no service exposes',
      ingressController,
      pod('rs-novisad-prod'),
      5432,
      false,
    ],
    [
      "the ingress controller, another tenant's exposed port",
      ingressController,
      pod('hu-budapest-prod'),
      8080,
      false,
    ],
    [
      'the ingress controller, a namespace exposing nothing',
      ingressController,
      pod('rs-novisad-test'),
      8080,
      false,
    ],
    [
      'the ingress controller, a tenant exposing nothing',
      ingressController,
      pod('mk-skopje-prod'),
      8080,
      false,
    ],
    ['DNS over UDP', pod('rs-novisad-prod'), dns, 53, true],
    ['DNS over TCP', pod('rs-novisad-prod'), dns, 53, true],
    ['port 53 of another tenant', pod('rs-novisad-prod'), pod('mk-skopje-prod'), 53, false],
    ['kube-system beyond DNS', pod('rs-novisad-prod'), pod('kube-system', { app: 'metrics' }), 443, false],
    ['an allowed tenant calling in', pod('mk-skopje-prod'), pod('hu-budapest-prod'), 8080, true],
    ['the allowing tenant calling back', pod('hu-budapest-prod'), pod('mk-skopje-prod'), 8080, false],
    ['a tenant not allowed calling in', pod('rs-novisad-prod'), pod('hu-budapest-prod'), 8080, false],
    ['egress into an allowed CIDR', pod('hu-budapest-prod'), { ip: '192.0.2.10' }, 443, true],
    ['egress outside the allowed CIDR', pod('hu-budapest-prod'), { ip: '198.51.100.7' }, 443, false],
    ['egress to the internet without allowance', pod('rs-novisad-prod'), { ip: '192.0.2.10' }, 443, false],
  ] as [string, Endpoint, Endpoint, number, boolean][])('%s', (_name, from, to, port, expected) => {
    const protocol = _name === 'DNS over UDP' ? 'UDP' : 'TCP';
    expect(allowed(w, from, to, port, protocol)).toBe(expected);
  });

  it.each([
    ['no exposed service', undefined, undefined],
    ['an empty list', [], undefined],
    ['one port', [8080], [{ protocol: 'TCP', port: 8080 }]],
    [
      'ports sorted, duplicates once',
      [9443, 8080, 9443],
      [
        { protocol: 'TCP', port: 8080 },
        { protocol: 'TCP', port: 9443 },
      ],
    ],
  ] as [string, number[] | undefined, unknown][])(
    'secovia-allow-ingress-controller with %s',
    (_name, exposedPorts, ports) => {
      const policy = isolationPolicies(rs, rs.spec!.environments[0]!, { settings, exposedPorts }).find(
        (p) => p.metadata.name === 'secovia-allow-ingress-controller',
      );
      if (ports === undefined) return expect(policy).toBeUndefined();
      expect(policy?.spec).toEqual({
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
            ],
            ports,
          },
        ],
      });
    },
  );

  it('produces no policies when isolation is none', () => {
    const open = tenant('bg-sofia', 'BG', { isolation: 'none' });
    expect(isolationPolicies(open, open.spec!.environments[0]!, { settings })).toEqual([]);
  });

  it('for random tenants and allowances, X reaches Y exactly when X is Y or Y allows X', () => {
    const names = ['hu-a', 'mk-b', 'rs-c', 'gr-d', 'bg-e'];
    fc.assert(
      fc.property(
        fc.subarray(names, { minLength: 2 }),
        fc.array(fc.tuple(fc.nat(4), fc.nat(4)), { maxLength: 8 }),
        fc.nat(65535),
        (chosen, pairs, port) => {
          const allows = new Map(chosen.map((n) => [n, new Set<string>()]));
          for (const [a, b] of pairs) {
            const callee = chosen[a % chosen.length]!;
            const caller = chosen[b % chosen.length]!;
            allows.get(callee)!.add(caller);
          }
          const tenants = chosen.map((n) =>
            tenant(n, n.slice(0, 2).toUpperCase(), { allowFromTenants: [...allows.get(n)!] }),
          );
          const w = world(tenants);
          for (const x of chosen) {
            for (const y of chosen) {
              const expected = x === y || allows.get(y)!.has(x);
              if (allowed(w, pod(`${x}-prod`), pod(`${y}-test`), port || 1) !== expected) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 200 },
    );
  });
});
