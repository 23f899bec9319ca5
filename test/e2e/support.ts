/** Shared helpers of the e2e suites: a control plane with the CRDs, the operator in-process or as a process. */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  cacheTransforms,
  operatorIdentity,
  registerControllers,
  type ControllerSettings,
} from '../../src/controllers/index.js';
import { OPERATOR } from '../../src/controllers/labels.js';
import { KubeClient } from '../../src/runtime/kube.js';
import { rootLogger } from '../../src/runtime/log.js';
import { Manager } from '../../src/runtime/manager.js';
import type { KubeObject } from '../../src/runtime/types.js';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
/** The ingress controller's namespace of the in-process operator (--ingress-namespace). */
export const INGRESS_NAMESPACE = 'ingress-nginx';

/**
 * Polls until `check` returns a value (not undefined/false) or the deadline passes; on timeout the
 * error carries what `diagnose` reports (say, the pods and events the kubelet saw).
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  what = 'condition',
  diagnose?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const details = diagnose ? `\n${await diagnose().catch((e: unknown) => String(e))}` : '';
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}${details}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A control plane with the CRDs installed and established. */
export async function controlPlaneWithCrds(
  opts: { controllerManager?: boolean; name?: string } = {},
): Promise<ControlPlane> {
  const cp = await startControlPlane(opts);
  const applied = await cp.kubectl(['apply', '-f', `${ROOT}crds/`]);
  if (applied.code !== 0) throw new Error(`CRDs not accepted: ${applied.stderr}`);
  const est = await cp.kubectl([
    'wait',
    '--for',
    'condition=Established',
    '--timeout=60s',
    '-f',
    `${ROOT}crds/`,
  ]);
  if (est.code !== 0) throw new Error(`CRDs not established: ${est.stderr}`);
  return cp;
}

export function clientFor(cp: ControlPlane): KubeClient {
  return KubeClient.load({ kubeconfig: cp.kubeconfigPath, userAgent: 'secovia-e2e' });
}

/** The operator's manager, in this process: fast to start, and its caches can be inspected. */
export async function startInProcessOperator(
  cp: ControlPlane,
  namespace = 'default',
  kubeconfig = cp.kubeconfigPath,
  settings: Partial<ControllerSettings> = {},
): Promise<Manager> {
  const client = KubeClient.load({ kubeconfig, userAgent: OPERATOR });
  const manager = new Manager({
    ...operatorIdentity,
    client,
    logger: rootLogger.child({ cluster: cp.name }),
    namespace,
    identity: 'e2e',
    leaderElection: false,
    metricsPort: 0,
    healthPort: 0,
    transforms: cacheTransforms,
  });
  registerControllers(manager, {
    namespace,
    workers: 4,
    ingressNamespace: INGRESS_NAMESPACE,
    ingressClassName: 'nginx',
    tlsSecretSuffix: '-tls',
    consumptionIntervalMs: 15 * 60_000,
    ...settings,
  });
  await manager.start();
  return manager;
}

export interface OperatorProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** The operator as a real process (the package's entry point), for leader election and signals. */
export function startOperatorProcess(cp: ControlPlane, args: string[] = []): OperatorProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      `${ROOT}hack/register-ts.mjs`,
      `${ROOT}src/main.ts`,
      '--metrics-port',
      '0',
      '--health-port',
      '0',
      ...args,
    ],
    { env: { ...process.env, KUBECONFIG: cp.kubeconfigPath }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export async function getObject(client: KubeClient, path: string): Promise<KubeObject | undefined> {
  try {
    return await client.request<KubeObject>('GET', path);
  } catch (e) {
    if ((e as { status?: number }).status === 404) return undefined;
    throw e;
  }
}

export const conditionOf = (
  obj: KubeObject | undefined,
  type: string,
): { status: string; reason: string; message: string; observedGeneration?: number } | undefined =>
  (
    (
      obj?.status as
        { conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined
    )?.conditions ?? []
  ).find((c) => c.type === type);

/** A minimal GovTenant (a Greek municipality with one environment), with spec fields overridden. */
export const govTenant = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovTenant',
  metadata: { name },
  spec: {
    displayName: `Δήμος ${name}`,
    country: 'GR',
    level: 'municipal',
    environments: [{ name: 'prod' }],
    dataResidency: { allowedCountries: ['GR'] },
    ...spec,
  },
});

let counter = 0;
/** A unique short name for objects of one test (tenant names must stay short). */
export const uniqueName = (prefix: string): string =>
  `${prefix}${(Date.now() % 100000).toString(36)}${(counter++).toString(36)}`;

/**
 * A Pod that passes Pod Security restricted and reserves 500m CPU and 1Gi: without a kubelet it stays
 * Pending, and kube-controller-manager counts its requests in the namespace's quota.
 */
export const reservingPod = (namespace: string, name: string): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace },
  spec: {
    securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'app',
        image: 'registry.example.eu/app:1.0',
        resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '500m', memory: '1Gi' } },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      },
    ],
  },
});
