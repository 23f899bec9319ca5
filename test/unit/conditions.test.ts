import { describe, expect, it } from '@jest/globals';
import type { ConditionUpdate } from '../../src/runtime/conditions.js';
import {
  conditionsChanged,
  findCondition,
  isCamelCaseReason,
  isConditionTrue,
  readyFrom,
  setCondition,
  statusChanged,
} from '../../src/runtime/conditions.js';
import type { Condition } from '../../src/runtime/types.js';

const t0 = '2025-01-01T00:00:00Z';
const later = new Date('2025-01-02T03:04:05.678Z');
const laterApi = '2025-01-02T03:04:05Z';

function cond(
  type: string,
  status: Condition['status'],
  reason = 'Reason',
  extra: Partial<Condition> = {},
): Condition {
  return { type, status, reason, message: `${type} ${status}`, lastTransitionTime: t0, ...extra };
}

const namespacesTrue = cond('NamespacesReady', 'True', 'Applied');
const quotaFalse = cond('QuotaReady', 'False', 'QuotaRejected', { message: 'quota "tenant-a" is invalid' });

describe('setCondition', () => {
  const cases: Array<{
    name: string;
    before: Condition[] | undefined;
    next: ConditionUpdate;
    after: Condition[];
  }> = [
    {
      name: 'appends to a missing list',
      before: undefined,
      next: { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'ok' },
      after: [
        { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'ok', lastTransitionTime: laterApi },
      ],
    },
    {
      name: 'appends a new type after the existing ones',
      before: [namespacesTrue],
      next: {
        type: 'QuotaReady',
        status: 'True',
        reason: 'Applied',
        message: 'Kvóta für Ελλάδα',
        observedGeneration: 2,
      },
      after: [
        namespacesTrue,
        {
          type: 'QuotaReady',
          status: 'True',
          reason: 'Applied',
          message: 'Kvóta für Ελλάδα',
          lastTransitionTime: laterApi,
          observedGeneration: 2,
        },
      ],
    },
    {
      name: 'keeps the transition time when the status is unchanged, replacing reason, message and generation',
      before: [cond('NamespacesReady', 'False', 'ApplyFailed', { observedGeneration: 1 }), quotaFalse],
      next: {
        type: 'NamespacesReady',
        status: 'False',
        reason: 'Forbidden',
        message: 'нет доступа',
        observedGeneration: 3,
      },
      after: [
        {
          type: 'NamespacesReady',
          status: 'False',
          reason: 'Forbidden',
          message: 'нет доступа',
          lastTransitionTime: t0,
          observedGeneration: 3,
        },
        quotaFalse,
      ],
    },
    {
      name: 'moves the transition time when the status changes, keeping the position',
      before: [quotaFalse, namespacesTrue],
      next: { type: 'QuotaReady', status: 'True', reason: 'Applied', message: 'ok' },
      after: [
        {
          type: 'QuotaReady',
          status: 'True',
          reason: 'Applied',
          message: 'ok',
          lastTransitionTime: laterApi,
        },
        namespacesTrue,
      ],
    },
    {
      name: 'drops an observedGeneration that the update does not carry',
      before: [cond('Ready', 'True', 'Reconciled', { observedGeneration: 4 })],
      next: { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'Ready True' },
      after: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Reconciled',
          message: 'Ready True',
          lastTransitionTime: t0,
        },
      ],
    },
  ];

  it.each(cases)('$name', ({ before, next, after }) => {
    const snapshot = structuredClone(before);
    expect(setCondition(before, next, later)).toEqual(after);
    expect(before).toEqual(snapshot); // the input is never mutated
  });

  it('returns a new array even when nothing changed', () => {
    const before = [namespacesTrue];
    const result = setCondition(before, { ...namespacesTrue }, later);
    expect(result).not.toBe(before);
    expect(result).toEqual(before);
  });

  it.each(['applyFailed', 'Apply failed', 'Apply_Failed', '', 'Ünïcode', 'A'.repeat(1025)])(
    'rejects the reason %j',
    (reason) => {
      expect(() => setCondition([], { type: 'Ready', status: 'False', reason, message: 'x' }, later)).toThrow(
        /not CamelCase/,
      );
    },
  );
});

describe('isCamelCaseReason', () => {
  it.each([
    ['Reconciled', true],
    ['ApplyFailed', true],
    ['HTTP503', true],
    ['A', true],
    ['reconciled', false],
    ['Apply-Failed', false],
    ['Apply Failed', false],
    ['1Failed', false],
    ['', false],
  ])('%j -> %s', (reason, expected) => {
    expect(isCamelCaseReason(reason)).toBe(expected);
  });
});

describe('findCondition and isConditionTrue', () => {
  const list = [namespacesTrue, quotaFalse, cond('Synced', 'Unknown')];
  it.each([
    ['NamespacesReady', namespacesTrue, true],
    ['QuotaReady', quotaFalse, false],
    ['Synced', list[2], false],
    ['Missing', undefined, false],
  ])('%s', (type, found, isTrue) => {
    expect(findCondition(list, type)).toBe(found);
    expect(isConditionTrue(list, type)).toBe(isTrue);
  });

  it('handles a missing list', () => {
    expect(findCondition(undefined, 'Ready')).toBeUndefined();
    expect(isConditionTrue(undefined, 'Ready')).toBe(false);
  });
});

describe('readyFrom', () => {
  it.each<{ name: string; conditions: Condition[] | undefined; types: string[]; ready: ConditionUpdate }>([
    {
      name: 'True when every listed type is True',
      conditions: [namespacesTrue, cond('QuotaReady', 'True', 'Applied')],
      types: ['NamespacesReady', 'QuotaReady'],
      ready: {
        type: 'Ready',
        status: 'True',
        reason: 'Reconciled',
        message: 'All conditions True: NamespacesReady, QuotaReady',
        observedGeneration: 7,
      },
    },
    {
      name: 'ignores conditions that are not listed',
      conditions: [namespacesTrue, quotaFalse],
      types: ['NamespacesReady'],
      ready: {
        type: 'Ready',
        status: 'True',
        reason: 'Reconciled',
        message: 'All conditions True: NamespacesReady',
        observedGeneration: 7,
      },
    },
    {
      name: 'False with the first failing reason, naming every failing type',
      conditions: [cond('NamespacesReady', 'Unknown', 'Progressing'), quotaFalse],
      types: ['NamespacesReady', 'QuotaReady', 'PoliciesReady'],
      ready: {
        type: 'Ready',
        status: 'False',
        reason: 'Progressing',
        message:
          'Not True: NamespacesReady, QuotaReady, PoliciesReady; NamespacesReady: NamespacesReady Unknown',
        observedGeneration: 7,
      },
    },
    {
      name: 'False when a listed type was never reported',
      conditions: undefined,
      types: ['PoliciesReady'],
      ready: {
        type: 'Ready',
        status: 'False',
        reason: 'NotReported',
        message: 'Not True: PoliciesReady; PoliciesReady: not reported yet',
        observedGeneration: 7,
      },
    },
  ])('$name', ({ conditions, types, ready }) => {
    expect(readyFrom(conditions, types, 7)).toEqual(ready);
  });

  it('produces an update that setCondition accepts', () => {
    const conditions = [namespacesTrue, quotaFalse];
    const next = setCondition(conditions, readyFrom(conditions, ['QuotaReady'], 2), later);
    expect(findCondition(next, 'Ready')).toMatchObject({ status: 'False', reason: 'QuotaRejected' });
    expect(findCondition(next, 'Ready')?.message).toContain('quota "tenant-a" is invalid');
  });
});

describe('conditionsChanged', () => {
  const a = cond('A', 'True');
  const b = cond('B', 'False');
  it.each<[string, Condition[] | undefined, Condition[] | undefined, boolean]>([
    ['same list', [a, b], [a, b], false],
    ['same list, other order', [a, b], [b, a], false],
    ['copies are equal', [a], [{ ...a }], false],
    ['missing and empty', undefined, [], false],
    ['one added', [a], [a, b], true],
    ['one removed', [a, b], [b], true],
    ['status', [a], [{ ...a, status: 'False' }], true],
    ['reason', [a], [{ ...a, reason: 'Other' }], true],
    ['message', [a], [{ ...a, message: 'other' }], true],
    ['lastTransitionTime', [a], [{ ...a, lastTransitionTime: laterApi }], true],
    ['observedGeneration added', [a], [{ ...a, observedGeneration: 1 }], true],
    [
      'observedGeneration changed',
      [{ ...a, observedGeneration: 1 }],
      [{ ...a, observedGeneration: 2 }],
      true,
    ],
    ['duplicate type against two types', [a, a], [a, { ...a, type: 'C' }], true],
  ])('%s -> %s', (_name, left, right, changed) => {
    expect(conditionsChanged(left, right)).toBe(changed);
    expect(conditionsChanged(right, left)).toBe(changed);
  });
});

describe('statusChanged', () => {
  const base = {
    observedGeneration: 3,
    namespaces: ['tenant-a', 'tenant-b'],
    endpoints: { api: 'https://a.example', ui: 'https://ui.example' },
    conditions: [namespacesTrue, quotaFalse],
  };
  it.each<[string, unknown, unknown, boolean]>([
    ['identical copies', base, structuredClone(base), false],
    [
      'key order and condition order',
      base,
      {
        conditions: [quotaFalse, namespacesTrue],
        endpoints: { ui: 'https://ui.example', api: 'https://a.example' },
        namespaces: ['tenant-a', 'tenant-b'],
        observedGeneration: 3,
      },
      false,
    ],
    ['undefined field equals a missing one', { a: 1, b: undefined }, { a: 1 }, false],
    ['missing conditions equal an empty list', { conditions: [] }, {}, false],
    ['equal dates', { at: new Date(0) }, { at: new Date(0) }, false],
    ['both undefined', undefined, undefined, false],
    ['scalar changed', base, { ...base, observedGeneration: 4 }, true],
    ['array order matters outside conditions', base, { ...base, namespaces: ['tenant-b', 'tenant-a'] }, true],
    ['nested field', base, { ...base, endpoints: { ...base.endpoints, ui: 'https://x.example' } }, true],
    [
      'condition changed',
      base,
      { ...base, conditions: [namespacesTrue, { ...quotaFalse, message: 'ok' }] },
      true,
    ],
    ['field added', base, { ...base, phase: 'Ready' }, true],
    ['null is not missing', { a: null }, {}, true],
    ['number is not string', { a: 1 }, { a: '1' }, true],
    ['array is not object', { a: [] }, { a: {} }, true],
    ['different dates', { at: new Date(0) }, { at: new Date(1) }, true],
    ['status appears', undefined, { observedGeneration: 1 }, true],
  ])('%s -> %s', (_name, current, next, changed) => {
    expect(statusChanged(current, next)).toBe(changed);
    expect(statusChanged(next, current)).toBe(changed);
  });
});
