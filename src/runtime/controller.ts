/**
 * A controller: a primary informer and any number of watched informers feed one work queue whose
 * keys a bounded pool of workers reconciles, one reconcile per key at a time.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EventSource, InformerEventType } from './cache.js';
import { isConflict } from './kube.js';
import type { Logger } from './log.js';
import { errorMessage } from './log.js';
import {
  activeWorkers,
  maxConcurrentReconciles,
  reconcileErrors,
  reconcilePanics,
  reconcileTime,
  reconcileTotal,
  terminalReconcileErrors,
} from './metrics.js';
import { WorkQueue } from './queue.js';
import { objectKey } from './resources.js';
import type { KubeObject } from './types.js';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** An error that retrying cannot fix (an invalid spec): reported, not retried until the object changes. */
export class TerminalError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'TerminalError';
  }
}

/** Reconciles one key; `signal` aborts when this replica must stop acting at once (lease lost). */
export type Reconcile = (key: string, signal: AbortSignal) => Promise<ReconcileResult | void>;
/** Maps an event's object (and its previous state, on updates) to the keys to reconcile. */
export type KeyMapper = (obj: KubeObject, old?: KubeObject, type?: InformerEventType) => string[];

/**
 * A predicate on a mapper, as controller-runtime's GenerationChangedPredicate: an update that changed
 * neither the spec (generation) nor the labels maps to nothing; adds and deletes always map.
 */
export const onSpecOrLabelChange =
  (map: KeyMapper): KeyMapper =>
  (obj, old, type) =>
    type === 'update' &&
    old?.metadata.generation === obj.metadata.generation &&
    JSON.stringify(old?.metadata.labels ?? {}) === JSON.stringify(obj.metadata.labels ?? {})
      ? []
      : map(obj, old);

export interface ControllerOptions {
  name: string;
  primary: EventSource;
  watches?: { informer: EventSource; map: KeyMapper }[];
  workers?: number;
  reconcile: Reconcile;
  /** Told of every failed reconcile (after the retry is scheduled): the object's status says it. */
  onFailure?: (key: string, error: unknown) => Promise<void>;
  logger: Logger;
}

/** The same error of the same key is logged at most this often; repeats in between are counted. */
const REPEAT_LOG_MS = 60_000;

/** Maps an object to the key of its controlling owner of the given kind. */
export const byControllerRef =
  (kind: string, ownerNamespaced: boolean): KeyMapper =>
  (obj) =>
    (obj.metadata.ownerReferences ?? [])
      .filter((r) => r.controller && r.kind === kind)
      .map((r) => objectKey(r.name, ownerNamespaced ? obj.metadata.namespace : undefined));

/** Maps an object to the cluster-scoped owner named by one of its labels (namespaces carry no owner reference). */
export const byLabel =
  (label: string): KeyMapper =>
  (obj) => {
    const v = obj.metadata.labels?.[label];
    return v ? [v] : [];
  };

export class Controller {
  readonly queue: WorkQueue;
  private workersDone?: Promise<void[]>;
  private readonly aborted = new AbortController();
  /** Last error logged per key: identical failures are logged once a minute, with a count. */
  private readonly lastLogged = new Map<string, { message: string; at: number; repeated: number }>();

  constructor(private readonly opts: ControllerOptions) {
    this.queue = new WorkQueue({ name: opts.name, controller: opts.name });
    const enqueuePrimary = (_t: string, obj: KubeObject): void =>
      this.queue.add(objectKey(obj.metadata.name, obj.metadata.namespace));
    opts.primary.onEvent(enqueuePrimary);
    for (const w of opts.watches ?? []) {
      w.informer.onEvent((t, obj, old) => w.map(obj, old, t).forEach((k) => this.queue.add(k)));
    }
  }

  get name(): string {
    return this.opts.name;
  }

  get primary(): EventSource {
    return this.opts.primary;
  }

  /** Sets how failures are reported unless the controller was given its own way. */
  reportFailuresWith(onFailure: (key: string, error: unknown) => Promise<void>): void {
    this.opts.onFailure ??= onFailure;
  }

  informers(): EventSource[] {
    return [this.opts.primary, ...(this.opts.watches ?? []).map((w) => w.informer)];
  }

  /** Starts the workers once every informer this controller reads has synced. */
  async start(): Promise<void> {
    await Promise.all(this.informers().map((i) => i.waitForSync()));
    const count = this.opts.workers ?? 4;
    maxConcurrentReconciles.set({ controller: this.opts.name }, count);
    this.workersDone = Promise.all(Array.from({ length: count }, () => this.worker()));
    this.opts.logger.info('controller started', { controller: this.opts.name, workers: count });
  }

  /** Stops taking work and waits for in-flight reconciles to finish (SIGTERM: a graceful drain). */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.workersDone;
  }

  /** Hands out no more keys, waiting ones included, and aborts in-flight reconciles (lease lost). */
  abort(reason: Error): void {
    this.queue.shutDownNow();
    this.aborted.abort(reason);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined || this.aborted.signal.aborted) return;
      activeWorkers.inc({ controller: this.opts.name });
      try {
        await this.reconcileKey(key);
      } finally {
        activeWorkers.dec({ controller: this.opts.name });
        this.queue.done(key);
      }
      // A reconcile that finds nothing to write never waits for I/O, and neither does a queue that
      // has keys: without this, a long queue would run as one chain of microtasks, holding back
      // timers (the Lease renewal) and watch events until it is empty (tens of seconds at scale).
      await nextTurn();
    }
  }

  /** Logs a failure; the same error of the same key again within a minute is only counted. */
  private logFailure(key: string, e: unknown): void {
    const message = errorMessage(e);
    const now = performance.now();
    const last = this.lastLogged.get(key);
    if (last?.message === message && now - last.at < REPEAT_LOG_MS) {
      last.repeated++;
      return;
    }
    const repeated = last?.message === message ? last.repeated : 0;
    this.lastLogged.set(key, { message, at: now, repeated: 0 });
    const level = isConflict(e) ? 'info' : 'error';
    const extra = repeated ? { repeatedSinceLastLog: repeated } : {};
    this.opts.logger.log(level, 'reconcile failed, retrying', { controller: this.opts.name, key, error: message, ...extra }); // prettier-ignore
  }

  private async reportFailure(key: string, e: unknown): Promise<void> {
    try {
      await this.opts.onFailure?.(key, e);
    } catch (statusError) {
      // The API server that refused the reconcile may refuse the status too; the retry stays scheduled.
      this.opts.logger.debug('could not report the failure in status', {
        key,
        error: errorMessage(statusError),
      });
    }
  }

  private async reconcileKey(key: string): Promise<void> {
    const controller = this.opts.name;
    const end = reconcileTime.startTimer({ controller });
    try {
      const result = await this.opts.reconcile(key, this.aborted.signal);
      this.queue.forget(key);
      this.lastLogged.delete(key);
      if (result?.requeueAfterMs) {
        this.queue.addAfter(key, result.requeueAfterMs);
        reconcileTotal.inc({ controller, result: 'requeue_after' });
      } else {
        reconcileTotal.inc({ controller, result: 'success' });
      }
    } catch (e) {
      if (this.aborted.signal.aborted) return; // stopped on purpose: neither an error nor a retry
      reconcileTotal.inc({ controller, result: 'error' });
      reconcileErrors.inc({ controller });
      // A programming error is JavaScript's panic: counted apart, retried like any failure.
      if (e instanceof TypeError || e instanceof ReferenceError || e instanceof RangeError)
        reconcilePanics.inc({ controller });
      if (e instanceof TerminalError) {
        terminalReconcileErrors.inc({ controller });
        this.queue.forget(key);
        this.opts.logger.warn('reconcile failed terminally', { controller, key, reason: e.reason, error: e.message }); // prettier-ignore
      } else {
        this.queue.addRateLimited(key);
        this.logFailure(key, e);
      }
      // Conflicts are the normal price of optimistic concurrency: retried, not reported.
      if (!isConflict(e)) await this.reportFailure(key, e);
    } finally {
      end();
    }
  }
}
