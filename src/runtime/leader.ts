/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's algorithm and
 * controller-runtime's defaults (lease 15 s, renew deadline 10 s, retry 2 s, release on stop).
 * Expiry is judged by when this process last saw the record change, not by the holder's clock.
 */
import type { KubeClient } from './kube.js';
import { isNotFound } from './kube.js';
import type { Logger } from './log.js';
import { errorMessage } from './log.js';
import { leaderElectionMasterStatus } from './metrics.js';
import { builtinResources, collectionPath, objectPath } from './resources.js';

/** Deadlines are measured on a monotonic clock: a wall clock stepped back must not hide a missed renewal. */
export interface ElectionClock {
  /** Milliseconds on a clock that never goes back (performance.now()). */
  monotonic(): number;
  /** The wall clock, only for the times written into the Lease. */
  wall(): Date;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: ElectionClock = {
  monotonic: () => performance.now(),
  wall: () => new Date(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
  clock?: ElectionClock;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** Lease times are MicroTime: RFC 3339 with exactly six fractional digits. */
const microTime = (d = new Date()): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private leading = false;
  private lastRenew = 0;
  private observed = { record: '', at: 0 };
  private timer?: unknown;
  /** The attempt in flight, abandoned when leadership ends: a late answer must not act for it. */
  private attempt?: AbortController;
  /** Ends leadership at the renew deadline unless a renewal comes first, even if an attempt hangs. */
  private deadline?: unknown;
  private stopped = false;
  private onLost: () => void = () => undefined;
  private readonly durationMs: number;
  private readonly clock: ElectionClock;
  /** Who holds the Lease when this replica saw another holder while it believed it led. */
  private lostTo?: string;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.durationMs = (opts.leaseDurationSeconds ?? 15) * 1000;
    this.clock = opts.clock ?? systemClock;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until stopped; calls onLost (once) when no renewal succeeds within the renew deadline
   * (an attempt still hanging then counts for nothing) or another replica is seen holding the Lease,
   * and then campaigns no more.
   */
  run(onStarted: () => void, onLost: () => void): void {
    this.onLost = onLost;
    const tick = async (): Promise<void> => {
      if (this.stopped) return;
      const wasLeading = this.leading;
      this.attempt = new AbortController();
      try {
        await this.tryAcquireOrRenew(this.attempt.signal);
      } catch (e) {
        this.opts.logger.debug('lease attempt failed', { error: errorMessage(e) });
      }
      if (this.stopped) return;
      if (this.leading && !wasLeading) {
        this.opts.logger.info('became leader', { lease: this.opts.name, identity: this.opts.identity });
        leaderElectionMasterStatus.set({ name: this.opts.name }, 1);
        onStarted();
      }
      if (this.lostTo !== undefined) return this.lose(`${this.lostTo || 'nobody'} holds it now`);
      this.timer = this.clock.setTimeout(() => void tick(), this.opts.retryPeriodMs ?? 2000);
    };
    void tick();
  }

  /** Leadership ends once and for good: the attempt in flight and every timer are dropped. */
  private lose(reason: string): void {
    if (this.stopped) return;
    this.leading = false;
    this.stopped = true;
    this.attempt?.abort(new Error(`leader lease lost: ${reason}`));
    this.clock.clearTimeout(this.timer);
    this.clock.clearTimeout(this.deadline);
    leaderElectionMasterStatus.set({ name: this.opts.name }, 0);
    this.opts.logger.error(`leader lease lost: ${reason}`, { lease: this.opts.name });
    this.onLost();
  }

  /** Stops campaigning and, if leading, hands the lease back so a successor starts at once. */
  async release(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.clock.clearTimeout(this.deadline);
    if (!this.leading) return;
    this.leading = false;
    leaderElectionMasterStatus.set({ name: this.opts.name }, 0);
    try {
      const lease = await this.get();
      if (lease?.spec.holderIdentity !== this.opts.identity) return;
      lease.spec = {
        ...lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: microTime(this.clock.wall()),
      };
      await this.client.request('PUT', this.path(), { body: lease });
      this.opts.logger.info('released leader lease', { lease: this.opts.name });
    } catch (e) {
      this.opts.logger.warn('could not release the leader lease', { error: errorMessage(e) });
    }
  }

  private path(): string {
    return objectPath(builtinResources.Lease, this.opts.name, this.opts.namespace);
  }

  private async get(signal?: AbortSignal): Promise<Lease | undefined> {
    try {
      return await this.client.request<Lease>('GET', this.path(), { timeoutMs: 5000, signal });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<void> {
    const now = this.clock.wall();
    const at = this.clock.monotonic();
    const lease = await this.get(signal);
    const spec = {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: this.durationMs / 1000,
      renewTime: microTime(now),
    };
    if (!lease) {
      await this.client.request('POST', collectionPath(builtinResources.Lease, this.opts.namespace), {
        timeoutMs: 5000,
        signal,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.opts.name, namespace: this.opts.namespace },
          spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
        },
      });
      return this.renewed(at);
    }
    const mine = lease.spec.holderIdentity === this.opts.identity;
    // Someone else took it while this replica led (a stolen or released Lease): it leads no more.
    if (!mine && this.leading) {
      this.lostTo = lease.spec.holderIdentity ?? '';
      return;
    }
    if (!mine && !this.expired(lease, at)) return;
    const transitions = (lease.spec.leaseTransitions ?? 0) + (mine ? 0 : 1);
    const acquireTime = mine ? lease.spec.acquireTime : microTime(now);
    // PUT with the read resourceVersion: two candidates racing for an expired lease cannot both win.
    await this.client.request('PUT', this.path(), {
      timeoutMs: 5000,
      signal,
      body: { ...lease, spec: { ...lease.spec, ...spec, acquireTime, leaseTransitions: transitions } },
    });
    this.renewed(at);
  }

  /** Expired when nobody holds it, or its record has not changed for its duration on our own clock. */
  private expired(lease: Lease, at: number): boolean {
    const record = `${lease.spec.holderIdentity}|${lease.spec.renewTime}`;
    if (record !== this.observed.record) this.observed = { record, at };
    const ttl = (lease.spec.leaseDurationSeconds ?? 15) * 1000;
    return !lease.spec.holderIdentity || at - this.observed.at > ttl;
  }

  /** Measured from the start of the attempt: the Lease can have been written no earlier. */
  private renewed(at: number): void {
    // An answer that comes after leadership ended (deadline, release) renews nothing.
    if (this.stopped) return;
    this.leading = true;
    this.lastRenew = at;
    const deadlineMs = this.opts.renewDeadlineMs ?? 10_000;
    this.clock.clearTimeout(this.deadline);
    this.deadline = this.clock.setTimeout(
      () => {
        const sinceRenew = Math.round(this.clock.monotonic() - this.lastRenew);
        this.lose(`could not renew within the deadline (${sinceRenew} ms since the last renewal)`);
      },
      at + deadlineMs - this.clock.monotonic(),
    );
  }
}
