/** A tenant reconcile records one Event per verb, naming every object it created or updated by kind. */
import { changeEvents } from '../../src/controllers/govtenant/reconcile.js';

test('a first reconcile: one Event names the twenty objects of five kinds', () => {
  const policies = ['default-deny', 'allow-same-tenant', 'allow-from-tenants', 'allow-egress'];
  const changed = new Map([
    ['Created Namespace', ['t1-prod', 't1-test']],
    ['Created ResourceQuota', ['t1-prod/secovia-quota', 't1-test/secovia-quota']],
    [
      'Created NetworkPolicy',
      ['t1-prod', 't1-test'].flatMap((ns) => policies.map((p) => `${ns}/secovia-${p}`)),
    ],
    ['Updated RoleBinding', ['t1-prod/secovia-tenant-admins']],
  ]);
  expect(changeEvents(changed)).toEqual([
    {
      reason: 'ObjectsCreated',
      message:
        'Created Namespace t1-prod, t1-test; ResourceQuota t1-prod/secovia-quota, t1-test/secovia-quota; ' +
        'NetworkPolicy t1-prod/secovia-default-deny, t1-prod/secovia-allow-same-tenant, ' +
        't1-prod/secovia-allow-from-tenants, t1-prod/secovia-allow-egress, t1-test/secovia-default-deny, ' +
        't1-test/secovia-allow-same-tenant, t1-test/secovia-allow-from-tenants, t1-test/secovia-allow-egress',
    },
    { reason: 'ObjectsUpdated', message: 'Updated RoleBinding t1-prod/secovia-tenant-admins' },
  ]);
});

test('a long list is split into Events that each fit and together name every object once', () => {
  const names = Array.from({ length: 60 }, (_, i) => `a-very-long-tenant-name-${i}-prod/secovia-policy-${i}`);
  const changed = new Map([
    ['Created Namespace', ['a-prod']],
    ['Created NetworkPolicy', names],
  ]);
  const events = changeEvents(changed);
  expect(events.length).toBeGreaterThan(1);
  for (const e of events) {
    expect(e.reason).toBe('ObjectsCreated');
    expect(e.message.length).toBeLessThanOrEqual(1024);
    expect(e.message.startsWith('Created ')).toBe(true);
  }
  const named = events.flatMap((e) =>
    e.message
      .slice('Created '.length)
      .split('; ')
      .flatMap((part) => part.slice(part.indexOf(' ') + 1).split(', ')),
  );
  expect(named).toEqual(['a-prod', ...names]);
  // Each Event after the first says again what kind its first object is.
  expect(events[1]!.message).toMatch(/^Created NetworkPolicy /);
});

test('nothing changed, no Event', () => {
  expect(changeEvents(new Map())).toEqual([]);
});
