/**
 * The tenant guardrails (config/admission/tenant_guardrails.yaml) on a real API server, installed
 * with config/rbac and config/admission as kustomize ships them. The operator runs in-process as its
 * ServiceAccount; a tenant admin (bound by the operator's RoleBinding), a user who may only create
 * namespaces and the cluster admin try what the policies forbid, by impersonation. kube-controller-
 * manager runs with service account credentials, as on kubeadm clusters, so that its garbage
 * collector and namespace controller act under their own names.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manager } from '../../src/runtime/manager.js';
import type { KubeClient } from '../../src/runtime/kube.js';
import type { KubeObject } from '../../src/runtime/types.js';
import type { ControlPlane, KubectlResult } from '../harness/controlplane.js';
import {
  clientFor,
  conditionOf,
  controlPlaneWithCrds,
  eventually,
  getObject,
  ROOT,
  startInProcessOperator,
  uniqueName,
} from './support.js';

const API = '/apis/gov.secovia.eu/v1alpha1';
const OPERATOR_NS = 'secovia-system';
const TENANT_ADMIN = 'it-admin@zadar.example';
const CREATOR = 'namespace-creator@example.eu';
const NAMESPACE_POLICY = 'secovia-reserved-namespace-metadata';
const MANAGED_POLICY = 'secovia-operator-managed-objects';
const SERVICES_POLICY = 'secovia-tenant-services';

let cp: ControlPlane;
let admin: KubeClient;
let operator: Manager | undefined;
let controllerManager: ChildProcess | undefined;
let controllerManagerLog = '';
let tenant = '';
let ns = '';
let tenantUid = '';
let service = '';
let plainNs = '';

/** kubectl as the cluster admin (system:masters), or impersonating `user`; `input` is sent as JSON. */
function kubectl(user: string | undefined, args: string[], input?: unknown): Promise<KubectlResult> {
  const as = user ? ['--as', user] : [];
  return cp.kubectl([...as, ...args], input === undefined ? {} : { input: JSON.stringify(input) });
}

async function must(args: string[], input?: unknown): Promise<string> {
  const r = await kubectl(undefined, args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Refused by the named policy, the message naming each fragment (the field, the key). */
function refusedBy(r: KubectlResult, policy: string, ...fragments: string[]): void {
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(`ValidatingAdmissionPolicy '${policy}' with binding '${policy}' denied request`);
  for (const f of fragments) expect(r.stderr).toContain(f);
}

function accepted(r: KubectlResult): void {
  expect([r.code, r.stderr]).toEqual([0, expect.any(String)]);
}

/** Refused by RBAC before admission: the user lacks the verb on the resource. */
function forbiddenByRbac(r: KubectlResult, verb: string, resource: string, group: string): void {
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(
    `User "${TENANT_ADMIN}" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${ns}"`,
  );
}

const namespace = (name: string, labels: Record<string, string>, annotations?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels, ...(annotations ? { annotations } : {}) },
});

const configMap = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, labels },
  data: { greeting: 'dobar dan' },
});

const svc = (name: string, spec: Record<string, unknown>, inNamespace = ns) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: inNamespace },
  spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
});

const create = (user: string | undefined, obj: unknown) => kubectl(user, ['create', '-f', '-'], obj);
const asTenantAdmin = (args: string[], input?: unknown) => kubectl(TENANT_ADMIN, ['-n', ns, ...args], input);

/**
 * kube-controller-manager with --use-service-account-credentials: each controller authenticates as
 * system:serviceaccount:kube-system:<controller>. The harness's own controller manager runs every
 * controller as the cluster admin, which the guardrails do not exempt.
 */
function startControllerManager(): ChildProcess {
  const logPath = join(cp.dir, 'kube-controller-manager-sa.log');
  const fd = openSync(logPath, 'a');
  const child = spawn(
    join(cp.binDir, 'kube-controller-manager'),
    [
      `--kubeconfig=${cp.kubeconfigPath}`,
      // The key that the harness's API server verifies service account tokens with.
      `--service-account-private-key-file=${join(cp.dir, 'pki', 'sa.key')}`,
      `--root-ca-file=${cp.caFile}`,
      '--leader-elect=false',
      '--secure-port=0',
      '--controllers=*',
      '--use-service-account-credentials=true',
      '--concurrent-namespace-syncs=5',
      '-v=0',
    ],
    { stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  controllerManagerLog = logPath;
  return child;
}

const readyTenant = (name: string): Promise<KubeObject> =>
  eventually(
    async () => {
      const t = await getObject(admin, `${API}/govtenants/${name}`);
      const ready = conditionOf(t, 'Ready');
      return ready?.status === 'True' && ready.observedGeneration === t?.metadata.generation ? t : undefined;
    },
    60_000,
    `GovTenant ${name} Ready`,
  );

beforeAll(async () => {
  cp = await controlPlaneWithCrds({ controllerManager: false });
  admin = clientFor(cp);
  controllerManager = startControllerManager();
  for (const path of [
    '/api/v1/namespaces/default/serviceaccounts/default',
    '/api/v1/namespaces/kube-system/serviceaccounts/namespace-controller',
    '/api/v1/namespaces/kube-system/serviceaccounts/generic-garbage-collector',
  ])
    await eventually(() => getObject(admin, path), 60_000, path);

  // The install as kustomize ships it: the operator's ServiceAccount and roles, the tenant roles, admission.
  await must(['create', 'namespace', OPERATOR_NS]);
  await must(['apply', '-k', `${ROOT}config/rbac`]);
  await must(['apply', '-k', `${ROOT}config/admission`]);
  await must(['create', 'clusterrole', 'e2e-namespace-creator', '--verb=create', '--resource=namespaces']);
  await must([
    'create',
    'clusterrolebinding',
    'e2e-namespace-creator',
    '--clusterrole=e2e-namespace-creator',
    `--user=${CREATOR}`,
  ]);
  // The policies are loaded by the API server a moment after they are stored.
  await eventually(
    async () => {
      const r = await kubectl(CREATOR, ['create', '--dry-run=server', '-f', '-'], {
        ...namespace('e2e-probe', { 'gov.secovia.eu/tenant': 'probe' }),
      });
      return r.code !== 0 && r.stderr.includes(NAMESPACE_POLICY);
    },
    30_000,
    'the guardrails in force',
  );

  const token = (
    await must(['-n', OPERATOR_NS, 'create', 'token', 'secovia-operator', '--duration=1h'])
  ).trim();
  operator = await startInProcessOperator(
    cp,
    OPERATOR_NS,
    cp.kubeconfigFor({ token, name: 'secovia-operator' }),
  );

  tenant = uniqueName('hr-zd');
  ns = `${tenant}-prod`;
  const cls = uniqueName('reg');
  service = 'registry';
  await must(['create', '-f', '-'], {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovServiceClass',
    metadata: { name: cls },
    spec: {
      displayName: { en: 'Civil registry', hr: 'Matični ured' },
      audience: ['G2C'],
      buildingBlock: 'digital-registries',
      image: 'registry.example.eu/secovia/civil-registry',
      versions: ['2.0.0'],
      plans: [{ name: 'one', replicas: 1, resources: { cpu: '100m', memory: '128Mi' } }],
      parametersSchema: { type: 'object', properties: { office: { type: 'string' } } },
    },
  });
  await must(['create', '-f', '-'], {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name: tenant },
    spec: {
      displayName: 'Grad Zadar',
      country: 'HR',
      level: 'municipal',
      environments: [{ name: 'prod' }],
      access: { admins: [{ kind: 'User', name: TENANT_ADMIN }] },
      dataResidency: { allowedCountries: ['HR'], classification: 'internal' },
      deletionPolicy: 'Delete',
    },
  });
  tenantUid = (await readyTenant(tenant)).metadata.uid!;
  await must(['create', '-f', '-'], {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovService',
    metadata: { name: service, namespace: ns },
    spec: { class: cls, plan: 'one', parameters: { office: 'Zadar' } },
  });
  for (const path of [
    `/apis/apps/v1/namespaces/${ns}/deployments/${service}`,
    `/api/v1/namespaces/${ns}/configmaps/${service}-parameters`,
    `/api/v1/namespaces/${ns}/services/${service}`,
  ])
    await eventually(() => getObject(admin, path), 30_000, path);
  // The policies that select tenant namespaces, in force too.
  await eventually(
    async () =>
      (
        await asTenantAdmin(['create', '--dry-run=server', '-f', '-'], svc('probe', { type: 'NodePort' }))
      ).stderr.includes(SERVICES_POLICY),
    30_000,
    'the Service guardrail in force',
  );
  await eventually(
    async () =>
      (
        await asTenantAdmin(
          ['create', '--dry-run=server', '-f', '-'],
          configMap('probe', { 'app.kubernetes.io/managed-by': 'secovia-operator' }),
        )
      ).stderr.includes(MANAGED_POLICY),
    30_000,
    'the managed-object guardrail in force',
  );
}, 300_000);

afterAll(async () => {
  await operator?.stop();
  if (controllerManager && controllerManager.exitCode === null) {
    const exited = new Promise((r) => controllerManager!.once('exit', r));
    controllerManager.kill('SIGTERM');
    await exited;
  }
  admin?.close();
  await cp?.stop();
}, 60_000);

describe('namespace labels and annotations are the operator’s', () => {
  it('refuses a namespace creator a new namespace carrying a reserved label or annotation, naming it', async () => {
    refusedBy(
      await create(CREATOR, namespace(`${tenant}-extra`, { 'gov.secovia.eu/tenant': tenant })),
      NAMESPACE_POLICY,
      'metadata.labels[gov.secovia.eu/tenant]',
    );
    refusedBy(
      await create(CREATOR, namespace('lookalike', { 'app.kubernetes.io/managed-by': 'secovia-operator' })),
      NAMESPACE_POLICY,
      'metadata.labels[app.kubernetes.io/managed-by]',
    );
    // A namespace pre-made with the tenant's creator uid would be deleted with the tenant's own.
    refusedBy(
      await create(
        CREATOR,
        namespace(`${tenant}-staging`, {}, { 'gov.secovia.eu/created-by-uid': tenantUid }),
      ),
      NAMESPACE_POLICY,
      'metadata.annotations[gov.secovia.eu/created-by-uid]',
    );
    expect(await getObject(admin, `/api/v1/namespaces/${tenant}-staging`)).toBeUndefined();
  });

  it('accepts a namespace without reserved labels from the namespace creator', async () => {
    plainNs = uniqueName('team-');
    accepted(
      await create(
        CREATOR,
        namespace(plainNs, { team: 'web', 'app.kubernetes.io/part-of': 'portal' }, { owner: 'web' }),
      ),
    );
  });

  it('refuses even the cluster admin to set, change or remove reserved labels of a tenant namespace', async () => {
    refusedBy(
      await kubectl(undefined, ['label', 'namespace', ns, 'gov.secovia.eu/country=RS', '--overwrite']),
      NAMESPACE_POLICY,
      'metadata.labels[gov.secovia.eu/country]',
    );
    refusedBy(
      await kubectl(undefined, [
        'label',
        'namespace',
        ns,
        'gov.secovia.eu/service-types=ClusterIP.NodePort',
        '--overwrite',
      ]),
      NAMESPACE_POLICY,
      'metadata.labels[gov.secovia.eu/service-types]',
    );
    refusedBy(
      await kubectl(undefined, ['label', 'namespace', ns, 'gov.secovia.eu/tenant-']),
      NAMESPACE_POLICY,
      'metadata.labels[gov.secovia.eu/tenant]',
    );
    refusedBy(
      await kubectl(undefined, ['label', 'namespace', plainNs, `gov.secovia.eu/tenant=${tenant}`]),
      NAMESPACE_POLICY,
      'metadata.labels[gov.secovia.eu/tenant]',
    );
    const labels = (await getObject(admin, `/api/v1/namespaces/${ns}`))?.metadata.labels;
    expect(labels).toMatchObject({ 'gov.secovia.eu/tenant': tenant, 'gov.secovia.eu/country': 'HR' });
  });

  it('refuses forging or removing the creator annotation, and accepts labels and annotations of others', async () => {
    refusedBy(
      await kubectl(undefined, [
        'annotate',
        'namespace',
        ns,
        'gov.secovia.eu/created-by-uid=forged',
        '--overwrite',
      ]),
      NAMESPACE_POLICY,
      'metadata.annotations[gov.secovia.eu/created-by-uid]',
    );
    refusedBy(
      await kubectl(undefined, ['annotate', 'namespace', ns, 'gov.secovia.eu/created-by-uid-']),
      NAMESPACE_POLICY,
      'metadata.annotations[gov.secovia.eu/created-by-uid]',
    );
    accepted(await kubectl(undefined, ['label', 'namespace', ns, 'team.example/cost-center=it-42']));
    accepted(
      await kubectl(undefined, ['annotate', 'namespace', ns, 'team.example/contact=it@zadar.example']),
    );
    const meta = (await getObject(admin, `/api/v1/namespaces/${ns}`))!.metadata;
    expect(meta.annotations?.['gov.secovia.eu/created-by-uid']).toBe(tenantUid);
    expect(meta.labels?.['team.example/cost-center']).toBe('it-42');
  });
});

describe('objects the operator manages in a tenant namespace are the operator’s', () => {
  const deployment = () => ['deployment', service];

  it('refuses the tenant admin adding command or envFrom to a GovService Deployment', async () => {
    for (const patch of [
      [{ op: 'add', path: '/spec/template/spec/containers/0/command', value: ['sh', '-c', 'env'] }],
      [
        {
          op: 'add',
          path: '/spec/template/spec/containers/0/envFrom',
          value: [{ secretRef: { name: 'db' } }],
        },
      ],
    ]) {
      refusedBy(
        await asTenantAdmin(['patch', ...deployment(), '--type=json', '-p', JSON.stringify(patch)]),
        MANAGED_POLICY,
        `Deployment ${ns}/${service} has metadata.labels[app.kubernetes.io/managed-by]=secovia-operator`,
        'only the secovia operator may change it',
      );
    }
    const container = (
      (await getObject(admin, `/apis/apps/v1/namespaces/${ns}/deployments/${service}`))!.spec as {
        template: { spec: { containers: Record<string, unknown>[] } };
      }
    ).template.spec.containers[0]!;
    expect(container.command).toBeUndefined();
    expect(container.envFrom).toBeUndefined();
  });

  it('refuses the cluster admin too', async () => {
    refusedBy(
      await kubectl(undefined, ['-n', ns, 'set', 'env', `deployment/${service}`, 'DEBUG=1']),
      MANAGED_POLICY,
      `Deployment ${ns}/${service}`,
      'only the secovia operator may change it',
    );
  });

  it('refuses the tenant admin editing or deleting the operator’s ConfigMap, Deployment and Service', async () => {
    const cm = `${service}-parameters`;
    refusedBy(
      await asTenantAdmin([
        'patch',
        'configmap',
        cm,
        '--type=merge',
        '-p',
        '{"data":{"parameters.json":"{}"}}',
      ]),
      MANAGED_POLICY,
      `ConfigMap ${ns}/${cm}`,
      'only the secovia operator may change it',
    );
    refusedBy(
      await asTenantAdmin(['delete', 'configmap', cm]),
      MANAGED_POLICY,
      `ConfigMap ${ns}/${cm}`,
      'only the secovia operator may delete it',
    );
    refusedBy(
      await asTenantAdmin(['delete', ...deployment()]),
      MANAGED_POLICY,
      `Deployment ${ns}/${service}`,
      'only the secovia operator may delete it',
    );
    // Dropping the label to take the object over is a change of a managed object as well.
    refusedBy(
      await asTenantAdmin(['label', 'service', service, 'app.kubernetes.io/managed-by-']),
      MANAGED_POLICY,
      `Service ${ns}/${service}`,
      'only the secovia operator may change it',
    );
    expect(await getObject(admin, `/api/v1/namespaces/${ns}/configmaps/${cm}`)).toBeDefined();
  });

  it('refuses the tenant admin creating an object with the operator’s label, or adding it', async () => {
    refusedBy(
      await asTenantAdmin(
        ['create', '-f', '-'],
        configMap('forged', { 'app.kubernetes.io/managed-by': 'secovia-operator' }),
      ),
      MANAGED_POLICY,
      'metadata.labels[app.kubernetes.io/managed-by]: only the secovia operator may create an object labelled app.kubernetes.io/managed-by=secovia-operator',
    );
    accepted(await asTenantAdmin(['create', '-f', '-'], configMap('own')));
    refusedBy(
      await asTenantAdmin(['label', 'configmap', 'own', 'app.kubernetes.io/managed-by=secovia-operator']),
      MANAGED_POLICY,
      'metadata.labels[app.kubernetes.io/managed-by]: only the secovia operator may add the label',
    );
  });

  it('accepts the tenant admin’s own objects: create, change, delete, with another manager’s label', async () => {
    accepted(
      await asTenantAdmin(
        ['create', '-f', '-'],
        configMap('helm-made', { 'app.kubernetes.io/managed-by': 'Helm' }),
      ),
    );
    accepted(
      await asTenantAdmin(['patch', 'configmap', 'own', '--type=merge', '-p', '{"data":{"greeting":"bok"}}']),
    );
    accepted(await asTenantAdmin(['delete', 'configmap', 'own']));
    accepted(await asTenantAdmin(['create', 'deployment', 'own-web', '--image=registry.example.eu/web:1']));
    accepted(await asTenantAdmin(['set', 'env', 'deployment/own-web', 'DEBUG=1']));
  });

  it('lets the operator itself converge: a parameter change reaches its ConfigMap', async () => {
    await must([
      '-n',
      ns,
      'patch',
      'govservice',
      service,
      '--type=merge',
      '-p',
      '{"spec":{"parameters":{"office":"Nin"}}}',
    ]);
    await eventually(
      async () =>
        (
          (await getObject(admin, `/api/v1/namespaces/${ns}/configmaps/${service}-parameters`))?.data as
            Record<string, string> | undefined
        )?.['parameters.json']?.includes('Nin'),
      30_000,
      'parameters applied by the operator',
    );
  });

  it('leaves namespaces that are no tenant’s alone', async () => {
    accepted(
      await create(undefined, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'labelled',
          namespace: plainNs,
          labels: { 'app.kubernetes.io/managed-by': 'secovia-operator' },
        },
      }),
    );
    accepted(await create(undefined, svc('node-port', { type: 'NodePort' }, plainNs)));
  });
});

describe('Services in a tenant namespace', () => {
  it('accepts a plain ClusterIP Service and a headless one', async () => {
    accepted(await asTenantAdmin(['create', '-f', '-'], svc('web', {})));
    accepted(await asTenantAdmin(['create', '-f', '-'], svc('web-headless', { clusterIP: 'None' })));
  });

  it('refuses external IPs and ExternalName, to the cluster admin as well', async () => {
    refusedBy(
      await asTenantAdmin(['create', '-f', '-'], svc('external', { externalIPs: ['203.0.113.10'] })),
      SERVICES_POLICY,
      'spec.externalIPs: not allowed in tenant namespace',
    );
    refusedBy(
      await asTenantAdmin([
        'patch',
        'service',
        'web',
        '--type=merge',
        '-p',
        '{"spec":{"externalIPs":["203.0.113.10"]}}',
      ]),
      SERVICES_POLICY,
      'spec.externalIPs',
    );
    refusedBy(
      await asTenantAdmin(['create', '-f', '-'], {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'metadata-alias', namespace: ns },
        spec: { type: 'ExternalName', externalName: 'metadata.google.internal' },
      }),
      SERVICES_POLICY,
      'spec.type: ExternalName is not allowed in tenant namespace',
    );
    refusedBy(
      await create(undefined, svc('admin-external', { externalIPs: ['203.0.113.11'] })),
      SERVICES_POLICY,
      'spec.externalIPs',
    );
  });

  it('refuses NodePort and LoadBalancer until the GovTenant allows them, then accepts what it allows', async () => {
    refusedBy(
      await asTenantAdmin(['create', '-f', '-'], svc('np', { type: 'NodePort' })),
      SERVICES_POLICY,
      `spec.type: NodePort is not allowed in tenant namespace ${ns}: its GovTenant allows ClusterIP (spec.network.allowedServiceTypes)`,
    );
    refusedBy(
      await asTenantAdmin(['patch', 'service', 'web', '--type=merge', '-p', '{"spec":{"type":"NodePort"}}']),
      SERVICES_POLICY,
      'spec.type: NodePort is not allowed',
    );
    refusedBy(
      await asTenantAdmin(['create', '-f', '-'], svc('lb', { type: 'LoadBalancer' })),
      SERVICES_POLICY,
      'spec.type: LoadBalancer is not allowed',
    );

    await must([
      'patch',
      'govtenant',
      tenant,
      '--type=merge',
      '-p',
      '{"spec":{"network":{"allowedServiceTypes":["ClusterIP","NodePort"]}}}',
    ]);
    // The operator writes the allowed types onto the namespace; the API server reads them from there.
    await eventually(
      async () =>
        (await getObject(admin, `/api/v1/namespaces/${ns}`))?.metadata.labels?.[
          'gov.secovia.eu/service-types'
        ] === 'ClusterIP.NodePort',
      30_000,
      'the service-types label',
    );
    await eventually(
      async () => (await asTenantAdmin(['create', '-f', '-'], svc('np', { type: 'NodePort' }))).code === 0,
      30_000,
      'a NodePort Service accepted',
    );
    accepted(
      await asTenantAdmin(['patch', 'service', 'web', '--type=merge', '-p', '{"spec":{"type":"NodePort"}}']),
    );
    refusedBy(
      await asTenantAdmin(['create', '-f', '-'], svc('lb', { type: 'LoadBalancer' })),
      SERVICES_POLICY,
      'spec.type: LoadBalancer is not allowed',
      'its GovTenant allows ClusterIP, NodePort',
    );
  });
});

describe('Endpoints and EndpointSlices', () => {
  it('are read only for the tenant admin', async () => {
    forbiddenByRbac(
      await asTenantAdmin(['create', '-f', '-'], {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'selectorless', namespace: ns },
        subsets: [{ addresses: [{ ip: '169.254.169.254' }], ports: [{ port: 80 }] }],
      }),
      'create',
      'endpoints',
      '',
    );
    forbiddenByRbac(
      await asTenantAdmin(['create', '-f', '-'], {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'selectorless', namespace: ns, labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['169.254.169.254'] }],
        ports: [{ port: 80 }],
      }),
      'create',
      'endpointslices',
      'discovery.k8s.io',
    );
    accepted(await asTenantAdmin(['get', 'endpoints,endpointslices.discovery.k8s.io']));
  });
});

describe('kube-controller-manager still cleans up', () => {
  it('garbage-collects the objects of a deleted GovService', async () => {
    await must(['-n', ns, 'delete', 'govservice', service]);
    for (const path of [
      `/apis/apps/v1/namespaces/${ns}/deployments/${service}`,
      `/api/v1/namespaces/${ns}/configmaps/${service}-parameters`,
      `/api/v1/namespaces/${ns}/services/${service}`,
      `/api/v1/namespaces/${ns}/serviceaccounts/${service}`,
    ])
      await eventually(async () => (await getObject(admin, path)) === undefined, 60_000, `${path} collected`);
  }, 90_000);

  it('deletes a tenant namespace with the operator’s objects in it', async () => {
    const policies = `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`;
    const before = (await admin.request<{ items: KubeObject[] }>('GET', policies)).items;
    expect(before.length).toBeGreaterThan(0);
    expect(
      before.every((p) => p.metadata.labels?.['app.kubernetes.io/managed-by'] === 'secovia-operator'),
    ).toBe(true);
    await must(['delete', 'govtenant', tenant, '--wait=false']);
    await eventually(
      async () => (await getObject(admin, `/api/v1/namespaces/${ns}`)) === undefined,
      120_000,
      `namespace ${ns} deleted`,
    );
    // Neither the garbage collector nor the namespace controller was ever refused.
    const log = readFileSync(controllerManagerLog, 'utf8');
    expect(log).toContain('Started controller');
    for (const policy of [NAMESPACE_POLICY, MANAGED_POLICY, SERVICES_POLICY])
      expect(log).not.toContain(policy);
  }, 150_000);
});
