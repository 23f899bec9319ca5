/**
 * The ledger of a month as CSV, per administration, per country, or per service class and plan:
 * what ran in this cluster. Per member, also what peers reported running for this cluster's
 * administrations (records with reportedBy). Pure.
 */
import type { GovConsumption } from '../../api/index.js';

export type CsvGrouping = 'tenant' | 'country' | 'service' | 'member';
export const CSV_GROUPINGS: readonly CsvGrouping[] = ['tenant', 'country', 'service', 'member'];

type Row = (string | number | undefined)[];

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
const field = (v: string | number | undefined): string => {
  const s = v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
const csv = (header: string[], rows: Row[]): string =>
  [header, ...rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
const round = (v: number): number => Math.round(v * 1e6) / 1e6;
/** A reported record carries only the sum; the ledger has it by class and plan. */
const planHoursOf = (c: GovConsumption): number =>
  c.status?.servicePlanHoursTotal ?? (c.status?.servicePlanHours ?? []).reduce((sum, p) => sum + p.hours, 0);

const AMOUNTS = ['cpu_core_hours', 'memory_gib_hours', 'storage_gib_days', 'service_plan_hours'];
const amounts = (c: GovConsumption): number[] => [
  c.status?.cpuCoreHours ?? 0,
  c.status?.memoryGiBHours ?? 0,
  c.status?.storageGiBDays ?? 0,
  planHoursOf(c),
];

/** One row per record; with `reporter`, a column says which member reported it (empty: counted here). */
function perRecord(month: string, ledgers: GovConsumption[], reporter: boolean): string {
  const header = ['month', 'tenant', 'country', 'level', 'origin_member', 'origin_country', ...(reporter ? ['reported_by'] : []), ...AMOUNTS, 'covered_hours', 'uncovered_hours']; // prettier-ignore
  const rows = ledgers.map((c) => [
    month,
    c.spec!.tenant,
    c.spec!.country,
    c.spec!.level,
    c.spec!.originMember,
    c.spec!.originCountry,
    ...(reporter ? [c.spec!.reportedBy] : []),
    ...amounts(c).map(round),
    round((c.status?.coveredSeconds ?? 0) / 3600),
    round((c.status?.uncoveredSeconds ?? 0) / 3600),
  ]);
  return csv(header, rows);
}

const byTenant = (month: string, ledgers: GovConsumption[]): string => perRecord(month, ledgers, false);
const byMember = (month: string, ledgers: GovConsumption[]): string => perRecord(month, ledgers, true);

function byCountry(month: string, ledgers: GovConsumption[]): string {
  const totals = new Map<string, { tenants: number; sums: number[] }>();
  for (const c of ledgers) {
    const t = totals.get(c.spec!.country) ?? { tenants: 0, sums: [0, 0, 0, 0] };
    totals.set(c.spec!.country, { tenants: t.tenants + 1, sums: amounts(c).map((v, i) => v + t.sums[i]!) });
  }
  const rows = [...totals]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([country, t]) => [month, country, t.tenants, ...t.sums.map(round)]);
  return csv(['month', 'country', 'tenants', ...AMOUNTS], rows);
}

function byService(month: string, ledgers: GovConsumption[]): string {
  const rows = ledgers.flatMap((c) =>
    (c.status?.servicePlanHours ?? []).map((p) => [
      month,
      c.spec!.tenant,
      c.spec!.country,
      p.class,
      p.plan,
      p.hours,
    ]),
  );
  return csv(['month', 'tenant', 'country', 'class', 'plan', 'plan_hours'], rows);
}

/**
 * The CSV of `month` from the ledger objects (others are ignored), rows sorted by tenant. Records
 * that peers reported appear only per member, after the tenant's own row.
 */
export function consumptionCsv(ledgers: GovConsumption[], month: string, by: CsvGrouping): string {
  const ofMonth = ledgers
    .filter((c) => c.spec?.month === month && (by === 'member' || !c.spec.reportedBy))
    .sort(
      (a, b) =>
        a.spec!.tenant.localeCompare(b.spec!.tenant) ||
        (a.spec!.reportedBy ?? '').localeCompare(b.spec!.reportedBy ?? ''),
    );
  return { tenant: byTenant, country: byCountry, service: byService, member: byMember }[by](month, ofMonth);
}
