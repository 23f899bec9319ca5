/**
 * What the kubelet and the deployment controller would report for a rolled-out Deployment: local
 * control planes run no kubelet, so tests and benchmarks write this status themselves.
 */
import type { KubeClient } from '../../src/runtime/kube.js';

export function rolledOutStatus(generation: number | undefined, replicas: number, now = new Date()) {
  const at = now.toISOString();
  const condition = (type: string, reason: string, message: string) => ({
    type,
    status: 'True',
    reason,
    message,
    lastUpdateTime: at,
    lastTransitionTime: at,
  });
  return {
    observedGeneration: generation,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    conditions: [
      condition('Available', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
      condition('Progressing', 'NewReplicaSetAvailable', 'ReplicaSet has successfully progressed.'),
    ],
  };
}

/** Marks a Deployment rolled out at its current generation. */
export function markRolledOut(
  client: KubeClient,
  d: { metadata: { name: string; namespace?: string; generation?: number } },
  replicas: number,
): Promise<unknown> {
  const path = `/apis/apps/v1/namespaces/${d.metadata.namespace}/deployments/${d.metadata.name}/status`;
  return client.request('PATCH', path, {
    contentType: 'application/merge-patch+json',
    body: { status: rolledOutStatus(d.metadata.generation, replicas) },
  });
}
