/**
 * Consumption metrics, computed from the caches when scraped (no state of their own). Only the
 * leader reports them, so that summing over the operator's pods never counts a tenant twice.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Gauge } from 'prom-client';
import type { GovConsumption, GovService, GovTenant } from '../../api/index.js';
import type { Informer } from '../../runtime/cache.js';
import type { Manager } from '../../runtime/manager.js';
import { registry } from '../../runtime/metrics.js';
import { monthOf } from './ledger.js';
import { MONTH_LABEL } from './records.js';
import { consumptionSeries, type ConsumptionSeries } from './series.js';

const TENANT_LABELS = ['tenant', 'country', 'level', 'origin_member'] as const;

/** Name, help and labels of each series of ConsumptionSeries. */
const DEFINITIONS: Record<keyof ConsumptionSeries, [string, string, readonly string[]]> = {
  quotaHard: ['secovia_tenant_quota_hard', 'Quota of the tenant summed over its environments (cores, bytes or pods)', [...TENANT_LABELS, 'resource']], // prettier-ignore
  quotaUsed: ['secovia_tenant_quota_used', 'Quota in use (reserved requests) summed over its environments', [...TENANT_LABELS, 'resource']], // prettier-ignore
  namespaces: ['secovia_tenant_namespaces', 'Environment namespaces of the tenant', TENANT_LABELS],
  services: ['secovia_tenant_govservices', 'GovServices of the tenant by class and plan', [...TENANT_LABELS, 'class', 'plan']], // prettier-ignore
  monthCpuCoreHours: ['secovia_tenant_month_cpu_core_hours', 'Reserved CPU core-hours of the tenant this calendar month (UTC), from its ledger', TENANT_LABELS], // prettier-ignore
  monthMemoryGiBHours: ['secovia_tenant_month_memory_gib_hours', 'Reserved memory GiB-hours this month, from the ledger', TENANT_LABELS], // prettier-ignore
  monthStorageGiBDays: ['secovia_tenant_month_storage_gib_days', 'Reserved storage GiB-days this month, from the ledger', TENANT_LABELS], // prettier-ignore
  countryQuotaHard: [
    'secovia_country_quota_hard',
    'Quota of all tenants of a country',
    ['country', 'resource'],
  ],
  countryQuotaUsed: ['secovia_country_quota_used', 'Quota in use by all tenants of a country', ['country', 'resource']], // prettier-ignore
  countryTenants: ['secovia_country_tenants', 'GovTenants of a country', ['country']],
  countryServices: ['secovia_country_govservices', 'GovServices of the tenants of a country by class and plan', ['country', 'class', 'plan']], // prettier-ignore
};

/** The names of the consumption metrics, for the recording rules and the dashboard to refer to. */
export const CONSUMPTION_METRICS = Object.values(DEFINITIONS).map(([name]) => name);

export interface MetricSources {
  manager: Pick<Manager, 'isLeader'>;
  tenants: Informer<GovTenant>;
  quotas: Informer;
  namespaces: Informer;
  services: Informer<GovService>;
  ledgers: Informer<GovConsumption>;
  now: () => number;
  /** Milliseconds on a clock that never goes back; performance.now() unless a test sets it. */
  monotonic?: () => number;
}

/** How long one computation of the series serves the gauges: every gauge of one scrape reads the same. */
const SNAPSHOT_MS = 5000;

interface Source {
  src: MetricSources;
  snapshot?: { at: number; series: ConsumptionSeries };
}

/** The operators of this process (one in production; tests run several). */
const sources = new Set<Source>();

/**
 * One snapshot of the caches serves every gauge of a scrape. Its age counts from when it was
 * computed, not from when that began: with 10 000 tenants on a busy heap the computation can take
 * longer than a second, and each of the eleven gauges computed it again, one after the other.
 */
function seriesOf(entry: Source): ConsumptionSeries {
  const { src } = entry;
  const clock = src.monotonic ?? (() => performance.now());
  if (!entry.snapshot || clock() - entry.snapshot.at > SNAPSHOT_MS) {
    const month = monthOf(src.now());
    const series = consumptionSeries({
      tenants: src.tenants.list(),
      quotas: src.quotas.list(),
      namespaces: src.namespaces.list(),
      services: src.services.list(),
      ledgers: src.ledgers.list((c) => c.metadata.labels?.[MONTH_LABEL] === month),
    });
    entry.snapshot = { at: clock(), series };
  }
  return entry.snapshot.series;
}

/** Series set between two turns of the event loop while a scrape fills the gauges. */
export const SERIES_PER_TURN = 2000;

for (const [key, [name, help, labelNames]] of Object.entries(DEFINITIONS)) {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    // With 10 000 tenants a scrape sets some 130 000 series: in slices, so that the Lease renewal
    // and the watches are not held back for seconds.
    async collect() {
      this.reset();
      for (const entry of sources) {
        if (!entry.src.manager.isLeader()) continue;
        let set = 0;
        for (const s of seriesOf(entry)[key as keyof ConsumptionSeries]) {
          this.set(s.labels, s.value);
          if (++set % SERIES_PER_TURN === 0) await nextTurn();
        }
      }
    },
  });
}

/** Reports the consumption of this operator's caches while it leads; returns a function that stops it. */
export function registerConsumptionMetrics(src: MetricSources): () => void {
  const entry: Source = { src };
  sources.add(entry);
  return () => sources.delete(entry);
}
