/**
 * A work queue with client-go's semantics: a key waits at most once, is never handed to two workers at
 * once, runs again after done() if it was re-added meanwhile, and retries back off per key and globally.
 */
import {
  reportInFlightOnScrape,
  workqueueAdds,
  workqueueDepth,
  workqueueLongestRunningProcessor,
  workqueueQueueDuration,
  workqueueRetries,
  workqueueUnfinishedWork,
  workqueueWorkDuration,
} from './metrics.js';

/** Time source and timers, injectable so tests control time. */
export interface QueueClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface WorkQueueOptions {
  name: string;
  /** The `controller` metric label; defaults to `name`. */
  controller?: string;
  baseDelayMs?: number;
  maxDelayMs?: number;
  qps?: number;
  burst?: number;
  clock?: QueueClock;
}

const systemClock: QueueClock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** golang.org/x/time/rate semantics: a negative balance is a reservation of future tokens. */
class TokenBucket {
  private tokens: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private last: number,
  ) {
    this.tokens = burst;
  }

  /** Takes one token and returns how many milliseconds to wait before using it. */
  reserve(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }
}

export class WorkQueue {
  private readonly clock: QueueClock;
  private readonly labels: { name: string; controller: string };
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly bucket: TokenBucket;
  /** Keys ready to hand out, oldest first. */
  private readonly waiting = new Set<string>();
  /** Keys that need a run: the waiting ones plus those re-added while being processed. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Map<string, number>();
  private readonly addedAt = new Map<string, number>();
  private readonly delayed = new Map<string, { readyAt: number; handle: unknown }>();
  private readonly failures = new Map<string, number>();
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private readonly drainWaiters: Array<() => void> = [];
  private readonly stopReporting: () => void;
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions) {
    this.clock = opts.clock ?? systemClock;
    this.labels = { name: opts.name, controller: opts.controller ?? opts.name };
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000_000;
    this.bucket = new TokenBucket(opts.qps ?? 10, opts.burst ?? 100, this.clock.now());
    this.stopReporting = reportInFlightOnScrape(() => this.reportInFlight());
    workqueueDepth.set(this.labels, 0);
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    workqueueAdds.inc(this.labels);
    workqueueDepth.set(this.labels, this.dirty.size);
    // A key being processed waits for done() so that no two workers ever hold it.
    if (this.processing.has(key)) return;
    this.waiting.add(key);
    this.dispatch();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.readyAt <= readyAt) return; // the earlier schedule wins
    if (pending) this.clock.clearTimeout(pending.handle);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    // A pending retry must never keep the process alive.
    (handle as { unref?: () => unknown }).unref?.();
    this.delayed.set(key, { readyAt, handle });
  }

  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    workqueueRetries.inc(this.labels);
    this.addAfter(key, this.retryDelay(key));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  get(): Promise<string | undefined> {
    if (this.waiting.size > 0) return Promise.resolve(this.next());
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    const startedAt = this.processing.get(key);
    if (startedAt === undefined) return;
    this.processing.delete(key);
    workqueueWorkDuration.observe(this.labels, (this.clock.now() - startedAt) / 1000);
    if (this.dirty.has(key)) {
      this.waiting.add(key);
      this.dispatch();
    }
    this.settleIfDrained();
  }

  /** Keys ready to hand out (neither delayed nor being processed). */
  len(): number {
    return this.waiting.size;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { handle } of this.delayed.values()) this.clock.clearTimeout(handle);
    this.delayed.clear();
    // Getters only wait when nothing is ready, so there is nothing left to give them.
    for (const resolve of this.getters.splice(0)) resolve(undefined);
    this.settleIfDrained();
  }

  /** Shuts down and drops every waiting key: nothing more is handed out (the lease is lost). */
  shutDownNow(): void {
    this.waiting.clear();
    this.dirty.clear();
    this.addedAt.clear();
    workqueueDepth.set(this.labels, 0);
    this.shutDown();
  }

  shutDownWithDrain(): Promise<void> {
    const drained = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.shutDown();
    return drained;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  private retryDelay(key: string): number {
    const failures = this.numRequeues(key);
    this.failures.set(key, failures + 1);
    const perKey = Math.min(this.baseDelayMs * 2 ** failures, this.maxDelayMs);
    return Math.max(perKey, this.bucket.reserve(this.clock.now()));
  }

  private dispatch(): void {
    while (this.getters.length > 0 && this.waiting.size > 0) this.getters.shift()?.(this.next());
  }

  /** Hands out the oldest waiting key, if any. */
  private next(): string | undefined {
    const key = this.waiting.values().next().value;
    if (key === undefined) return undefined;
    const now = this.clock.now();
    this.waiting.delete(key);
    this.dirty.delete(key);
    this.processing.set(key, now);
    workqueueQueueDuration.observe(this.labels, (now - (this.addedAt.get(key) ?? now)) / 1000);
    this.addedAt.delete(key);
    workqueueDepth.set(this.labels, this.dirty.size);
    return key;
  }

  private settleIfDrained(): void {
    if (!this.shuttingDown || this.processing.size > 0) return;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
    this.stopReporting();
    this.reportInFlight();
  }

  private reportInFlight(): void {
    const now = this.clock.now();
    let total = 0;
    let longest = 0;
    for (const startedAt of this.processing.values()) {
      total += now - startedAt;
      longest = Math.max(longest, now - startedAt);
    }
    workqueueUnfinishedWork.set(this.labels, total / 1000);
    workqueueLongestRunningProcessor.set(this.labels, longest / 1000);
  }
}
