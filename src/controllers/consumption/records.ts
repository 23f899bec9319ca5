/** Pure mapping between the cluster and the ledger: observed rates, ledger objects, their status. */
import { API_VERSION } from '../../api/constants.js';
import type { GovConsumption, GovConsumptionStatus, GovService, GovTenant } from '../../api/index.js';
import { quantityValue } from '../../runtime/apply.js';
import { setCondition, type ConditionUpdate } from '../../runtime/conditions.js';
import type { KubeObject } from '../../runtime/types.js';
import {
  COUNTRY,
  managedSelector,
  MANAGED_BY,
  OPERATOR,
  ORIGIN_COUNTRY,
  ORIGIN_MEMBER,
  TENANT,
} from '../labels.js';
import { emptyTotals, nextMonthStart, type MonthTotals, type Rates } from './ledger.js';

export const MONTH_LABEL = 'gov.secovia.eu/month';
/** Every ledger object carries these labels: `kubectl get gcons -l` selects by tenant, country and month. */
export const ledgerSelector = managedSelector;

const GiB = 2 ** 30;
const used = (q: KubeObject, key: string): number =>
  quantityValue((q.status as { used?: Record<string, string> } | undefined)?.used?.[key]) ?? 0;

/** Requests in use in the quotas of a tenant's environments, and its GovServices by class and plan. */
export function reservedRates(quotas: KubeObject[], services: GovService[]): Rates {
  const plans: Record<string, number> = {};
  for (const s of services) {
    if (!s.spec) continue;
    const key = `${s.spec.class}/${s.spec.plan}`;
    plans[key] = (plans[key] ?? 0) + 1;
  }
  const sum = (key: string): number => quotas.reduce((total, q) => total + used(q, key), 0);
  return {
    cpuCores: sum('requests.cpu'),
    memoryGiB: sum('requests.memory') / GiB,
    storageGiB: sum('requests.storage') / GiB,
    plans,
  };
}

export const ledgerName = (tenant: string, month: string): string => `${tenant}-${month}`;

/** The ledger object of a tenant for a month, as the operator applies it (status apart). */
export function ledgerObject(t: GovTenant, month: string): GovConsumption {
  const origin = t.metadata.labels?.[ORIGIN_MEMBER];
  const originCountry = t.metadata.labels?.[ORIGIN_COUNTRY];
  return {
    apiVersion: API_VERSION,
    kind: 'GovConsumption',
    metadata: {
      name: ledgerName(t.metadata.name, month),
      labels: {
        [MANAGED_BY]: OPERATOR,
        [TENANT]: t.metadata.name,
        [COUNTRY]: t.spec!.country,
        [MONTH_LABEL]: month,
        ...(origin ? { [ORIGIN_MEMBER]: origin } : {}),
        ...(originCountry ? { [ORIGIN_COUNTRY]: originCountry } : {}),
      },
    },
    spec: {
      tenant: t.metadata.name,
      month,
      country: t.spec!.country,
      level: t.spec!.level,
      ...(origin ? { originMember: origin } : {}),
      ...(originCountry ? { originCountry } : {}),
    },
  };
}

const time = (iso: string | undefined): number | undefined => (iso ? Date.parse(iso) : undefined);
const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();
/** Six decimals: sub-second precision for every amount, without floating point noise in kubectl. */
export const round = (v: number): number => Math.round(v * 1e6) / 1e6;

export function totalsFromStatus(status: GovConsumptionStatus | undefined): MonthTotals {
  if (!status) return emptyTotals();
  return {
    firstSample: time(status.firstSampleTime),
    lastSample: time(status.lastSampleTime),
    samples: status.samples ?? 0,
    coveredSeconds: status.coveredSeconds ?? 0,
    uncoveredSeconds: status.uncoveredSeconds ?? 0,
    cpuCoreHours: status.cpuCoreHours ?? 0,
    memoryGiBHours: status.memoryGiBHours ?? 0,
    storageGiBDays: status.storageGiBDays ?? 0,
    planHours: Object.fromEntries(
      (status.servicePlanHours ?? []).map((p) => [`${p.class}/${p.plan}`, p.hours]),
    ),
  };
}

function ledgerConditions(
  c: GovConsumption,
  totals: MonthTotals,
  now: Date,
): GovConsumptionStatus['conditions'] {
  const observedGeneration = c.metadata.generation;
  const gap = totals.uncoveredSeconds > 0;
  const covered: ConditionUpdate = gap
    ? { type: 'Covered', status: 'False', reason: 'SamplingGap', message: `${round(totals.uncoveredSeconds)} s of the month were not sampled (the operator was not running) and are not counted`, observedGeneration } // prettier-ignore
    : { type: 'Covered', status: 'True', reason: 'Sampled', message: 'Every second since the first sample is counted', observedGeneration }; // prettier-ignore
  const closed = totals.lastSample !== undefined && totals.lastSample >= nextMonthStart(Date.parse(`${c.spec!.month}-01T00:00:00Z`)); // prettier-ignore
  const closing: ConditionUpdate = closed
    ? { type: 'Closed', status: 'True', reason: 'MonthEnded', message: 'The month is over; the totals are final', observedGeneration } // prettier-ignore
    : { type: 'Closed', status: 'False', reason: 'Sampling', message: 'The month is being sampled', observedGeneration }; // prettier-ignore
  return setCondition(setCondition(c.status?.conditions, covered, now), closing, now);
}

/** The status of a ledger object holding `totals`, with what the sample observed. */
export function ledgerStatus(
  c: GovConsumption,
  totals: MonthTotals,
  rates: Rates,
  now: Date,
): GovConsumptionStatus {
  return {
    observedGeneration: c.metadata.generation,
    conditions: ledgerConditions(c, totals, now),
    firstSampleTime: iso(totals.firstSample),
    lastSampleTime: iso(totals.lastSample),
    samples: totals.samples,
    coveredSeconds: round(totals.coveredSeconds),
    uncoveredSeconds: round(totals.uncoveredSeconds),
    cpuCoreHours: round(totals.cpuCoreHours),
    memoryGiBHours: round(totals.memoryGiBHours),
    storageGiBDays: round(totals.storageGiBDays),
    servicePlanHours: Object.entries(totals.planHours)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, hours]) => {
        const [cls, plan] = key.split('/') as [string, string];
        return { class: cls, plan, hours: round(hours) };
      }),
    lastObserved: {
      cpuCores: round(rates.cpuCores),
      memoryGiB: round(rates.memoryGiB),
      storageGiB: round(rates.storageGiB),
      services: Object.values(rates.plans).reduce((a, b) => a + b, 0),
    },
  };
}
