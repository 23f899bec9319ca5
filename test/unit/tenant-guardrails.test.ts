/**
 * The tenant guardrails (config/admission/tenant_guardrails.yaml) in step with the code: the label the
 * operator writes for allowed Service types, the operator's user name, and the kinds it writes in
 * tenant namespaces. test/e2e/tenant-guardrails.test.ts runs the policies on a real API server.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { GovTenant } from '../../src/api/index.js';
import { serviceTypesLabel, tenantNamespace } from '../../src/controllers/govtenant/desired.js';
import { PERMISSIONS } from '../../src/controllers/permissions.js';
import { resources } from '../../src/controllers/resources.js';

const ROOT = new URL('../../', import.meta.url).pathname;

interface ResourceRule {
  apiGroups: string[];
  resources: string[];
  operations: string[];
}
interface Policy {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: {
    policyName?: string;
    matchConstraints?: { resourceRules: ResourceRule[] };
    matchConditions?: { name: string; expression: string }[];
  };
}

const docs = parseAllDocuments(readFileSync(`${ROOT}config/admission/tenant_guardrails.yaml`, 'utf8')).map(
  (d) => d.toJS() as Policy,
);
const policy = (name: string): Policy =>
  docs.find((d) => d.kind === 'ValidatingAdmissionPolicy' && d.metadata.name === name)!;

function tenant(network: Record<string, unknown>): GovTenant {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name: 'rs-nis', uid: 'u1' },
    spec: {
      displayName: 'Grad Niš',
      country: 'RS',
      level: 'municipal',
      environments: [{ name: 'prod' }],
      network: { isolation: 'strict', ...network },
      podSecurity: 'restricted',
      dataResidency: { allowedCountries: ['RS'], classification: 'internal' },
      allowedServiceClasses: ['*'],
      suspended: false,
      deletionPolicy: 'Retain',
    },
  } as unknown as GovTenant;
}

describe('the namespace label of allowed Service types', () => {
  it.each([
    [undefined, 'ClusterIP'],
    [[], 'ClusterIP'],
    [['ClusterIP'], 'ClusterIP'],
    [['NodePort'], 'ClusterIP.NodePort'],
    [['LoadBalancer', 'ClusterIP'], 'ClusterIP.LoadBalancer'],
    [['LoadBalancer', 'NodePort', 'ClusterIP'], 'ClusterIP.NodePort.LoadBalancer'],
  ])('allowedServiceTypes %j is written as %s, ClusterIP always first', (allowed, label) => {
    const t = tenant(allowed === undefined ? {} : { allowedServiceTypes: allowed });
    expect(serviceTypesLabel(t)).toBe(label);
    expect(tenantNamespace(t, 'prod').metadata.labels?.['gov.secovia.eu/service-types']).toBe(label);
    // A valid label value: at most 63 characters of letters, digits, dots, dashes and underscores.
    expect(label).toMatch(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/);
  });
});

describe('config/admission/tenant_guardrails.yaml', () => {
  it('binds every policy it declares, cluster-scoped, with Deny', () => {
    const policies = docs.filter((d) => d.kind === 'ValidatingAdmissionPolicy').map((d) => d.metadata.name);
    const bindings = docs.filter((d) => d.kind === 'ValidatingAdmissionPolicyBinding');
    expect(policies.sort()).toEqual([
      'secovia-operator-confinement',
      'secovia-operator-managed-objects',
      'secovia-reserved-namespace-metadata',
      'secovia-tenant-ingress',
      'secovia-tenant-services',
      'secovia-tenant-workloads',
    ]);
    expect(bindings.map((b) => b.spec.policyName).sort()).toEqual(policies);
    for (const d of docs) expect(d.metadata.namespace).toBeUndefined();
  });

  it("recognizes the operator by the user name of config/rbac's ServiceAccount", () => {
    const sa = parseAllDocuments(
      readFileSync(`${ROOT}config/rbac/service_account.yaml`, 'utf8'),
    )[0]!.toJS() as {
      metadata: { name: string; namespace: string };
    };
    const user = `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`;
    for (const name of [
      'secovia-reserved-namespace-metadata',
      'secovia-operator-managed-objects',
      'secovia-operator-confinement',
    ]) {
      const conditions = policy(name).spec.matchConditions ?? [];
      expect(conditions.some((c) => c.expression.includes(`'${user}'`))).toBe(true);
    }
    // Nobody is exempt from the Service, Ingress and workload rules, not even the operator.
    for (const name of ['secovia-tenant-services', 'secovia-tenant-ingress', 'secovia-tenant-workloads'])
      expect(policy(name).spec.matchConditions).toBeUndefined();
  });

  it('guards every namespaced kind the operator creates, except Events, and never pods or replica sets', () => {
    const guarded = new Set(
      policy('secovia-operator-managed-objects').spec.matchConstraints!.resourceRules.flatMap((r) => {
        expect(r.operations.sort()).toEqual(['CREATE', 'DELETE', 'UPDATE']);
        return r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`));
      }),
    );
    const namespaced = new Set(
      Object.values(resources)
        .filter((r) => r.namespaced)
        .map((r) => `${r.group}/${r.plural}`),
    );
    const created = PERMISSIONS.filter((p) => p.scope === 'cluster' && p.verbs.includes('create'))
      .flatMap((p) => p.resources.map((r) => `${p.apiGroup}/${r}`))
      .filter((r) => namespaced.has(r) && r !== '/events');
    expect(created.length).toBeGreaterThanOrEqual(10);
    expect(created.filter((r) => !guarded.has(r))).toEqual([]);
    // Controllers create these from the operator's labelled templates: guarding them would stop rollouts.
    for (const r of ['/pods', 'apps/replicasets', '/endpoints', 'discovery.k8s.io/endpointslices'])
      expect(guarded.has(r)).toBe(false);
  });
});

describe('config/rbac/tenant_roles.yaml', () => {
  interface Rule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
  }
  const roles = parseAllDocuments(readFileSync(`${ROOT}config/rbac/tenant_roles.yaml`, 'utf8')).map(
    (d) => d.toJS() as { metadata: { name: string }; rules: Rule[] },
  );
  const verbsOn = (role: string, group: string, resource: string): string[] =>
    roles
      .find((r) => r.metadata.name === role)!
      .rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource))
      .flatMap((r) => r.verbs)
      .sort();

  it.each([
    ['', 'endpoints'],
    ['discovery.k8s.io', 'endpointslices'],
  ])('lets tenant admins and viewers read %s/%s, never write them', (group, resource) => {
    for (const role of ['secovia-tenant-admin', 'secovia-tenant-viewer'])
      expect(verbsOn(role, group, resource)).toEqual(['get', 'list', 'watch']);
  });
});
