/** The CSV export of a month: per administration, per country (summed), per service class and plan. */
import type { GovConsumption } from '../../src/api/index.js';
import { consumptionCsv } from '../../src/controllers/consumption/csv.js';
import { parseCsvArgs } from '../../src/consumption-csv.js';

const ledger = (
  tenant: string,
  country: string,
  month: string,
  extra: Partial<GovConsumption['spec']> = {},
  cpu = 1,
): GovConsumption => ({
  // prettier-ignore
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovConsumption',
  metadata: { name: `${tenant}-${month}` },
  spec: { tenant, month, country, level: 'municipal', ...extra },
  status: {
    cpuCoreHours: cpu,
    memoryGiBHours: 2 * cpu,
    storageGiBDays: 0.5,
    coveredSeconds: 7200,
    uncoveredSeconds: 1800,
    servicePlanHours: [{ class: 'e-permits', plan: 'small', hours: 3 }],
  },
});

/** What rs-beograd ran of sofia and reported (a record with reportedBy): only the total plan-hours. */
const reported: GovConsumption = {
  ...ledger('sofia', 'BG', '2026-12', { reportedBy: 'rs-beograd' }, 40),
  metadata: { name: 'sofia-2026-12.rs-beograd' },
};
reported.status = { ...reported.status, servicePlanHours: undefined, servicePlanHoursTotal: 7 };

// The reported record is in every list: the per-tenant, per-country and per-service CSVs count only
// what ran here and stay as they were without it.
const ledgers = [
  ledger('sofia', 'BG', '2026-12', {}, 2.5),
  reported,
  ledger('hu-budapest', 'HU', '2026-12', { originMember: 'hu-central', originCountry: 'HU' }),
  ledger('plovdiv', 'BG', '2026-12'),
  ledger('plovdiv', 'BG', '2026-11', {}, 100),
];

describe('consumptionCsv', () => {
  it('per administration: one row each, sorted, imported tenants with their origin, only the month asked', () => {
    expect(consumptionCsv(ledgers, '2026-12', 'tenant').split('\r\n')).toEqual([
      'month,tenant,country,level,origin_member,origin_country,cpu_core_hours,memory_gib_hours,storage_gib_days,service_plan_hours,covered_hours,uncovered_hours',
      '2026-12,hu-budapest,HU,municipal,hu-central,HU,1,2,0.5,3,2,0.5',
      '2026-12,plovdiv,BG,municipal,,,1,2,0.5,3,2,0.5',
      '2026-12,sofia,BG,municipal,,,2.5,5,0.5,3,2,0.5',
      '',
    ]);
  });

  it('per country: the sums of its administrations', () => {
    expect(consumptionCsv(ledgers, '2026-12', 'country').split('\r\n')).toEqual([
      'month,country,tenants,cpu_core_hours,memory_gib_hours,storage_gib_days,service_plan_hours',
      '2026-12,BG,2,3.5,7,1,6',
      '2026-12,HU,1,1,2,0.5,3',
      '',
    ]);
  });

  it('per service: plan-hours by administration, class and plan', () => {
    expect(consumptionCsv(ledgers, '2026-11', 'service')).toBe(
      'month,tenant,country,class,plan,plan_hours\r\n2026-11,plovdiv,BG,e-permits,small,3\r\n',
    );
  });

  it('per member: the rows per administration with reported_by, what peers reported after the own row', () => {
    // The per-tenant CSV with an empty reported_by after origin_country, and the reported row added.
    const withReporter = (row: string, reporter: string): string =>
      row.replace(/^((?:[^,]*,){6})/, `$1${reporter},`);
    const [header, ...rows] = consumptionCsv(ledgers, '2026-12', 'tenant').split('\r\n');
    expect(consumptionCsv(ledgers, '2026-12', 'member').split('\r\n')).toEqual([
      withReporter(header!, 'reported_by'),
      ...rows.slice(0, -1).map((r) => withReporter(r, '')),
      '2026-12,sofia,BG,municipal,,,rs-beograd,40,80,0.5,7,2,0.5',
      '',
    ]);
  });

  it('quotes fields with commas or quotes', () => {
    const odd = ledger('x', 'BG', '2026-12', { level: 'a,"b"' as 'agency' });
    expect(consumptionCsv([odd], '2026-12', 'tenant').split('\r\n')[1]).toContain(',"a,""b""",');
  });
});

describe('parseCsvArgs', () => {
  it('takes a month and a grouping, tenant by default', () => {
    expect(parseCsvArgs(['--month', '2026-12'])).toEqual({
      month: '2026-12',
      by: 'tenant',
      kubeconfig: undefined,
    });
    expect(parseCsvArgs(['--month=2027-01', '--by', 'country'])).toMatchObject({ by: 'country' });
    expect(parseCsvArgs(['--month=2027-01', '--by', 'member'])).toMatchObject({ by: 'member' });
  });
  it.each([[['--month', '2026-13']], [[]], [['--month', '2026-12', '--by', 'region']], [['--bogus']]])(
    'refuses %j',
    (argv) => expect(() => parseCsvArgs(argv)).toThrow(/--month|--by|bogus/),
  );
});
