/**
 * The consumption metrics as data, pure: per tenant (labels tenant, country, level, origin_member)
 * and per country, from the caches. Bounded: `resource` takes the six quota keys the operator sets,
 * `class` and `plan` the catalog's; a tenant adds at most 12 quota series, one namespace series and
 * one per class and plan it uses.
 */
import type { GovConsumption, GovService, GovTenant } from '../../api/index.js';
import { quantityValue } from '../../runtime/apply.js';
import type { KubeObject } from '../../runtime/types.js';
import { ORIGIN_MEMBER, TENANT } from '../labels.js';

export const QUOTA_RESOURCES = ['requests.cpu', 'limits.cpu', 'requests.memory', 'limits.memory', 'requests.storage', 'pods']; // prettier-ignore

export type Labels = Record<string, string>;
export interface Series {
  labels: Labels;
  value: number;
}

export interface ConsumptionSeries {
  quotaHard: Series[];
  quotaUsed: Series[];
  namespaces: Series[];
  services: Series[];
  monthCpuCoreHours: Series[];
  monthMemoryGiBHours: Series[];
  monthStorageGiBDays: Series[];
  countryQuotaHard: Series[];
  countryQuotaUsed: Series[];
  countryTenants: Series[];
  countryServices: Series[];
}

export interface ClusterView {
  tenants: GovTenant[];
  quotas: KubeObject[];
  namespaces: KubeObject[];
  services: GovService[];
  /** The ledger objects of the current month (records that peers reported are left out). */
  ledgers: GovConsumption[];
}

/**
 * Adds `value` to the series under `key` (its label values joined), making its labels only for a
 * new series: with 10 000 tenants a scrape adds some 500 000 values, and building and serializing
 * a labels object for each of them took seconds of garbage collection on a large heap.
 */
function add(into: Map<string, Series>, key: string, value: number, labels: () => Labels): void {
  const s = into.get(key);
  if (s) s.value += value;
  else into.set(key, { labels: labels(), value });
}

/** Joins label values into a map key: NUL appears in no label value. */
const keyOf = (...values: string[]): string => values.join('\0');

const tenantLabels = (t: GovTenant): Labels => ({
  tenant: t.metadata.name,
  country: t.spec!.country,
  level: t.spec!.level,
  origin_member: t.metadata.labels?.[ORIGIN_MEMBER] ?? '',
});

type QuotaField = 'hard' | 'used';
function quotaSeries(
  view: ClusterView,
  byTenant: Map<string, Labels>,
  field: QuotaField,
): [Series[], Series[]] {
  const tenant = new Map<string, Series>();
  const country = new Map<string, Series>();
  for (const q of view.quotas) {
    const name = q.metadata.labels?.[TENANT] ?? '';
    const labels = byTenant.get(name);
    const values = (q.status as Partial<Record<QuotaField, Record<string, string>>> | undefined)?.[field];
    if (!labels || !values) continue;
    for (const resource of QUOTA_RESOURCES) {
      if (values[resource] === undefined) continue;
      const v = quantityValue(values[resource]) ?? 0;
      add(tenant, keyOf(name, resource), v, () => ({ ...labels, resource }));
      add(country, keyOf(labels.country!, resource), v, () => ({ country: labels.country!, resource }));
    }
  }
  return [[...tenant.values()], [...country.values()]];
}

export function consumptionSeries(view: ClusterView): ConsumptionSeries {
  const byTenant = new Map(view.tenants.filter((t) => t.spec).map((t) => [t.metadata.name, tenantLabels(t)]));
  const [quotaHard, countryQuotaHard] = quotaSeries(view, byTenant, 'hard');
  const [quotaUsed, countryQuotaUsed] = quotaSeries(view, byTenant, 'used');
  const namespaces = new Map<string, Series>();
  for (const ns of view.namespaces) {
    const name = ns.metadata.labels?.[TENANT] ?? '';
    const labels = byTenant.get(name);
    if (labels) add(namespaces, name, 1, () => labels);
  }
  const tenantOfNamespace = new Map(view.namespaces.map((ns) => [ns.metadata.name, ns.metadata.labels?.[TENANT] ?? ''])); // prettier-ignore
  const services = new Map<string, Series>();
  const countryServices = new Map<string, Series>();
  for (const s of view.services) {
    const name = tenantOfNamespace.get(s.metadata.namespace ?? '') ?? '';
    const labels = byTenant.get(name);
    if (!labels || !s.spec) continue;
    const { class: cls, plan } = s.spec;
    add(services, keyOf(name, cls, plan), 1, () => ({ ...labels, class: cls, plan }));
    add(countryServices, keyOf(labels.country!, cls, plan), 1, () => ({ country: labels.country!, class: cls, plan })); // prettier-ignore
  }
  const countryTenants = new Map<string, Series>();
  for (const labels of byTenant.values()) add(countryTenants, labels.country!, 1, () => ({ country: labels.country! })); // prettier-ignore
  const month = (pick: (c: GovConsumption) => number | undefined): Series[] =>
    view.ledgers
      // What a peer reported ran there: the series count what runs here, once per tenant.
      .filter((c) => !c.spec?.reportedBy && byTenant.has(c.spec?.tenant ?? ''))
      .map((c) => ({ labels: byTenant.get(c.spec!.tenant)!, value: pick(c) ?? 0 }));
  return {
    quotaHard,
    quotaUsed,
    namespaces: [...namespaces.values()],
    services: [...services.values()],
    monthCpuCoreHours: month((c) => c.status?.cpuCoreHours),
    monthMemoryGiBHours: month((c) => c.status?.memoryGiBHours),
    monthStorageGiBDays: month((c) => c.status?.storageGiBDays),
    countryQuotaHard,
    countryQuotaUsed,
    countryTenants: [...countryTenants.values()],
    countryServices: [...countryServices.values()],
  };
}
