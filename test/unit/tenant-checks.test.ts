/** The merged per-environment limits are checked before anything is applied, naming the field. */
import type { GovTenant } from '../../src/api/index.js';
import { checkTenant, checkTenantLimits } from '../../src/controllers/govtenant/checks.js';
import { environmentLimits } from '../../src/controllers/govtenant/desired.js';
import { quantityValue } from '../../src/runtime/apply.js';

function tenant(limits: unknown, environments: unknown[]): GovTenant {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name: 'gr-athens' },
    spec: {
      displayName: 'Δήμος Αθηναίων',
      country: 'GR',
      level: 'municipal',
      environments,
      limits,
      dataResidency: { allowedCountries: ['GR'], classification: 'internal' },
    },
  } as unknown as GovTenant;
}

describe('checkTenantLimits', () => {
  it.each([
    [
      'an environment maximum below the tenant default',
      { defaultCpu: '250m' },
      [{ name: 'prod' }, { name: 'test', limits: { maxCpu: '100m' } }],
      ['spec.environments[1].limits: maxCpu 100m is below defaultCpu 250m (from spec.limits)'],
    ],
    [
      'an environment default above the tenant maximum',
      { maxMemory: '1Gi' },
      [{ name: 'prod', limits: { defaultMemory: '2Gi' } }],
      ['spec.environments[0].limits: maxMemory 1Gi (from spec.limits) is below defaultMemory 2Gi'],
    ],
    [
      'both pairs wrong in one environment, each named',
      { defaultCpu: '1', defaultMemory: '512Mi' },
      [{ name: 'dev', limits: { maxCpu: '500m', maxMemory: '256Mi' } }],
      [
        'spec.environments[0].limits: maxCpu 500m is below defaultCpu 1 (from spec.limits)',
        'spec.environments[0].limits: maxMemory 256Mi is below defaultMemory 512Mi (from spec.limits)',
      ],
    ],
    [
      'the same values in another notation',
      { defaultCpu: '0.5' },
      [{ name: 'prod', limits: { maxCpu: '400m' } }],
      ['spec.environments[0].limits: maxCpu 400m is below defaultCpu 0.5 (from spec.limits)'],
    ],
  ])('refuses %s', (_what, limits, environments, expected) => {
    expect(checkTenantLimits(tenant(limits, environments))).toEqual(expected);
    expect(checkTenant(tenant(limits, environments))).toEqual(expected);
  });

  it.each([
    ['no limits at all', undefined, [{ name: 'prod' }]],
    [
      'an override that raises the maximum',
      { defaultCpu: '2', maxCpu: '1' },
      [{ name: 'p', limits: { maxCpu: '4' } }],
    ],
    ['equal maximum and default', { defaultCpu: '250m' }, [{ name: 'prod', limits: { maxCpu: '0.25' } }]],
    ['a maximum without default', { maxMemory: '128Mi' }, [{ name: 'prod', limits: { maxCpu: '10m' } }]],
    [
      '1Gi against 1000Mi (binary suffixes)',
      { defaultMemory: '1000Mi' },
      [{ name: 'p', limits: { maxMemory: '1Gi' } }],
    ],
  ])('accepts %s', (_what, limits, environments) => {
    expect(checkTenantLimits(tenant(limits, environments))).toEqual([]);
  });

  it('agrees with the LimitRange built: accepted means max >= default in what would be applied', () => {
    const t = tenant({ defaultCpu: '300m', maxMemory: '2Gi' }, [
      { name: 'a', limits: { maxCpu: '1' } },
      { name: 'b', limits: { defaultMemory: '1Gi' } },
    ]);
    expect(checkTenantLimits(t)).toEqual([]);
    for (const env of t.spec!.environments) {
      const [limit] = (
        environmentLimits(t, env)!.spec as { limits: Record<string, Record<string, string>>[] }
      ).limits;
      for (const r of Object.keys(limit!.max ?? {}).filter((r) => limit!.default?.[r] !== undefined))
        expect(quantityValue(limit!.max![r])!).toBeGreaterThanOrEqual(quantityValue(limit!.default![r])!);
    }
  });
});

describe('checkNegativeQuantities', () => {
  it('names each negative quota or limit at the level where it is written', () => {
    const t = tenant({ defaultMemory: '-1Mi' }, [{ name: 'prod', quota: { cpu: '-2', memory: '1Gi' } }]);
    t.spec!.quota = { storage: '-0.5Ti', pods: 10 };
    expect(checkTenant(t)).toEqual([
      'spec.quota.storage: -0.5Ti is negative',
      'spec.limits.defaultMemory: -1Mi is negative',
      'spec.environments[0].quota.cpu: -2 is negative',
    ]);
  });

  it('accepts zero in any notation, including an explicit sign', () => {
    const t = tenant({ defaultCpu: '+0', maxCpu: '-0' }, [{ name: 'prod', quota: { cpu: '0m' } }]);
    expect(checkTenant(t)).toEqual([]);
  });
});
