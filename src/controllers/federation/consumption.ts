/**
 * Consumption across a border, as pure functions. A member that runs tenants imported from a peer
 * may report their monthly totals back to that peer (export.consumption), so that the peer can share
 * the costs of its own administrations; nothing about any other tenant is ever reported. The peer
 * keeps a report only when it asks for it (import.consumption) and treats it as data: an entry is
 * taken only for a tenant that the peer itself exports to the reporting member, within a bounded
 * window of months, with finite non-negative amounts; the record it keeps is named and labelled from
 * its own objects, the reported names serving only to look them up.
 */
import { z } from 'zod';
import { API_VERSION, MONTH } from '../../api/constants.js';
import type { Federation, GovConsumption, GovTenant } from '../../api/index.js';
import { monthOf, nextMonthStart } from '../consumption/ledger.js';
import { ledgerName, MONTH_LABEL, round } from '../consumption/records.js';
import { COUNTRY, FEDERATION, MANAGED_BY, OPERATOR, ORIGIN_MEMBER, REPORTED_BY, TENANT } from '../labels.js';
import type { Peer, Skipped } from './exchange.js';

/** Months a report covers: the current one (UTC) and the 12 before it. */
export const CONSUMPTION_MONTHS = 13;
/** Entries in one report at most: a longer report is refused whole, an export keeps the newest months. */
export const MAX_CONSUMPTION_ENTRIES = 2048;
/** An amount beyond any cluster's month (about 10^8 core-hours for 100 000 cores). */
const MAX_AMOUNT = 1e12;
const DAY_MS = 86_400_000;

/** The current month (UTC) of `now` and the `count - 1` months before it, newest first. */
export function recentMonths(now: number, count = CONSUMPTION_MONTHS): string[] {
  const d = new Date(now);
  return Array.from({ length: count }, (_, i) =>
    monthOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - i, 1)),
  );
}

/** Seconds in a calendar month such as 2026-02. */
const secondsIn = (month: string): number => {
  const start = Date.parse(`${month}-01T00:00:00Z`);
  return (nextMonthStart(start) - start) / 1000;
};

const amount = z.number().min(0).max(MAX_AMOUNT);

/** One entry of a report: the totals of one tenant for one month. Unknown keys are dropped. */
export const reportedTotals = z
  .object({
    tenant: z.string().max(63),
    month: z.string().regex(MONTH),
    cpuCoreHours: amount,
    memoryGiBHours: amount,
    storageGiBDays: amount,
    servicePlanHours: amount,
    coveredSeconds: amount,
    uncoveredSeconds: amount,
  })
  // A second of rounding apart, no month has more seconds than its length.
  .refine((e) => e.coveredSeconds + e.uncoveredSeconds <= secondsIn(e.month) + 1, {
    message: 'covered and uncovered seconds add up to more than the month',
  });
export type ReportedTotals = z.infer<typeof reportedTotals>;

const reportList = z.array(z.unknown()).max(MAX_CONSUMPTION_ENTRIES);

export interface ConsumptionExportInput {
  federation: Federation;
  peer: Peer;
  tenants: GovTenant[];
  ledgers: GovConsumption[];
  now: number;
}

/**
 * What this member reports to a peer: undefined unless export.consumption is true; then the ledger
 * of each tenant imported from that very peer (still imported, and counted as its import from the
 * month's start) for the recent months. A reported record is never a ledger and never reported on.
 */
export function consumptionFor(input: ConsumptionExportInput): ReportedTotals[] | undefined {
  const { federation, peer, tenants, ledgers, now } = input;
  if (!federation.spec!.export.consumption) return undefined;
  const fromPeer = new Set(
    tenants
      .filter(
        (t) =>
          t.metadata.labels?.[ORIGIN_MEMBER] === peer.name &&
          t.metadata.labels?.[FEDERATION] === federation.metadata.name,
      )
      .map((t) => t.metadata.name),
  );
  const months = new Set(recentMonths(now));
  return ledgers
    .filter(
      (c) =>
        !!c.spec &&
        !c.spec.reportedBy &&
        c.spec.originMember === peer.name &&
        fromPeer.has(c.spec.tenant) &&
        months.has(c.spec.month) &&
        c.metadata.name === ledgerName(c.spec.tenant, c.spec.month),
    )
    .sort(
      (a, b) => b.spec!.month.localeCompare(a.spec!.month) || a.spec!.tenant.localeCompare(b.spec!.tenant),
    )
    .slice(0, MAX_CONSUMPTION_ENTRIES)
    .map(totalsOf)
    .sort((a, b) => a.tenant.localeCompare(b.tenant) || a.month.localeCompare(b.month));
}

const totalsOf = (c: GovConsumption): ReportedTotals => {
  const s = c.status ?? {};
  return {
    tenant: c.spec!.tenant,
    month: c.spec!.month,
    cpuCoreHours: s.cpuCoreHours ?? 0,
    memoryGiBHours: s.memoryGiBHours ?? 0,
    storageGiBDays: s.storageGiBDays ?? 0,
    servicePlanHours: round((s.servicePlanHours ?? []).reduce((sum, p) => sum + p.hours, 0)),
    coveredSeconds: s.coveredSeconds ?? 0,
    uncoveredSeconds: s.uncoveredSeconds ?? 0,
  };
};

/**
 * The name of the record of what `peer` reported for a tenant and month. It holds a dot, which no
 * ledger name (<tenant>-<yyyy-mm>, a DNS label and a month) ever does: the ledger never meets it.
 */
export const reportedName = (tenant: string, month: string, peer: string): string =>
  `${ledgerName(tenant, month)}.${peer}`;

export interface ReportInput {
  federation: Federation;
  peer: Peer;
  /** The `consumption` of the peer's export document, as published (untrusted). */
  report: unknown;
  /** The tenants this member exports to the peer, by name: the only ones a report may concern. */
  exported: ReadonlyMap<string, GovTenant>;
  now: number;
}

export interface ReportPlan {
  /** The records to keep, status included. */
  records: GovConsumption[];
  skipped: Skipped[];
}

const SKIPPED_KIND = 'GovConsumption';

/** What this member keeps of a peer's report, and what it refuses with why. */
export function reportedConsumption({ federation, peer, report, exported, now }: ReportInput): ReportPlan {
  if (report === undefined) return { records: [], skipped: [] };
  const skip = (name: string, reason: Skipped['reason'], message: string): ReportPlan => ({
    records: [],
    skipped: [{ kind: SKIPPED_KIND, name, reason, message }],
  });
  if (!federation.spec!.import.consumption)
    return skip(peer.name, 'ConsumptionNotAccepted', `${peer.name} reports consumption; not kept (import.consumption is false)`); // prettier-ignore
  const list = reportList.safeParse(report);
  if (!list.success)
    return skip(peer.name, 'InvalidExport', `consumption is not a list of at most ${MAX_CONSUMPTION_ENTRIES} entries`); // prettier-ignore
  // A day of clock difference: a reporter already in the next month is not refused at midnight.
  const months = [...new Set([monthOf(now + DAY_MS), ...recentMonths(now)])];
  const plan: ReportPlan = { records: [], skipped: [] };
  const seen = new Set<string>();
  list.data.forEach((raw, i) => {
    const entry = acceptEntry(raw, { exported, months, peer });
    if ('reason' in entry) {
      plan.skipped.push({ kind: SKIPPED_KIND, name: entry.name ?? `consumption[${i}]`, ...entry });
      return;
    }
    const name = reportedName(entry.tenant.metadata.name, entry.month, peer.name);
    if (seen.has(name)) {
      const message = `reported more than once; the first entry is kept`;
      plan.skipped.push({ kind: SKIPPED_KIND, name, reason: 'InvalidExport', message });
      return;
    }
    seen.add(name);
    plan.records.push(reportedRecord(federation, peer, entry));
  });
  return plan;
}

interface Accepted {
  /** This member's own tenant, found by the reported name. */
  tenant: GovTenant;
  /** This member's own month string, found by the reported one. */
  month: string;
  totals: ReportedTotals;
}
type Refused = Pick<Skipped, 'reason' | 'message'> & { name?: string };

function acceptEntry(
  raw: unknown,
  { exported, months, peer }: { exported: ReadonlyMap<string, GovTenant>; months: string[]; peer: Peer },
): Accepted | Refused {
  const checked = reportedTotals.safeParse(raw);
  if (!checked.success) {
    const message = checked.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`)
      .join('; ');
    return { reason: 'InvalidExport', message };
  }
  const totals = checked.data;
  const tenant = exported.get(totals.tenant);
  if (!tenant?.spec)
    return { reason: 'NotExported', message: `not a tenant this member exports to ${peer.name}` };
  const name = tenant.metadata.name;
  const month = months.find((m) => m === totals.month);
  if (!month)
    return { name, reason: 'InvalidExport', message: `month ${totals.month} is outside the months reported` }; // prettier-ignore
  return { tenant, month, totals };
}

/** The record kept for an accepted entry: name, labels and spec from this member's own tenant. */
function reportedRecord(
  federation: Federation,
  peer: Peer,
  { tenant, month, totals }: Accepted,
): GovConsumption {
  const name = tenant.metadata.name;
  const { country, level } = tenant.spec!;
  return {
    apiVersion: API_VERSION,
    kind: 'GovConsumption',
    metadata: {
      name: reportedName(name, month, peer.name),
      labels: {
        [MANAGED_BY]: OPERATOR,
        [TENANT]: name,
        [COUNTRY]: country,
        [MONTH_LABEL]: month,
        [REPORTED_BY]: peer.name,
        [FEDERATION]: federation.metadata.name,
      },
    },
    spec: { tenant: name, month, country, level, reportedBy: peer.name },
    status: {
      cpuCoreHours: round(totals.cpuCoreHours),
      memoryGiBHours: round(totals.memoryGiBHours),
      storageGiBDays: round(totals.storageGiBDays),
      servicePlanHoursTotal: round(totals.servicePlanHours),
      coveredSeconds: round(totals.coveredSeconds),
      uncoveredSeconds: round(totals.uncoveredSeconds),
    },
  };
}
