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
const INGRESS_POLICY = 'secovia-tenant-ingress';
const WORKLOADS_POLICY = 'secovia-tenant-workloads';
const CONFINEMENT_POLICY = 'secovia-operator-confinement';
const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NS}:secovia-operator`;
const DIGEST = `sha256:${'a'.repeat(64)}`;

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
/** A second tenant, created after the first: restricted, with a node pool and a domain of the first. */
let younger = '';
let youngerNs = '';
let serviceClass = '';

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
/** Admission in full, nothing stored. */
const dryRun = (user: string | undefined, obj: unknown) =>
  kubectl(user, ['create', '--dry-run=server', '-f', '-'], obj);

const HTTPROUTE_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: {
    name: 'httproutes.gateway.networking.k8s.io',
    // As the Gateway API's own CRDs: the group is a protected *.k8s.io one.
    annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/1538' },
  },
  spec: {
    group: 'gateway.networking.k8s.io',
    names: { kind: 'HTTPRoute', plural: 'httproutes', singular: 'httproute', listKind: 'HTTPRouteList' },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                'x-kubernetes-preserve-unknown-fields': true,
                properties: { hostnames: { type: 'array', items: { type: 'string' } } },
              },
            },
          },
        },
      },
    ],
  },
};

const configMapIn = (name: string, inNamespace: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: inNamespace },
  data: { k: 'v' },
});

/** An Ingress with one rule per host (undefined: a rule without host). */
function ingress(
  name: string,
  hosts: (string | undefined)[],
  opts: { className?: string | null; annotations?: Record<string, string>; tls?: string[] } = {},
  inNamespace = ns,
) {
  const backend = { service: { name: 'web', port: { number: 80 } } };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: inNamespace,
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: {
      ...(opts.className === null ? {} : { ingressClassName: opts.className ?? 'nginx' }),
      ...(opts.tls ? { tls: [{ hosts: opts.tls, secretName: `${name}-tls` }] } : {}),
      rules: hosts.map((host) => ({
        ...(host ? { host } : {}),
        http: { paths: [{ path: '/', pathType: 'Prefix', backend }] },
      })),
    },
  };
}

const httpRoute = (name: string, hostnames: string[] | undefined) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name, namespace: ns },
  spec: { parentRefs: [{ name: 'shared-gateway' }], ...(hostnames ? { hostnames } : {}) },
});

/** A pod spec that Pod Security restricted admits, so that only the guardrails can refuse it. */
function podSpec(images: string[], extra: Record<string, unknown> = {}, initImages: string[] = []) {
  const container = (prefix: string) => (image: string, i: number) => ({
    name: `${prefix}${i}`,
    image,
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  });
  return {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: images.map(container('app')),
    ...(initImages.length ? { initContainers: initImages.map(container('init')) } : {}),
    ...extra,
  };
}

const pod = (name: string, spec: object, inNamespace = ns) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: inNamespace },
  spec,
});

/** A workload of `kind` whose pod template has `spec`. */
function workload(kind: string, name: string, spec: object, inNamespace = ns) {
  const labels = { app: name };
  const template = { metadata: { labels }, spec };
  const restartNever = { ...template, spec: { ...spec, restartPolicy: 'Never' } };
  const specs: Record<string, [string, object]> = {
    Deployment: ['apps/v1', { selector: { matchLabels: labels }, template }],
    StatefulSet: ['apps/v1', { selector: { matchLabels: labels }, serviceName: name, template }],
    DaemonSet: ['apps/v1', { selector: { matchLabels: labels }, template }],
    ReplicaSet: ['apps/v1', { selector: { matchLabels: labels }, template }],
    ReplicationController: ['v1', { selector: labels, template }],
    Job: ['batch/v1', { template: restartNever }],
    CronJob: ['batch/v1', { schedule: '0 3 * * *', jobTemplate: { spec: { template: restartNever } } }],
  };
  const [apiVersion, body] = specs[kind]!;
  return { apiVersion, kind, metadata: { name, namespace: inNamespace }, spec: body };
}

const pvc = (name: string, storageClassName?: string) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: ns },
  spec: {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '1Gi' } },
    ...(storageClassName ? { storageClassName } : {}),
  },
});
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

/** A GovTenant of one environment, prod, deleted with its namespaces; `extra` adds to its spec. */
const croatianTenant = (
  name: string,
  displayName: string,
  classification: string,
  extra: Record<string, unknown>,
) => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovTenant',
  metadata: { name },
  spec: {
    displayName,
    country: 'HR',
    level: 'municipal',
    environments: [{ name: 'prod' }],
    dataResidency: { allowedCountries: ['HR'], classification },
    deletionPolicy: 'Delete',
    ...extra,
  },
});

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
  await must(
    ['create', '-f', '-'],
    croatianTenant(tenant, 'Grad Zadar', 'internal', {
      access: { admins: [{ kind: 'User', name: TENANT_ADMIN }] },
      ingress: { allowedDomains: ['zadar.example'] },
      workloads: { allowedStorageClasses: ['encrypted-ssd'], allowedPriorityClasses: ['tenant-high'] },
    }),
  );
  tenantUid = (await readyTenant(tenant)).metadata.uid!;
  serviceClass = cls;
  // Created in the same second, the elder is the first by name: this name sorts after the first one's.
  younger = uniqueName('hr-zst');
  youngerNs = `${younger}-prod`;
  await must(
    ['create', '-f', '-'],
    croatianTenant(younger, 'Grad Split', 'restricted', {
      ingress: { allowedDomains: ['split.example', 'www.zadar.example'], allowWildcard: true },
      workloads: {
        allowedRegistries: ['mirror.example.eu/secovia'],
        nodeSelector: { 'pool.secovia.eu/tenant': 'split', 'kubernetes.io/arch': 'amd64' },
      },
    }),
  );
  await readyTenant(younger);
  // HTTPRoute as the Gateway API defines it, reduced to the fields the guardrail reads.
  await must(['apply', '-f', '-'], HTTPROUTE_CRD);
  await eventually(
    async () =>
      (await must(['api-resources', '--api-group=gateway.networking.k8s.io'])).includes('httproutes'),
    30_000,
    'the HTTPRoute CRD served',
  );
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
  for (const [policy, probe, user] of [
    [INGRESS_POLICY, ingress('probe', ['probe.elsewhere.example']), undefined],
    [WORKLOADS_POLICY, pod('probe', podSpec(['docker.io/library/busybox'])), undefined],
    [CONFINEMENT_POLICY, configMapIn('probe', 'kube-system'), OPERATOR_USER],
  ] as const)
    await eventually(
      async () => (await dryRun(user, probe)).stderr.includes(policy),
      30_000,
      `${policy} in force`,
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

describe('Ingresses and HTTPRoutes in a tenant namespace', () => {
  it('projects the owned domains and settings onto the namespaces, and reports a domain an elder tenant holds', async () => {
    const annotations = (await getObject(admin, `/api/v1/namespaces/${ns}`))?.metadata.annotations ?? {};
    expect(annotations).toMatchObject({
      'gov.secovia.eu/allowed-domains': 'zadar.example',
      'gov.secovia.eu/allow-wildcard-hosts': 'false',
      'gov.secovia.eu/ingress-classes': 'nginx',
      'gov.secovia.eu/allowed-registries': 'registry.example.eu',
      'gov.secovia.eu/storage-classes': 'encrypted-ssd',
      'gov.secovia.eu/priority-classes': 'tenant-high',
    });
    const t = await getObject(admin, `${API}/govtenants/${younger}`);
    const c = conditionOf(t, 'IngressDomains');
    expect([c?.status, c?.reason]).toEqual(['False', 'DomainConflict']);
    expect(c?.message).toContain(`www.zadar.example overlaps zadar.example of GovTenant ${tenant}`);
    const youngerAnnotations = (await getObject(admin, `/api/v1/namespaces/${youngerNs}`))?.metadata
      .annotations;
    expect(youngerAnnotations?.['gov.secovia.eu/allowed-domains']).toBe('split.example');
    expect((t?.status as { ingressDomains?: string[] }).ingressDomains).toEqual(['split.example']);
    expect(conditionOf(await getObject(admin, `${API}/govtenants/${tenant}`), 'IngressDomains')?.status).toBe(
      'True',
    );
  });

  it('refuses hosts outside the tenant’s domains, in rules and in TLS, to the cluster admin too', async () => {
    refusedBy(
      await asTenantAdmin(['create', '-f', '-'], ingress('web', ['portal.split.example'])),
      INGRESS_POLICY,
      'spec.rules[].host: host portal.split.example is not under a domain of tenant namespace',
      'spec.ingress.allowedDomains',
      'zadar.example',
    );
    refusedBy(
      await dryRun(undefined, ingress('web', ['www.zadar.example', 'evilzadar.example'])),
      INGRESS_POLICY,
      'host evilzadar.example is not under a domain',
    );
    refusedBy(
      await asTenantAdmin(
        ['create', '-f', '-'],
        ingress('web', ['www.zadar.example'], { tls: ['www.zadar.example', 'bank.example'] }),
      ),
      INGRESS_POLICY,
      'spec.tls[].hosts[]: host bank.example is not under a domain',
    );
    // The elder tenant's domain is not the younger one's, even though its GovTenant names it.
    refusedBy(
      await dryRun(undefined, ingress('web', ['www.zadar.example'], {}, youngerNs)),
      INGRESS_POLICY,
      'host www.zadar.example is not under a domain',
      '(spec.ingress.allowedDomains of its GovTenant, less those an older tenant holds: split.example)',
    );
    accepted(
      await asTenantAdmin(['create', '--dry-run=server', '-f', '-'], ingress('web', ['zadar.example'])),
    );
    accepted(
      await asTenantAdmin(
        ['create', '--dry-run=server', '-f', '-'],
        ingress('web', ['www.zadar.example', 'a.b.zadar.example'], { tls: ['www.zadar.example'] }),
      ),
    );
    accepted(await dryRun(undefined, ingress('web', ['portal.split.example'], {}, youngerNs)));
  });

  it('refuses a rule without host, a wildcard host unless allowed, and an ingress class not allowed', async () => {
    refusedBy(
      await asTenantAdmin(['create', '-f', '-'], ingress('web', [undefined])),
      INGRESS_POLICY,
      'spec.rules[].host: required',
    );
    refusedBy(
      await asTenantAdmin(['create', '-f', '-'], ingress('web', ['*.zadar.example'])),
      INGRESS_POLICY,
      'spec.rules[].host: wildcard host *.zadar.example is not allowed',
      'spec.ingress.allowWildcard',
    );
    accepted(await dryRun(undefined, ingress('web', ['*.split.example'], {}, youngerNs)));
    refusedBy(
      await dryRun(undefined, ingress('web', ['*.zadar.example'], {}, youngerNs)),
      INGRESS_POLICY,
      'host *.zadar.example is not under a domain',
    );
    refusedBy(
      await asTenantAdmin(
        ['create', '-f', '-'],
        ingress('web', ['www.zadar.example'], { className: 'public-haproxy' }),
      ),
      INGRESS_POLICY,
      'spec.ingressClassName: public-haproxy is not allowed',
      'its GovTenant allows nginx (spec.ingress.allowedClasses)',
    );
    refusedBy(
      await asTenantAdmin(['create', '-f', '-'], ingress('web', ['www.zadar.example'], { className: null })),
      INGRESS_POLICY,
      'spec.ingressClassName: unset is not allowed',
    );
  });

  it.each([
    'nginx.ingress.kubernetes.io/configuration-snippet',
    'nginx.ingress.kubernetes.io/server-snippet',
    'nginx.ingress.kubernetes.io/auth-snippet',
  ])('refuses the annotation %s', async (key) => {
    refusedBy(
      await asTenantAdmin(
        ['create', '-f', '-'],
        ingress('web', ['www.zadar.example'], { annotations: { [key]: 'return 200;' } }),
      ),
      INGRESS_POLICY,
      `metadata.annotations[${key}]: snippet annotations are not allowed`,
    );
  });

  it('accepts other nginx annotations, and checks an Ingress on update too', async () => {
    accepted(
      await asTenantAdmin(
        ['create', '-f', '-'],
        ingress('web', ['www.zadar.example'], {
          annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '8m' },
        }),
      ),
    );
    refusedBy(
      await asTenantAdmin([
        'patch',
        'ingress',
        'web',
        '--type=json',
        '-p',
        '[{"op":"replace","path":"/spec/rules/0/host","value":"www.split.example"}]',
      ]),
      INGRESS_POLICY,
      'host www.split.example is not under a domain',
    );
    accepted(await asTenantAdmin(['delete', 'ingress', 'web']));
  });

  it('refuses HTTPRoute hostnames outside the tenant’s domains, and a route without hostnames, to the cluster admin', async () => {
    refusedBy(
      await dryRun(undefined, httpRoute('route', ['www.zadar.example', 'www.split.example'])),
      INGRESS_POLICY,
      'spec.hostnames[]: host www.split.example is not under a domain',
    );
    refusedBy(
      await dryRun(undefined, httpRoute('route', undefined)),
      INGRESS_POLICY,
      'spec.hostnames[]: required',
    );
    refusedBy(
      await dryRun(undefined, httpRoute('route', ['*.zadar.example'])),
      INGRESS_POLICY,
      'spec.hostnames[]: wildcard host *.zadar.example is not allowed',
    );
    accepted(await dryRun(undefined, httpRoute('route', ['api.zadar.example'])));
  });

  it('reports a GovService host outside the domains, and exposes it once under them', async () => {
    const portal = `${API}/namespaces/${ns}/govservices/portal`;
    await must(['create', '-f', '-'], {
      apiVersion: 'gov.secovia.eu/v1alpha1',
      kind: 'GovService',
      metadata: { name: 'portal', namespace: ns },
      spec: { class: serviceClass, plan: 'one', exposure: 'public', host: 'portal.split.example' },
    });
    const refused = await eventually(
      async () => {
        const o = await getObject(admin, portal);
        return conditionOf(o, 'Ready')?.reason === 'HostNotAllowed' ? o : undefined;
      },
      30_000,
      'HostNotAllowed',
    );
    expect(conditionOf(refused, 'Ready')?.message).toContain(
      'spec.host: portal.split.example is not under a domain of GovTenant',
    );
    await must([
      '-n',
      ns,
      'patch',
      'govservice',
      'portal',
      '--type=merge',
      '-p',
      '{"spec":{"host":"portal.zadar.example"}}',
    ]);
    const created = await eventually(
      () => getObject(admin, `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/portal`),
      30_000,
      'the operator’s Ingress admitted',
    );
    expect((created.spec as { rules: { host: string }[] }).rules[0]!.host).toBe('portal.zadar.example');
    await must(['-n', ns, 'delete', 'govservice', 'portal']);
  }, 90_000);
});

describe('workloads in a tenant namespace', () => {
  it('refuses images from registries the tenant does not allow, in every container list', async () => {
    refusedBy(
      await asTenantAdmin(['create', '-f', '-'], pod('p', podSpec(['docker.io/library/busybox:1.36']))),
      WORKLOADS_POLICY,
      'spec.containers[app0].image: docker.io/library/busybox:1.36 is not from a registry allowed',
      'spec.workloads.allowedRegistries: registry.example.eu',
    );
    refusedBy(
      await asTenantAdmin(['create', '-f', '-'], pod('p', podSpec(['busybox']))),
      WORKLOADS_POLICY,
      'spec.containers[app0].image: busybox is not from a registry allowed',
    );
    refusedBy(
      await asTenantAdmin(
        ['create', '-f', '-'],
        pod('p', podSpec(['registry.example.eu/secovia/web:1'], {}, ['registry.example.eu.evil.test/x:1'])),
      ),
      WORKLOADS_POLICY,
      'spec.initContainers[init0].image: registry.example.eu.evil.test/x:1',
    );
    accepted(
      await asTenantAdmin(
        ['create', '--dry-run=server', '-f', '-'],
        pod('p', podSpec(['registry.example.eu/secovia/web:1'], {}, ['registry.example.eu/secovia/init:1'])),
      ),
    );
  });

  it.each([
    'Deployment',
    'StatefulSet',
    'DaemonSet',
    'ReplicaSet',
    'ReplicationController',
    'Job',
    'CronJob',
  ])('checks the pod template of a %s', async (kind) => {
    const field = kind === 'CronJob' ? 'spec.jobTemplate.spec.template.spec' : 'spec.template.spec';
    refusedBy(
      await dryRun(
        undefined,
        workload(kind, 'w', podSpec(['registry.example.eu/secovia/web:1', 'quay.io/miner/xmrig'])),
      ),
      WORKLOADS_POLICY,
      `${field}.containers[app1].image: quay.io/miner/xmrig is not from a registry allowed`,
    );
    accepted(await dryRun(undefined, workload(kind, 'w', podSpec(['registry.example.eu/secovia/web:1']))));
  });

  it('refuses an ephemeral container from another registry', async () => {
    accepted(
      await asTenantAdmin(
        ['create', '-f', '-'],
        pod('debug-me', podSpec(['registry.example.eu/secovia/web:1'])),
      ),
    );
    const ephemeral = (image: string) =>
      JSON.stringify({
        spec: {
          ephemeralContainers: [
            {
              name: 'debugger',
              image,
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      });
    refusedBy(
      await kubectl(undefined, [
        '-n',
        ns,
        'patch',
        'pod',
        'debug-me',
        '--subresource=ephemeralcontainers',
        '--type=strategic',
        '-p',
        ephemeral('docker.io/nicolaka/netshoot'),
      ]),
      WORKLOADS_POLICY,
      'spec.ephemeralContainers[debugger].image: docker.io/nicolaka/netshoot is not from a registry allowed',
    );
    accepted(
      await kubectl(undefined, [
        '-n',
        ns,
        'patch',
        'pod',
        'debug-me',
        '--subresource=ephemeralcontainers',
        '--type=strategic',
        '-p',
        ephemeral('registry.example.eu/secovia/debug:1'),
      ]),
    );
    accepted(await asTenantAdmin(['delete', 'pod', 'debug-me', '--wait=false']));
  });

  it('refuses a priority class or storage class the tenant does not allow', async () => {
    const image = ['registry.example.eu/secovia/web:1'];
    refusedBy(
      await asTenantAdmin(
        ['create', '-f', '-'],
        pod('p', podSpec(image, { priorityClassName: 'system-node-critical' })),
      ),
      WORKLOADS_POLICY,
      'spec.priorityClassName: system-node-critical is not allowed',
      'spec.workloads.allowedPriorityClasses: tenant-high',
    );
    refusedBy(
      await asTenantAdmin(
        ['create', '-f', '-'],
        workload('Deployment', 'w', podSpec(image, { priorityClassName: 'system-cluster-critical' })),
      ),
      WORKLOADS_POLICY,
      'spec.template.spec.priorityClassName: system-cluster-critical is not allowed',
    );
    accepted(
      await asTenantAdmin(
        ['create', '--dry-run=server', '-f', '-'],
        workload('Deployment', 'w', podSpec(image, { priorityClassName: 'tenant-high' })),
      ),
    );
    refusedBy(
      await asTenantAdmin(['create', '-f', '-'], pvc('data', 'unencrypted-hdd')),
      WORKLOADS_POLICY,
      'spec.storageClassName: unencrypted-hdd is not allowed',
      'spec.workloads.allowedStorageClasses: encrypted-ssd',
    );
    accepted(await asTenantAdmin(['create', '--dry-run=server', '-f', '-'], pvc('data', 'encrypted-ssd')));
    accepted(await asTenantAdmin(['create', '--dry-run=server', '-f', '-'], pvc('data')));
  });

  it('requires digests where the tenant is restricted, and exactly its node pool', async () => {
    const pinned = `mirror.example.eu/secovia/web@${DIGEST}`;
    const pool = { nodeSelector: { 'pool.secovia.eu/tenant': 'split', 'kubernetes.io/arch': 'amd64' } };
    refusedBy(
      await dryRun(undefined, pod('p', podSpec(['mirror.example.eu/secovia/web:1'], pool), youngerNs)),
      WORKLOADS_POLICY,
      'spec.containers[app0].image: mirror.example.eu/secovia/web:1 must be pinned by digest',
      'spec.dataResidency.classification',
    );
    refusedBy(
      await dryRun(
        undefined,
        workload('Job', 'j', podSpec([pinned], pool, ['mirror.example.eu/secovia/migrate:3']), youngerNs),
      ),
      WORKLOADS_POLICY,
      'spec.template.spec.initContainers[init0].image: mirror.example.eu/secovia/migrate:3 must be pinned by digest',
    );
    refusedBy(
      await dryRun(undefined, pod('p', podSpec([pinned]), youngerNs)),
      WORKLOADS_POLICY,
      'spec.nodeSelector: must be exactly kubernetes.io/arch=amd64, pool.secovia.eu/tenant=split',
      'spec.workloads.nodeSelector',
    );
    refusedBy(
      await dryRun(
        undefined,
        workload(
          'Deployment',
          'w',
          podSpec([pinned], { nodeSelector: { ...pool.nodeSelector, 'pool.secovia.eu/tenant': 'zadar' } }),
          youngerNs,
        ),
      ),
      WORKLOADS_POLICY,
      'spec.template.spec.nodeSelector: must be exactly',
    );
    refusedBy(
      await dryRun(undefined, pod('p', podSpec([pinned], { ...pool, nodeName: 'some-node' }), youngerNs)),
      WORKLOADS_POLICY,
      'spec.nodeName: not allowed',
    );
    refusedBy(
      await dryRun(
        undefined,
        pod('p', podSpec([`registry.example.eu/secovia/web@${DIGEST}`], pool), youngerNs),
      ),
      WORKLOADS_POLICY,
      'is not from a registry allowed in tenant namespace',
      'spec.workloads.allowedRegistries: mirror.example.eu/secovia',
    );
    accepted(await dryRun(undefined, pod('p', podSpec([pinned], pool), youngerNs)));
    accepted(await dryRun(undefined, workload('CronJob', 'c', podSpec([pinned], pool), youngerNs)));
  });
});

describe('the operator is confined to its namespaces', () => {
  /** Server-side apply, as the operator writes (it may not get or update namespaces, only patch them). */
  const applyAsOperator = (obj: unknown) =>
    kubectl(
      OPERATOR_USER,
      ['apply', '--server-side', '--field-manager=e2e-probe', '--dry-run=server', '-f', '-'],
      obj,
    );

  it('refuses the operator writes in kube-system, default and other namespaces, and changing a namespace it does not manage', async () => {
    refusedBy(
      await dryRun(OPERATOR_USER, configMapIn('takeover', 'kube-system')),
      CONFINEMENT_POLICY,
      'metadata.namespace: the secovia operator may only write in its own namespace',
      'kube-system is neither',
    );
    // The operator may delete NetworkPolicies anywhere by RBAC; admission keeps it out of kube-system.
    await must(['-n', 'kube-system', 'create', '-f', '-'], {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'e2e-keep' },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    });
    refusedBy(
      await kubectl(OPERATOR_USER, [
        '-n',
        'kube-system',
        'delete',
        'networkpolicy',
        'e2e-keep',
        '--dry-run=server',
      ]),
      CONFINEMENT_POLICY,
      'kube-system is neither',
    );
    refusedBy(
      await dryRun(OPERATOR_USER, configMapIn('takeover', plainNs)),
      CONFINEMENT_POLICY,
      `${plainNs} is neither`,
    );
    refusedBy(
      await dryRun(OPERATOR_USER, configMapIn('takeover', 'default')),
      CONFINEMENT_POLICY,
      'default is neither',
    );
    refusedBy(
      await applyAsOperator(namespace('kube-system', { 'app.kubernetes.io/managed-by': 'secovia-operator' })),
      CONFINEMENT_POLICY,
      'the secovia operator may only change namespaces it manages; kube-system is not one',
    );
    refusedBy(
      await kubectl(OPERATOR_USER, ['delete', 'namespace', plainNs, '--dry-run=server']),
      CONFINEMENT_POLICY,
      `may only delete namespaces it manages; ${plainNs} is not one`,
    );
    // Nobody else is confined by it.
    accepted(await dryRun(undefined, configMapIn('admin-note', 'kube-system')));
  });

  it('accepts its writes in its own namespace, in tenant namespaces, and its Events in default', async () => {
    accepted(await dryRun(OPERATOR_USER, configMapIn('export', OPERATOR_NS)));
    accepted(await dryRun(OPERATOR_USER, configMapIn('params', ns)));
    accepted(
      await dryRun(OPERATOR_USER, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'tenant.1', namespace: 'default' },
        involvedObject: { apiVersion: 'gov.secovia.eu/v1alpha1', kind: 'GovTenant', name: tenant },
        reason: 'Probe',
        message: 'probe',
        type: 'Normal',
      }),
    );
    accepted(await applyAsOperator(namespace(ns, { 'team.example/probe': '1' })));
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
    for (const policy of [
      NAMESPACE_POLICY,
      MANAGED_POLICY,
      SERVICES_POLICY,
      INGRESS_POLICY,
      WORKLOADS_POLICY,
    ])
      expect(log).not.toContain(policy);
  }, 150_000);
});
