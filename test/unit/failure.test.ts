/** The one error policy: a failed reconcile says so in Ready, with the API's reason, written once. */
import { failedStatus, failureReason } from '../../src/runtime/failure.js';
import { ApiError } from '../../src/runtime/kube.js';
import type { KubeObject } from '../../src/runtime/types.js';

const now = new Date('2026-12-01T10:00:00Z');
const obj = (status?: unknown): KubeObject =>
  ({ apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a', generation: 3 }, status }) as KubeObject;

test.each([
  [new ApiError(403, 'Forbidden', 'namespaces is forbidden'), 'Forbidden'],
  [new ApiError(503, 'ServiceUnavailable', 'HTTP 503'), 'ServiceUnavailable'],
  [new ApiError(0, 'Unknown', 'socket hang up'), 'ReconcileError'],
  [new ApiError(0, 'not camel case', 'x'), 'ReconcileError'],
  [new Error('boom'), 'ReconcileError'],
  ['a string', 'ReconcileError'],
])('the reason of %p is %s', (e, reason) => {
  expect(failureReason(e)).toBe(reason);
});

test('Ready turns False for the failing generation, other conditions and fields kept', () => {
  const before = obj({
    observedGeneration: 2,
    namespaces: ['a-prod'],
    conditions: [
      { type: 'Ready', status: 'True', reason: 'Ready', message: 'ok', lastTransitionTime: '2026-11-30T00:00:00Z' },
      { type: 'QuotaApplied', status: 'True', reason: 'QuotaApplied', message: 'ok', lastTransitionTime: '2026-11-30T00:00:00Z' },
    ],
  }); // prettier-ignore
  const next = failedStatus(before, new ApiError(403, 'Forbidden', 'namespaces is forbidden'), now)!;
  expect(next.observedGeneration).toBe(2);
  expect(next.namespaces).toEqual(['a-prod']);
  expect(next.conditions).toEqual([
    {
      type: 'Ready',
      status: 'False',
      reason: 'Forbidden',
      message: 'reconcile failed, retrying: namespaces is forbidden',
      lastTransitionTime: '2026-12-01T10:00:00Z',
      observedGeneration: 3,
    },
    before.status && (before.status as { conditions: unknown[] }).conditions[1],
  ]);
});

test('the same failure again writes nothing; a different one does', () => {
  const e = new ApiError(403, 'Forbidden', 'namespaces is forbidden');
  const failed = obj(failedStatus(obj(), e, now));
  expect(failedStatus(failed, e, new Date('2026-12-01T10:05:00Z'))).toBeUndefined();
  expect(failedStatus(failed, new Error('other'), now)).toBeDefined();
});

test('a long message is cut to what a condition holds', () => {
  const next = failedStatus(obj(), new Error('x'.repeat(5000)), now)!;
  expect((next.conditions as { message: string }[])[0]!.message.length).toBe(1024);
});
