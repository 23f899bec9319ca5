/** Pure desired state of a GovService: a hardened workload and what exposes and protects it. */
import type { GovService, GovServiceClass, GovTenant } from '../../api/index.js';
import { hashOf } from '../../runtime/apply.js';
import type { KubeObject } from '../../runtime/types.js';
import { APP_INSTANCE, APP_NAME, APP_VERSION, MANAGED_BY, OPERATOR, SERVICE, TENANT } from '../labels.js';
import type { Plan } from './checks.js';

export interface ServiceSettings {
  ingressClassName: string;
  ingressNamespace: string;
  /** The TLS secret of an Ingress is `<service><suffix>` (for example issued by cert-manager). */
  tlsSecretSuffix: string;
}

export interface ServiceInputs {
  service: GovService;
  serviceClass: GovServiceClass;
  tenant: GovTenant;
  version: string;
  plan: Plan;
  settings: ServiceSettings;
}

export const PARAMETERS_HASH = 'gov.secovia.eu/parameters-hash';
const UID = 10001;

/** Pinned by digest where the class gives one, so that images can be mirrored to a sovereign registry. */
export function imageRef(serviceClass: GovServiceClass, version: string): string {
  const digest = serviceClass.spec!.digests?.[version];
  return digest ? `${serviceClass.spec!.image}@${digest}` : `${serviceClass.spec!.image}:${version}`;
}

export function serviceUrl(service: GovService): string {
  const { exposure, host } = service.spec!;
  if (exposure !== 'internal' && host) return `https://${host}`;
  return `http://${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`;
}

/** Sorted keys: equal parameters always give the same text, hence the same hash. */
function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sort(value), null, 2);
}

export const parametersJson = (service: GovService): string => stableJson(service.spec!.parameters ?? {});
export const parametersHash = (service: GovService): string => hashOf(parametersJson(service));

const selectorLabels = (i: ServiceInputs): Record<string, string> => ({
  [APP_NAME]: i.serviceClass.metadata.name,
  [APP_INSTANCE]: i.service.metadata.name,
});

function labels(i: ServiceInputs): Record<string, string> {
  return {
    ...selectorLabels(i),
    [MANAGED_BY]: OPERATOR,
    [TENANT]: i.tenant.metadata.name,
    [APP_VERSION]: i.version,
    [SERVICE]: i.service.metadata.name,
  };
}

function meta(i: ServiceInputs, name = i.service.metadata.name): KubeObject['metadata'] {
  const s = i.service;
  return {
    name,
    namespace: s.metadata.namespace,
    labels: labels(i),
    ownerReferences: [
      {
        apiVersion: s.apiVersion,
        kind: s.kind,
        name: s.metadata.name,
        uid: s.metadata.uid ?? '',
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}

const suspended = (i: ServiceInputs): boolean => !!i.tenant.spec!.suspended;
const minReplicas = (p: Plan): number => p.replicas ?? p.autoscaling?.minReplicas ?? 1;

function container(i: ServiceInputs): Record<string, unknown> {
  const r = i.plan.resources;
  const resources = r ? { cpu: String(r.cpu), memory: String(r.memory) } : undefined;
  const probe = (initialDelaySeconds: number) => ({
    httpGet: { path: i.serviceClass.spec!.healthPath ?? '/healthz', port: 'http' },
    initialDelaySeconds,
    periodSeconds: 10,
    timeoutSeconds: 3,
    failureThreshold: 3,
  });
  return {
    name: 'app',
    image: imageRef(i.serviceClass, i.version),
    ports: [{ name: 'http', containerPort: i.serviceClass.spec!.port ?? 8080, protocol: 'TCP' }],
    env: [
      { name: 'SECOVIA_TENANT', value: i.tenant.metadata.name },
      { name: 'SECOVIA_COUNTRY', value: i.tenant.spec!.country },
      { name: 'SECOVIA_CLASSIFICATION', value: i.tenant.spec!.dataResidency.classification ?? 'internal' },
      { name: 'SECOVIA_PARAMETERS_FILE', value: '/etc/secovia/parameters.json' },
    ],
    // Without plan resources the namespace's LimitRange defaults apply.
    ...(resources ? { resources: { requests: resources, limits: resources } } : {}),
    readinessProbe: probe(5),
    livenessProbe: probe(15),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: 'parameters', mountPath: '/etc/secovia', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

function deployment(i: ServiceInputs): KubeObject {
  const name = i.service.metadata.name;
  // With an HPA the replica count is the HPA's: leaving it out of the applied fields avoids a tug of war.
  const replicas = suspended(i) ? { replicas: 0 } : i.plan.autoscaling ? {} : { replicas: i.plan.replicas };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(i),
    spec: {
      ...replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(i) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: labels(i), annotations: { [PARAMETERS_HASH]: parametersHash(i.service) } },
        spec: {
          serviceAccountName: name,
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: UID,
            runAsGroup: UID,
            fsGroup: UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [container(i)],
          volumes: [
            { name: 'parameters', configMap: { name: `${name}-parameters` } },
            { name: 'tmp', emptyDir: {} },
          ],
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selectorLabels(i) },
            },
          ],
        },
      },
    },
  };
}

function exposure(i: ServiceInputs): KubeObject[] {
  const { exposure: how, host } = i.service.spec!;
  if (how === 'internal' || !host) return [];
  const name = i.service.metadata.name;
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: meta(i),
      spec: {
        ingressClassName: i.settings.ingressClassName,
        tls: [{ hosts: [host], secretName: `${name}${i.settings.tlsSecretSuffix}` }],
        rules: [
          {
            host,
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: { service: { name, port: { name: 'http' } } } },
              ],
            },
          },
        ],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(i, `${name}-ingress-controller`),
      spec: {
        podSelector: { matchLabels: selectorLabels(i) },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchLabels: { 'kubernetes.io/metadata.name': i.settings.ingressNamespace },
                },
              },
            ],
            ports: [{ protocol: 'TCP', port: i.serviceClass.spec!.port ?? 8080 }],
          },
        ],
      },
    },
  ];
}

function scaling(i: ServiceInputs): KubeObject[] {
  if (suspended(i)) return [];
  const objects: KubeObject[] = [];
  const auto = i.plan.autoscaling;
  if (auto) {
    objects.push({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta(i),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: i.service.metadata.name },
        minReplicas: auto.minReplicas,
        maxReplicas: auto.maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: {
              name: 'cpu',
              target: { type: 'Utilization', averageUtilization: auto.cpuUtilization ?? 80 },
            },
          },
        ],
      },
    });
  }
  if (minReplicas(i.plan) > 1) {
    objects.push({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(i),
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(i) } },
    });
  }
  return objects;
}

export function serviceObjects(i: ServiceInputs): KubeObject[] {
  const name = i.service.metadata.name;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(i), automountServiceAccountToken: false },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(i, `${name}-parameters`),
      data: { 'parameters.json': parametersJson(i.service) },
    },
    deployment(i),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(i),
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(i),
        ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
      },
    },
    ...exposure(i),
    ...scaling(i),
  ];
}
