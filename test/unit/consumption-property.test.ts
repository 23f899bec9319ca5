/**
 * Property: whatever the sample times (jittered around the interval, with restarts and leader
 * changes between them, across month boundaries) and however the reserved requests change, each
 * month's ledger equals the integral of the sampled series over that month, within rounding; and no
 * time is counted twice or left out while the gaps stay within one interval and its slack.
 */
import fc from 'fast-check';
import { splitByMonth } from '../../src/controllers/consumption/ledger.js';
import { sampleTenant } from '../../src/controllers/consumption/reconcile.js';
import { FakeClock, FakeCluster, GiB, MINUTE, quota, service, tenant } from './consumption-support.js';

const INTERVAL = 15 * MINUTE;
const NAME = 'beograd';
const START = Date.parse('2026-11-30T20:00:00Z');

const step = fc.record({
  /** When the replica's queue fires, relative to the due time: late within the slack. */
  lateMs: fc.integer({ min: 0, max: INTERVAL / 4 }),
  cpuMilli: fc.integer({ min: 0, max: 64_000 }),
  memoryMi: fc.integer({ min: 0, max: 262_144 }),
  services: fc.integer({ min: 0, max: 5 }),
  /** A new replica (restart or leader change) reconciles every tenant at once before this sample. */
  newReplicaAfterMs: fc.option(fc.integer({ min: 0, max: INTERVAL - 1 }), { nil: undefined }),
});

interface Sample {
  at: number;
  cpu: number;
  memoryGiB: number;
  services: number;
}

/** The integral over each month of the series as sampled: each sample's rates over the time since the previous. */
function integral(
  samples: Sample[],
): Map<string, { cpu: number; mem: number; plan: number; seconds: number }> {
  const out = new Map<string, { cpu: number; mem: number; plan: number; seconds: number }>();
  for (let i = 1; i < samples.length; i++) {
    for (const seg of splitByMonth(samples[i - 1]!.at, samples[i]!.at)) {
      const h = (seg.to - seg.from) / 3_600_000;
      const m = out.get(seg.month) ?? { cpu: 0, mem: 0, plan: 0, seconds: 0 };
      out.set(seg.month, { cpu: m.cpu + samples[i]!.cpu * h, mem: m.mem + samples[i]!.memoryGiB * h, plan: m.plan + samples[i]!.services * h, seconds: m.seconds + h * 3600 }); // prettier-ignore
    }
  }
  return out;
}

it('the monthly totals equal the integral of the sampled series', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 80 }), async (steps) => {
      const c = new FakeCluster();
      c.tenants.set(NAME, tenant(NAME));
      const clock = new FakeClock(START);
      let replica = c.replica(clock.now);
      await sampleTenant(NAME, replica);
      const samples: Sample[] = [{ at: START, cpu: 0, memoryGiB: 0, services: 0 }];
      for (const s of steps) {
        const due = samples.at(-1)!.at + INTERVAL;
        if (s.newReplicaAfterMs !== undefined) {
          clock.ms = samples.at(-1)!.at + s.newReplicaAfterMs;
          replica = c.replica(clock.now);
          await sampleTenant(NAME, replica); // not due yet: must not count
        }
        c.quotas.set(`${NAME}-prod`, quota(`${NAME}-prod`, { 'requests.cpu': `${s.cpuMilli}m`, 'requests.memory': `${s.memoryMi}Mi` })); // prettier-ignore
        c.services = Array.from({ length: s.services }, (_, i) => service(`${NAME}-prod`, `s${i}`, 'e-payments', 'small')); // prettier-ignore
        clock.ms = due + s.lateMs;
        await sampleTenant(NAME, replica);
        samples.push({ at: clock.ms, cpu: s.cpuMilli / 1000, memoryGiB: (s.memoryMi * 2 ** 20) / GiB, services: s.services }); // prettier-ignore
      }
      const expected = integral(samples);
      const tolerance = 1e-6 * (samples.length + 1);
      for (const [month, e] of expected) {
        const status = c.objects.get(`${NAME}-${month}`)!.status!;
        expect(Math.abs(status.cpuCoreHours! - e.cpu)).toBeLessThanOrEqual(tolerance);
        expect(Math.abs(status.memoryGiBHours! - e.mem)).toBeLessThanOrEqual(tolerance);
        const planHours = status.servicePlanHours?.reduce((sum, p) => sum + p.hours, 0) ?? 0;
        expect(Math.abs(planHours - e.plan)).toBeLessThanOrEqual(tolerance);
        expect(Math.abs(status.coveredSeconds! - e.seconds)).toBeLessThanOrEqual(tolerance);
        expect(status.uncoveredSeconds).toBe(0);
      }
    }),
    { numRuns: 200 },
  );
});
