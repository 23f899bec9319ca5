/**
 * The operator's permission table (src/controllers/permissions.ts): least privilege by construction,
 * in step with the resource types the code addresses, and the generated install files up to date.
 * The e2e test test/e2e/delivery.test.ts compares it with the requests the operator really makes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PERMISSIONS, permissionsFor, policyRules } from '../../src/controllers/permissions.js';
import { POD, WORKLOAD_CONTROLLERS } from '../../src/controllers/govtenant/suspension.js';
import { resources } from '../../src/controllers/resources.js';
import { CRD_COPY_DIRS, installFiles } from '../../hack/install-files.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const NS = 'secovia-system';

describe('generated install files', () => {
  const files = installFiles();

  it.each([...files.keys()])('%s is up to date (run `npm run generate`)', (path) => {
    expect(readFileSync(`${ROOT}${path}`, 'utf8')).toBe(files.get(path));
  });

  it.each(CRD_COPY_DIRS)('%s holds no CRD that src/api no longer defines', (dir) => {
    const committed = readdirSync(`${ROOT}${dir}`).map((f) => `${dir}${f}`);
    expect(committed.sort()).toEqual([...files.keys()].filter((p) => p.startsWith(dir)).sort());
  });
});

describe('the permission table', () => {
  const all = PERMISSIONS.flatMap((p) => [
    p.apiGroup,
    ...p.resources,
    ...p.verbs,
    ...(p.resourceNames ?? []),
  ]);

  it('has no wildcard, and none of the verbs that widen access beyond it', () => {
    expect(all).not.toContain('*');
    const verbs = new Set(PERMISSIONS.flatMap((p) => p.verbs));
    for (const wide of ['escalate', 'impersonate', 'deletecollection', '*'])
      expect(verbs).not.toContain(wide);
  });

  it('grants bind only on the two tenant ClusterRoles, by name', () => {
    const binds = PERMISSIONS.filter((p) => p.verbs.includes('bind'));
    expect(binds).toHaveLength(1);
    expect(binds[0]).toMatchObject({
      resources: ['clusterroles'],
      resourceNames: ['secovia-tenant-admin', 'secovia-tenant-viewer'],
    });
  });

  it('reads Secrets, writes ConfigMaps for export and holds its Lease in its own namespace only', () => {
    const inNamespace = PERMISSIONS.filter((p) => p.scope === 'namespace').flatMap((p) => p.resources);
    expect(inNamespace.sort()).toEqual(['configmaps', 'leases', 'secrets']);
    const clusterWide = PERMISSIONS.filter((p) => p.scope === 'cluster').flatMap((p) => p.resources);
    expect(clusterWide).not.toContain('secrets');
    expect(clusterWide).not.toContain('leases');
  });

  it('covers every resource type the code addresses (src/controllers/resources.ts, suspension), and no other', () => {
    const typesOf = (rows: typeof PERMISSIONS) =>
      new Set(
        rows.flatMap((p) => p.resources.filter((r) => !r.includes('/')).map((r) => `${p.apiGroup}/${r}`)),
      );
    const addressed = new Set(
      [...Object.values(resources), POD, ...WORKLOAD_CONTROLLERS].map((r) => `${r.group}/${r.plural}`),
    );
    const requested = PERMISSIONS.filter((p) => p.checkedOn === 'request');
    expect([...addressed].filter((r) => !typesOf(requested).has(r))).toEqual([]);
    // Federation rows may run ahead of the federation controller; every other row is in use.
    const inUse = typesOf(requested.filter((p) => p.usedBy.some((c) => c !== 'federation')));
    expect([...inUse].filter((r) => !addressed.has(r))).toEqual([]);
  });

  it('renders one policy rule per row, split between the ClusterRole and the Role', () => {
    const rules = [...policyRules('cluster'), ...policyRules('namespace')];
    expect(rules).toHaveLength(PERMISSIONS.length);
    expect(policyRules('namespace').every((r) => !r.resourceNames)).toBe(true);
  });
});

describe('permissionsFor', () => {
  const req = (verb: string, apiGroup: string, resource: string, namespace?: string, name?: string) => ({
    verb,
    apiGroup,
    resource,
    namespace,
    name,
  });

  it.each([
    ['server-side apply of a tenant namespace', req('patch', '', 'namespaces', undefined, 'a-prod'), true],
    ['status of a GovService', req('patch', 'gov.secovia.eu', 'govservices/status', 'a-prod', 's'), true],
    ['an update of a GovTenant', req('update', 'gov.secovia.eu', 'govtenants', undefined, 't'), false],
    ['the spec of a GovService', req('patch', 'gov.secovia.eu', 'govservices', 'a-prod', 's'), false],
    ['a Secret in its own namespace', req('watch', '', 'secrets', NS), true],
    ["a Secret in a tenant's namespace", req('watch', '', 'secrets', 'a-prod'), false],
    ['Secrets of all namespaces', req('list', '', 'secrets'), false],
    ['the Lease in its own namespace', req('update', 'coordination.k8s.io', 'leases', NS, 'l'), true],
    ['a Lease elsewhere', req('update', 'coordination.k8s.io', 'leases', 'kube-system', 'l'), false],
    [
      'bind of a tenant role',
      req('bind', 'rbac.authorization.k8s.io', 'clusterroles', undefined, 'secovia-tenant-admin'),
      true,
    ],
    [
      'bind of cluster-admin',
      req('bind', 'rbac.authorization.k8s.io', 'clusterroles', undefined, 'cluster-admin'),
      false,
    ],
    ['deleting a Deployment', req('delete', 'apps', 'deployments', 'a-prod', 'd'), false],
    ['pruning an Ingress', req('delete', 'networking.k8s.io', 'ingresses', 'a-prod', 'i'), true],
  ])('%s: %s', (_what, request, allowed) => {
    expect(permissionsFor(request, NS).length > 0).toBe(allowed);
  });
});
