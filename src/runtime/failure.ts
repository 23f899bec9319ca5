/**
 * One error policy for every controller: a reconcile that fails says so in its object's status
 * (Ready False with the error's reason and message, for the generation it failed on), written only
 * when that changes, while the queue retries with backoff. Success paths write Ready themselves.
 */
import type { Applier } from './apply.js';
import { isCamelCaseReason, setCondition, statusChanged } from './conditions.js';
import { TerminalError } from './controller.js';
import { ApiError } from './kube.js';
import { errorMessage } from './log.js';
import { splitKey } from './resources.js';
import type { Condition, KubeObject } from './types.js';

export interface ObjectStore {
  get(name: string, namespace?: string): KubeObject | undefined;
}

/** The CamelCase reason of an error: the API server's own (Forbidden, Conflict...) or ReconcileError. */
export function failureReason(e: unknown): string {
  const reason = e instanceof ApiError || e instanceof TerminalError ? e.reason : undefined;
  return reason && isCamelCaseReason(reason) && reason !== 'Unknown' ? reason : 'ReconcileError';
}

/** The status an object should have after a failed reconcile, or undefined when it already says so. */
export function failedStatus(obj: KubeObject, e: unknown, now: Date): Record<string, unknown> | undefined {
  const status = (obj.status ?? {}) as { conditions?: Condition[] };
  const conditions = setCondition(
    status.conditions,
    {
      type: 'Ready',
      status: 'False',
      reason: failureReason(e),
      message:
        `${e instanceof TerminalError ? 'reconcile failed' : 'reconcile failed, retrying'}: ${errorMessage(e)}`.slice(
          0,
          1024,
        ),
      observedGeneration: obj.metadata.generation,
    },
    now,
  );
  const next = { ...status, conditions };
  return statusChanged(status, next) ? next : undefined;
}

/** The onFailure hook of a controller whose primary objects live in `store`. */
export const readyFalseOnFailure =
  (applier: Applier, store: ObjectStore) =>
  async (key: string, e: unknown): Promise<void> => {
    const { name, namespace } = splitKey(key);
    const obj = store.get(name, namespace);
    if (!obj || obj.metadata.deletionTimestamp) return;
    const status = failedStatus(obj, e, new Date());
    if (status) await applier.applyStatus(obj, status);
  };
