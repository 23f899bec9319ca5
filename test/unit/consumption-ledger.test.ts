/**
 * The consumption ledger with a fake clock: what a sample counts, the split at a UTC month boundary,
 * and that a restart, a leader change or a cache behind the cluster never counts the same time twice.
 */
import {
  emptyTotals,
  recordSample,
  splitByMonth,
  type Rates,
} from '../../src/controllers/consumption/ledger.js';
import { sampleTenant } from '../../src/controllers/consumption/reconcile.js';
import { reservedRates } from '../../src/controllers/consumption/records.js';
import { isConflict } from '../../src/runtime/kube.js';
import { FakeClock, FakeCluster, GiB, HOUR, MINUTE, quota, service, tenant } from './consumption-support.js';

const at = (iso: string): number => Date.parse(iso);
const rates = (cpuCores: number, plans: Record<string, number> = {}): Rates => ({
  cpuCores,
  memoryGiB: 2 * cpuCores,
  storageGiB: 10,
  plans,
});
const INTERVAL = 15 * MINUTE;
const MAX = INTERVAL * 1.25;

describe('splitByMonth', () => {
  it.each([
    ['within a month', '2026-03-10T00:00:00Z', '2026-03-10T01:00:00Z', [['2026-03', 3600]]],
    [
      'across the new year',
      '2026-12-31T23:30:00Z',
      '2027-01-01T00:15:00Z',
      [
        ['2026-12', 1800],
        ['2027-01', 900],
      ],
    ],
    [
      'across a leap February',
      '2028-02-28T00:00:00Z',
      '2028-03-01T01:00:00Z',
      [
        ['2028-02', 2 * 86400],
        ['2028-03', 3600],
      ],
    ],
    ['ending exactly at midnight', '2026-04-30T23:00:00Z', '2026-05-01T00:00:00Z', [['2026-04', 3600]]],
  ])('%s', (_what, from, to, expected) => {
    const segments = splitByMonth(at(from), at(to)).map((s) => [s.month, (s.to - s.from) / 1000]);
    expect(segments).toEqual(expected);
  });
});

describe('recordSample', () => {
  it('the first sample counts nothing and starts the month', () => {
    const now = at('2026-06-10T08:00:00Z');
    const out = recordSample(new Map(), { last: undefined, now: now, rates: rates(4), maxElapsedMs: MAX });
    expect([...out.keys()]).toEqual(['2026-06']);
    expect(out.get('2026-06')).toMatchObject({ cpuCoreHours: 0, coveredSeconds: 0, firstSample: now, lastSample: now, samples: 1 }); // prettier-ignore
  });

  it('counts the rates it observes over the time since the last sample', () => {
    const last = at('2026-06-10T08:00:00Z');
    const start = new Map([['2026-06', { ...emptyTotals(), lastSample: last }]]);
    const out = recordSample(start, {
      last: last,
      now: last + INTERVAL,
      rates: rates(4, { 'e-permits/small': 2 }),
      maxElapsedMs: MAX,
    }).get('2026-06')!;
    expect(out.cpuCoreHours).toBeCloseTo(1, 12);
    expect(out.memoryGiBHours).toBeCloseTo(2, 12);
    expect(out.storageGiBDays).toBeCloseTo(10 / 96, 12);
    expect(out.planHours).toEqual({ 'e-permits/small': 0.5 });
    expect(out.coveredSeconds).toBe(900);
  });

  it('an outage longer than the interval and its slack is uncovered, not invented', () => {
    const last = at('2026-06-10T08:00:00Z');
    const start = new Map([['2026-06', { ...emptyTotals(), lastSample: last }]]);
    const out = recordSample(start, {
      last: last,
      now: last + 3 * HOUR,
      rates: rates(4),
      maxElapsedMs: MAX,
    }).get('2026-06')!;
    expect(out.coveredSeconds).toBe(MAX / 1000);
    expect(out.uncoveredSeconds).toBe((3 * HOUR - MAX) / 1000);
    expect(out.cpuCoreHours).toBeCloseTo((4 * MAX) / HOUR, 12);
  });

  it('splits the interval at the month boundary; the old month closes at midnight', () => {
    const last = at('2026-01-31T23:50:00Z');
    const start = new Map([['2026-01', { ...emptyTotals(), lastSample: last, samples: 10 }]]);
    const out = recordSample(start, {
      last: last,
      now: at('2026-02-01T00:05:00Z'),
      rates: rates(6),
      maxElapsedMs: MAX,
    });
    expect(out.get('2026-01')).toMatchObject({ coveredSeconds: 600, lastSample: at('2026-02-01T00:00:00Z'), samples: 11 }); // prettier-ignore
    expect(out.get('2026-01')!.cpuCoreHours).toBeCloseTo(1, 12);
    expect(out.get('2026-02')).toMatchObject({ coveredSeconds: 300, firstSample: at('2026-02-01T00:05:00Z'), samples: 1 }); // prettier-ignore
    expect(out.get('2026-02')!.cpuCoreHours).toBeCloseTo(0.5, 12);
  });

  it('a clock behind the last sample (a leader with a slow clock) counts nothing', () => {
    const last = at('2026-06-10T08:00:00Z');
    expect(
      recordSample(new Map(), { last: last, now: last - 1000, rates: rates(4), maxElapsedMs: MAX }).size,
    ).toBe(0);
  });
});

describe('reservedRates', () => {
  it('sums the requests in use of every environment and counts services by class and plan', () => {
    const r = reservedRates(
      [
        quota('a-prod', { 'requests.cpu': '1500m', 'requests.memory': '3Gi', 'requests.storage': '20Gi' }),
        quota('a-test', { 'requests.cpu': '500m', 'requests.memory': '1024Mi', pods: '2' }),
      ],
      [service('a-prod', 's1', 'e-permits', 'small'), service('a-prod', 's2', 'e-permits', 'small'), service('a-test', 's3', 'payments', 'large')], // prettier-ignore
    );
    expect(r).toEqual({ cpuCores: 2, memoryGiB: 4, storageGiB: 20, plans: { 'e-permits/small': 2, 'payments/large': 1 } }); // prettier-ignore
  });
});

describe('sampleTenant on a fake cluster', () => {
  const name = 'skopje';
  const ledger = (c: FakeCluster, month: string) => c.objects.get(`${name}-${month}`)?.status;

  function cluster(cpu = '2'): FakeCluster {
    const c = new FakeCluster();
    c.tenants.set(name, tenant(name));
    c.quotas.set(
      `${name}-prod`,
      quota(`${name}-prod`, { 'requests.cpu': cpu, 'requests.memory': `${4 * GiB}` }),
    );
    c.services = [service(`${name}-prod`, 'permits', 'e-permits', 'small')];
    return c;
  }

  it('samples every interval and waits in between', async () => {
    const c = cluster();
    const clock = new FakeClock(at('2026-06-10T08:00:00Z'));
    const replica = c.replica(clock.now);
    expect(await sampleTenant(name, replica)).toEqual({ requeueAfterMs: INTERVAL });
    clock.advance(5 * MINUTE);
    expect(await sampleTenant(name, replica)).toEqual({ requeueAfterMs: 10 * MINUTE });
    for (let i = 0; i < 8; i++) {
      clock.ms = at('2026-06-10T08:00:00Z') + (i + 1) * INTERVAL;
      await sampleTenant(name, replica);
    }
    expect(ledger(c, '2026-06')).toMatchObject({ cpuCoreHours: 4, memoryGiBHours: 8, coveredSeconds: 7200, uncoveredSeconds: 0, samples: 9 }); // prettier-ignore
    expect(ledger(c, '2026-06')!.servicePlanHours).toEqual([{ class: 'e-permits', plan: 'small', hours: 2 }]);
    // One create, then one status write per sample: 1 + 9.
    expect(c.writes).toBe(10);
  });

  it('a restart and a leader change mid-interval neither count twice nor leave a gap', async () => {
    const c = cluster();
    const t0 = at('2026-06-10T08:00:00Z');
    const first = new FakeClock(t0);
    await sampleTenant(name, c.replica(first.now));
    first.ms = t0 + INTERVAL;
    await sampleTenant(name, c.replica(first.now));
    // Restarted 4 minutes later: the new process reconciles every tenant at once.
    const restarted = new FakeClock(t0 + INTERVAL + 4 * MINUTE);
    expect(await sampleTenant(name, c.replica(restarted.now))).toEqual({ requeueAfterMs: 11 * MINUTE });
    restarted.ms = t0 + 2 * INTERVAL;
    await sampleTenant(name, c.replica(restarted.now));
    // Leader change: another replica, its clock 3 s behind, takes over 20 s after the last sample.
    const other = new FakeClock(t0 + 2 * INTERVAL + 20_000 - 3000);
    expect(await sampleTenant(name, c.replica(other.now))).toEqual({ requeueAfterMs: INTERVAL - 17_000 });
    other.ms = t0 + 3 * INTERVAL - 3000;
    expect(await sampleTenant(name, c.replica(other.now))).toEqual({ requeueAfterMs: 3000 });
    other.ms = t0 + 3 * INTERVAL;
    await sampleTenant(name, c.replica(other.now));
    const s = ledger(c, '2026-06')!;
    expect(s).toMatchObject({ coveredSeconds: 2700, cpuCoreHours: 1.5, samples: 4 });
    expect(s.uncoveredSeconds).toBe(0);
  });

  it('a cache behind the cluster cannot make a sample count twice: the write is refused as a conflict', async () => {
    const c = cluster();
    const clock = new FakeClock(at('2026-06-10T08:00:00Z'));
    const replica = c.replica(clock.now);
    await sampleTenant(name, replica);
    clock.advance(INTERVAL);
    await sampleTenant(name, replica);
    c.sync();
    c.live = false;
    clock.advance(INTERVAL);
    await sampleTenant(name, replica); // written; the cache still shows the sample before
    const written = ledger(c, '2026-06');
    const again = await sampleTenant(name, replica).catch((e: unknown) => e);
    expect(isConflict(again)).toBe(true);
    expect(ledger(c, '2026-06')).toEqual(written);
    c.live = true;
    expect(await sampleTenant(name, replica)).toEqual({ requeueAfterMs: INTERVAL });
    expect(ledger(c, '2026-06')).toMatchObject({ cpuCoreHours: 1, coveredSeconds: 1800 });
  });

  it('a ledger created by this replica but not yet in its cache is not overwritten', async () => {
    const c = cluster();
    const clock = new FakeClock(at('2026-06-10T08:00:00Z'));
    c.live = false;
    c.sync();
    await sampleTenant(name, c.replica(clock.now)); // created; the cache has not seen it
    clock.advance(INTERVAL);
    await expect(sampleTenant(name, c.replica(clock.now))).rejects.toThrow(/cache has not seen/);
    expect(ledger(c, '2026-06')).toMatchObject({ samples: 1 });
  });

  it('across the month boundary, a crash between the two writes loses nothing and counts nothing twice', async () => {
    const c = cluster('4');
    const last = at('2026-01-31T23:50:00Z');
    const clock = new FakeClock(last);
    await sampleTenant(name, c.replica(clock.now));
    // The write of the new month fails once (the process dies after closing January).
    clock.ms = at('2026-02-01T00:05:00Z');
    const dying = c.replica(clock.now);
    const realApply = dying.applier.apply;
    dying.applier.apply = async (d) => {
      if (d.metadata.name.endsWith('2026-02')) throw new Error('killed');
      return realApply(d);
    };
    await expect(sampleTenant(name, dying)).rejects.toThrow('killed');
    expect(ledger(c, '2026-01')).toMatchObject({ coveredSeconds: 600, lastSampleTime: '2026-02-01T00:00:00.000Z' }); // prettier-ignore
    expect(ledger(c, '2026-01')!.cpuCoreHours).toBeCloseTo(4 / 6, 6);
    // The next leader counts February from midnight, when the interval is due.
    clock.ms = at('2026-02-01T00:06:00Z');
    expect(await sampleTenant(name, c.replica(clock.now))).toEqual({ requeueAfterMs: 9 * MINUTE });
    clock.ms = at('2026-02-01T00:15:00Z');
    await sampleTenant(name, c.replica(clock.now));
    expect(ledger(c, '2026-02')).toMatchObject({ coveredSeconds: 900, cpuCoreHours: 1, uncoveredSeconds: 0 });
    expect(ledger(c, '2026-01')!.conditions?.find((k) => k.type === 'Closed')?.status).toBe('True');
  });

  it('an operator down for hours reports the gap as uncovered', async () => {
    const c = cluster();
    const clock = new FakeClock(at('2026-06-10T08:00:00Z'));
    await sampleTenant(name, c.replica(clock.now));
    clock.advance(3 * HOUR);
    await sampleTenant(name, c.replica(clock.now));
    const s = ledger(c, '2026-06')!;
    expect(s).toMatchObject({ coveredSeconds: 1125, uncoveredSeconds: 10800 - 1125 });
    expect(s.conditions?.find((k) => k.type === 'Covered')).toMatchObject({
      status: 'False',
      reason: 'SamplingGap',
    });
  });
});
