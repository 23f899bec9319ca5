/** Pure desired state of a GovService: a hardened workload and what exposes and protects it. */
import { API_VERSION, GROUP } from '../../api/constants.js';
import type { GovService, GovServiceClass, GovTenant } from '../../api/index.js';
import { hashOf } from '../../runtime/apply.js';
import type { KubeObject } from '../../runtime/types.js';
import { APP_INSTANCE, APP_NAME, APP_VERSION, MANAGED_BY, OPERATOR, SERVICE, TENANT } from '../labels.js';
import type { Plan } from './checks.js';

export interface ServiceSettings {
  /** IngressClass of the Ingresses of public and federated services. */
  ingressClassName: string;
  /** Namespace of the ingress controller, whose pods may reach public and federated services. */
  ingressNamespace: string;
  /** The TLS secret of an Ingress is `<service><suffix>` (for example issued by cert-manager); default '-tls'. */
  tlsSecretSuffix: string;
}

export interface ServiceInputs {
  service: GovService;
  serviceClass: GovServiceClass;
  tenant: GovTenant;
  /** The version to run, as resolved by the checks (the class default when spec.version is unset). */
  version: string;
  plan: Plan;
  settings: ServiceSettings;
}

/** On the pod template: a change of the parameters changes the template, hence rolls the pods. */
export const PARAMETERS_HASH = `${GROUP}/parameters-hash`;
export const PARAMETERS_FILE = 'parameters.json';
export const PARAMETERS_DIR = '/etc/secovia';
const DEFAULT_PORT = 8080;
const DEFAULT_HEALTH_PATH = '/healthz';
const DEFAULT_CPU_UTILIZATION = 80;
const UID = 10001;

/** Pinned by digest where the class gives one, so that images can be mirrored to a sovereign registry. */
export function imageRef(serviceClass: GovServiceClass, version: string): string {
  const { image, digests } = serviceClass.spec!;
  const digest = digests?.[version];
  return digest ? `${image}@${digest}` : `${image}:${version}`;
}

const isExposed = (service: GovService): boolean => service.spec!.exposure !== 'internal';

/**
 * Where the service is reached: its host over HTTPS when public or federated, else the in-cluster
 * address of its Service. undefined for an exposed service without host: it has no address yet.
 */
export function serviceUrl(service: GovService): string | undefined {
  const { name, namespace } = service.metadata;
  if (!isExposed(service)) return `http://${name}.${namespace}.svc.cluster.local`;
  const host = service.spec!.host;
  return host ? `https://${host}` : undefined;
}

/** The value with the keys of every object sorted, so that equal parameters give equal text. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, sortedKeys(o[k])]),
  );
}

/** The parameters as the pods read them: pretty JSON with sorted keys. */
export const parametersJson = (service: GovService): string =>
  JSON.stringify(sortedKeys(service.spec!.parameters ?? {}), null, 2);

export const parametersHash = (service: GovService): string => hashOf(parametersJson(service));

/** Selector labels: only what never changes over the life of the service (a Deployment selector is immutable). */
export function selectorLabels(i: ServiceInputs): Record<string, string> {
  return { [APP_NAME]: i.serviceClass.metadata.name, [APP_INSTANCE]: i.service.metadata.name };
}

export function serviceLabels(i: ServiceInputs): Record<string, string> {
  return {
    [MANAGED_BY]: OPERATOR,
    [TENANT]: i.tenant.metadata.name,
    ...selectorLabels(i),
    [APP_VERSION]: i.version,
    [SERVICE]: i.service.metadata.name,
  };
}

function meta(i: ServiceInputs, name = i.service.metadata.name): KubeObject['metadata'] {
  const s = i.service.metadata;
  return {
    name,
    namespace: s.namespace,
    labels: serviceLabels(i),
    ownerReferences: [
      {
        apiVersion: API_VERSION,
        kind: 'GovService',
        name: s.name,
        uid: s.uid ?? '',
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}

const isSuspended = (i: ServiceInputs): boolean => i.tenant.spec!.suspended === true;
/** The container port of a class's pods: the target port of its GovServices' Services. */
export const classPortOf = (serviceClass: GovServiceClass): number => serviceClass.spec?.port ?? DEFAULT_PORT;
const classPort = (i: ServiceInputs): number => classPortOf(i.serviceClass);
/** The fewest replicas the plan runs: the fixed count, or the autoscaler's minimum. */
export const minReplicas = (p: Plan): number => p.replicas ?? p.autoscaling?.minReplicas ?? 1;

/** Requests equal to limits (Guaranteed QoS); without plan resources the namespace's LimitRange applies. */
function containerResources(plan: Plan): Record<string, unknown> {
  const r = plan.resources ?? {};
  const amounts = Object.fromEntries(
    Object.entries({ cpu: r.cpu, memory: r.memory })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
  return Object.keys(amounts).length ? { resources: { requests: amounts, limits: amounts } } : {};
}

function probe(
  i: ServiceInputs,
  timing: { initialDelaySeconds: number; periodSeconds: number; timeoutSeconds: number },
) {
  return {
    httpGet: { path: i.serviceClass.spec!.healthPath ?? DEFAULT_HEALTH_PATH, port: 'http' },
    ...timing,
    failureThreshold: 3,
  };
}

function container(i: ServiceInputs): Record<string, unknown> {
  const t = i.tenant;
  return {
    name: 'app',
    image: imageRef(i.serviceClass, i.version),
    ports: [{ name: 'http', containerPort: classPort(i), protocol: 'TCP' }],
    env: [
      { name: 'SECOVIA_TENANT', value: t.metadata.name },
      { name: 'SECOVIA_COUNTRY', value: t.spec!.country },
      { name: 'SECOVIA_CLASSIFICATION', value: t.spec!.dataResidency.classification ?? 'internal' },
      { name: 'SECOVIA_PARAMETERS_FILE', value: `${PARAMETERS_DIR}/${PARAMETERS_FILE}` },
    ],
    ...containerResources(i.plan),
    // Readiness is probed from the start, every 2 s: a new pod takes traffic within seconds of
    // listening (with the kubelet's default 10 s period and a 5 s delay it took 10-15 s on a node),
    // and one that stops answering leaves its Service within 6 s. Liveness is patient: 15 s, 20 s.
    readinessProbe: probe(i, { initialDelaySeconds: 0, periodSeconds: 2, timeoutSeconds: 2 }),
    livenessProbe: probe(i, { initialDelaySeconds: 15, periodSeconds: 20, timeoutSeconds: 3 }),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: 'parameters', mountPath: PARAMETERS_DIR, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

function nodePool(i: ServiceInputs): { nodeSelector?: Record<string, string> } {
  const selector = i.tenant.spec!.workloads?.nodeSelector;
  return selector && Object.keys(selector).length ? { nodeSelector: selector } : {};
}

/** Pod spec meeting the Pod Security Standard restricted. */
function podSpec(i: ServiceInputs): Record<string, unknown> {
  const name = i.service.metadata.name;
  return {
    serviceAccountName: name,
    automountServiceAccountToken: false,
    // Shared namespaces hold many services: their Service env variables would only leak and clutter.
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: UID,
      runAsGroup: UID,
      fsGroup: UID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    // A tenant with a node pool runs on it: admission refuses any pod of it without this selector.
    ...nodePool(i),
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
  };
}

/** Zero while suspended; none with autoscaling, so that the applied fields never fight the HPA. */
function replicas(i: ServiceInputs): { replicas?: number } {
  if (isSuspended(i)) return { replicas: 0 };
  return i.plan.autoscaling ? {} : { replicas: i.plan.replicas };
}

/**
 * The replicas to hold an autoscaled Deployment at while no HPA holds them yet: when it is created,
 * resumed from zero or moved from a fixed plan. The Deployment's own desired state has no replicas:
 * left out, they would fall back to the API server's default of 1 until the HPA raised them. They are
 * set apart, by a field manager of their own that only ever sets them (see Applier.hold), and never
 * again once the HPA exists: from then on they are the HPA's alone. What the Deployment runs stays,
 * within the plan's bounds. undefined when the HPA exists, for a fixed plan and while suspended.
 */
export function replicasToHold(
  i: ServiceInputs,
  live: { replicas?: number; autoscalerExists: boolean },
): number | undefined {
  const auto = i.plan.autoscaling;
  if (!auto || isSuspended(i) || live.autoscalerExists) return undefined;
  return Math.min(Math.max(live.replicas ?? 0, auto.minReplicas), auto.maxReplicas);
}

export function serviceDeployment(i: ServiceInputs): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(i),
    spec: {
      ...replicas(i),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(i) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: serviceLabels(i),
          annotations: { [PARAMETERS_HASH]: parametersHash(i.service) },
        },
        spec: podSpec(i),
      },
    },
  };
}

function serviceAccount(i: ServiceInputs): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(i), automountServiceAccountToken: false };
}

function parametersConfigMap(i: ServiceInputs): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(i, `${i.service.metadata.name}-parameters`),
    data: { [PARAMETERS_FILE]: parametersJson(i.service) },
  };
}

function clusterService(i: ServiceInputs): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(i),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(i),
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

function ingress(i: ServiceInputs, host: string): KubeObject {
  const name = i.service.metadata.name;
  const backend = { service: { name, port: { name: 'http' } } };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta(i),
    spec: {
      ingressClassName: i.settings.ingressClassName,
      tls: [{ hosts: [host], secretName: `${name}${i.settings.tlsSecretSuffix}` }],
      rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }],
    },
  };
}

/** Lets the ingress controller reach the pods: the tenant's default deny would block it otherwise. */
function ingressControllerPolicy(i: ServiceInputs): KubeObject {
  const from = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': i.settings.ingressNamespace } },
  };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(i, `${i.service.metadata.name}-ingress-controller`),
    spec: {
      podSelector: { matchLabels: selectorLabels(i) },
      policyTypes: ['Ingress'],
      ingress: [{ from: [from], ports: [{ protocol: 'TCP', port: classPort(i) }] }],
    },
  };
}

/** Ingress and its NetworkPolicy, for public and federated services only. */
function exposure(i: ServiceInputs): KubeObject[] {
  const host = i.service.spec!.host;
  if (!isExposed(i.service) || !host) return [];
  return [ingress(i, host), ingressControllerPolicy(i)];
}

function autoscaler(i: ServiceInputs): KubeObject[] {
  const auto = i.plan.autoscaling;
  if (!auto || isSuspended(i)) return [];
  const target = { type: 'Utilization', averageUtilization: auto.cpuUtilization ?? DEFAULT_CPU_UTILIZATION };
  return [
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta(i),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: i.service.metadata.name },
        minReplicas: auto.minReplicas,
        maxReplicas: auto.maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target } }],
      },
    },
  ];
}

/** A budget only where one pod may go: with a single replica it would block every node drain. */
function disruptionBudget(i: ServiceInputs): KubeObject[] {
  if (isSuspended(i) || minReplicas(i.plan) <= 1) return [];
  return [
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(i),
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(i) } },
    },
  ];
}

/** Every object the GovService owns, in its namespace, in the order they are applied. */
export function serviceObjects(inputs: ServiceInputs): KubeObject[] {
  return [
    serviceAccount(inputs),
    parametersConfigMap(inputs),
    serviceDeployment(inputs),
    clusterService(inputs),
    ...exposure(inputs),
    ...autoscaler(inputs),
    ...disruptionBudget(inputs),
  ];
}
