/**
 * The install paths, end to end. The Helm chart and the kustomize config render the same objects;
 * the chart's values schema refuses bad settings; everything the chart renders is accepted by a real
 * API server. Then the operator runs exactly as the image starts it (its ENTRYPOINT's flags and script), with the
 * Deployment's environment and the chart's ServiceAccount token, through tenant and service
 * scenarios. The API server's audit log records every request it makes: each must be allowed by
 * the permission table (src/controllers/permissions.ts) and every permission must be used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { PERMISSIONS, permissionsFor, type RequestAttributes } from '../../src/controllers/permissions.js';
import type { KubeClient } from '../../src/runtime/kube.js';
import type { KubeObject } from '../../src/runtime/types.js';
import { startAuditedControlPlane, type AuditedControlPlane, type AuditEvent } from '../harness/audit.js';
import { controlPlaneBinaries, type ControlPlane, type KubectlResult } from '../harness/controlplane.js';
import { markRolledOut } from '../harness/rollout.js';
import { imageEntrypoint } from '../../hack/operator-image.js';
import { clientFor, conditionOf, eventually, getObject, ROOT, uniqueName } from './support.js';

const CHART = `${ROOT}charts/secovia-operator`;
const NS = 'secovia-system';
const OPERATOR_USER = `system:serviceaccount:${NS}:secovia-operator`;
const API = '/apis/gov.secovia.eu/v1alpha1';
/** Labels only Helm sets (release bookkeeping); everything else must match the kustomize render. */
const HELM_LABELS = [
  'helm.sh/chart',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
];

function run(command: string, args: string[], input = ''): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => (stderr += String(e)));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

let helmPath: Promise<string> | undefined;
/** helm built from its Go module by hack/build-helm.sh (cached after the first build). */
async function helm(args: string[]): Promise<KubectlResult> {
  helmPath ??= run('bash', [`${ROOT}hack/build-helm.sh`]).then((r) => {
    if (r.code !== 0) throw new Error(`hack/build-helm.sh failed: ${r.stderr}`);
    return r.stdout.trim().split('\n').pop()!;
  });
  return run(await helmPath, args);
}

async function helmTemplate(...set: string[]): Promise<string> {
  const args = ['template', 'secovia-operator', CHART, '--namespace', NS, '--include-crds'];
  const r = await helm([...args, ...set.flatMap((s) => ['--set', s])]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return r.stdout;
}

const docsOf = (text: string): KubeObject[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => !!o);
const keyOf = (o: KubeObject): string => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function withoutHelmLabels(o: KubeObject): KubeObject {
  const labels = Object.fromEntries(
    Object.entries(o.metadata.labels ?? {}).filter(([k]) => !HELM_LABELS.includes(k)),
  );
  return { ...o, metadata: { ...o.metadata, labels } };
}

describe('install paths render', () => {
  it('passes helm lint --strict', async () => {
    const r = await helm(['lint', '--strict', CHART]);
    expect(r.stderr + r.stdout).toContain('0 chart(s) failed');
    expect(r.code).toBe(0);
  }, 600_000);

  it('kubectl kustomize config/default installs the same objects as the chart with default values', async () => {
    const kubectl = join(await controlPlaneBinaries(), 'kubectl');
    const kustomized = await run(kubectl, ['kustomize', `${ROOT}config/default`]);
    expect(kustomized.stderr).toBe('');
    const fromKustomize = new Map(docsOf(kustomized.stdout).map((o) => [keyOf(o), withoutHelmLabels(o)]));
    const fromHelm = new Map(docsOf(await helmTemplate()).map((o) => [keyOf(o), withoutHelmLabels(o)]));
    // The one difference: `helm install --create-namespace` creates the namespace; kustomize ships it.
    expect(fromKustomize.get(`Namespace /${NS}`)?.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
    fromKustomize.delete(`Namespace /${NS}`);
    expect([...fromHelm.keys()].sort()).toEqual([...fromKustomize.keys()].sort());
    for (const [key, obj] of fromHelm) expect([key, obj]).toEqual([key, fromKustomize.get(key)]);
    expect(fromHelm.size).toBeGreaterThanOrEqual(15);
  }, 600_000);

  it.each([
    ['logLevel=verbose', "at '/logLevel'"],
    ['replicaCount=0', "at '/replicaCount'"],
    ['ingress.className=Nginx_Class', "at '/ingress/className'"],
    ['ingress.controllerNamespace=', "at '/ingress/controllerNamespace'"],
    ['image.pullPolicy=Sometimes', "at '/image/pullPolicy'"],
    ['federation.exportTo={MK_Skopje}', "at '/federation/exportTo/0'"],
    ['metrics.port=8081', "at '/metrics/port'"],
    ['resources.requests.cpu=lots', "at '/resources/requests/cpu'"],
    ['replicas=2', 'additional properties'],
  ])('refuses --set %s', async (set, message) => {
    const r = await helm(['template', 'x', CHART, '--set', set]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it('renders the settings as the operator reads them, and a ServiceMonitor only when asked', async () => {
    const docs = docsOf(
      await helmTemplate(
        'logLevel=debug',
        'ingress.className=traefik',
        'metrics.serviceMonitor.enabled=true',
      ),
    );
    const deployment = docs.find((o) => o.kind === 'Deployment') as unknown as DeploymentShape;
    const env = Object.fromEntries(
      deployment.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      LOG_LEVEL: 'debug',
      INGRESS_CLASS: 'traefik',
      INGRESS_NAMESPACE: 'ingress-nginx',
    });
    expect(docs.filter((o) => o.kind === 'ServiceMonitor')).toHaveLength(1);
    expect(docsOf(await helmTemplate()).filter((o) => o.kind === 'ServiceMonitor')).toHaveLength(0);
  });
});

interface DeploymentShape {
  spec: {
    template: {
      spec: {
        containers: {
          env: { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[];
        }[];
      };
    };
  };
}

describe('the chart on a real API server, and the operator with its ServiceAccount', () => {
  let audited: AuditedControlPlane;
  let cp: ControlPlane;
  let admin: KubeClient;
  let operator: ChildProcess | undefined;
  let operatorOutput = '';
  let operatorToken = '';
  /** The Delete-policy tenant of the tenant scenario, whose prod namespace hosts the service scenario. */
  let tenant = '';

  beforeAll(async () => {
    audited = await startAuditedControlPlane({
      user: OPERATOR_USER,
      // As on clusters that enforce it: owner references that block deletion need finalizers rights.
      extraApiServerFlags: ['--enable-admission-plugins=OwnerReferencesPermissionEnforcement'],
    });
    cp = audited.cp;
    admin = clientFor(cp);
  }, 600_000);

  afterAll(async () => {
    operator?.kill('SIGKILL');
    admin?.close();
    await audited?.stop();
  }, 60_000);

  const kubectl = async (
    args: string[],
    opts: { input?: string; asToken?: string } = {},
  ): Promise<string> => {
    const r = await cp.kubectl(args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  it('accepts everything the chart renders (server-side dry run), then installs it', async () => {
    await kubectl(['create', 'namespace', NS]);
    const rendered = await helmTemplate('federation.exportTo={mk-skopje,rs-belgrade}');
    const dryRun = await cp.kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], {
      input: rendered,
    });
    expect(dryRun.stderr).toBe('');
    expect(dryRun.stdout.trim().split('\n')).toHaveLength(docsOf(rendered).length);
    await kubectl(['apply', '--server-side', '-f', '-'], { input: rendered });
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd',
      '-l',
      'app.kubernetes.io/name=secovia-operator',
    ]);
  }, 120_000);

  it('runs as the image starts it, with the chart ServiceAccount token, and elects itself leader', async () => {
    // The image's ENTRYPOINT: its Node.js, the flags it gives it, the script.
    const [binary, ...args] = imageEntrypoint();
    expect(binary).toBe('/nodejs/bin/node');
    expect(args.at(-1)).toBe('dist/src/main.js');
    if (!existsSync(`${ROOT}${args.at(-1)}`))
      throw new Error(`${args.at(-1)} is missing: run npm run build first`);
    operatorToken = (
      await kubectl(['-n', NS, 'create', 'token', 'secovia-operator', '--duration=1h'])
    ).trim();
    const deployment = docsOf(await helmTemplate()).find(
      (o) => o.kind === 'Deployment',
    ) as unknown as DeploymentShape;
    const fields: Record<string, string> = {
      'metadata.name': 'secovia-operator-e2e',
      'metadata.namespace': NS,
    };
    const env = Object.fromEntries(
      deployment.spec.template.spec.containers[0]!.env.map((e) => [
        e.name,
        e.value ?? fields[e.valueFrom!.fieldRef.fieldPath],
      ]),
    );
    operator = spawn(process.execPath, args, {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        ...env,
        // Free ports instead of the pod's 8080/8081, and the token instead of the pod's mounted one.
        METRICS_PORT: '0',
        HEALTH_PORT: '0',
        KUBECONFIG: cp.kubeconfigFor({ token: operatorToken, name: 'secovia-operator' }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    operator.stdout?.on('data', (d: Buffer) => (operatorOutput += d.toString()));
    operator.stderr?.on('data', (d: Buffer) => (operatorOutput += d.toString()));
    await eventually(
      () => operatorOutput.includes('"message":"became leader"'),
      30_000,
      `leader:\n${operatorOutput}`,
    );
  }, 60_000);

  const tenantSpec = (extra: Record<string, unknown>) => ({
    displayName: 'Δήμος Θεσσαλονίκης',
    country: 'GR',
    level: 'municipal',
    environments: [{ name: 'prod' }],
    quota: { cpu: '4', memory: '8Gi' },
    limits: { defaultCpu: '250m', defaultMemory: '256Mi', maxCpu: '2', maxMemory: '4Gi' },
    access: { admins: [{ kind: 'Group', name: 'thessaloniki-it' }] },
    network: { isolation: 'strict' },
    dataResidency: { allowedCountries: ['GR'], classification: 'internal' },
    ...extra,
  });

  async function create(
    path: string,
    kind: string,
    name: string,
    spec: unknown,
    namespace?: string,
  ): Promise<void> {
    await admin.request('POST', path, {
      body: { apiVersion: 'gov.secovia.eu/v1alpha1', kind, metadata: { name, namespace }, spec },
    });
  }

  async function mergePatch(path: string, body: unknown): Promise<void> {
    await admin.request('PATCH', path, { contentType: 'application/merge-patch+json', body });
  }

  /** Ready True for the object's current generation. */
  const ready = (path: string, timeoutMs = 30_000): Promise<KubeObject> =>
    eventually(
      async () => {
        const o = await getObject(admin, path);
        const c = conditionOf(o, 'Ready');
        return c?.status === 'True' && c.observedGeneration === o?.metadata.generation ? o : undefined;
      },
      timeoutMs,
      `${path} Ready:\n${operatorOutput.slice(-2000)}`,
    );
  const gone = (path: string): Promise<boolean> =>
    eventually(async () => (await getObject(admin, path)) === undefined, 30_000, `${path} gone`);

  /**
   * Reports the service's Deployment rolled out, as the deployment controller and kubelets would (no
   * kubelet runs here), for whatever generation and replicas it has, until the service is Ready.
   */
  async function serviceReady(ns: string, name: string): Promise<void> {
    const deployment = `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;
    const service = `${API}/namespaces/${ns}/govservices/${name}`;
    await eventually(
      async () => {
        const d = await getObject(admin, deployment);
        if (!d) return false;
        await markRolledOut(admin, d, (d.spec as { replicas?: number }).replicas ?? 1);
        const s = await getObject(admin, service);
        const c = conditionOf(s, 'Ready');
        return c?.status === 'True' && c.observedGeneration === s?.metadata.generation;
      },
      30_000,
      `${ns}/${name} Ready`,
    );
  }

  it('reconciles tenants through their whole life: create, shrink the spec (prune), Retain and Delete', async () => {
    const a = uniqueName('gra');
    const b = uniqueName('grb');
    await create(`${API}/govtenants`, 'GovTenant', a, {
      ...tenantSpec({ deletionPolicy: 'Delete' }),
      environments: [{ name: 'prod' }, { name: 'test' }],
      ingress: { allowedDomains: [`${a}.example.eu`] },
      access: {
        admins: [{ kind: 'Group', name: 'a-it' }],
        viewers: [{ kind: 'User', name: 'auditor@example.eu' }],
      },
    });
    await create(`${API}/govtenants`, 'GovTenant', b, tenantSpec({}));
    await ready(`${API}/govtenants/${a}`);
    await ready(`${API}/govtenants/${b}`);
    const prod = `/api/v1/namespaces/${a}-prod`;
    expect(
      await getObject(
        admin,
        `/apis/rbac.authorization.k8s.io/v1/namespaces/${a}-prod/rolebindings/secovia-tenant-viewers`,
      ),
    ).toBeDefined();

    // Shrinking the spec prunes: an environment (deleted, policy Delete), quota, limits, policies, a binding.
    await mergePatch(`${API}/govtenants/${a}`, {
      spec: {
        environments: [{ name: 'prod' }],
        quota: null,
        limits: null,
        network: { isolation: 'none' },
        access: { viewers: null },
      },
    });
    await ready(`${API}/govtenants/${a}`);
    for (const path of [
      `${prod}/resourcequotas/secovia-quota`,
      `${prod}/limitranges/secovia-limits`,
      `/apis/networking.k8s.io/v1/namespaces/${a}-prod/networkpolicies/secovia-default-deny`,
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${a}-prod/rolebindings/secovia-tenant-viewers`,
    ])
      await gone(path);
    await eventually(
      async () => (await getObject(admin, `/api/v1/namespaces/${a}-test`))?.metadata.deletionTimestamp,
    );

    // Retain keeps the namespace, orphaned; its guard rails lose their owner references.
    await admin.request('DELETE', `${API}/govtenants/${b}`);
    await gone(`${API}/govtenants/${b}`);
    const kept = await getObject(admin, `/api/v1/namespaces/${b}-prod`);
    expect(kept?.metadata.labels?.['gov.secovia.eu/orphaned']).toBe('true');
    const quota = await getObject(admin, `/api/v1/namespaces/${b}-prod/resourcequotas/secovia-quota`);
    expect(quota?.metadata.ownerReferences ?? []).toEqual([]);
    tenant = a;
  }, 120_000);

  it('reconciles a catalog class and a service: public and autoscaled, then internal and fixed (prune)', async () => {
    const a = tenant;
    const ns = `${a}-prod`;
    const cls = uniqueName('cls');
    await create(`${API}/govserviceclasses`, 'GovServiceClass', cls, {
      displayName: { en: 'Delivery', el: 'Επίδοση' },
      audience: ['G2C'],
      buildingBlock: 'messaging',
      image: 'registry.example.eu/secovia/e-delivery',
      versions: ['5.1.0'],
      plans: [
        { name: 'one', replicas: 1, resources: { cpu: '100m', memory: '128Mi' } },
        {
          name: 'auto',
          autoscaling: { minReplicas: 2, maxReplicas: 4, cpuUtilization: 70 },
          resources: { cpu: '100m', memory: '128Mi' },
        },
      ],
      parametersSchema: { type: 'object', properties: { senderName: { type: 'string' } } },
    });
    await ready(`${API}/govserviceclasses/${cls}`);
    const svc = `${API}/namespaces/${ns}/govservices/portal`;
    await create(
      `${API}/namespaces/${ns}/govservices`,
      'GovService',
      'portal',
      {
        class: cls,
        plan: 'auto',
        exposure: 'public',
        host: `${a}.example.eu`,
        parameters: { senderName: 'Δήμος' },
      },
      ns,
    );
    const exposed = [
      `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/portal`,
      `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/portal-ingress-controller`,
      `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/portal`,
      `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/portal`,
    ];
    for (const path of exposed) await eventually(() => getObject(admin, path), 30_000, path);
    await serviceReady(ns, 'portal');

    await mergePatch(svc, {
      spec: { plan: 'one', exposure: 'internal', host: null, parameters: { senderName: 'Δ' } },
    });
    for (const path of exposed) await gone(path);
    await serviceReady(ns, 'portal');

    // A class in use keeps its finalizer until its last instance is gone.
    await admin.request('DELETE', `${API}/govserviceclasses/${cls}`);
    await eventually(
      async () =>
        conditionOf(await getObject(admin, `${API}/govserviceclasses/${cls}`), 'DeletionBlocked')?.status ===
        'True',
    );
    await admin.request('DELETE', svc);
    await gone(`${API}/govserviceclasses/${cls}`);
    await admin.request('DELETE', `${API}/govtenants/${a}`);
    await gone(`${API}/govtenants/${a}`);
    expect((await getObject(admin, `/api/v1/namespaces/${ns}`))?.metadata.deletionTimestamp).toBeDefined();
  }, 120_000);

  it('suspends a tenant: deletes its pods, refuses new ones, and wakes its workload controllers on resume', async () => {
    const t = uniqueName('grs');
    const ns = `${t}-prod`;
    const image = 'registry.example.eu/secovia/e-delivery:5.1.0';
    // A class whose registry the tenant's workloads may use.
    await create(`${API}/govserviceclasses`, 'GovServiceClass', uniqueName('cls'), {
      displayName: { en: 'Delivery' },
      audience: ['G2C'],
      buildingBlock: 'messaging',
      image: image.split(':')[0],
      versions: ['5.1.0'],
      plans: [{ name: 'one', replicas: 1 }],
    });
    await create(`${API}/govtenants`, 'GovTenant', t, { ...tenantSpec({}), quota: undefined });
    await ready(`${API}/govtenants/${t}`);
    const podSpec = {
      securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'app',
          image,
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
    };
    const template = { metadata: { labels: { app: 'w' } }, spec: podSpec };
    const selector = { matchLabels: { app: 'w' } };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe', namespace: ns }, spec: podSpec };
    await eventually(
      async () => !!(await admin.request('POST', `/api/v1/namespaces/${ns}/pods`, { body: pod })),
      30_000,
      'a pod admitted in the tenant namespace',
    );
    const workloads: [string, string, Record<string, unknown>][] = [
      ['/apis/apps/v1', 'ReplicaSet', { replicas: 1, selector, template }],
      ['/apis/apps/v1', 'StatefulSet', { replicas: 1, serviceName: 'w', selector, template }],
      ['/apis/apps/v1', 'DaemonSet', { selector, template }],
      ['/apis/batch/v1', 'Job', { template: { ...template, spec: { ...podSpec, restartPolicy: 'Never' } } }],
    ];
    const pathOf = (group: string, kind: string) => `${group}/namespaces/${ns}/${kind.toLowerCase()}s`;
    for (const [group, kind, spec] of workloads) {
      await admin.request('POST', pathOf(group, kind), {
        body: { apiVersion: group.replace('/apis/', ''), kind, metadata: { name: 'w' }, spec },
      });
    }

    await mergePatch(`${API}/govtenants/${t}`, { spec: { suspended: true } });
    await gone(`/api/v1/namespaces/${ns}/pods/probe`);
    const refused = await admin.request('POST', `/api/v1/namespaces/${ns}/pods`, { body: pod }).then(
      () => 'admitted',
      (e: Error) => e.message,
    );
    expect(refused).toContain(`tenant ${t} is suspended`);

    await mergePatch(`${API}/govtenants/${t}`, { spec: { suspended: false } });
    for (const [group, kind] of workloads) {
      await eventually(
        async () =>
          (await getObject(admin, `${pathOf(group, kind)}/w`))?.metadata.annotations?.[
            'gov.secovia.eu/resumed-at'
          ],
        30_000,
        `${kind} woken on resume`,
      );
    }
  }, 120_000);

  it('made only requests the permission table allows, and used every permission it declares', async () => {
    operator!.kill('SIGTERM');
    expect(await new Promise((r) => operator!.once('exit', r))).toBe(0);
    const byId = new Map<string, AuditEvent>();
    for (const e of audited.events()) if (e.user.username === OPERATOR_USER) byId.set(e.auditID, e);
    const events = [...byId.values()];
    expect(events.length).toBeGreaterThan(50);
    expect(
      events.filter((e) => e.responseStatus?.code === 403).map((e) => `${e.verb} ${e.requestURI}`),
    ).toEqual([]);
    // Outside the table: only the version check at start, which every authenticated user may make.
    expect([...new Set(events.filter((e) => !e.objectRef).map((e) => `${e.verb} ${e.requestURI}`))]).toEqual([
      'get /version',
    ]);

    const used = new Set<string>();
    const uncovered: string[] = [];
    for (const e of events.filter((e) => e.objectRef)) {
      const ref = e.objectRef!;
      const resource = ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource!;
      // Server-side apply that creates the object is authorized as patch and then as create.
      const verbs = e.verb === 'patch' && e.responseStatus?.code === 201 ? ['patch', 'create'] : [e.verb];
      for (const verb of verbs) {
        const attrs: RequestAttributes = {
          verb,
          apiGroup: ref.apiGroup ?? '',
          resource,
          namespace: ref.namespace,
          name: ref.name,
        };
        if (!permissionsFor(attrs, NS).length) uncovered.push(`${verb} ${e.requestURI}`);
        used.add(`${attrs.apiGroup}/${resource}:${verb}`);
      }
    }
    expect(uncovered).toEqual([]);
    // The federation controller's rows are declared ahead of it; every other request permission is used.
    const declared = PERMISSIONS.filter(
      (p) => p.checkedOn === 'request' && !p.usedBy.every((c) => c === 'federation'),
    ).flatMap((p) => p.resources.flatMap((r) => p.verbs.map((v) => `${p.apiGroup}/${r}:${v}`)));
    expect(declared.filter((k) => !used.has(k))).toEqual([]);
  }, 60_000);

  it('grants the operator nothing wider: no other verbs, no Secrets outside its namespace, no other roles to bind', async () => {
    const canI = async (args: string[]) =>
      (await cp.kubectl(['auth', 'can-i', ...args], { asToken: operatorToken })).stdout.trim();
    const granted = [
      ['patch', 'govtenants'],
      ['bind', 'clusterroles/secovia-tenant-admin'],
      ['watch', 'secrets', '-n', NS],
      ['create', 'leases', '-n', NS],
    ];
    const denied = [
      ['update', 'govtenants'],
      ['patch', 'govservices', '-n', 'default'],
      ['delete', 'deployments', '-n', 'default'],
      ['create', 'pods', '-n', 'default'],
      ['get', 'secrets', '-n', NS],
      ['watch', 'secrets', '-n', 'default'],
      ['list', 'secrets', '-A'],
      ['create', 'leases', '-n', 'kube-system'],
      ['bind', 'clusterroles/cluster-admin'],
      ['escalate', 'clusterroles'],
      ['create', 'clusterrolebindings'],
      ['impersonate', 'users'],
      ['deletecollection', 'namespaces'],
      ['*', '*'],
    ];
    for (const args of granted) expect([args, await canI(args)]).toEqual([args, 'yes']);
    for (const args of denied) expect([args, await canI(args)]).toEqual([args, 'no']);

    // The escalation check itself: a binding of a tenant role is allowed, of cluster-admin refused
    // (in the operator's own namespace: admission keeps it out of the others, below).
    const binding = (role: string, namespace = NS) =>
      JSON.stringify({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `try-${role}`, namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ kind: 'User', name: 'someone' }],
      });
    const apply = (role: string, namespace?: string) =>
      cp.kubectl(['create', '--dry-run=server', '-f', '-'], {
        input: binding(role, namespace),
        asToken: operatorToken,
      });
    expect((await apply('secovia-tenant-admin')).code).toBe(0);
    const refused = await apply('cluster-admin');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/forbidden/i);
    // What RBAC grants cluster-wide, the chart's confinement policy narrows to the operator's namespaces.
    const elsewhere = await apply('secovia-tenant-admin', 'kube-system');
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toContain(
      "ValidatingAdmissionPolicy 'secovia-operator-confinement' with binding 'secovia-operator-confinement' denied request",
    );
    expect(elsewhere.stderr).toContain('kube-system is neither');
  }, 60_000);

  it('lets each peer read exactly its own export ConfigMap and nothing else', async () => {
    for (const peer of ['mk-skopje', 'rs-belgrade']) {
      await kubectl([
        '-n',
        NS,
        'create',
        'configmap',
        `secovia-export-${peer}`,
        `--from-literal=member=${peer}`,
      ]);
    }
    const token = (
      await kubectl(['-n', NS, 'create', 'token', 'secovia-peer-mk-skopje', '--duration=10m'])
    ).trim();
    const asPeer = (args: string[]) => cp.kubectl(['-n', NS, ...args], { asToken: token });
    const own = await asPeer([
      'get',
      'configmap',
      'secovia-export-mk-skopje',
      '-o',
      'jsonpath={.data.member}',
    ]);
    expect(own.stdout).toBe('mk-skopje');
    for (const args of [
      ['get', 'configmap', 'secovia-export-rs-belgrade'],
      ['get', 'configmaps'],
      ['get', 'secrets'],
      ['get', 'govtenants'],
    ]) {
      const r = await asPeer(args);
      expect([args, r.code, r.stderr]).toEqual([args, 1, expect.stringMatching(/forbidden/i)]);
    }
  }, 60_000);
});
