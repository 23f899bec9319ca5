/**
 * Losing the lease stops a controller at once: no waiting key is handed out, in-flight reconciles
 * see their signal aborted and are neither counted as errors nor retried. SIGTERM (stop) still
 * drains what is in flight.
 */
import type { EventSource } from '../../src/runtime/cache.js';
import { Controller, onSpecOrLabelChange, TerminalError } from '../../src/runtime/controller.js';
import { rootLogger } from '../../src/runtime/log.js';

const source = (): EventSource => ({ onEvent: () => undefined, waitForSync: () => Promise.resolve() });

function controller(reconcile: (key: string, signal: AbortSignal) => Promise<void>): Controller {
  return new Controller({
    name: `abort-${Math.random().toString(36).slice(2, 8)}`,
    primary: source(),
    workers: 2,
    reconcile,
    logger: rootLogger.child({ test: 'controller' }),
  });
}

test('abort hands out no waiting key and aborts the reconciles in flight', async () => {
  const started: string[] = [];
  const signals: AbortSignal[] = [];
  let release!: () => void;
  const blocked = new Promise<void>((r) => (release = r));
  const c = controller(async (key, signal) => {
    started.push(key);
    signals.push(signal);
    await blocked;
    if (signal.aborted) throw signal.reason;
  });
  for (let i = 0; i < 100; i++) c.queue.add(`k${i}`);
  await c.start();
  await new Promise((r) => setImmediate(r));
  expect(started).toEqual(['k0', 'k1']);
  c.abort(new Error('lease lost'));
  expect(signals.every((s) => s.aborted)).toBe(true);
  release();
  await c.stop();
  expect(started).toEqual(['k0', 'k1']);
  expect(c.queue.len()).toBe(0);
  // Nothing is scheduled for retry after an abort.
  c.queue.add('late');
  expect(c.queue.len()).toBe(0);
});

test('stop (SIGTERM) drains: waiting keys still run, signals stay live', async () => {
  const seen: string[] = [];
  const c = controller(async (key, signal) => {
    expect(signal.aborted).toBe(false);
    seen.push(key);
  });
  for (let i = 0; i < 5; i++) c.queue.add(`k${i}`);
  await c.start();
  await c.stop();
  expect(seen.sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
});

test('failures are reported for status; a terminal one is not retried, a transient one is', async () => {
  const reported: [string, string][] = [];
  let calls = 0;
  const c = controller(async (key) => {
    calls++;
    if (key === 'invalid') throw new TerminalError('InvalidSpec', 'spec.x: must be positive');
    if (calls < 3) throw new Error('connection reset');
  });
  c.reportFailuresWith(async (key, e) => void reported.push([key, (e as Error).message]));
  c.queue.add('invalid');
  await c.start();
  expect(c.queue.numRequeues('invalid')).toBe(0);
  c.queue.add('flaky');
  await new Promise<void>((resolve) => {
    const poll = (): void => (calls >= 3 ? resolve() : void setTimeout(poll, 5));
    poll();
  });
  await c.stop();
  expect(reported[0]).toEqual(['invalid', 'spec.x: must be positive']);
  expect(reported.slice(1)).toEqual([['flaky', 'connection reset']]);
});

describe('onSpecOrLabelChange', () => {
  const obj = (generation: number, labels: Record<string, string> = {}) =>
    ({ apiVersion: 'v1', kind: 'X', metadata: { name: 'a', generation, labels } }) as never;
  const map = onSpecOrLabelChange(() => ['tenant']);

  it.each([
    ['an add', obj(1), undefined, 'add', ['tenant']],
    ['a delete', obj(1), obj(1), 'delete', ['tenant']],
    ['a spec change', obj(2), obj(1), 'update', ['tenant']],
    ['a label change', obj(1, { tier: 'a' }), obj(1), 'update', ['tenant']],
    ['a status-only update', obj(1), obj(1), 'update', []],
  ] as const)('%s maps to %p', (_what, o, old, type, keys) => {
    expect(map(o, old, type)).toEqual(keys);
  });
});
