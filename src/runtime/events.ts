/** Kubernetes Events for what the operator did, so `kubectl describe` tells the audit story. */
import { hostname } from 'node:os';
import type { KubeClient } from './kube.js';
import type { Logger } from './log.js';
import { errorMessage } from './log.js';
import { builtinResources, collectionPath } from './resources.js';
import type { KubeObject } from './types.js';

export type EventType = 'Normal' | 'Warning';

/** Who the Events say reported them: their `source.component` and `reportingComponent`. */
export interface EventReporter {
  component: string;
  reportingComponent: string;
}

export interface EventSink {
  record(obj: KubeObject, type: EventType, reason: string, message: string): void;
}

const DEDUP_WINDOW_MS = 10 * 60_000;

export class EventRecorder implements EventSink {
  private readonly recent = new Map<string, number>();
  private readonly instance = process.env.POD_NAME ?? hostname();

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    private readonly reporter: EventReporter,
  ) {}

  /** Fire and forget: an event that cannot be written is logged, never fails a reconcile. */
  record(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const key = `${obj.metadata.uid}|${type}|${reason}|${message}`;
    const now = Date.now();
    if ((this.recent.get(key) ?? 0) > now - DEDUP_WINDOW_MS) return;
    this.recent.set(key, now);
    if (this.recent.size > 10_000) this.recent.clear();
    this.write(obj, type, reason, message).catch((e) =>
      this.log.warn('could not write event', { error: errorMessage(e), reason }),
    );
  }

  private async write(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    // Events of cluster-scoped objects live in "default", as client-go records them.
    const namespace = obj.metadata.namespace ?? 'default';
    const now = new Date().toISOString();
    await this.client.request('POST', collectionPath(builtinResources.Event, namespace), {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${obj.metadata.name}.`, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace: obj.metadata.namespace,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: this.reporter.component },
        reportingComponent: this.reporter.reportingComponent,
        reportingInstance: this.instance,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }
}
