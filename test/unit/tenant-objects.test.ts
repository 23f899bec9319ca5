/** GovTenant desired state as pure functions: namespaces, quota, limits and access bindings. */
import type { GovTenant } from '../../src/api/index.js';
import {
  environmentBindings,
  environmentLimits,
  environmentObjects,
  environmentQuota,
  tenantNamespace,
} from '../../src/controllers/govtenant/desired.js';

function tenant(spec: Record<string, unknown> = {}, name = 'bg-sofia'): GovTenant {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name, uid: 'uid-1' },
    spec: {
      displayName: 'Столична община',
      country: 'BG',
      level: 'municipal',
      podSecurity: 'restricted',
      environments: [{ name: 'prod' }, { name: 'test', quota: { cpu: '2' }, limits: { maxCpu: '1' } }],
      dataResidency: { allowedCountries: ['BG'], classification: 'confidential' },
      ...spec,
    },
  } as unknown as GovTenant;
}
const env = (t: GovTenant, name: string) => t.spec!.environments.find((e) => e.name === name)!;

describe('tenantNamespace', () => {
  it.each([
    ['Cyrillic', 'Столична община'],
    ['Greek', 'Δήμος Θεσσαλονίκης'],
    ['Latin with diacritics', 'Općina Čakovec'],
  ])('labels the namespace the same whatever the display name (%s)', (_script, displayName) => {
    const ns = tenantNamespace(tenant({ displayName }), 'prod', { createdBy: 'uid-1' });
    expect(ns.metadata.name).toBe('bg-sofia-prod');
    expect(ns.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'secovia-operator',
      'gov.secovia.eu/tenant': 'bg-sofia',
      'gov.secovia.eu/country': 'BG',
      'gov.secovia.eu/level': 'municipal',
      'gov.secovia.eu/classification': 'confidential',
      'gov.secovia.eu/environment': 'prod',
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': 'latest',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': 'latest',
      'gov.secovia.eu/service-types': 'ClusterIP',
    });
    expect(ns.metadata.annotations).toEqual({ 'gov.secovia.eu/created-by-uid': 'uid-1' });
    expect(ns.metadata.ownerReferences).toBeUndefined();
  });

  it('marks orphaned and suspended namespaces, follows podSecurity, and omits an unknown creator', () => {
    const ns = tenantNamespace(tenant({ suspended: true, podSecurity: 'baseline' }), 'prod', {
      orphaned: true,
    });
    expect(ns.metadata.labels).toMatchObject({
      'gov.secovia.eu/orphaned': 'true',
      'gov.secovia.eu/suspended': 'true',
      'pod-security.kubernetes.io/enforce': 'baseline',
    });
    expect(ns.metadata.annotations).toBeUndefined();
  });
});

describe('quota and limits', () => {
  const t = tenant({
    quota: { cpu: '16', memory: '64Gi', storage: '1Ti', pods: 200 },
    limits: { defaultCpu: '250m', defaultMemory: '256Mi', maxCpu: '4', maxMemory: '8Gi' },
  });

  it('maps spec.quota to requests and limits, the environment override winning per key', () => {
    expect(environmentQuota(t, env(t, 'prod'))?.spec).toEqual({
      hard: {
        'requests.cpu': '16',
        'limits.cpu': '16',
        'requests.memory': '64Gi',
        'limits.memory': '64Gi',
        'requests.storage': '1Ti',
        pods: '200',
      },
    });
    expect(environmentQuota(t, env(t, 'test'))?.spec).toMatchObject({
      hard: { 'requests.cpu': '2', 'limits.cpu': '2', 'requests.memory': '64Gi', pods: '200' },
    });
  });

  it('gives containers defaults and maxima, with the environment override', () => {
    expect(environmentLimits(t, env(t, 'prod'))?.spec).toEqual({
      limits: [
        {
          type: 'Container',
          default: { cpu: '250m', memory: '256Mi' },
          defaultRequest: { cpu: '250m', memory: '256Mi' },
          max: { cpu: '4', memory: '8Gi' },
        },
      ],
    });
    expect(environmentLimits(t, env(t, 'test'))?.spec).toMatchObject({
      limits: [{ max: { cpu: '1', memory: '8Gi' } }],
    });
  });

  it('creates no quota and no limit range when the spec sets none', () => {
    const bare = tenant({ environments: [{ name: 'prod' }] });
    expect(environmentQuota(bare, env(bare, 'prod'))).toBeUndefined();
    expect(environmentLimits(bare, env(bare, 'prod'))).toBeUndefined();
  });

  it('owns its namespaced objects through the tenant, unless released', () => {
    expect(environmentQuota(t, env(t, 'prod'))?.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'gov.secovia.eu/v1alpha1',
        kind: 'GovTenant',
        name: 'bg-sofia',
        uid: 'uid-1',
        controller: true,
      },
    ]);
    expect(environmentQuota(t, env(t, 'prod'), false)?.metadata.ownerReferences).toBeUndefined();
  });
});

describe('access bindings', () => {
  it('binds admins and viewers to the tenant ClusterRoles, ServiceAccounts with their namespace', () => {
    const t = tenant({
      access: {
        admins: [
          { kind: 'Group', name: 'sofia-it' },
          { kind: 'ServiceAccount', name: 'deployer', namespace: 'ci' },
        ],
        viewers: [{ kind: 'User', name: 'одитор@sofia.example' }],
      },
    });
    const [admins, viewers] = environmentBindings(t, env(t, 'prod'));
    expect(admins).toMatchObject({
      metadata: { name: 'secovia-tenant-admins', namespace: 'bg-sofia-prod' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'secovia-tenant-admin' },
      subjects: [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'sofia-it' },
        { kind: 'ServiceAccount', name: 'deployer', namespace: 'ci' },
      ],
    });
    expect(viewers).toMatchObject({
      roleRef: { name: 'secovia-tenant-viewer' },
      subjects: [{ kind: 'User', name: 'одитор@sofia.example' }],
    });
  });

  it('creates no binding without subjects', () => {
    const t = tenant();
    expect(environmentBindings(t, env(t, 'prod'))).toEqual([]);
  });
});

it('puts every environment object in the environment namespace, labelled with the tenant', () => {
  const t = tenant({ quota: { cpu: '1' }, access: { admins: [{ kind: 'Group', name: 'g' }] } });
  const objects = environmentObjects(t, env(t, 'test'), { settings: { ingressNamespace: 'ingress-nginx' } });
  expect(objects.length).toBeGreaterThan(5);
  for (const o of objects) {
    expect(o.metadata.namespace).toBe('bg-sofia-test');
    expect(o.metadata.labels).toMatchObject({
      'gov.secovia.eu/tenant': 'bg-sofia',
      'app.kubernetes.io/managed-by': 'secovia-operator',
    });
  }
});
