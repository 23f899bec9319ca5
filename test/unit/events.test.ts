/**
 * The Event recorder writes an Event once per object, reason and message within ten minutes, and
 * forgets what it wrote after that: an operator at rest keeps none of it in memory.
 */
import { jest } from '@jest/globals';
import { EventRecorder } from '../../src/runtime/events.js';
import type { KubeClient } from '../../src/runtime/kube.js';
import { rootLogger } from '../../src/runtime/log.js';
import type { KubeObject } from '../../src/runtime/types.js';

const tenant = (i: number): KubeObject => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovTenant',
  metadata: { name: `t${i}`, uid: `uid-${i}` },
});

function recorder(): { events: EventRecorder; posted: string[] } {
  const posted: string[] = [];
  const client = {
    request: async (_method: string, _path: string, opts: { body: { message: string } }) => {
      posted.push(opts.body.message);
      return {};
    },
  } as unknown as KubeClient;
  const events = new EventRecorder(client, rootLogger, { component: 'c', reportingComponent: 'r' });
  return { events, posted };
}

beforeEach(() => jest.useFakeTimers({ now: Date.parse('2026-12-02T10:00:00Z') }));
afterEach(() => jest.useRealTimers());

test('an identical Event is written again only after the window', () => {
  const { events, posted } = recorder();
  events.record(tenant(1), 'Normal', 'NamespaceCreated', 'Created Namespace t1-prod');
  events.record(tenant(1), 'Normal', 'NamespaceCreated', 'Created Namespace t1-prod');
  events.record(tenant(2), 'Normal', 'NamespaceCreated', 'Created Namespace t1-prod');
  expect(posted).toHaveLength(2);
  jest.advanceTimersByTime(9 * 60_000);
  events.record(tenant(1), 'Normal', 'NamespaceCreated', 'Created Namespace t1-prod');
  expect(posted).toHaveLength(2);
  jest.advanceTimersByTime(2 * 60_000);
  events.record(tenant(1), 'Normal', 'NamespaceCreated', 'Created Namespace t1-prod');
  expect(posted).toHaveLength(3);
});

test('at rest, what was written is forgotten once the window has passed', () => {
  const { events } = recorder();
  for (let i = 0; i < 500; i++)
    events.record(tenant(i), 'Normal', 'NamespaceCreated', `Created Namespace t${i}-prod`);
  jest.advanceTimersByTime(5 * 60_000);
  for (let i = 500; i < 600; i++)
    events.record(tenant(i), 'Normal', 'NamespaceCreated', `Created Namespace t${i}-prod`);
  expect(events.remembered).toBe(600);
  jest.advanceTimersByTime(6 * 60_000);
  expect(events.remembered).toBe(100);
  jest.advanceTimersByTime(5 * 60_000);
  expect(events.remembered).toBe(0);
  expect(jest.getTimerCount()).toBe(0);
});

test('the memory of written Events is bounded: the oldest are forgotten first', () => {
  const { events, posted } = recorder();
  for (let i = 0; i < 4146; i++) events.record(tenant(i), 'Normal', 'NamespaceCreated', 'Created');
  expect(events.remembered).toBe(4096);
  // The newest are still remembered, the first fifty are not.
  events.record(tenant(4145), 'Normal', 'NamespaceCreated', 'Created');
  events.record(tenant(0), 'Normal', 'NamespaceCreated', 'Created');
  expect(posted).toHaveLength(4147);
});
