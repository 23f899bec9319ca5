/**
 * Consumption ledger: every interval, the leader samples each tenant's reserved requests and
 * GovServices and adds them to its GovConsumption of the month. The last sample time lives in the
 * object itself, so a new leader or a restarted process resumes from it; each status write is
 * conditional on the resourceVersion it was computed from, so a stale cache never counts twice.
 */
import type { GovConsumption, GovService, GovTenant } from '../../api/index.js';
import type { Applier } from '../../runtime/apply.js';
import { NamespaceIndex } from '../../runtime/cache.js';
import { ApiError } from '../../runtime/kube.js';
import { Controller, type ReconcileResult } from '../../runtime/controller.js';
import type { Logger } from '../../runtime/log.js';
import type { Manager } from '../../runtime/manager.js';
import type { KubeObject } from '../../runtime/types.js';
import { OBJECT_NAMES, namespaceName } from '../govtenant/desired.js';
import { managedSelector } from '../labels.js';
import { resources } from '../resources.js';
import { registerConsumptionMetrics } from './metrics.js';
import { dueIn, lastSampleOf, monthOf, recordSample, type MonthTotals, type Rates } from './ledger.js';
import { ledgerName, ledgerObject, ledgerStatus, reservedRates, totalsFromStatus } from './records.js';

export interface ConsumptionSettings {
  /** Sampling interval; a sample counts at most this plus a quarter of it. */
  consumptionIntervalMs: number;
  /** Epoch milliseconds; injectable so that tests control time. */
  clock?: () => number;
}

/** What sampling reads and writes: the operator's caches and applier, or fakes in tests. */
export interface LedgerContext {
  tenants: ObjectStore<GovTenant>;
  ledgers: ObjectStore<GovConsumption>;
  quotas: ObjectStore<KubeObject>;
  services: { list(namespace: string): GovService[] };
  applier: Pick<Applier, 'apply' | 'applyStatus'>;
  intervalMs: number;
  now: () => number;
  log: Logger;
}

interface ObjectStore<T> {
  get(name: string, namespace?: string): T | undefined;
}

export function consumptionController(manager: Manager, settings: ConsumptionSettings): Controller {
  const log = manager.logger.child({ controller: 'consumption' });
  const ctx: LedgerContext = {
    applier: manager.applier,
    tenants: manager.informer<GovTenant>(resources.GovTenant),
    ledgers: manager.informer<GovConsumption>(resources.GovConsumption, managedSelector),
    quotas: manager.informer(resources.ResourceQuota, managedSelector),
    services: new NamespaceIndex(manager.informer<GovService>(resources.GovService)),
    intervalMs: settings.consumptionIntervalMs,
    now: settings.clock ?? Date.now,
    log,
  };
  const stopMetrics = registerConsumptionMetrics({
    manager,
    tenants: manager.informer<GovTenant>(resources.GovTenant),
    quotas: manager.informer(resources.ResourceQuota, managedSelector),
    namespaces: manager.informer(resources.Namespace),
    services: manager.informer<GovService>(resources.GovService),
    ledgers: manager.informer<GovConsumption>(resources.GovConsumption, managedSelector),
    now: ctx.now,
  });
  manager.onStop(async () => void stopMetrics());
  return new Controller({
    name: 'consumption',
    primary: manager.informer<GovTenant>(resources.GovTenant),
    logger: log,
    workers: 1,
    reconcile: (key) => sampleTenant(key, ctx),
    // A failed sample is retried by the queue; it never turns the tenant's own Ready False.
    onFailure: async () => {},
  });
}

/** The month before the one that holds `ms`. */
const previousMonth = (ms: number): string => {
  const d = new Date(ms);
  return monthOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1));
};

export async function sampleTenant(key: string, ctx: LedgerContext): Promise<ReconcileResult | void> {
  const t = ctx.tenants.get(key);
  if (!t?.spec || t.metadata.deletionTimestamp) return;
  const now = ctx.now();
  const stored = new Map<string, GovConsumption>();
  for (const month of [previousMonth(now), monthOf(now)]) {
    const live = ctx.ledgers.get(ledgerName(key, month));
    if (live) stored.set(month, live);
  }
  const months = new Map([...stored].map(([m, c]) => [m, totalsFromStatus(c.status)]));
  const wait = dueIn(lastSampleOf(months.values()), now, ctx.intervalMs);
  if (wait > 0) return { requeueAfterMs: wait };
  const rates = observe(t, ctx);
  const last = lastSampleOf(months.values());
  const changed = recordSample(months, { last, now, rates, maxElapsedMs: ctx.intervalMs * 1.25 });
  // Earlier months first: a crash in between leaves the later month to count from the boundary.
  for (const [month, totals] of [...changed].sort(([a], [b]) => a.localeCompare(b))) {
    await writeLedger(t, { month, totals, rates, live: stored.get(month) }, ctx);
  }
  ctx.log.debug('sampled', { name: key, tenant: key, months: [...changed.keys()], ...rates });
  return { requeueAfterMs: ctx.intervalMs };
}

function observe(t: GovTenant, ctx: LedgerContext): Rates {
  const namespaces = t.spec!.environments.map((e) => namespaceName(t.metadata.name, e.name));
  const quotas = namespaces
    .map((ns) => ctx.quotas.get(OBJECT_NAMES.quota, ns))
    .filter((q): q is KubeObject => !!q);
  return reservedRates(
    quotas,
    namespaces.flatMap((ns) => ctx.services.list(ns)),
  );
}

/** The new totals of one month of a tenant, and its ledger object as the cache holds it. */
interface LedgerWrite {
  month: string;
  totals: MonthTotals;
  rates: Rates;
  live: GovConsumption | undefined;
}

async function writeLedger(
  t: GovTenant,
  { month, totals, rates, live }: LedgerWrite,
  ctx: LedgerContext,
): Promise<void> {
  const applied = live ?? ((await ctx.applier.apply(ledgerObject(t, month))).object as GovConsumption);
  // Created a moment ago by this replica, and its watch event not yet seen: the totals above are not its own.
  if (!live && applied.status?.lastSampleTime)
    throw new ApiError(409, 'Conflict', `GovConsumption ${applied.metadata.name} holds samples the cache has not seen yet`); // prettier-ignore
  const status = ledgerStatus(applied, totals, rates, new Date(ctx.now()));
  await ctx.applier.applyStatus(applied, status, { ifUnchangedSince: applied.metadata.resourceVersion });
}
