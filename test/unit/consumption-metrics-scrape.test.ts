/**
 * A scrape of the consumption metrics with thousands of tenants fills its gauges in slices: a timer
 * due during the scrape (the Lease renewal) fires before the scrape is done, and every series is
 * there at the end.
 */
import type { GovConsumption, GovService, GovTenant } from '../../src/api/index.js';
import { registerConsumptionMetrics, SERIES_PER_TURN } from '../../src/controllers/consumption/metrics.js';
import type { Informer } from '../../src/runtime/cache.js';
import { registry } from '../../src/runtime/metrics.js';
import type { KubeObject } from '../../src/runtime/types.js';
import { quota, tenant } from './consumption-support.js';

const TENANTS = 3000;
const store = <T extends KubeObject>(items: T[]) => ({ list: () => items }) as unknown as Informer<T>;
const labelled = <T extends KubeObject>(o: T, t: string): T => ({
  ...o,
  metadata: { ...o.metadata, labels: { 'gov.secovia.eu/tenant': t } },
});

test('a scrape of thousands of tenants leaves the event loop to timers between slices', async () => {
  const tenants: GovTenant[] = Array.from({ length: TENANTS }, (_, i) => tenant(`t${i}`));
  const used = { 'requests.cpu': '1', 'requests.memory': '1Gi', pods: '3' };
  const quotas = tenants.map((t) => labelled(quota(`${t.metadata.name}-prod`, used), t.metadata.name));
  const namespaces = tenants.map((t) =>
    labelled(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${t.metadata.name}-prod` } },
      t.metadata.name,
    ),
  );
  const stop = registerConsumptionMetrics({
    manager: { isLeader: () => true },
    tenants: store(tenants),
    quotas: store(quotas),
    namespaces: store(namespaces),
    services: store<GovService>([]),
    ledgers: store<GovConsumption>([]),
    now: () => Date.parse('2026-12-02T10:00:00Z'),
  });
  try {
    let scrapeDone = false;
    const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(scrapeDone), 0));
    const text = await registry.metrics().finally(() => (scrapeDone = true));
    expect(await timer).toBe(false);
    // 3 quota series per tenant in use: more than one slice, all of them reported.
    expect(TENANTS * 3).toBeGreaterThan(SERIES_PER_TURN);
    expect(text.match(/^secovia_tenant_quota_used\{/gm)).toHaveLength(TENANTS * 3);
    expect(text.match(/^secovia_tenant_namespaces\{/gm)).toHaveLength(TENANTS);
  } finally {
    stop();
  }
});

test('one scrape computes the series once, however long that takes', async () => {
  const tenants: GovTenant[] = Array.from({ length: 50 }, (_, i) => tenant(`t${i}`));
  // Each computation reads the tenants once and, on this clock, takes two seconds.
  let clock = 0;
  let computations = 0;
  const slowTenants = {
    list: () => {
      computations++;
      clock += 2000;
      return tenants;
    },
  } as unknown as Informer<GovTenant>;
  const stop = registerConsumptionMetrics({
    manager: { isLeader: () => true },
    tenants: slowTenants,
    quotas: store<KubeObject>([]),
    namespaces: store<KubeObject>([]),
    services: store<GovService>([]),
    ledgers: store<GovConsumption>([]),
    now: () => Date.parse('2026-12-02T10:00:00Z'),
    monotonic: () => clock,
  });
  try {
    const text = await registry.metrics();
    expect(text.match(/^secovia_country_tenants\{/gm)).toHaveLength(1);
    expect(computations).toBe(1);
    // The next scrape, a Prometheus interval later, sees the caches as they are then.
    clock += 15_000;
    await registry.metrics();
    expect(computations).toBe(2);
  } finally {
    stop();
  }
});
