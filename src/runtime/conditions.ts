/** Pure helpers on status conditions, following the Kubernetes API conventions. */
import type { Condition, ConditionStatus } from './types.js';

/** A condition as a reconciler decides it; the transition time is derived. */
export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
}

const camelCase = /^[A-Z][A-Za-z0-9]*$/;

/** Reasons are machine-readable CamelCase words (the API server caps them at 1024 characters). */
export function isCamelCaseReason(reason: string): boolean {
  return reason.length <= 1024 && camelCase.test(reason);
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** The API server stores times with second precision; keeping ours the same avoids a status write per reconcile. */
function apiTime(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Returns a new list with `next` set; the transition time moves only when the status changes. */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionUpdate,
  now: Date,
): Condition[] {
  if (!isCamelCaseReason(next.reason)) {
    throw new Error(`condition ${next.type}: reason "${next.reason}" is not CamelCase (like "ApplyFailed")`);
  }
  const list = conditions ?? [];
  const previous = findCondition(list, next.type);
  const condition: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message: next.message,
    lastTransitionTime: previous?.status === next.status ? previous.lastTransitionTime : apiTime(now),
  };
  if (next.observedGeneration !== undefined) condition.observedGeneration = next.observedGeneration;
  return previous ? list.map((c) => (c.type === next.type ? condition : c)) : [...list, condition];
}

/** The summary Ready condition: True when every listed type is True, else the first failure's reason. */
export function readyFrom(
  conditions: readonly Condition[] | undefined,
  types: readonly string[],
  generation: number | undefined,
): ConditionUpdate {
  const failing = types.filter((type) => !isConditionTrue(conditions, type));
  const [firstType] = failing;
  if (firstType === undefined) {
    const message = types.length ? `All conditions True: ${types.join(', ')}` : 'Nothing to reconcile';
    return { type: 'Ready', status: 'True', reason: 'Reconciled', message, observedGeneration: generation };
  }
  const first = findCondition(conditions, firstType);
  return {
    type: 'Ready',
    status: 'False',
    reason: first?.reason ?? 'NotReported',
    message: `Not True: ${failing.join(', ')}; ${firstType}: ${first?.message || 'not reported yet'}`,
    observedGeneration: generation,
  };
}

function sameCondition(a: Condition, b: Condition): boolean {
  return (
    a.type === b.type &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.lastTransitionTime === b.lastTransitionTime &&
    a.observedGeneration === b.observedGeneration
  );
}

function byType(conditions: readonly Condition[]): Condition[] {
  return [...conditions].sort((x, y) => (x.type < y.type ? -1 : x.type > y.type ? 1 : 0));
}

/** True when the lists differ in anything but order; a missing list equals an empty one. */
export function conditionsChanged(
  a: readonly Condition[] | undefined,
  b: readonly Condition[] | undefined,
): boolean {
  const left = byType(a ?? []);
  const right = byType(b ?? []);
  return left.length !== right.length || left.some((c, i) => !sameCondition(c, right[i] as Condition));
}

// Tag check rather than prototype identity, so objects from another realm (vm, structuredClone) still count.
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === '[object Object]';
}

function sameArray(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
}

function sameField(key: string, a: unknown, b: unknown): boolean {
  const conditionLists = key === 'conditions' && isOptionalArray(a) && isOptionalArray(b);
  return conditionLists ? !conditionsChanged(a as Condition[], b as Condition[]) : sameValue(a, b);
}

function isOptionalArray(value: unknown): boolean {
  return value === undefined || Array.isArray(value);
}

function sameObject(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  // An undefined field is the same as a missing one: neither is serialized.
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => sameField(key, a[key], b[key]));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return sameArray(a, b);
  if (isPlainObject(a) && isPlainObject(b)) return sameObject(a, b);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return false;
}

/** True when a status differs semantically: key order and condition order do not count. */
export function statusChanged(current: unknown, next: unknown): boolean {
  return !sameValue(current, next);
}
