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
import { collectionPath, objectPath, resources } from './resources.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
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
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly durationMs: number;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.durationMs = (opts.leaseDurationSeconds ?? 15) * 1000;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns until stopped; calls onLost (once) when renewal fails past the renew deadline. */
  run(onStarted: () => void, onLost: () => void): void {
    const tick = async (): Promise<void> => {
      if (this.stopped) return;
      const wasLeading = this.leading;
      try {
        await this.tryAcquireOrRenew();
      } catch (e) {
        this.opts.logger.debug('lease attempt failed', { error: errorMessage(e) });
      }
      if (this.leading && !wasLeading) {
        this.opts.logger.info('became leader', { lease: this.opts.name, identity: this.opts.identity });
        leaderElectionMasterStatus.set({ name: this.opts.name }, 1);
        onStarted();
      }
      if (this.leading && Date.now() - this.lastRenew > (this.opts.renewDeadlineMs ?? 10_000)) {
        this.leading = false;
        leaderElectionMasterStatus.set({ name: this.opts.name }, 0);
        this.opts.logger.error('leader lease lost: could not renew within the deadline', {
          lease: this.opts.name,
        });
        onLost();
        return;
      }
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.opts.retryPeriodMs ?? 2000);
    };
    void tick();
  }

  /** Stops campaigning and, if leading, hands the lease back so a successor starts at once. */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    leaderElectionMasterStatus.set({ name: this.opts.name }, 0);
    try {
      const lease = await this.get();
      if (lease?.spec.holderIdentity !== this.opts.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime() };
      await this.client.request('PUT', this.path(), { body: lease });
      this.opts.logger.info('released leader lease', { lease: this.opts.name });
    } catch (e) {
      this.opts.logger.warn('could not release the leader lease', { error: errorMessage(e) });
    }
  }

  private path(): string {
    return objectPath(resources.Lease, this.opts.name, this.opts.namespace);
  }

  private async get(): Promise<Lease | undefined> {
    try {
      return await this.client.request<Lease>('GET', this.path(), { timeoutMs: 5000 });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = new Date();
    const lease = await this.get();
    const spec = {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: this.durationMs / 1000,
      renewTime: microTime(now),
    };
    if (!lease) {
      await this.client.request('POST', collectionPath(resources.Lease, this.opts.namespace), {
        timeoutMs: 5000,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.opts.name, namespace: this.opts.namespace },
          spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
        },
      });
      return this.renewed(now);
    }
    const record = `${lease.spec.holderIdentity}|${lease.spec.renewTime}`;
    if (record !== this.observed.record) this.observed = { record, at: now.getTime() };
    const mine = lease.spec.holderIdentity === this.opts.identity;
    const ttl = (lease.spec.leaseDurationSeconds ?? 15) * 1000;
    const expired = !lease.spec.holderIdentity || now.getTime() - this.observed.at > ttl;
    if (!mine && !expired) return;
    const transitions = (lease.spec.leaseTransitions ?? 0) + (mine ? 0 : 1);
    const acquireTime = mine ? lease.spec.acquireTime : microTime(now);
    // PUT with the read resourceVersion: two candidates racing for an expired lease cannot both win.
    await this.client.request('PUT', this.path(), {
      timeoutMs: 5000,
      body: { ...lease, spec: { ...lease.spec, ...spec, acquireTime, leaseTransitions: transitions } },
    });
    this.renewed(now);
  }

  private renewed(at: Date): void {
    this.leading = true;
    this.lastRenew = at.getTime();
  }
}
