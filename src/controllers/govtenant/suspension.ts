/**
 * A suspended tenant runs nothing. Admission (config/admission/tenant_policies.yaml) refuses new pods
 * and workloads in its namespaces, which carry the label gov.secovia.eu/suspended; the operator
 * deletes the pods that run there, and their controllers cannot create new ones. Deployments,
 * StatefulSets, PVCs, ConfigMaps and Secrets stay as they are. On resume the operator wakes the
 * workload controllers, whose retries otherwise back off for up to 1000 s after the refusals.
 */
import { GROUP } from '../../api/constants.js';
import type { Manager } from '../../runtime/manager.js';
import { collectionPath, objectPath, rt, type ResourceType } from '../../runtime/resources.js';
import type { KubeObject } from '../../runtime/types.js';

export const POD = rt('v1', 'Pod', 'pods', true);
/** The controllers that create pods, woken on resume. */
export const WORKLOAD_CONTROLLERS: readonly ResourceType[] = [
  rt('apps/v1', 'ReplicaSet', 'replicasets', true),
  rt('apps/v1', 'StatefulSet', 'statefulsets', true),
  rt('apps/v1', 'DaemonSet', 'daemonsets', true),
  rt('batch/v1', 'Job', 'jobs', true),
];
/** Written on a workload controller's object on resume: the update makes its controller sync at once. */
export const RESUMED_AT = `${GROUP}/resumed-at`;

async function list(manager: Manager, r: ResourceType, namespace: string): Promise<KubeObject[]> {
  const res = await manager.client.request<{ items?: KubeObject[] }>('GET', collectionPath(r, namespace));
  return res.items ?? [];
}

/**
 * Deletes the pods of the namespace (gracefully: their own termination grace period). Returns how
 * many pods are still there, terminating or just deleted: the caller looks again until none is left.
 */
export async function stopPods(
  manager: Manager,
  namespace: string,
): Promise<{ deleted: string[]; left: number }> {
  const pods = await list(manager, POD, namespace);
  const deleted: string[] = [];
  for (const pod of pods.filter((p) => !p.metadata.deletionTimestamp)) {
    if (await manager.applier.delete(POD, pod)) deleted.push(pod.metadata.name);
  }
  return { deleted, left: pods.length };
}

/** Whether a controller object still wants pods: a scaled-down ReplicaSet or a finished Job does not. */
export function wantsPods(obj: KubeObject): boolean {
  const spec = (obj.spec ?? {}) as { replicas?: number };
  const status = (obj.status ?? {}) as {
    completionTime?: string;
    conditions?: { type: string; status: string }[];
  };
  if (obj.kind === 'Job') {
    return (
      !status.completionTime &&
      !(status.conditions ?? []).some(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      )
    );
  }
  if (obj.kind === 'DaemonSet') return true;
  return (spec.replicas ?? 1) > 0;
}

/** Annotates one object; false when it is gone meanwhile. */
async function touch(manager: Manager, r: ResourceType, obj: KubeObject, now: Date): Promise<boolean> {
  try {
    await manager.client.request('PATCH', objectPath(r, obj.metadata.name, obj.metadata.namespace), {
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { [RESUMED_AT]: now.toISOString() } } },
    });
    return true;
  } catch (e) {
    if ((e as { status?: number }).status === 404) return false;
    throw e;
  }
}

/**
 * Touches every workload controller object of the namespace that wants pods: an update event makes
 * its controller sync at once, instead of after the backoff that the refused creations built up.
 * Returns the objects touched, as `Kind/name`.
 */
export async function wakeControllers(manager: Manager, namespace: string, now: Date): Promise<string[]> {
  const woken: string[] = [];
  for (const r of WORKLOAD_CONTROLLERS) {
    for (const obj of (await list(manager, r, namespace)).map((o) => ({ ...o, kind: r.kind }))) {
      if (!wantsPods(obj) || obj.metadata.deletionTimestamp) continue;
      if (await touch(manager, r, { ...obj, metadata: { ...obj.metadata, namespace } }, now))
        woken.push(`${r.kind}/${obj.metadata.name}`);
    }
  }
  return woken;
}
