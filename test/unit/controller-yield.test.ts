/**
 * Reconciles that never wait for I/O (nothing to write) still leave the event loop to timers and
 * I/O between them: a leader whose queue holds thousands of such keys keeps renewing its Lease.
 */
import type { EventSource } from '../../src/runtime/cache.js';
import { Controller } from '../../src/runtime/controller.js';
import { rootLogger } from '../../src/runtime/log.js';

test('a timer due while a long queue of reconciles without I/O runs fires before the queue is empty', async () => {
  const keys = 5000;
  let reconciled = 0;
  let reconciledWhenTimerFired = -1;
  let timerFired!: () => void;
  const timer = new Promise<void>((resolve) => (timerFired = resolve));
  const source: EventSource = { onEvent: () => undefined, waitForSync: () => Promise.resolve() };
  const c = new Controller({
    name: 'yield',
    primary: source,
    workers: 2,
    reconcile: () => {
      // The timer is due from the first reconcile on.
      if (reconciled++ === 0)
        setTimeout(() => {
          reconciledWhenTimerFired = reconciled;
          timerFired();
        }, 0);
      return Promise.resolve();
    },
    logger: rootLogger.child({ test: 'controller-yield' }),
  });
  for (let i = 0; i < keys; i++) c.queue.add(`k${i}`);
  await c.start();
  await timer;
  expect(reconciledWhenTimerFired).toBeLessThan(keys);
  await c.stop();
  expect(reconciled).toBe(keys);
});
