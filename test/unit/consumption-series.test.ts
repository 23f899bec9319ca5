/** The consumption metrics as data: per tenant with its country, level and origin, and per country. */
import type { GovConsumption } from '../../src/api/index.js';
import { consumptionSeries, type Series } from '../../src/controllers/consumption/series.js';
import type { KubeObject } from '../../src/runtime/types.js';
import { quota, service, tenant } from './consumption-support.js';

const labelled = (o: KubeObject, t: string): KubeObject => ({
  ...o,
  metadata: { ...o.metadata, labels: { 'gov.secovia.eu/tenant': t } },
});
const ns = (name: string, t: string): KubeObject => labelled({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, t); // prettier-ignore
const hardUsed = (namespace: string, t: string, hard: Record<string, string>, used: Record<string, string>) =>
  labelled({ ...quota(namespace, used), status: { hard, used } }, t);
const find = (series: Series[], labels: Record<string, string>) =>
  series.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

const skopje = tenant('skopje', ['prod', 'test']);
const budapest = {
  ...tenant('budapest'),
  metadata: { name: 'budapest', labels: { 'gov.secovia.eu/origin-member': 'hu-central' } },
  spec: { ...tenant('budapest').spec!, country: 'HU', level: 'national' as const },
};
const view = {
  tenants: [skopje, budapest],
  namespaces: [ns('skopje-prod', 'skopje'), ns('skopje-test', 'skopje'), ns('budapest-prod', 'budapest'), ns('other', 'ghost')], // prettier-ignore
  quotas: [
    hardUsed(
      'skopje-prod',
      'skopje',
      { 'requests.cpu': '4', pods: '10' },
      { 'requests.cpu': '1500m', pods: '3' },
    ),
    hardUsed(
      'skopje-test',
      'skopje',
      { 'requests.cpu': '2', 'count/secrets': '5' },
      { 'requests.cpu': '500m' },
    ),
    hardUsed('budapest-prod', 'budapest', { 'requests.memory': '8Gi' }, { 'requests.memory': '1Gi' }),
  ],
  services: [
    service('skopje-prod', 'a', 'e-permits', 'small'),
    service('skopje-test', 'b', 'e-permits', 'small'),
    service('budapest-prod', 'c', 'e-permits', 'small'),
    service('other', 'd', 'e-permits', 'small'),
  ],
  ledgers: [
    { spec: { tenant: 'skopje' }, status: { cpuCoreHours: 12.5 } },
    // What a peer reported running for skopje: not consumption here, and no second series.
    { spec: { tenant: 'skopje', reportedBy: 'hu-central' }, status: { cpuCoreHours: 99 } },
  ] as GovConsumption[],
};

describe('consumptionSeries', () => {
  const s = consumptionSeries(view);

  it('sums each tenant quota over its environments, labelled with country, level and origin', () => {
    expect(find(s.quotaHard, { tenant: 'skopje', resource: 'requests.cpu' })).toBe(6);
    expect(find(s.quotaUsed, { tenant: 'skopje', country: 'MK', level: 'municipal', origin_member: '', resource: 'requests.cpu' })).toBe(2); // prettier-ignore
    expect(find(s.quotaUsed, { tenant: 'budapest', origin_member: 'hu-central', resource: 'requests.memory' })).toBe(2 ** 30); // prettier-ignore
    expect(find(s.namespaces, { tenant: 'skopje' })).toBe(2);
  });

  it('counts GovServices by class and plan, per tenant and per country; objects of no tenant are ignored', () => {
    expect(find(s.services, { tenant: 'skopje', class: 'e-permits', plan: 'small' })).toBe(2);
    expect(find(s.countryServices, { country: 'HU', class: 'e-permits', plan: 'small' })).toBe(1);
    expect(s.services.reduce((n, x) => n + x.value, 0)).toBe(3);
    expect(find(s.countryTenants, { country: 'MK' })).toBe(1);
  });

  it('gives country totals without a join, and the month so far from the ledger', () => {
    expect(find(s.countryQuotaUsed, { country: 'MK', resource: 'requests.cpu' })).toBe(2);
    expect(find(s.countryQuotaHard, { country: 'MK', resource: 'pods' })).toBe(10);
    expect(find(s.monthCpuCoreHours, { tenant: 'skopje' })).toBe(12.5);
    expect(s.monthCpuCoreHours.map((x) => x.value)).toEqual([12.5]);
  });

  it('uses only bounded label values: the six quota keys', () => {
    const resources = new Set(s.quotaHard.map((x) => x.labels.resource));
    expect([...resources].every((r) => ['requests.cpu', 'limits.cpu', 'requests.memory', 'limits.memory', 'requests.storage', 'pods'].includes(r!))).toBe(true); // prettier-ignore
  });
});
