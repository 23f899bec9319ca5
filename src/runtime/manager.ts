/**
 * The manager wires the runtime together: shared informers (started at once, so standby replicas
 * keep warm caches), controllers that start only while this replica holds the leader lease,
 * probes and metrics servers, and an orderly shutdown.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Applier, type ApplyOptions } from './apply.js';
import { http } from './builtins.js';
import { Informer } from './cache.js';
import type { Controller } from './controller.js';
import { EventRecorder, type EventReporter } from './events.js';
import { readyFalseOnFailure, type ObjectStore } from './failure.js';
import type { KubeClient } from './kube.js';
import { LeaderElector } from './leader.js';
import type { Logger } from './log.js';
import { registry } from './metrics.js';
import type { ResourceType } from './resources.js';
import type { Transform } from './transform.js';
import type { KubeObject } from './types.js';

export interface ManagerOptions {
  client: KubeClient;
  logger: Logger;
  namespace: string;
  identity: string;
  leaderElection: boolean;
  leaseName: string;
  /** The Applier's field manager, applied-hash annotation and resource types. */
  applier: ApplyOptions;
  eventReporter: EventReporter;
  metricsPort: number;
  healthPort: number;
  /** How long shutdown waits for in-flight reconciles. */
  gracefulShutdownMs?: number;
  /** Called once this replica has stopped acting after losing the lease; the default exits the process. */
  onLeaseLost?: () => void;
  /** The caches must have synced by then (default 2 minutes). */
  cacheSyncTimeoutMs?: number;
  /** Called when they have not, after logging which informer and why; the default exits the process. */
  onCacheSyncTimeout?: () => void;
  /**
   * The cache transform of each resource type: one per type, so that every informer of the type,
   * shared by several controllers, keeps what all of them read (controller-runtime's ByObject).
   */
  transforms?: ReadonlyMap<ResourceType, Transform>;
}

export class Manager {
  readonly applier: Applier;
  readonly events: EventRecorder;
  private readonly informerMap = new Map<string, Informer>();
  private readonly controllers: Controller[] = [];
  private readonly servers: Server[] = [];
  private readonly stopHooks: (() => Promise<void>)[] = [];
  private elector?: LeaderElector;
  private controllersStarted = false;
  private stopping?: Promise<void>;
  readonly ports = { metrics: 0, health: 0 };

  constructor(private readonly opts: ManagerOptions) {
    this.applier = new Applier(opts.client, (r, name, ns) => this.lookup(r, name, ns), opts.applier);
    this.events = new EventRecorder(opts.client, opts.logger, opts.eventReporter);
  }

  get client(): KubeClient {
    return this.opts.client;
  }

  get logger(): Logger {
    return this.opts.logger;
  }

  /** The shared informer of a resource type (label selector, namespace): one list+watch per triple. */
  informer<T extends KubeObject = KubeObject>(
    resource: ResourceType,
    labelSelector?: string,
    namespace?: string,
  ): Informer<T> {
    const key = `${resource.group}/${resource.plural}?${labelSelector ?? ''}${namespace ? `@${namespace}` : ''}`;
    let inf = this.informerMap.get(key);
    if (!inf) {
      inf = new Informer(this.opts.client, {
        resource,
        labelSelector,
        namespace,
        transform: this.opts.transforms?.get(resource),
        logger: this.opts.logger,
      });
      this.informerMap.set(key, inf);
    }
    return inf as unknown as Informer<T>;
  }

  /** Adds a controller; a failed reconcile turns its object's Ready False (when the primary is a cache). */
  add(controller: Controller): void {
    const primary = controller.primary as Partial<ObjectStore>;
    if (typeof primary.get === 'function')
      controller.reportFailuresWith(readyFalseOnFailure(this.applier, primary as ObjectStore));
    this.controllers.push(controller);
  }

  /** Runs `hook` on shutdown once the controllers have drained (connections a controller opened itself). */
  onStop(hook: () => Promise<void>): void {
    this.stopHooks.push(hook);
  }

  controller(name: string): Controller | undefined {
    return this.controllers.find((c) => c.name === name);
  }

  hasSynced(): boolean {
    return [...this.informerMap.values()].every((i) => i.hasSynced());
  }

  isLeader(): boolean {
    return this.controllersStarted;
  }

  async start(): Promise<void> {
    this.servers.push(
      await this.serve(this.opts.metricsPort, 'metrics'),
      await this.serve(this.opts.healthPort, 'health'),
    );
    this.opts.logger.info('serving metrics and probes', {
      metricsPort: this.ports.metrics,
      healthPort: this.ports.health,
    });
    for (const inf of this.informerMap.values()) inf.start();
    this.watchCacheSync();
    if (!this.opts.leaderElection) return this.startControllers();
    this.elector = new LeaderElector(this.opts.client, {
      namespace: this.opts.namespace,
      name: this.opts.leaseName,
      identity: this.opts.identity,
      logger: this.opts.logger,
    });
    this.elector.run(
      () => void this.startControllers(),
      () => this.leaseLost(),
    );
  }

  /**
   * Another replica may already act: no drain, no release. Every request in flight is aborted, no
   * new one is sent and no key is handed out; then the process exits for its supervisor to restart.
   */
  private leaseLost(): void {
    const reason = new Error('the leader lease was lost: this replica stops acting');
    this.opts.client.fenceOff(reason);
    for (const c of this.controllers) c.abort(reason);
    this.stopping ??= Promise.resolve();
    (this.opts.onLeaseLost ?? (() => process.exit(1)))();
  }

  /**
   * A cache that cannot sync (403, a missing CRD) would leave this replica holding the Lease and
   * never reconciling: past the timeout it says which informer and why, and the process exits.
   */
  private watchCacheSync(): void {
    const timer = setTimeout(() => {
      const unsynced = [...this.informerMap.values()].filter((i) => !i.hasSynced());
      if (!unsynced.length || this.stopping) return;
      for (const i of unsynced) {
        const { resource, namespace, labelSelector } = i.opts;
        this.opts.logger.error('cache not synced within the timeout', {
          resource: `${resource.plural}${resource.group ? `.${resource.group}` : ''}`,
          namespace,
          labelSelector,
          error: i.lastError ?? 'no answer yet',
          timeoutMs: this.opts.cacheSyncTimeoutMs ?? 120_000,
        });
      }
      (this.opts.onCacheSyncTimeout ?? (() => process.exit(1)))();
    }, this.opts.cacheSyncTimeoutMs ?? 120_000);
    timer.unref();
    this.stopHooks.push(async () => clearTimeout(timer));
  }

  private async startControllers(): Promise<void> {
    if (this.controllersStarted || this.stopping) return;
    this.controllersStarted = true;
    await Promise.all(this.controllers.map((c) => c.start()));
  }

  /** Stops taking work, finishes in-flight reconciles, releases the lease, closes the servers. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.opts.logger.info('shutting down: draining work queues');
    const drained = Promise.all(this.controllers.map((c) => c.stop()));
    const limit = new Promise((r) => setTimeout(r, this.opts.gracefulShutdownMs ?? 25_000).unref());
    await Promise.race([drained, limit]);
    await this.elector?.release();
    await Promise.all(this.stopHooks.map((hook) => hook()));
    await Promise.all([...this.informerMap.values()].map((i) => i.stop()));
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
    this.opts.client.close();
    this.opts.logger.info('shutdown complete');
  }

  private lookup(r: ResourceType, name: string, namespace?: string): KubeObject | undefined | 'uncached' {
    const inf =
      this.informerMap.get(`${r.group}/${r.plural}?`) ??
      [...this.informerMap.values()].find((i) => i.opts.resource === r);
    if (!inf?.hasSynced()) return 'uncached';
    return inf.get(name, namespace);
  }

  private serve(port: number, kind: 'metrics' | 'health'): Promise<Server> {
    const server = http.createServer((req, res) => void this.handle(kind, req, res));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, () => {
        this.ports[kind] = (server.address() as AddressInfo).port;
        resolve(server);
      });
    });
  }

  private async handle(kind: 'metrics' | 'health', req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (kind === 'metrics' && path === '/metrics') {
      res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
      return;
    }
    if (kind === 'health' && path === '/healthz') {
      res.writeHead(200).end('ok');
      return;
    }
    if (kind === 'health' && path === '/readyz') {
      // Ready only once the caches have synced: a replica that never reconciles must not look healthy.
      const ok = this.hasSynced() && !this.stopping;
      res.writeHead(ok ? 200 : 503).end(ok ? 'ok' : 'caches not synced');
      return;
    }
    res.writeHead(404).end('not found');
  }
}
