/**
 * Pure checks of a GovTenant, run before anything is applied, for what admission cannot see.
 * Admission validates spec.limits and each environment's limits on their own; the LimitRange gets
 * the two merged key by key, and only that merge can show a maximum below a default that came from
 * the other level.
 */
import type { GovTenant } from '../../api/index.js';
import { quantityValue } from '../../runtime/apply.js';

type Limits = NonNullable<GovTenant['spec']>['limits'];
type LimitKey = keyof NonNullable<Limits>;

/** Pairs that the API server requires in order: the maximum must be at least the default. */
const ORDERED: [max: LimitKey, dflt: LimitKey][] = [
  ['maxCpu', 'defaultCpu'],
  ['maxMemory', 'defaultMemory'],
];

/** Where a merged value comes from, said the way a cluster admin finds it in the spec. */
const origin = (index: number, key: LimitKey, own: Limits): string =>
  own?.[key] !== undefined ? `spec.environments[${index}].limits` : 'spec.limits';

/** Field-specific problems of the merged per-environment limits; empty when every LimitRange is valid. */
export function checkTenantLimits(t: GovTenant): string[] {
  const spec = t.spec!;
  return spec.environments.flatMap((env, index) => {
    const merged = { ...spec.limits, ...env.limits };
    const field = `spec.environments[${index}].limits`;
    return ORDERED.flatMap(([max, dflt]) => {
      const maxValue = quantityValue(merged[max]);
      const defaultValue = quantityValue(merged[dflt]);
      if (maxValue === undefined || defaultValue === undefined || maxValue >= defaultValue) return [];
      const from = (key: LimitKey): string => {
        const where = origin(index, key, env.limits);
        return where === field ? '' : ` (from ${where})`;
      };
      return [`${field}: ${max} ${merged[max]}${from(max)} is below ${dflt} ${merged[dflt]}${from(dflt)}`];
    });
  });
}

/** Quota and limits quantities below zero: the schema's quantity grammar admits a sign, a ResourceQuota does not. */
export function checkNegativeQuantities(t: GovTenant): string[] {
  const spec = t.spec!;
  const sources: [string, Record<string, unknown> | undefined][] = [
    ['spec.quota', spec.quota],
    ['spec.limits', spec.limits],
    ...spec.environments.flatMap((env, i): [string, Record<string, unknown> | undefined][] => [
      [`spec.environments[${i}].quota`, env.quota],
      [`spec.environments[${i}].limits`, env.limits],
    ]),
  ];
  return sources.flatMap(([field, values]) =>
    Object.entries(values ?? {})
      .filter(([, v]) => (quantityValue(v) ?? 0) < 0)
      .map(([key, v]) => `${field}.${key}: ${String(v)} is negative`),
  );
}

/** Every problem that makes the tenant's spec impossible to apply as a whole. */
export function checkTenant(t: GovTenant): string[] {
  return [...checkNegativeQuantities(t), ...checkTenantLimits(t)];
}
