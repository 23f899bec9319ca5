/**
 * A list+watch cache (an informer) that we own end to end: paginated list, watch from the list's
 * resourceVersion with bookmarks and a server-side timeout, an inactivity watchdog for silent
 * stalls, re-list on 410 Gone (as an HTTP status or an ERROR event) that emits deletes for objects
 * that vanished, and backoff with jitter on any other error.
 */
import type { KubeClient, Status, WatchEvent } from './kube.js';
import { ApiError, isGone, sleep } from './kube.js';
import type { Logger } from './log.js';
import { errorMessage, rootLogger } from './log.js';
import type { ResourceType } from './resources.js';
import { apiVersionOf, collectionPath, objectKey } from './resources.js';
import type { Transform } from './transform.js';
import { defaultTransform, pipe, shareStrings } from './transform.js';
import type { KubeObject } from './types.js';

export type InformerEventType = 'add' | 'update' | 'delete';
export type InformerHandler<T> = (type: InformerEventType, obj: T, old?: T) => void;

/** What a controller needs of an informer (method syntax keeps typed informers assignable). */
export interface EventSource {
  onEvent(handler: InformerHandler<KubeObject>): void;
  waitForSync(): Promise<void>;
}

export interface InformerOptions {
  resource: ResourceType;
  namespace?: string;
  labelSelector?: string;
  /** Such as `metadata.name=x`: with RBAC resourceNames, a peer may watch exactly one object. */
  fieldSelector?: string;
  /** Objects kept, checked here too: a peer's server may send more than its selector allows. */
  accept?: (obj: KubeObject) => boolean;
  /**
   * Applied to every listed and watched object, after the default transform (managedFields and
   * kubectl's last-applied annotation), before the object is stored and handlers see it.
   */
  transform?: Transform;
  pageSize?: number;
  /** Server-side watch timeout; randomized so that many watches do not reconnect together. */
  watchTimeoutSeconds?: () => number;
  /** No event and no bookmark for this long: the watch is presumed dead and restarted. */
  inactivityMs?: number;
  backoffMs?: { base: number; max: number };
  logger?: Logger;
}

interface ListResponse<T> {
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

/** A watch that ends on its own within this time without any event has ended "at once". */
export const QUICK_WATCH_END_MS = 1_000;

/** Exponential backoff with jitter: between half and all of base * 2^attempt, at most max. */
export function backoffDelay(attempt: number, base: number, max: number, random = Math.random): number {
  return Math.min(max, base * 2 ** Math.min(attempt, 16)) * (0.5 + random() / 2);
}

/** How a watch went: an end at once with no event is counted, anything else resets the count. */
export function quickEnds(previous: number, watch: { events: number; durationMs: number }): number {
  return watch.events === 0 && watch.durationMs < QUICK_WATCH_END_MS ? previous + 1 : 0;
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly abort = new AbortController();
  private readonly log: Logger;
  /** What the store keeps and handlers see of each listed or watched object. */
  private readonly transform: (obj: T) => T;
  private resourceVersion = '';
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private running?: Promise<void>;
  /** Counters for tests and benchmarks: how often the cache listed and watched. */
  readonly stats = { lists: 0, watches: 0, watchdogRestarts: 0, errors: 0, quickEnds: 0 };
  /** The error of the last failed list or watch, until one succeeds again. */
  lastError?: string;

  constructor(
    private readonly client: KubeClient,
    readonly opts: InformerOptions,
  ) {
    this.log = (opts.logger ?? rootLogger).child({
      informer: opts.resource.plural,
      selector: opts.labelSelector,
    });
    const transform = opts.transform ? pipe(defaultTransform, opts.transform) : defaultTransform;
    this.transform = (obj) => shareStrings(transform(obj)) as T;
  }

  onEvent(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(name: string, namespace?: string): T | undefined {
    return this.store.get(objectKey(name, this.opts.resource.namespaced ? namespace : undefined));
  }

  list(filter?: (o: T) => boolean): T[] {
    const all = [...this.store.values()];
    return filter ? all.filter(filter) : all;
  }

  get size(): number {
    return this.store.size;
  }

  private async run(): Promise<void> {
    const { base, max } = this.opts.backoffMs ?? { base: 200, max: 30_000 };
    let failures = 0;
    let quick = 0;
    while (!this.abort.signal.aborted) {
      try {
        if (!this.resourceVersion) await this.relist();
        quick = quickEnds(quick, await this.watchOnce());
        failures = 0;
        // A server that ends every watch at once would otherwise be asked again in a tight loop.
        if (quick > 0 && !this.abort.signal.aborted) await this.waitAfterQuickEnd(quick, base, max);
      } catch (e) {
        if (this.abort.signal.aborted) break;
        this.stats.errors++;
        this.lastError = errorMessage(e);
        if (isGone(e)) {
          this.log.info('resourceVersion expired, re-listing', { resourceVersion: this.resourceVersion });
          this.resourceVersion = '';
          continue;
        }
        failures++;
        const delay = backoffDelay(failures, base, max);
        this.log.warn('list/watch failed, retrying', {
          error: errorMessage(e),
          retryInMs: Math.round(delay),
        });
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private async waitAfterQuickEnd(quick: number, base: number, max: number): Promise<void> {
    this.stats.quickEnds++;
    const delay = backoffDelay(quick, base, max);
    this.log.warn('watch ended at once without any event, reopening it later', {
      retryInMs: Math.round(delay),
    });
    await sleep(delay, this.abort.signal);
  }

  private async relist(): Promise<void> {
    // Keyed, so that a server repeating objects over endless pages cannot grow the list.
    const items = new Map<string, T>();
    let cont: string | undefined;
    let rv: string;
    const { resource, namespace, labelSelector, fieldSelector, pageSize = 500 } = this.opts;
    do {
      const page = await this.client.request<ListResponse<T>>('GET', collectionPath(resource, namespace), {
        query: { limit: pageSize, continue: cont, labelSelector, fieldSelector },
        signal: this.abort.signal,
      });
      // List items come without apiVersion/kind; watch events carry them. Give both one shape.
      for (const item of page.items) {
        if (this.opts.accept && !this.opts.accept(item)) continue;
        const obj = this.transform({ ...item, apiVersion: apiVersionOf(resource), kind: resource.kind });
        items.set(this.keyOf(obj), obj);
      }
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion;
    } while (cont);
    this.stats.lists++;
    this.lastError = undefined;
    this.replace(items);
    this.resourceVersion = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  /** Makes the store equal to a fresh list, emitting the events a watch would have delivered. */
  private replace(fresh: Map<string, T>): void {
    for (const [key, old] of this.store) {
      if (!fresh.has(key)) {
        this.store.delete(key);
        this.emit('delete', old);
      }
    }
    for (const [key, obj] of fresh) this.upsert(key, obj);
  }

  private upsert(key: string, obj: T): void {
    const old = this.store.get(key);
    if (old?.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.store.set(key, obj);
    this.emit(old ? 'update' : 'add', obj, old);
  }

  /** One watch until it ends; says how many events it delivered and how long it lived. */
  private async watchOnce(): Promise<{ events: number; durationMs: number }> {
    const { resource, namespace, labelSelector, fieldSelector, inactivityMs = 90_000 } = this.opts;
    const timeoutSeconds = this.opts.watchTimeoutSeconds?.() ?? 300 + Math.floor(Math.random() * 300);
    const ctl = new AbortController();
    const stopOnAbort = (): void => ctl.abort();
    this.abort.signal.addEventListener('abort', stopOnAbort, { once: true });
    let watchdog = setTimeout(() => ctl.abort(), inactivityMs);
    this.stats.watches++;
    const started = Date.now();
    let events = 0;
    try {
      await this.client.watch<T | Status>(
        collectionPath(resource, namespace),
        {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
          labelSelector,
          fieldSelector,
        },
        (event) => {
          events++;
          clearTimeout(watchdog);
          watchdog = setTimeout(() => ctl.abort(), inactivityMs);
          this.handleEvent(event);
        },
        ctl.signal,
      );
      if (ctl.signal.aborted && !this.abort.signal.aborted) {
        this.stats.watchdogRestarts++;
        this.log.warn('watch silent for too long, restarting it', {
          inactivityMs,
          resourceVersion: this.resourceVersion,
        });
      }
      return { events, durationMs: Date.now() - started };
    } finally {
      clearTimeout(watchdog);
      this.abort.signal.removeEventListener('abort', stopOnAbort);
    }
  }

  private handleEvent(event: WatchEvent<T | Status>): void {
    this.lastError = undefined;
    if (event.type === 'ERROR') {
      const s = event.object as Status;
      throw new ApiError(s.code ?? 500, s.reason ?? 'WatchError', s.message ?? 'watch error event');
    }
    const raw = event.object as T;
    this.resourceVersion = raw.metadata.resourceVersion ?? this.resourceVersion;
    if (event.type === 'BOOKMARK' || (this.opts.accept && !this.opts.accept(raw))) return;
    const obj = this.transform(raw);
    const key = this.keyOf(obj);
    if (event.type === 'DELETED') {
      const old = this.store.get(key);
      this.store.delete(key);
      this.emit('delete', obj, old);
      return;
    }
    this.upsert(key, obj);
  }

  /** Of a stored object: a key made of a raw object's strings would keep copies of them alive. */
  private keyOf(o: T): string {
    return objectKey(o.metadata.name, this.opts.resource.namespaced ? o.metadata.namespace : undefined);
  }

  private emit(type: InformerEventType, obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        h(type, obj, old);
      } catch (e) {
        // A failing handler must not hide the object nor stop the stream; it is logged loudly.
        this.log.error('event handler failed', {
          error: errorMessage(e),
          event: type,
          name: obj.metadata.name,
        });
      }
    }
  }
}

/** Above this many objects a value's list becomes a set; below it an array costs a fifth of the memory. */
const INDEX_SET_FROM = 32;

/**
 * Objects of an informer by the values a function gives each (its namespace, a field such as a
 * host): a lookup instead of a scan of the whole cache (with a thousand tenants a scan per reconcile
 * made convergence quadratic). Kept from the informer's events, every change of its store being
 * one; an update or a delete names the stored object it replaces, found here by identity, so the
 * index holds nothing but those objects per value. Create it before the informer starts.
 */
export class Index<T extends KubeObject = KubeObject> {
  // Most values are held by one object or a few (a namespace, a uid): a small array each. A value
  // that many share (a domain suffix, a cluster-scoped resource's empty namespace) is a set, so that
  // an update does not scan all of them.
  private readonly byValue = new Map<string, T[] | Set<T>>();

  constructor(
    source: Informer<T>,
    private readonly values: (obj: T) => string[],
  ) {
    source.onEvent((type, obj, old) => this.update(type, obj, old));
  }

  list(value: string): T[] {
    const objects = this.byValue.get(value);
    return objects ? [...objects] : [];
  }

  private update(type: InformerEventType, obj: T, old?: T): void {
    // A delete after a re-list hands out the stored object itself.
    const replaced = type === 'add' ? undefined : (old ?? (type === 'delete' ? obj : undefined));
    if (replaced) for (const value of new Set(this.values(replaced))) this.remove(value, replaced);
    if (type === 'delete') return;
    for (const value of new Set(this.values(obj))) this.add(value, obj);
  }

  private add(value: string, obj: T): void {
    const objects = this.byValue.get(value);
    if (!objects) this.byValue.set(value, [obj]);
    else if (!Array.isArray(objects)) objects.add(obj);
    else if (objects.push(obj) > INDEX_SET_FROM) this.byValue.set(value, new Set(objects));
  }

  private remove(value: string, obj: T): void {
    const objects = this.byValue.get(value);
    if (!objects) return;
    if (Array.isArray(objects)) {
      const at = objects.indexOf(obj);
      if (at >= 0) objects.splice(at, 1);
    } else objects.delete(obj);
    if ((Array.isArray(objects) ? objects.length : objects.size) === 0) this.byValue.delete(value);
  }
}

/** Objects by namespace: prune and release look at one namespace only. */
export class NamespaceIndex<T extends KubeObject = KubeObject> extends Index<T> {
  constructor(source: Informer<T>) {
    super(source, (obj) => [obj.metadata.namespace ?? '']);
  }
}
