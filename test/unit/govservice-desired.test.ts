/** Desired state of a GovService: the objects it owns, built from the sample catalog, as tables. */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { GovService, GovServiceClass, GovTenant } from '../../src/api/index.js';
import { govServiceClassSpec, govTenantSpec } from '../../src/api/index.js';
import type { Plan } from '../../src/controllers/govservice/checks.js';
import {
  imageRef,
  PARAMETERS_HASH,
  parametersHash,
  replicasToHold,
  serviceObjects,
  serviceUrl,
  type ServiceInputs,
  type ServiceSettings,
} from '../../src/controllers/govservice/desired.js';
import type { KubeObject } from '../../src/runtime/types.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- built objects are plain JSON, read by path */
type Json = Record<string, any>;

const SAMPLE = new URL('../../config/samples/gov_v1alpha1_govserviceclass.yaml', import.meta.url);
/** The catalog as the API server stores it: CRD defaults applied (the zod schema holds the same defaults). */
const catalog: GovServiceClass[] = parseAllDocuments(readFileSync(SAMPLE, 'utf8')).map((d) => {
  const raw = d.toJS() as GovServiceClass;
  return { ...raw, spec: govServiceClassSpec.parse(raw.spec) };
});
const cls = (name: string): GovServiceClass =>
  structuredClone(catalog.find((c) => c.metadata.name === name)!);
const planOf = (c: GovServiceClass, name: string): Plan => c.spec!.plans.find((p) => p.name === name)!;

const TENANTS = {
  'hu-budapest': { displayName: 'Budapest Főváros Önkormányzata', country: 'HU', level: 'municipal' },
  'mk-skopje': { displayName: 'Град Скопје', country: 'MK', level: 'municipal' },
  'gr-thessaloniki': { displayName: 'Δήμος Θεσσαλονίκης', country: 'GR', level: 'municipal' },
  'rs-mup': { displayName: 'Министарство унутрашњих послова', country: 'RS', level: 'national' },
} as const;
type TenantName = keyof typeof TENANTS;

function tenant(name: TenantName, extra: Record<string, unknown> = {}): GovTenant {
  const t = TENANTS[name];
  const spec = govTenantSpec.parse({
    ...t,
    environments: [{ name: 'prod' }, { name: 'test' }],
    dataResidency: { allowedCountries: [t.country], classification: 'confidential' },
    ...extra,
  });
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name, uid: `uid-${name}` },
    spec,
  };
}

function service(name: string, spec: Record<string, unknown>, namespace = 'hu-budapest-prod'): GovService {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovService',
    metadata: { name, namespace, uid: `uid-${namespace}-${name}`, generation: 1 },
    spec: { exposure: 'internal', ...spec } as GovService['spec'],
  };
}

const SETTINGS: ServiceSettings = {
  ingressClassName: 'nginx',
  ingressNamespace: 'ingress-nginx',
  tlsSecretSuffix: '-tls',
};

interface Build {
  className?: string;
  plan?: string;
  version?: string;
  exposure?: 'internal' | 'public' | 'federated';
  host?: string;
  parameters?: Record<string, unknown>;
  tenant?: GovTenant;
  settings?: Partial<ServiceSettings>;
  serviceClass?: GovServiceClass;
  name?: string;
}

function inputs(b: Build = {}): ServiceInputs {
  const c = b.serviceClass ?? cls(b.className ?? 'e-permits');
  const planName = b.plan ?? c.spec!.plans[0]!.name;
  const spec = {
    class: c.metadata.name,
    plan: planName,
    exposure: b.exposure ?? 'internal',
    ...(b.host ? { host: b.host } : {}),
    ...(b.version ? { version: b.version } : {}),
    parameters: b.parameters ?? { municipalityCode: '1011' },
  };
  return {
    service: service(b.name ?? 'permits', spec),
    serviceClass: c,
    tenant: b.tenant ?? tenant('hu-budapest'),
    version: b.version ?? c.spec!.versions.at(-1)!,
    plan: planOf(c, planName),
    settings: { ...SETTINGS, ...b.settings },
  };
}

const build = (b: Build = {}): KubeObject[] => serviceObjects(inputs(b));
const kinds = (objs: KubeObject[]): string[] => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
const find = (objs: KubeObject[], kind: string): Json | undefined => objs.find((o) => o.kind === kind);
const one = (objs: KubeObject[], kind: string): Json => {
  const o = find(objs, kind);
  if (!o) throw new Error(`no ${kind} among ${kinds(objs).join(', ')}`);
  return o;
};
const pod = (objs: KubeObject[]): Json => one(objs, 'Deployment').spec.template;
const app = (objs: KubeObject[]): Json => pod(objs).spec.containers[0];

const CORE = [
  'ConfigMap/permits-parameters',
  'Deployment/permits',
  'Service/permits',
  'ServiceAccount/permits',
];
const EXPOSED = ['Ingress/permits', 'NetworkPolicy/permits-ingress-controller'];
const HPA = ['HorizontalPodAutoscaler/permits'];
const PDB = ['PodDisruptionBudget/permits'];
const suspended = tenant('hu-budapest', { suspended: true });

describe('serviceObjects: which objects', () => {
  it.each<[string, Build, string[]]>([
    ['fixed plan, internal', { plan: 'small' }, [...CORE, ...PDB]],
    [
      'fixed plan, public',
      { plan: 'small', exposure: 'public', host: 'permits.budapest.example' },
      [...CORE, ...EXPOSED, ...PDB],
    ],
    [
      'fixed plan, federated',
      { plan: 'small', exposure: 'federated', host: 'permits.budapest.example' },
      [...CORE, ...EXPOSED, ...PDB],
    ],
    ['autoscaling plan, internal', { plan: 'large' }, [...CORE, ...HPA, ...PDB]],
    [
      'autoscaling plan, public',
      { plan: 'large', exposure: 'public', host: 'permits.budapest.example' },
      [...CORE, ...EXPOSED, ...HPA, ...PDB],
    ],
    ['fixed plan, suspended tenant', { plan: 'small', tenant: suspended }, CORE],
    ['autoscaling plan, suspended tenant', { plan: 'large', tenant: suspended }, CORE],
    [
      'public, suspended tenant: still routed, nothing scaled',
      { plan: 'large', tenant: suspended, exposure: 'public', host: 'permits.budapest.example' },
      [...CORE, ...EXPOSED],
    ],
    [
      'public without host (refused by the checks): no Ingress',
      { plan: 'small', exposure: 'public' },
      [...CORE, ...PDB],
    ],
  ])('%s', (_what, b, expected) => {
    expect(kinds(build(b))).toEqual([...expected].sort());
  });

  it.each<[string, Plan, string[]]>([
    ['one fixed replica: no budget that would block every drain', { name: 'solo', replicas: 1 }, CORE],
    ['two fixed replicas: a budget', { name: 'pair', replicas: 2 }, [...CORE, ...PDB]],
    [
      'autoscaling from one: HPA, no budget',
      { name: 'burst', autoscaling: { minReplicas: 1, maxReplicas: 4, cpuUtilization: 60 } },
      [...CORE, ...HPA],
    ],
    [
      'autoscaling from two: HPA and budget',
      { name: 'ha', autoscaling: { minReplicas: 2, maxReplicas: 4, cpuUtilization: 60 } },
      [...CORE, ...HPA, ...PDB],
    ],
  ])('%s', (_what, plan, expected) => {
    const c = cls('e-permits');
    c.spec!.plans = [plan];
    expect(kinds(build({ serviceClass: c, plan: plan.name }))).toEqual([...expected].sort());
  });

  it('returns the same objects for the same inputs (no clock, no randomness)', () => {
    const b: Build = { plan: 'large', exposure: 'federated', host: 'permits.budapest.example' };
    expect(build(b)).toEqual(build(b));
  });
});

describe('serviceObjects: replicas and scaling', () => {
  it.each<[string, Build, number | undefined]>([
    ['e-permits small', { plan: 'small' }, 2],
    ['identity ha', { className: 'identity', plan: 'ha' }, 3],
    ['civil-registry standard', { className: 'civil-registry', plan: 'standard' }, 3],
    ['e-permits large (HPA owns replicas)', { plan: 'large' }, undefined],
    ['payments elastic (HPA owns replicas)', { className: 'payments', plan: 'elastic' }, undefined],
    ['e-permits small, suspended', { plan: 'small', tenant: suspended }, 0],
    ['e-permits large, suspended', { plan: 'large', tenant: suspended }, 0],
  ])('%s: replicas %s', (_what, b, replicas) => {
    const spec = one(build(b), 'Deployment').spec;
    if (replicas === undefined) expect(spec).not.toHaveProperty('replicas');
    else expect(spec.replicas).toBe(replicas);
  });

  it.each<[string, Build, number, number, number]>([
    ['e-permits large', { plan: 'large' }, 3, 10, 70],
    ['e-delivery standard', { className: 'e-delivery', plan: 'standard' }, 2, 6, 75],
    ['payments elastic (schema default 80 %)', { className: 'payments', plan: 'elastic' }, 2, 12, 80],
  ])('%s: HPA %s..%s at %s %% CPU', (_what, b, min, max, cpu) => {
    const objs = build(b);
    expect(one(objs, 'HorizontalPodAutoscaler')).toMatchObject({
      apiVersion: 'autoscaling/v2',
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'permits' },
        minReplicas: min,
        maxReplicas: max,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } },
          },
        ],
      },
    });
  });

  const delivery: Build = { className: 'e-delivery', plan: 'standard' };
  const live = (replicas?: number, autoscalerExists = false) => ({ replicas, autoscalerExists });
  it.each<[string, number | undefined, Build, ReturnType<typeof live>]>([
    ['e-delivery standard, created', 2, delivery, live()],
    ['e-permits large, created', 3, { plan: 'large' }, live()],
    ['e-delivery standard, resumed from zero', 2, delivery, live(0)],
    ['e-permits large, from a fixed plan of 5', 5, { plan: 'large' }, live(5)],
    ['e-delivery standard, from a fixed plan of 8 (its maximum is 6)', 6, delivery, live(8)],
    ['e-delivery standard, once the HPA exists', undefined, delivery, live(1, true)],
    ['e-permits small (fixed)', undefined, { plan: 'small' }, live()],
    ['e-permits large, suspended', undefined, { plan: 'large', tenant: suspended }, live(3)],
  ])('%s: replicas held at %p until the HPA exists', (_what, held, b, l) => {
    expect(replicasToHold(inputs(b), l)).toBe(held);
  });

  it('defaults the CPU target to 80 % when a stored plan has none', () => {
    const c = cls('payments');
    delete (planOf(c, 'elastic').autoscaling as { cpuUtilization?: number }).cpuUtilization;
    const hpa = one(build({ serviceClass: c, plan: 'elastic' }), 'HorizontalPodAutoscaler');
    expect(hpa.spec.metrics[0].resource.target.averageUtilization).toBe(80);
  });

  it('budgets one unavailable pod, on the stable selector', () => {
    expect(one(build({ plan: 'small' }), 'PodDisruptionBudget')).toMatchObject({
      apiVersion: 'policy/v1',
      spec: {
        maxUnavailable: 1,
        selector: {
          matchLabels: { 'app.kubernetes.io/name': 'e-permits', 'app.kubernetes.io/instance': 'permits' },
        },
      },
    });
  });

  it('rolls out one extra pod at a time and never below the wanted count', () => {
    const spec = one(build(), 'Deployment').spec;
    expect(spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
    expect(spec.revisionHistoryLimit).toBe(5);
    expect(pod(build()).spec.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: spec.selector.matchLabels },
      },
    ]);
  });
});

describe('serviceObjects: the restricted pod', () => {
  const cases: [string, Build][] = [
    ['e-permits small', { plan: 'small' }],
    ['e-permits large', { plan: 'large' }],
    ['e-delivery standard', { className: 'e-delivery', plan: 'standard' }],
    ['identity ha, suspended', { className: 'identity', plan: 'ha', tenant: suspended }],
  ];

  it.each(cases)('%s: pod security context is complete', (_what, b) => {
    const spec = pod(build(b)).spec;
    expect(spec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.serviceAccountName).toBe('permits');
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.enableServiceLinks).toBe(false);
    expect(spec.containers).toHaveLength(1);
    expect(spec).not.toHaveProperty('hostNetwork');
    expect(spec).not.toHaveProperty('hostPID');
  });

  it.each(cases)('%s: container security context is complete', (_what, b) => {
    expect(app(build(b)).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('gives the service account no token', () => {
    expect(one(build(), 'ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  it('mounts the parameters read-only and a writable /tmp, since the root filesystem is read-only', () => {
    const objs = build();
    expect(app(objs).volumeMounts).toEqual([
      { name: 'parameters', mountPath: '/etc/secovia', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    expect(pod(objs).spec.volumes).toEqual([
      { name: 'parameters', configMap: { name: 'permits-parameters' } },
      { name: 'tmp', emptyDir: {} },
    ]);
  });

  it.each<[string, Build, number, string]>([
    ['e-permits', { className: 'e-permits' }, 8080, '/healthz'],
    ['e-delivery', { className: 'e-delivery' }, 8443, '/actuator/health'],
    ['civil-registry (schema defaults)', { className: 'civil-registry' }, 8080, '/healthz'],
  ])('%s listens on %s and is probed on %s', (_what, b, port, path) => {
    const c = app(build(b));
    expect(c.name).toBe('app');
    expect(c.ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      expect(probe.httpGet).toEqual({ path, port: 'http' });
      expect(probe.periodSeconds).toBeGreaterThan(0);
      expect(probe.timeoutSeconds).toBeGreaterThan(0);
      expect(probe.failureThreshold).toBeGreaterThan(0);
    }
    expect(c.livenessProbe.initialDelaySeconds).toBeGreaterThan(c.readinessProbe.initialDelaySeconds);
  });

  it.each<[string, Plan['resources'], unknown]>([
    ['cpu and memory', { cpu: '250m', memory: '256Mi' }, { cpu: '250m', memory: '256Mi' }],
    ['whole cpus written as a number', { cpu: 2, memory: '1Gi' }, { cpu: '2', memory: '1Gi' }],
    ['memory only', { memory: '512Mi' }, { memory: '512Mi' }],
  ])('resources with %s: requests equal limits', (_what, resources, expected) => {
    const c = cls('e-permits');
    c.spec!.plans = [{ name: 'custom', replicas: 2, resources }];
    const r = app(build({ serviceClass: c, plan: 'custom' })).resources;
    expect(r).toEqual({ requests: expected, limits: expected });
  });

  it('leaves resources to the LimitRange when the plan has none', () => {
    const c = cls('e-permits');
    c.spec!.plans = [{ name: 'bare', replicas: 2 }];
    expect(app(build({ serviceClass: c, plan: 'bare' }))).not.toHaveProperty('resources');
  });

  it.each<[TenantName, string, string]>([
    ['hu-budapest', 'HU', 'internal'],
    ['mk-skopje', 'MK', 'confidential'],
    ['gr-thessaloniki', 'GR', 'public'],
    ['rs-mup', 'RS', 'restricted'],
  ])('tells the %s pods their tenant, country and classification', (name, country, classification) => {
    const t = tenant(name, { dataResidency: { allowedCountries: [country], classification } });
    const env = Object.fromEntries(app(build({ tenant: t })).env.map((e: Json) => [e.name, e.value]));
    expect(env).toMatchObject({
      SECOVIA_TENANT: name,
      SECOVIA_COUNTRY: country,
      SECOVIA_CLASSIFICATION: classification,
      SECOVIA_PARAMETERS_FILE: '/etc/secovia/parameters.json',
    });
  });
});

describe('serviceObjects: the node pool', () => {
  it("carries the tenant's node pool selector, and none without a pool", () => {
    const pool = { 'pool.budapest.example/tenant': 'hu-budapest', 'topology.kubernetes.io/zone': 'hu-1' };
    const pooled = tenant('hu-budapest', { workloads: { nodeSelector: pool } });
    expect(pod(build({ tenant: pooled })).spec.nodeSelector).toEqual(pool);
    expect(pod(build({})).spec.nodeSelector).toBeUndefined();
  });
});

describe('imageRef', () => {
  const pinned = 'sha256:4f5a0d4c1e0b8a6f2c9d3e7b1a5c8f0e2d4b6a8c0e1f3a5b7c9d2e4f6a8b0c1d';
  it.each([
    ['e-permits', '2.4.0', `registry.example.eu/secovia/e-permits@${pinned}`],
    ['e-permits', '2.3.1', 'registry.example.eu/secovia/e-permits:2.3.1'],
    ['payments', '3.1.0', 'registry.example.eu/secovia/payments:3.1.0'],
    ['identity', '4.2.0', 'registry.example.eu/secovia/identity:4.2.0'],
  ])('%s %s runs %s', (name, version, expected) => {
    expect(imageRef(cls(name), version)).toBe(expected);
    expect(app(build({ className: name, version })).image).toBe(expected);
  });

  it('pins by digest, not tag, so that a mirrored image is the same bytes', () => {
    expect(imageRef(cls('e-permits'), '2.4.0')).not.toContain(':2.4.0');
  });
});

describe('labels, selectors and owner references', () => {
  const everything: Build = { plan: 'large', exposure: 'federated', host: 'permits.budapest.example' };

  it.each(build(everything).map((o) => [`${o.kind}/${o.metadata.name}`, o] as const))(
    '%s: namespace, labels and owner reference',
    (_what, o) => {
      expect(o.metadata.namespace).toBe('hu-budapest-prod');
      expect(o.metadata.labels).toEqual({
        'app.kubernetes.io/managed-by': 'secovia-operator',
        'gov.secovia.eu/tenant': 'hu-budapest',
        'app.kubernetes.io/name': 'e-permits',
        'app.kubernetes.io/instance': 'permits',
        'app.kubernetes.io/version': '2.4.0',
        'gov.secovia.eu/service': 'permits',
      });
      expect(o.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'gov.secovia.eu/v1alpha1',
          kind: 'GovService',
          name: 'permits',
          uid: 'uid-hu-budapest-prod-permits',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    },
  );

  /** Every label selector among the objects, by where it is. */
  function selectors(objs: KubeObject[]): Record<string, unknown> {
    return {
      deployment: one(objs, 'Deployment').spec.selector,
      spread: pod(objs).spec.topologySpreadConstraints[0].labelSelector,
      service: one(objs, 'Service').spec.selector,
      budget: one(objs, 'PodDisruptionBudget').spec.selector,
      policy: one(objs, 'NetworkPolicy').spec.podSelector,
    };
  }

  it('keeps every selector equal across versions, and free of the version', () => {
    const older = build({ ...everything, version: '2.3.1' });
    const newer = build({ ...everything, version: '2.4.0' });
    expect(selectors(older)).toEqual(selectors(newer));
    expect(JSON.stringify(selectors(newer))).not.toContain('version');
    expect(one(newer, 'Service').spec.selector).toEqual({
      'app.kubernetes.io/name': 'e-permits',
      'app.kubernetes.io/instance': 'permits',
    });
  });

  it('labels the pods like the objects, version included, so that the selectors match them', () => {
    for (const version of ['2.3.1', '2.4.0']) {
      const objs = build({ ...everything, version });
      const podLabels = pod(objs).metadata.labels;
      expect(podLabels).toEqual(one(objs, 'Deployment').metadata.labels);
      expect(podLabels['app.kubernetes.io/version']).toBe(version);
      expect(podLabels).toMatchObject(one(objs, 'Deployment').spec.selector.matchLabels);
    }
  });

  it('keeps the selector when the parameters or the tenant suspension change', () => {
    const base = selectors(build(everything));
    const changed = build({ ...everything, parameters: { municipalityCode: '9999' } });
    expect(selectors(changed)).toEqual(base);
    expect(one(build({ ...everything, tenant: suspended }), 'Deployment').spec.selector).toEqual(
      base.deployment,
    );
  });
});

describe('Service, Ingress and NetworkPolicy', () => {
  it('serves port 80 on the named container port, inside the cluster only', () => {
    expect(one(build(), 'Service').spec).toEqual({
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': 'e-permits', 'app.kubernetes.io/instance': 'permits' },
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    });
  });

  it.each<['public' | 'federated', string, Partial<ServiceSettings>, string]>([
    ['public', 'permits.budapest.example', {}, 'permits-tls'],
    [
      'federated',
      'dozvole.skopje.example',
      { ingressClassName: 'haproxy', tlsSecretSuffix: '-cert' },
      'permits-cert',
    ],
  ])('%s on %s: Ingress with the configured class and TLS secret', (exposure, host, settings, secret) => {
    const ing = one(build({ exposure, host, settings }), 'Ingress');
    expect(ing.apiVersion).toBe('networking.k8s.io/v1');
    expect(ing.spec).toEqual({
      ingressClassName: settings.ingressClassName ?? 'nginx',
      tls: [{ hosts: [host], secretName: secret }],
      rules: [
        {
          host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'permits', port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    });
  });

  it.each<[string, Build, number, string]>([
    ['e-permits from ingress-nginx', { exposure: 'public', host: 'p.example' }, 8080, 'ingress-nginx'],
    [
      'e-delivery from a custom namespace',
      {
        className: 'e-delivery',
        exposure: 'federated',
        host: 'd.example',
        settings: { ingressNamespace: 'traefik' },
      },
      8443,
      'traefik',
    ],
  ])('NetworkPolicy for %s: only the ingress controller, only the container port', (_what, b, port, ns) => {
    expect(one(build(b), 'NetworkPolicy').spec).toEqual({
      podSelector: {
        matchLabels: {
          'app.kubernetes.io/name': b.className ?? 'e-permits',
          'app.kubernetes.io/instance': 'permits',
        },
      },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } }],
          ports: [{ protocol: 'TCP', port }],
        },
      ],
    });
  });

  it('places nothing outside the namespace of the service', () => {
    const i = inputs({ exposure: 'public', host: 'p.example' });
    i.service.metadata.namespace = 'mk-skopje-test';
    for (const o of serviceObjects(i)) expect(o.metadata.namespace).toBe('mk-skopje-test');
  });
});

describe('serviceUrl', () => {
  it.each<[string, Record<string, unknown>, string, string | undefined]>([
    ['internal', {}, 'hu-budapest-prod', 'http://permits.hu-budapest-prod.svc.cluster.local'],
    [
      'internal with a host (unused)',
      { host: 'p.example' },
      'mk-skopje-test',
      'http://permits.mk-skopje-test.svc.cluster.local',
    ],
    [
      'public',
      { exposure: 'public', host: 'permits.budapest.example' },
      'hu-budapest-prod',
      'https://permits.budapest.example',
    ],
    [
      'federated',
      { exposure: 'federated', host: 'dozvole.skopje.example' },
      'mk-skopje-prod',
      'https://dozvole.skopje.example',
    ],
    ['public without host', { exposure: 'public' }, 'hu-budapest-prod', undefined],
  ])('%s', (_what, spec, ns, url) => {
    expect(serviceUrl(service('permits', { class: 'e-permits', plan: 'small', ...spec }, ns))).toBe(url);
  });
});

describe('parameters', () => {
  const withParams = (parameters?: Record<string, unknown>): GovService =>
    service('permits', { class: 'e-permits', plan: 'small', ...(parameters ? { parameters } : {}) });
  const base = { municipalityCode: '1011', permitTypes: ['renovation', 'demolition'], maxAttachmentMiB: 50 };

  it.each<[string, Record<string, unknown>]>([
    ['the same parameters', { ...base }],
    [
      'the keys in another order',
      { maxAttachmentMiB: 50, permitTypes: ['renovation', 'demolition'], municipalityCode: '1011' },
    ],
  ])('keeps the hash for %s', (_what, parameters) => {
    expect(parametersHash(withParams(parameters))).toBe(parametersHash(withParams(base)));
  });

  it.each<[string, Record<string, unknown> | undefined]>([
    ['another value', { ...base, maxAttachmentMiB: 60 }],
    ['a key more', { ...base, contact: 'építés@budapest.example' }],
    ['a key less', { municipalityCode: '1011', permitTypes: ['renovation', 'demolition'] }],
    ['the list in another order (order is meaning)', { ...base, permitTypes: ['demolition', 'renovation'] }],
    ['a number written as a string', { ...base, maxAttachmentMiB: '50' }],
    ['no parameters at all', undefined],
  ])('changes the hash for %s', (_what, parameters) => {
    expect(parametersHash(withParams(parameters))).not.toBe(parametersHash(withParams(base)));
  });

  it('hashes no parameters like empty parameters', () => {
    expect(parametersHash(withParams(undefined))).toBe(parametersHash(withParams({})));
  });

  it('ignores key order at any depth (property)', () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json), (params) => {
        const reversed = reverseKeys(params) as Record<string, unknown>;
        expect(parametersHash(withParams(reversed))).toBe(parametersHash(withParams(params)));
      }),
    );
  });

  it('puts the hash on the pod template, so that a parameter change rolls the pods', () => {
    const before = build({ parameters: base });
    const after = build({ parameters: { ...base, maxAttachmentMiB: 100 } });
    const annotation = (objs: KubeObject[]) => pod(objs).metadata.annotations[PARAMETERS_HASH];
    expect(PARAMETERS_HASH).toBe('gov.secovia.eu/parameters-hash');
    expect(annotation(before)).toBe(parametersHash(withParams(base)));
    expect(annotation(after)).not.toBe(annotation(before));
    expect(annotation(build({ parameters: { ...base } }))).toBe(annotation(before));
  });

  it('writes them to the ConfigMap as pretty JSON with sorted keys, every script untouched', () => {
    const parameters = {
      senderName: 'Општина Битола',
      channels: ['portal', 'email'],
      retentionDays: 365,
      signature: { title: 'Δήμαρχος', name: 'Kovács Ádám' },
    };
    const cm = one(build({ className: 'e-delivery', parameters }), 'ConfigMap');
    const text: string = cm.data['parameters.json'];
    expect(Object.keys(cm.data)).toEqual(['parameters.json']);
    expect(JSON.parse(text)).toEqual(parameters);
    expect(text).toBe(
      JSON.stringify(
        {
          channels: ['portal', 'email'],
          retentionDays: 365,
          senderName: 'Општина Битола',
          signature: { name: 'Kovács Ádám', title: 'Δήμαρχος' },
        },
        null,
        2,
      ),
    );
  });
});

function reverseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (v === null || typeof v !== 'object') return v;
  const entries = Object.entries(v as Record<string, unknown>).reverse();
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries)
    Object.defineProperty(out, k, {
      value: reverseKeys(x),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}
