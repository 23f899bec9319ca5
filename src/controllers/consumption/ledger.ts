/**
 * The ledger's arithmetic, pure: what one sample adds to the monthly totals of a tenant. A sample
 * counts the reserved rates it observes over the time since the previous sample, at most one
 * interval and its slack: a restart or a leader change resumes from the last sample time kept in the
 * cluster (no double count), and a longer outage is reported as uncovered time, not invented usage.
 */

/** Reserved amounts observed at one instant. */
export interface Rates {
  cpuCores: number;
  memoryGiB: number;
  storageGiB: number;
  /** `<class>/<plan>` -> number of GovServices. */
  plans: Record<string, number>;
}

/** The totals of one tenant for one calendar month (UTC); times in epoch milliseconds. */
export interface MonthTotals {
  firstSample?: number;
  lastSample?: number;
  samples: number;
  coveredSeconds: number;
  uncoveredSeconds: number;
  cpuCoreHours: number;
  memoryGiBHours: number;
  storageGiBDays: number;
  /** `<class>/<plan>` -> plan-hours. */
  planHours: Record<string, number>;
}

export interface Segment {
  month: string;
  from: number;
  to: number;
}

export const emptyTotals = (): MonthTotals => ({
  samples: 0,
  coveredSeconds: 0,
  uncoveredSeconds: 0,
  cpuCoreHours: 0,
  memoryGiBHours: 0,
  storageGiBDays: 0,
  planHours: {},
});

/** The calendar month (UTC) of an instant, as yyyy-mm. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** The first instant of the month after the one that holds `ms`. */
export function nextMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** [from, to) cut at every UTC month boundary it crosses. */
export function splitByMonth(from: number, to: number): Segment[] {
  const segments: Segment[] = [];
  for (let start = from; start < to; start = nextMonthStart(start)) {
    segments.push({ month: monthOf(start), from: start, to: Math.min(to, nextMonthStart(start)) });
  }
  return segments;
}

/** Adds `seconds` of the rates to the totals. */
export function accrue(totals: MonthTotals, rates: Rates, seconds: number): MonthTotals {
  const hours = seconds / 3600;
  const planHours = { ...totals.planHours };
  for (const [plan, services] of Object.entries(rates.plans)) {
    if (services > 0) planHours[plan] = (planHours[plan] ?? 0) + services * hours;
  }
  return {
    ...totals,
    coveredSeconds: totals.coveredSeconds + seconds,
    cpuCoreHours: totals.cpuCoreHours + rates.cpuCores * hours,
    memoryGiBHours: totals.memoryGiBHours + rates.memoryGiB * hours,
    storageGiBDays: totals.storageGiBDays + (rates.storageGiB * seconds) / 86_400,
    planHours,
  };
}

/** The time of the latest sample in any of a tenant's monthly totals. */
export function lastSampleOf(months: Iterable<MonthTotals>): number | undefined {
  let last: number | undefined;
  for (const m of months) if (m.lastSample !== undefined && (last === undefined || m.lastSample > last)) last = m.lastSample; // prettier-ignore
  return last;
}

/** Whether a sample is due at `now`, and if not, in how many milliseconds. */
export function dueIn(last: number | undefined, now: number, intervalMs: number): number {
  return last === undefined ? 0 : Math.max(0, last + intervalMs - now);
}

/** One sample: the time of the previous one, now, the rates observed now, and the interval with its slack. */
export interface Sample {
  last: number | undefined;
  now: number;
  rates: Rates;
  maxElapsedMs: number;
}

/**
 * The totals of every month that a sample changes. `months` holds the tenant's current totals by
 * month (absent months start empty). Time since `last` beyond `maxElapsedMs` is uncovered. A clock
 * behind the last sample counts nothing.
 */
export function recordSample(
  months: ReadonlyMap<string, MonthTotals>,
  { last, now, rates, maxElapsedMs }: Sample,
): Map<string, MonthTotals> {
  const changed = new Map<string, MonthTotals>();
  const totalsOf = (month: string): MonthTotals => changed.get(month) ?? months.get(month) ?? emptyTotals();
  if (last !== undefined && now <= last) return changed;
  const countedFrom = last === undefined ? now : Math.max(last, now - maxElapsedMs);
  for (const s of last === undefined ? [] : splitByMonth(last, countedFrom)) {
    const t = totalsOf(s.month);
    changed.set(s.month, { ...t, uncoveredSeconds: t.uncoveredSeconds + (s.to - s.from) / 1000 });
  }
  for (const s of splitByMonth(countedFrom, now)) {
    changed.set(s.month, accrue(totalsOf(s.month), rates, (s.to - s.from) / 1000));
  }
  if (!changed.has(monthOf(now))) changed.set(monthOf(now), totalsOf(monthOf(now)));
  for (const [month, t] of changed) {
    const end = Math.min(now, nextMonthStart(Date.parse(`${month}-01T00:00:00Z`)));
    changed.set(month, { ...t, firstSample: t.firstSample ?? end, lastSample: end, samples: t.samples + 1 });
  }
  return changed;
}
