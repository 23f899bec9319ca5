import { describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import {
  registry,
  workqueueAdds,
  workqueueDepth,
  workqueueLongestRunningProcessor,
  workqueueQueueDuration,
  workqueueRetries,
  workqueueUnfinishedWork,
  workqueueWorkDuration,
} from '../../src/runtime/metrics.js';
import type { QueueClock, WorkQueueOptions } from '../../src/runtime/queue.js';
import { WorkQueue } from '../../src/runtime/queue.js';

/** A manual clock: time moves only when a test advances it, firing due timers in order. */
class FakeClock implements QueueClock {
  current = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.current;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    this.timers.set(++this.seq, { at: this.current + ms, callback });
    return this.seq;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.current).sort((a, b) => a - b);
  }
  advance(ms: number): void {
    const target = this.current + ms;
    for (let due = this.nextDue(target); due; due = this.nextDue(target)) {
      this.timers.delete(due[0]);
      this.current = due[1].at;
      due[1].callback();
    }
    this.current = target;
  }
  private nextDue(target: number): [number, { at: number; callback: () => void }] | undefined {
    const due = [...this.timers].filter(([, t]) => t.at <= target).sort(([, a], [, b]) => a.at - b.at);
    return due[0];
  }
}

let queues = 0;
function newQueue(opts: Partial<WorkQueueOptions> = {}): {
  queue: WorkQueue;
  clock: FakeClock;
  name: string;
} {
  const clock = new FakeClock();
  const name = `test-${++queues}`;
  return { queue: new WorkQueue({ name, clock, ...opts }), clock, name };
}

/** Lets promise reactions and other immediates run. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Reports whether a promise has settled, without waiting for it. */
async function settled<T>(promise: Promise<T>): Promise<{ done: boolean; value?: T }> {
  const marker = Symbol('pending');
  const value = await Promise.race([promise, tick().then(() => marker)]);
  return value === marker ? { done: false } : { done: true, value: value as T };
}

async function metricValue(
  metric: { get(): Promise<{ values: Array<{ labels: object; value: number; metricName?: string }> }> },
  name: string,
  metricName?: string,
): Promise<number | undefined> {
  const { values } = await metric.get();
  const match = values.find(
    (v) =>
      (v.labels as Record<string, unknown>).name === name &&
      (metricName === undefined || v.metricName === metricName),
  );
  return match?.value;
}

/** Adds, then checks that the key is ready exactly after `delayMs`. */
function expectReadyAfter(queue: WorkQueue, clock: FakeClock, delayMs: number): void {
  clock.advance(delayMs - 1);
  expect(queue.len()).toBe(0);
  clock.advance(1);
  expect(queue.len()).toBe(1);
}

describe('WorkQueue dedup and processing', () => {
  it('keeps one entry per waiting key and hands keys out in FIFO order', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(queue.len()).toBe(0);
  });

  it('holds a key re-added during processing until done(), then hands it out once more', async () => {
    const { queue } = newQueue();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.add('a');
    queue.add('a');
    expect(queue.len()).toBe(0);
    const second = queue.get();
    expect((await settled(second)).done).toBe(false);
    queue.done('a');
    expect(await settled(second)).toEqual({ done: true, value: 'a' });
    queue.done('a');
    expect(queue.len()).toBe(0);
    expect((await settled(queue.get())).done).toBe(false);
  });

  it('gives a waiting getter the next added key', async () => {
    const { queue } = newQueue();
    const pending = queue.get();
    expect((await settled(pending)).done).toBe(false);
    queue.add('x');
    expect(await pending).toBe('x');
    expect(queue.len()).toBe(0);
  });

  it('ignores done() for a key that is not being processed', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.done('a');
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('a');
  });

  it('never runs a key on two workers at once and runs every key after its last add', async () => {
    const { queue } = newQueue();
    const keys = ['k1', 'k2', 'k3'];
    const active = new Set<string>();
    const lastAdd = new Map<string, number>();
    const lastStart = new Map<string, number>();
    let clock = 0;
    let overlaps = 0;
    let maxActive = 0;
    const worker = async (): Promise<void> => {
      for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
        if (active.has(key)) overlaps++;
        active.add(key);
        maxActive = Math.max(maxActive, active.size);
        lastStart.set(key, ++clock);
        for (let i = 0; i < 1 + (clock % 3); i++) await tick();
        active.delete(key);
        queue.done(key);
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    for (let i = 0; i < 300; i++) {
      const key = keys[(i * 7) % keys.length] as string;
      queue.add(key);
      lastAdd.set(key, ++clock);
      if (i % 2 === 0) await tick();
    }
    await queue.shutDownWithDrain();
    await Promise.all(workers);
    expect(overlaps).toBe(0);
    expect(maxActive).toBeGreaterThan(1); // the workers really did run concurrently
    for (const key of keys) expect(lastStart.get(key)).toBeGreaterThan(lastAdd.get(key) ?? Infinity);
  });
});

describe('WorkQueue delays', () => {
  it('releases delayed keys in order of their due time', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('late', 30);
    queue.addAfter('early', 10);
    queue.addAfter('middle', 20);
    expect(queue.len()).toBe(0);
    clock.advance(30);
    expect([await queue.get(), await queue.get(), await queue.get()]).toEqual(['early', 'middle', 'late']);
  });

  it('keeps the earliest schedule when a key is delayed again', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('a', 100);
    queue.addAfter('a', 10);
    queue.addAfter('a', 50);
    expect(clock.pending()).toEqual([10]);
    expectReadyAfter(queue, clock, 10);
    expect(await queue.get()).toBe('a');
    queue.done('a');
    clock.advance(200);
    expect(queue.len()).toBe(0);
  });

  it('adds at once for a delay of zero or less', () => {
    const { queue, clock } = newQueue();
    queue.addAfter('a', 0);
    queue.addAfter('b', -5);
    expect(queue.len()).toBe(2);
    expect(clock.pending()).toEqual([]);
  });

  it('backs off per key 5, 10, 20 ms ... up to the cap', async () => {
    const { queue, clock } = newQueue({ maxDelayMs: 1000, qps: 1e9, burst: 1e9 });
    const expected = [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000];
    for (const [failures, delay] of expected.entries()) {
      expect(queue.numRequeues('a')).toBe(failures);
      queue.addRateLimited('a');
      expectReadyAfter(queue, clock, delay);
      expect(await queue.get()).toBe('a');
      queue.done('a');
    }
    expect(queue.numRequeues('a')).toBe(expected.length);
    expect(queue.numRequeues('b')).toBe(0);
  });

  it('starts the backoff over after forget()', async () => {
    const { queue, clock } = newQueue();
    for (let i = 0; i < 3; i++) queue.addRateLimited('a');
    expect(queue.numRequeues('a')).toBe(3);
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
    clock.advance(10_000);
    expect(await queue.get()).toBe('a');
    queue.done('a');
    queue.addRateLimited('a');
    expectReadyAfter(queue, clock, 5);
  });

  it('spaces retries 1/qps apart once the burst is spent, and refills over time', () => {
    const { queue, clock } = newQueue({ qps: 10, burst: 100 });
    for (let i = 0; i < 100; i++) queue.addRateLimited(`key-${i}`);
    expect(clock.pending()).toEqual(Array(100).fill(5));
    queue.addRateLimited('key-100');
    queue.addRateLimited('key-101');
    queue.addRateLimited('key-102');
    expect(clock.pending().slice(100)).toEqual([100, 200, 300]);
    clock.advance(400); // four tokens back, three of them already reserved
    queue.addRateLimited('key-103');
    queue.addRateLimited('key-104');
    expect(clock.pending()).toEqual([5, 100]);
  });

  it('unrefs its timers so a pending retry never keeps the process alive', () => {
    const spy = jest.spyOn(globalThis, 'setTimeout');
    const queue = new WorkQueue({ name: 'real-clock' });
    queue.addAfter('a', 60_000);
    const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
    spy.mockRestore();
    expect(timer.hasRef()).toBe(false);
    queue.shutDown();
  });
});

describe('WorkQueue shutdown', () => {
  it('resolves waiting getters with undefined and ignores later adds', async () => {
    const { queue, clock } = newQueue();
    const getters = [queue.get(), queue.get()];
    queue.addAfter('later', 10);
    queue.addRateLimited('retry');
    expect(queue.isShuttingDown()).toBe(false);
    queue.shutDown();
    expect(queue.isShuttingDown()).toBe(true);
    expect(await Promise.all(getters)).toEqual([undefined, undefined]);
    expect(clock.pending()).toEqual([]);
    queue.add('a');
    queue.addAfter('b', 1);
    queue.addRateLimited('c');
    clock.advance(1000);
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it('still hands out keys that were waiting before shutdown', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.shutDown();
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBeUndefined();
  });

  it('drains: resolves only once every key in flight is done', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    await queue.get();
    await queue.get();
    const drained = queue.shutDownWithDrain();
    queue.done('a');
    expect((await settled(drained)).done).toBe(false);
    queue.done('b');
    expect((await settled(drained)).done).toBe(true);
  });

  it('drains at once when nothing is in flight', async () => {
    const { queue } = newQueue();
    expect((await settled(queue.shutDownWithDrain())).done).toBe(true);
  });
});

describe('WorkQueue metrics', () => {
  it('counts adds and depth, including keys re-added while processing', async () => {
    const { queue, name } = newQueue();
    expect(await metricValue(workqueueDepth, name)).toBe(0);
    queue.add('a');
    queue.add('a');
    queue.add('b');
    expect(await metricValue(workqueueAdds, name)).toBe(2);
    expect(await metricValue(workqueueDepth, name)).toBe(2);
    await queue.get();
    expect(await metricValue(workqueueDepth, name)).toBe(1);
    queue.add('a'); // processing: counted, not yet ready
    expect(await metricValue(workqueueDepth, name)).toBe(2);
    expect(await metricValue(workqueueAdds, name)).toBe(3);
    expect(queue.len()).toBe(1);
  });

  it('uses the queue name as controller label unless one is given', async () => {
    const { queue } = newQueue({ name: 'labelled', controller: 'tenants' });
    queue.add('a');
    const { values } = await workqueueAdds.get();
    expect(values.find((v) => v.labels.name === 'labelled')?.labels.controller).toBe('tenants');
    const { name } = newQueue();
    const depth = await workqueueDepth.get();
    expect(depth.values.find((v) => v.labels.name === name)?.labels.controller).toBe(name);
  });

  it('counts retries on addRateLimited only', async () => {
    const { queue, name } = newQueue();
    queue.addRateLimited('a');
    queue.addRateLimited('b');
    queue.addAfter('c', 10);
    expect(await metricValue(workqueueRetries, name)).toBe(2);
  });

  it('observes time in queue and time in work, in seconds', async () => {
    const { queue, clock, name } = newQueue();
    queue.add('a');
    clock.advance(2000);
    await queue.get();
    clock.advance(500);
    queue.done('a');
    expect(await metricValue(workqueueQueueDuration, name, 'workqueue_queue_duration_seconds_sum')).toBe(2);
    expect(await metricValue(workqueueQueueDuration, name, 'workqueue_queue_duration_seconds_count')).toBe(1);
    expect(await metricValue(workqueueWorkDuration, name, 'workqueue_work_duration_seconds_sum')).toBe(0.5);
  });

  it('reports unfinished work and the longest running processor when scraped', async () => {
    const { queue, clock, name } = newQueue();
    queue.add('a');
    queue.add('b');
    await queue.get();
    clock.advance(1000);
    await queue.get();
    clock.advance(2000);
    expect(await metricValue(workqueueUnfinishedWork, name)).toBe(5);
    expect(await metricValue(workqueueLongestRunningProcessor, name)).toBe(3);
    queue.done('a');
    expect(await metricValue(workqueueLongestRunningProcessor, name)).toBe(2);
    const text = await registry.metrics();
    expect(text).toContain(`workqueue_unfinished_work_seconds{name="${name}",controller="${name}"} 2`);
    queue.done('b');
    await queue.shutDownWithDrain();
    clock.advance(1000);
    expect(await metricValue(workqueueUnfinishedWork, name)).toBe(0);
  });

  it('registers every controller-runtime metric name with its labels', async () => {
    const expected: Record<string, string> = {
      controller_runtime_reconcile_total: 'counter',
      controller_runtime_reconcile_errors_total: 'counter',
      controller_runtime_terminal_reconcile_errors_total: 'counter',
      controller_runtime_reconcile_panics_total: 'counter',
      controller_runtime_reconcile_time_seconds: 'histogram',
      controller_runtime_active_workers: 'gauge',
      controller_runtime_max_concurrent_reconciles: 'gauge',
      workqueue_depth: 'gauge',
      workqueue_adds_total: 'counter',
      workqueue_queue_duration_seconds: 'histogram',
      workqueue_work_duration_seconds: 'histogram',
      workqueue_unfinished_work_seconds: 'gauge',
      workqueue_longest_running_processor_seconds: 'gauge',
      workqueue_retries_total: 'counter',
      rest_client_requests_total: 'counter',
      rest_client_request_duration_seconds: 'histogram',
      leader_election_master_status: 'gauge',
    };
    const text = await registry.metrics();
    for (const [metric, type] of Object.entries(expected)) expect(text).toContain(`# TYPE ${metric} ${type}`);
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    const queueDuration = await workqueueQueueDuration.get();
    const les = queueDuration.values
      .map((v) => (v.labels as { le?: number | string }).le)
      .filter((le) => le !== undefined);
    expect(les.slice(0, 11)).toEqual([1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, '+Inf']);
  });
});

describe('WorkQueue invariants (property)', () => {
  type Op = { kind: 'add'; key: string } | { kind: 'get' } | { kind: 'done'; pick: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), key: fc.constantFrom('a', 'b', 'c', 'd') }),
    fc.record({ kind: fc.constant('get' as const) }),
    fc.record({ kind: fc.constant('done' as const), pick: fc.nat() }),
  );

  it('never hands a key out twice concurrently and never loses an add', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const { queue } = newQueue();
        const inFlight: string[] = [];
        const lastAdd = new Map<string, number>();
        const lastHandout = new Map<string, number>();
        let seq = 0;
        let violations = 0;
        const get = (): void => {
          void queue.get().then((key) => {
            if (key === undefined) return;
            if (inFlight.includes(key)) violations++;
            inFlight.push(key);
            lastHandout.set(key, ++seq);
          });
        };
        const finish = (pick: number): void => {
          const [key] = inFlight.splice(pick % inFlight.length, 1);
          if (key !== undefined) queue.done(key);
        };
        for (const o of ops) {
          if (o.kind === 'add') {
            queue.add(o.key);
            lastAdd.set(o.key, ++seq);
          } else if (o.kind === 'get') get();
          else if (inFlight.length) finish(o.pick);
          await Promise.resolve();
          await Promise.resolve();
        }
        // Finish everything: complete what is in flight and fetch what is waiting.
        for (let rounds = 0; inFlight.length > 0 || queue.len() > 0; rounds++) {
          if (rounds > 100) throw new Error('queue did not settle');
          while (inFlight.length) finish(0);
          for (let n = queue.len(); n > 0; n--) get();
          await tick();
        }
        queue.shutDown();
        expect(violations).toBe(0);
        for (const [key, added] of lastAdd) expect(lastHandout.get(key)).toBeGreaterThan(added);
      }),
      { numRuns: 200 },
    );
  });
});
