/**
 * Leader election against an in-memory Lease with fake clocks: a replica stops leading when another
 * holds the Lease or when it cannot renew within the deadline on the monotonic clock, whatever the
 * wall clock does. (The e2e lease test shows the same on a real API server.)
 */
import type { KubeClient } from '../../src/runtime/kube.js';
import { ApiError } from '../../src/runtime/kube.js';
import { LeaderElector, type ElectionClock } from '../../src/runtime/leader.js';
import { rootLogger } from '../../src/runtime/log.js';

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  renewTime?: string;
  acquireTime?: string;
  leaseTransitions?: number;
}

/**
 * The API server's part: one Lease, PUT with optimistic concurrency, and two outages: refused
 * (every request fails at once) and hanging (no request is ever answered, until its caller aborts it).
 */
class LeaseStore {
  lease?: { metadata: { name: string; namespace: string; resourceVersion: string }; spec: LeaseSpec };
  down = false;
  hang = false;
  /** The signals of the requests that hung. */
  hung: AbortSignal[] = [];
  writes: { method: string; holder?: string }[] = [];
  private version = 0;

  client(): KubeClient {
    return { request: (method: string, _path: string, opts: { body?: unknown; signal?: AbortSignal } = {}) => this.answer(method, opts) } as unknown as KubeClient; // prettier-ignore
  }

  steal(holder: string): void {
    this.lease!.spec = { ...this.lease!.spec, holderIdentity: holder, renewTime: 'stolen' };
    this.lease!.metadata.resourceVersion = String(++this.version);
  }

  private answer(method: string, opts: { body?: unknown; signal?: AbortSignal }): Promise<unknown> {
    if (!this.hang) return this.handle(method, opts.body);
    const signal = opts.signal ?? new AbortController().signal;
    this.hung.push(signal);
    return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  }

  private async handle(method: string, body: unknown): Promise<unknown> {
    if (this.down) throw new ApiError(0, 'ConnectionRefused', 'connect ECONNREFUSED');
    if (method === 'GET') {
      if (!this.lease) throw new ApiError(404, 'NotFound', 'not found');
      return structuredClone(this.lease);
    }
    const b = body as { metadata: { resourceVersion?: string }; spec: LeaseSpec };
    if (method === 'PUT' && b.metadata.resourceVersion !== this.lease?.metadata.resourceVersion)
      throw new ApiError(409, 'Conflict', 'the object has been modified');
    this.writes.push({ method, holder: b.spec.holderIdentity });
    this.lease = {
      metadata: { name: 'l', namespace: 'ns', resourceVersion: String(++this.version) },
      spec: b.spec,
    };
    return this.lease;
  }
}

/** Monotonic and wall clocks moved by the test; timers fire only when the test advances time. */
class FakeClock implements ElectionClock {
  mono = 1_000;
  wallMs = Date.parse('2026-12-01T10:00:00Z');
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;

  monotonic = (): number => this.mono;
  wall = (): Date => new Date(this.wallMs);
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.ids;
    this.timers.push({ at: this.mono + ms, fn, id });
    return id;
  };
  clearTimeout = (id: unknown): void => {
    this.timers = this.timers.filter((t) => t.id !== id);
  };

  /** Moves both clocks forward (the wall clock by `wallMs`, default the same), firing due timers. */
  async advance(ms: number, wallMs = ms): Promise<void> {
    const end = this.mono + ms;
    this.wallMs += wallMs;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.mono = due.at;
      due.fn();
      await settle();
    }
    this.mono = end;
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function elect(store: LeaseStore, clock: FakeClock) {
  const events: string[] = [];
  const elector = new LeaderElector(store.client(), {
    namespace: 'ns',
    name: 'l',
    identity: 'me',
    logger: rootLogger.child({ test: 'leader' }),
    clock,
  });
  elector.run(
    () => events.push('started'),
    () => events.push('lost'),
  );
  return { elector, events };
}

test('becomes leader on an empty Lease and keeps renewing it', async () => {
  const store = new LeaseStore();
  const clock = new FakeClock();
  const { elector, events } = elect(store, clock);
  await settle();
  expect(events).toEqual(['started']);
  await clock.advance(20_000);
  expect(elector.isLeader()).toBe(true);
  expect(store.writes.length).toBeGreaterThanOrEqual(10);
  expect(events).toEqual(['started']);
});

test('a stolen Lease ends leadership at the next renewal, and no write follows', async () => {
  const store = new LeaseStore();
  const clock = new FakeClock();
  const { elector, events } = elect(store, clock);
  await settle();
  store.steal('thief');
  const writesBefore = store.writes.length;
  await clock.advance(2_000);
  expect(events).toEqual(['started', 'lost']);
  expect(elector.isLeader()).toBe(false);
  await clock.advance(60_000);
  expect(store.writes.length).toBe(writesBefore);
  expect(events).toEqual(['started', 'lost']);
});

test('a wall clock stepped back does not hide a missed renew deadline', async () => {
  const store = new LeaseStore();
  const clock = new FakeClock();
  const { events } = elect(store, clock);
  await settle();
  store.down = true;
  // Thirteen seconds pass while the wall clock is set back an hour: the deadline (10 s) is missed.
  await clock.advance(13_000, -3_600_000);
  expect(events).toEqual(['started', 'lost']);
});

test('a renewal that hangs does not extend leadership past the renew deadline', async () => {
  const store = new LeaseStore();
  const clock = new FakeClock();
  const { elector, events } = elect(store, clock);
  await settle();
  const writesBefore = store.writes.length;
  // Renewed at the start (monotonic 1 000 ms); from now on the API server takes requests and never answers.
  store.hang = true;
  await clock.advance(9_999);
  expect(events).toEqual(['started']);
  expect(elector.isLeader()).toBe(true);
  expect(store.hung.length).toBeGreaterThan(0);
  await clock.advance(2);
  expect(events).toEqual(['started', 'lost']);
  expect(elector.isLeader()).toBe(false);
  // The attempt still hanging is abandoned, and once the API server answers again nothing is sent.
  expect(store.hung.every((s) => s.aborted)).toBe(true);
  store.hang = false;
  await clock.advance(60_000);
  expect(store.writes.length).toBe(writesBefore);
  expect(events).toEqual(['started', 'lost']);
});

test('a wall clock stepped forward does not make a held Lease look expired', async () => {
  const store = new LeaseStore();
  store.lease = {
    metadata: { name: 'l', namespace: 'ns', resourceVersion: '1' },
    spec: { holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: 'then' },
  };
  const clock = new FakeClock();
  const { events } = elect(store, clock);
  await settle();
  await clock.advance(4_000, 3_600_000);
  expect(events).toEqual([]);
  expect(store.writes).toEqual([]);
  await clock.advance(10_000);
  expect(events).toEqual([]);
  // Only once the record has not changed for the lease duration (15 s) on the monotonic clock.
  await clock.advance(4_000);
  expect(events).toEqual(['started']);
  expect(store.writes[0]).toEqual({ method: 'PUT', holder: 'me' });
});
