/** Kubernetes Events for what the operator did, so `kubectl describe` tells the audit story. */
import { createHash } from 'node:crypto';
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
/** At most so many recent Events are remembered, the oldest forgotten first (client-go's correlator keeps 4096). */
const DEDUP_MAX = 4096;
/** Forgotten Events are dropped at most this often, in one pass. */
const PRUNE_EVERY_MS = 60_000;

export class EventRecorder implements EventSink {
  /** When each recent Event was written, oldest first: an identical one within the window is not written again. */
  private readonly recent = new Map<string, number>();
  private pruning?: NodeJS.Timeout;
  private readonly instance = process.env.POD_NAME ?? hostname();

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    private readonly reporter: EventReporter,
  ) {}

  /** Fire and forget: an event that cannot be written is logged, never fails a reconcile. */
  record(obj: KubeObject, type: EventType, reason: string, message: string): void {
    // A digest, not the text: a message can be a kilobyte long, and thousands are remembered.
    const key = createHash('sha256').update(`${obj.metadata.uid}|${type}|${reason}|${message}`).digest('base64url'); // prettier-ignore
    const now = Date.now();
    if ((this.recent.get(key) ?? 0) > now - DEDUP_WINDOW_MS) return;
    this.recent.delete(key); // set again below, so that the map stays in the order of writing
    this.recent.set(key, now);
    this.prune(now);
    for (const [oldest] of this.recent) {
      if (this.recent.size <= DEDUP_MAX) break;
      this.recent.delete(oldest);
    }
    this.schedulePrune();
    this.write(obj, type, reason, message).catch((e) =>
      this.log.warn('could not write event', { error: errorMessage(e), reason }),
    );
  }

  /** How many Events are remembered now. */
  get remembered(): number {
    return this.recent.size;
  }

  /** Forgets the Events written before the window: an operator at rest keeps none of them. */
  private prune(now: number): void {
    for (const [key, at] of this.recent) {
      if (at > now - DEDUP_WINDOW_MS) break;
      this.recent.delete(key);
    }
  }

  private schedulePrune(): void {
    if (this.pruning) return;
    const oldest = this.recent.values().next();
    if (oldest.done) return;
    const due = Math.max(oldest.value + DEDUP_WINDOW_MS - Date.now(), PRUNE_EVERY_MS);
    this.pruning = setTimeout(() => {
      this.pruning = undefined;
      this.prune(Date.now());
      this.schedulePrune();
    }, due);
    this.pruning.unref();
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
