/**
 * The operator's cache transforms keep every field it writes (the apply path compares them with the
 * desired state) and every field it reads, and drop the rest: checked on every object it applies,
 * as the API server returns it (server metadata, defaults it does not write, statuses of others).
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { GovServiceClass, GovTenant } from '../../src/api/index.js';
import { govServiceClassSpec, govTenantSpec } from '../../src/api/index.js';
import { cacheTransforms, operatorIdentity } from '../../src/controllers/index.js';
import { APPLIED_HASH } from '../../src/controllers/labels.js';
import { resourceFor, resources } from '../../src/controllers/resources.js';
import type { Peer } from '../../src/controllers/federation/exchange.js';
import { credentialsFrom } from '../../src/controllers/federation/peers.js';
import { serviceObjects } from '../../src/controllers/govservice/desired.js';
import { environmentObjects, tenantNamespace } from '../../src/controllers/govtenant/desired.js';
import { isSubset, withAppliedHash } from '../../src/runtime/apply.js';
import type { KubeClient } from '../../src/runtime/kube.js';
import { rootLogger } from '../../src/runtime/log.js';
import { Manager } from '../../src/runtime/manager.js';
import { defaultTransform, pipe } from '../../src/runtime/transform.js';
import type { KubeObject } from '../../src/runtime/types.js';

const SAMPLE = new URL('../../config/samples/gov_v1alpha1_govserviceclass.yaml', import.meta.url);
const permits: GovServiceClass = parseAllDocuments(readFileSync(SAMPLE, 'utf8'))
  .map((d) => d.toJS() as GovServiceClass)
  .map((c) => ({ ...c, spec: govServiceClassSpec.parse(c.spec) }))
  .find((c) => c.metadata.name === 'e-permits')!;

const tenant: GovTenant = {
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovTenant',
  metadata: { name: 'mk-skopje', uid: 'uid-mk-skopje' },
  spec: govTenantSpec.parse({
    displayName: 'Град Скопје',
    country: 'MK',
    level: 'municipal',
    environments: [{ name: 'prod' }],
    quota: { cpu: '8', memory: '16Gi', pods: 50 },
    limits: { defaultCpu: '250m', defaultMemory: '256Mi' },
    access: { admins: [{ kind: 'Group', name: 'skopje-it' }] },
    network: { allowFromTenants: ['hu-budapest'] },
    dataResidency: { allowedCountries: ['MK'], classification: 'internal' },
  }),
};

const autoscaledPlan = permits.spec!.plans.find((p) => p.autoscaling)!;
/** Every kind the operator applies: a tenant's environment, and a public autoscaled service in it. */
const applied: KubeObject[] = [
  tenantNamespace(tenant, 'prod', { createdBy: 'uid-mk-skopje' }),
  ...environmentObjects(tenant, tenant.spec!.environments[0]!, {
    settings: { ingressNamespace: 'ingress-nginx' },
    exposedPorts: [8080],
  }),
  ...serviceObjects({
    service: {
      apiVersion: 'gov.secovia.eu/v1alpha1',
      kind: 'GovService',
      metadata: { name: 'permits', namespace: 'mk-skopje-prod', uid: 'uid-permits', generation: 1 },
      spec: {
        class: 'e-permits',
        plan: autoscaledPlan.name,
        exposure: 'public',
        host: 'permits.skopje.example',
      },
    },
    serviceClass: permits,
    tenant,
    version: permits.spec!.versions.at(-1)!,
    plan: autoscaledPlan,
    settings: { ingressClassName: 'nginx', ingressNamespace: 'ingress-nginx', tlsSecretSuffix: '-tls' },
  }),
];

const condition = (type: string, reason: string) => ({
  type,
  status: 'True',
  reason,
  message: `${type} for a while`,
  lastUpdateTime: '2026-01-02T03:04:05Z',
  lastTransitionTime: '2026-01-02T03:04:05Z',
});

/** What the API server, the controllers of kube-controller-manager and an ingress controller add. */
const SERVER_SIDE: Record<string, Record<string, unknown>> = {
  Namespace: { spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } },
  ResourceQuota: { status: { hard: { pods: '50' }, used: { pods: '3' } } },
  Deployment: {
    status: {
      observedGeneration: 3,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 1,
      availableReplicas: 1,
      unavailableReplicas: 1,
      conditions: [
        condition('Available', 'MinimumReplicasAvailable'),
        condition('Progressing', 'NewReplicaSetAvailable'),
      ],
    },
  },
  Service: { status: { loadBalancer: {} } },
  Ingress: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } },
  HorizontalPodAutoscaler: {
    status: {
      currentReplicas: 2,
      desiredReplicas: 2,
      conditions: [condition('AbleToScale', 'ReadyForNewScale')],
    },
  },
  PodDisruptionBudget: {
    status: {
      currentHealthy: 1,
      desiredHealthy: 1,
      disruptionsAllowed: 0,
      expectedPods: 2,
      observedGeneration: 1,
    },
  },
};

/** The object as the API server returns it after our apply: ours, its metadata, others' fields. */
function served(desired: KubeObject): KubeObject {
  const ours = structuredClone(withAppliedHash(desired, APPLIED_HASH));
  return {
    ...ours,
    metadata: {
      ...ours.metadata,
      uid: `uid-${ours.kind}-${ours.metadata.name}`,
      resourceVersion: '4711',
      creationTimestamp: '2026-01-02T03:04:05Z',
      managedFields: [{ manager: 'secovia-operator', operation: 'Apply', fieldsV1: { 'f:metadata': {} } }],
    } as KubeObject['metadata'],
    ...SERVER_SIDE[ours.kind],
  };
}

/** What an informer of the object's kind stores. */
function cached(obj: KubeObject): KubeObject {
  const transform = cacheTransforms.get(resourceFor(obj.apiVersion, obj.kind));
  return transform ? pipe(defaultTransform, transform)(obj) : defaultTransform(obj);
}

describe('cacheTransforms', () => {
  it('covers every kind the operator applies', () => {
    expect([...new Set(applied.map((o) => o.kind))].sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Ingress',
      'LimitRange',
      'Namespace',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'ResourceQuota',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
  });

  it.each(applied.map((o) => [`${o.kind} ${o.metadata.name}`, o] as const))(
    'keeps every field the operator writes: %s is found unchanged and not applied again',
    (_name, desired) => {
      const live = cached(served(desired));
      expect(isSubset(withAppliedHash(desired, APPLIED_HASH), live)).toBe(true);
      expect(live.metadata).not.toHaveProperty('managedFields');
      expect(live.metadata.resourceVersion).toBe('4711');
    },
  );

  it('keeps what the controllers read of statuses and drops the statuses nobody reads', () => {
    const byKind = new Map(applied.map((o) => [o.kind, cached(served(o))]));
    expect(byKind.get('ResourceQuota')!.status).toEqual(SERVER_SIDE.ResourceQuota!.status);
    expect(byKind.get('Deployment')!.status).toEqual({
      observedGeneration: 3,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 1,
      conditions: (SERVER_SIDE.Deployment!.status as { conditions: unknown }).conditions,
    });
    for (const kind of ['Namespace', 'Service', 'Ingress', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'])
      expect(byKind.get(kind)).not.toHaveProperty('status');
    expect(byKind.get('Namespace')).not.toHaveProperty('spec');
  });

  it('keeps the data of Secrets that peer credentials are read from, not that of Helm releases', () => {
    const pem = readFileSync(new URL('../fixtures/certs/peer-client.crt', import.meta.url), 'utf8');
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: hu, cluster: {server: "https://192.0.2.1:6443", certificate-authority-data: ${Buffer.from(pem).toString('base64')}}}]`,
      'users: [{name: peer, user: {token: a-token}}]',
      'contexts: [{name: hu, context: {cluster: hu, user: peer}}]',
      'current-context: hu',
    ].join('\n');
    const secret = (name: string, type: string, data: Record<string, string>): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: 'secovia-system', resourceVersion: '9' },
      type,
      data,
    });
    const peer = {
      kubeconfigSecretRef: { namespace: 'secovia-system', name: 'hu-central', key: 'kubeconfig' },
    };
    const credentials = secret('hu-central', 'Opaque', {
      kubeconfig: Buffer.from(kubeconfig).toString('base64'),
    });
    const read = credentialsFrom(peer as Peer, cached(credentials));
    expect(read).toEqual(credentialsFrom(peer as Peer, credentials));
    expect(read).toMatchObject({ access: { server: 'https://192.0.2.1:6443', token: 'a-token' } });
    const release = cached(
      secret('sh.helm.release.v1.secovia-operator.v3', 'helm.sh/release.v1', { release: 'H4sI' }),
    );
    expect(release).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'sh.helm.release.v1.secovia-operator.v3',
        namespace: 'secovia-system',
        resourceVersion: '9',
      },
    });
  });

  it('gives every informer of a kind, whatever its selector, the one transform of that kind', () => {
    const manager = new Manager({
      ...operatorIdentity,
      client: {} as KubeClient,
      logger: rootLogger,
      namespace: 'secovia-system',
      identity: 'test',
      leaderElection: false,
      metricsPort: 0,
      healthPort: 0,
      transforms: cacheTransforms,
    });
    const namespaces = manager.informer(resources.Namespace);
    expect(manager.informer(resources.Namespace)).toBe(namespaces);
    expect(namespaces.opts.transform).toBe(cacheTransforms.get(resources.Namespace));
    expect(manager.informer(resources.Deployment, 'a=b').opts.transform).toBe(
      cacheTransforms.get(resources.Deployment),
    );
    expect(manager.informer(resources.GovTenant).opts.transform).toBeUndefined();
  });
});
