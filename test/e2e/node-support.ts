/**
 * The start of the suites on a real node (test/harness/node.ts): the control plane and the node, the
 * install as kustomize ships it (CRDs, config/rbac, config/admission), the sample catalog, and the
 * operator in this process under its own ServiceAccount's token.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { KubeClient } from '../../src/runtime/kube.js';
import type { Manager } from '../../src/runtime/manager.js';
import type { ControlPlane } from '../harness/controlplane.js';
import { startNodeCluster, type LocalNode } from '../harness/node.js';
import { clientFor, ROOT, startInProcessOperator } from './support.js';

const run = promisify(execFile);

/**
 * How long a suite's start may take: the node is one per machine, and startNodeCluster waits up to
 * 30 minutes for another process's node to stop before starting its own.
 */
export const NODE_START_TIMEOUT_MS = 40 * 60_000;

export interface NodeOperator {
  cp: ControlPlane;
  node: LocalNode;
  /** Admin client of the control plane. */
  client: KubeClient;
  operator: Manager;
  /** kubectl as admin; throws with its stderr when it fails. */
  kubectl(...args: string[]): Promise<string>;
}

export async function startNodeOperator(): Promise<NodeOperator> {
  const { cp, node } = await startNodeCluster();
  const kubectl = async (...args: string[]): Promise<string> => {
    const r = await cp.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  try {
    await kubectl('apply', '-f', `${ROOT}crds/`);
    await kubectl('wait', '--for', 'condition=Established', '--timeout=60s', '-f', `${ROOT}crds/`);
    await kubectl('create', 'namespace', 'secovia-system');
    await kubectl('apply', '-k', `${ROOT}config/rbac`);
    await kubectl('apply', '-k', `${ROOT}config/admission`);
    await kubectl('apply', '-f', `${ROOT}config/samples/gov_v1alpha1_govserviceclass.yaml`);
    const token = (await kubectl('-n', 'secovia-system', 'create', 'token', 'secovia-operator', '--duration=1h')).trim(); // prettier-ignore
    const kubeconfig = cp.kubeconfigFor({ token, name: 'secovia-operator' });
    const operator = await startInProcessOperator(cp, 'secovia-system', kubeconfig);
    return { cp, node, client: clientFor(cp), operator, kubectl };
  } catch (e) {
    await stopNodeOperator({ cp, node });
    throw e;
  }
}

/** Stops whatever of it was started, the operator first. */
export async function stopNodeOperator(s: Partial<NodeOperator> | undefined): Promise<void> {
  await s?.operator?.stop();
  s?.client?.close();
  await s?.node?.stop();
  await s?.cp?.stop();
}

/** What hack/node.sh finds on this machine after a node stopped: 'nothing left behind\n' when clean. */
export async function leftBehind(): Promise<string> {
  const check = await run('bash', [`${ROOT}hack/node.sh`, 'check']).catch((e: { stdout: string }) => e);
  return check.stdout;
}
