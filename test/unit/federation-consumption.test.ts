/**
 * Consumption across a border: a member reports to a peer only the totals of the tenants imported
 * from that peer, only when its Federation says so; the peer keeps a report only when it asks for
 * it, only for tenants it exports to that member, and names its records from its own objects.
 */
import fc from 'fast-check';
import type { Federation, GovConsumption, GovTenant } from '../../src/api/index.js';
import { federationSpec } from '../../src/api/index.js';
import { ledgerName } from '../../src/controllers/consumption/records.js';
import {
  MAX_CONSUMPTION_ENTRIES,
  recentMonths,
  reportedName,
  type ReportedTotals,
} from '../../src/controllers/federation/consumption.js';
import { consumptionPlan, exportFor, type Peer } from '../../src/controllers/federation/exchange.js';

const NOW = Date.UTC(2026, 11, 15, 12);
const ORIGIN = 'gov.secovia.eu/origin-member';
const FED = 'gov.secovia.eu/federation';

function member(
  localMember: string,
  localCountry: string,
  opts: { export?: boolean; import?: boolean } = {},
) {
  const peers = [
    ['hu-central', 'HU'],
    ['mk-skopje', 'MK'],
    ['rs-beograd', 'RS'],
  ].filter(([name]) => name !== localMember);
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'Federation',
    metadata: { name: 'see' },
    spec: federationSpec.parse({
      localMember,
      localCountry,
      peers: peers.map(([name, country]) => ({
        name,
        country,
        kubeconfigSecretRef: { namespace: 'secovia-system', name: name! },
      })),
      export: { tenantSelector: { matchLabels: { federate: 'yes' } }, consumption: opts.export },
      import: { acceptCountries: ['HU', 'MK', 'RS'], consumption: opts.import },
    }),
  } as Federation;
}
const peerOf = (f: Federation, name: string): Peer => f.spec!.peers.find((p) => p.name === name)!;

const govTenant = (name: string, labels: Record<string, string>, country = 'MK'): GovTenant => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovTenant',
  metadata: { name, labels },
  spec: {
    displayName: name,
    country,
    level: 'municipal',
    environments: [{ name: 'prod' }],
    dataResidency: { allowedCountries: ['HU', 'MK', 'RS'] },
  } as GovTenant['spec'],
});

/** A ledger object as the consumption controller writes it, with distinctive amounts. */
function ledger(tenant: string, month: string, origin: string | undefined, cpu: number): GovConsumption {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovConsumption',
    metadata: { name: ledgerName(tenant, month) },
    spec: { tenant, month, country: 'HU', level: 'municipal', ...(origin ? { originMember: origin } : {}) },
    status: {
      cpuCoreHours: cpu,
      memoryGiBHours: cpu * 2,
      storageGiBDays: cpu * 3,
      coveredSeconds: 86_400,
      uncoveredSeconds: 60,
      servicePlanHours: [
        { class: 'e-permits', plan: 'small', hours: 1.25 },
        { class: 'e-payments', plan: 'large', hours: 2.5 },
      ],
    },
  };
}

describe('what a member reports to a peer (export.consumption)', () => {
  // mk-skopje runs tenants imported from hu-central and rs-beograd, and its own.
  const imported = (name: string, from: string, federation = 'see') =>
    govTenant(name, { [ORIGIN]: from, [FED]: federation });
  const tenants = [
    imported('hu-budapest', 'hu-central'),
    imported('rs-novisad', 'rs-beograd'),
    imported('hu-other-fed', 'hu-central', 'another'),
    govTenant('mk-ohrid', { federate: 'yes' }),
  ];
  const ledgers: GovConsumption[] = [
    ledger('hu-budapest', '2026-12', 'hu-central', 1234.567891),
    ledger('hu-budapest', '2026-11', 'hu-central', 7.5),
    ledger('hu-budapest', '2025-12', 'hu-central', 8.25),
    ledger('hu-budapest', '2025-11', 'hu-central', 9.75), // 13 months back: outside the window
    ledger('hu-budapest', '2026-10', undefined, 4321.123457), // a local namesake's month
    ledger('rs-novisad', '2026-12', 'rs-beograd', 5555.5555),
    ledger('hu-other-fed', '2026-12', 'hu-central', 6666.6666),
    ledger('mk-ohrid', '2026-12', undefined, 7777.7777),
    // A record of what a peer reported (even one named after an imported tenant): never passed on.
    {
      ...ledger('hu-budapest', '2026-09', 'hu-central', 8888.8888),
      metadata: { name: reportedName('hu-budapest', '2026-09', 'hu-central') },
      spec: { tenant: 'hu-budapest', month: '2026-09', country: 'HU', level: 'municipal', originMember: 'hu-central', reportedBy: 'hu-central' }, // prettier-ignore
    },
  ];
  const exportTo = (f: Federation, peer: string, l = ledgers) =>
    exportFor({ federation: f, peer: peerOf(f, peer), tenants, services: [], classes: [], ledgers: l, now: NOW })
      .document; // prettier-ignore
  const LEDGER_KEYS = ['consumption', 'cpuCoreHours', 'memoryGiBHours', 'storageGiBDays', 'servicePlanHours', 'coveredSeconds', 'uncoveredSeconds']; // prettier-ignore
  const LEDGER_VALUES = [
    '1234.567891',
    '2469.135782',
    '3703.703673',
    '86400',
    '5555.5555',
    '7777.7777',
    '3.75',
  ];

  it('carries no consumption field, and no key or value of the ledger, unless export.consumption is true', () => {
    for (const peer of ['hu-central', 'rs-beograd']) {
      const off = exportTo(member('mk-skopje', 'MK'), peer);
      expect(off).not.toHaveProperty('consumption');
      const text = JSON.stringify(off, null, 1);
      for (const s of [...LEDGER_KEYS, ...LEDGER_VALUES]) expect(text).not.toContain(s);
    }
    // The same inputs with the setting on do carry them: the check above can fail.
    const on = JSON.stringify(exportTo(member('mk-skopje', 'MK', { export: true }), 'hu-central'), null, 1);
    for (const s of [...LEDGER_KEYS, '1234.567891', '2469.135782', '86400', '3.75']) expect(on).toContain(s);
  });

  it('reports to a peer only the tenants imported from it, by this Federation, for the recent months', () => {
    const on = member('mk-skopje', 'MK', { export: true });
    expect(exportTo(on, 'hu-central').consumption).toEqual([
      { tenant: 'hu-budapest', month: '2025-12', cpuCoreHours: 8.25, memoryGiBHours: 16.5, storageGiBDays: 24.75, servicePlanHours: 3.75, coveredSeconds: 86_400, uncoveredSeconds: 60 }, // prettier-ignore
      { tenant: 'hu-budapest', month: '2026-11', cpuCoreHours: 7.5, memoryGiBHours: 15, storageGiBDays: 22.5, servicePlanHours: 3.75, coveredSeconds: 86_400, uncoveredSeconds: 60 }, // prettier-ignore
      { tenant: 'hu-budapest', month: '2026-12', cpuCoreHours: 1234.567891, memoryGiBHours: 2469.135782, storageGiBDays: 3703.703673, servicePlanHours: 3.75, coveredSeconds: 86_400, uncoveredSeconds: 60 }, // prettier-ignore
    ]);
    const toRs = JSON.stringify(exportTo(on, 'rs-beograd').consumption);
    expect(JSON.parse(toRs)).toEqual([
      expect.objectContaining({ tenant: 'rs-novisad', cpuCoreHours: 5555.5555 }),
    ]);
    for (const other of ['hu-budapest', 'mk-ohrid', 'hu-other-fed', '1234.567891', '7777.7777']) {
      expect(toRs).not.toContain(other);
    }
  });

  it('reports an empty list when nothing imported from the peer runs here', () => {
    const on = member('mk-skopje', 'MK', { export: true });
    expect(exportTo(on, 'hu-central', []).consumption).toEqual([]);
  });

  it('keeps at most the bounded number of entries, the newest months first', () => {
    const on = member('mk-skopje', 'MK', { export: true });
    const many = Array.from({ length: 200 }, (_, i) => imported(`hu-t${i}`, 'hu-central'));
    const months = recentMonths(NOW);
    const all = many.flatMap((t) => months.map((m) => ledger(t.metadata.name, m, 'hu-central', 1)));
    expect(all.length).toBeGreaterThan(MAX_CONSUMPTION_ENTRIES);
    const doc = exportFor({ federation: on, peer: peerOf(on, 'hu-central'), tenants: many, services: [], classes: [], ledgers: all, now: NOW }).document; // prettier-ignore
    const entries = doc.consumption as ReportedTotals[];
    expect(entries).toHaveLength(MAX_CONSUMPTION_ENTRIES);
    // 2048 = 10 whole months of 200 tenants and 48 of the eleventh: the oldest two months are left out.
    expect(new Set(entries.map((e) => e.month))).toEqual(new Set(months.slice(0, 11)));
    expect(entries.filter((e) => e.month === months[10])).toHaveLength(48);
  });
});

describe('what a member keeps of a peer report (import.consumption)', () => {
  // hu-central exports hu-budapest to mk-skopje, and hu-szeged to rs-beograd only.
  const budapest = { ...govTenant('hu-budapest', { federate: 'yes' }, 'HU') };
  budapest.spec = { ...budapest.spec!, level: 'national' };
  const exported = new Map([['hu-budapest', budapest]]);
  const entry = (patch: Record<string, unknown> = {}): Record<string, unknown> => ({
    tenant: 'hu-budapest',
    month: '2026-12',
    cpuCoreHours: 10.5,
    memoryGiBHours: 21,
    storageGiBDays: 3,
    servicePlanHours: 48,
    coveredSeconds: 3600,
    uncoveredSeconds: 0,
    ...patch,
  });
  const document = (consumption: unknown, from = { member: 'mk-skopje', country: 'MK' }) => ({
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'FederationExport',
    from,
    to: { member: 'hu-central', country: 'HU' },
    tenants: [],
    serviceClasses: [],
    services: [],
    consumption,
  });
  const hu = member('hu-central', 'HU', { import: true });
  const plan = (consumption: unknown, f = hu, now = NOW, from?: { member: string; country: string }) =>
    consumptionPlan({ federation: f, peer: peerOf(f, 'mk-skopje'), document: document(consumption, from), exported, now }); // prettier-ignore

  it('keeps a report only when import.consumption is true, and says so when it is not', () => {
    const off = plan([entry()], member('hu-central', 'HU'));
    expect(off.records).toEqual([]);
    expect(off.skipped).toEqual([expect.objectContaining({ reason: 'ConsumptionNotAccepted' })]);
    expect(plan([entry()]).records).toHaveLength(1);
  });

  it('names, labels and describes the record from its own tenant; the report is only looked up', () => {
    const hostile = entry({ country: 'XX', level: 'agency', reportedBy: 'rs-beograd', name: 'kube-system', labels: { a: 'b' }, servicePlanHours: 48.0000004 }); // prettier-ignore
    const { records, skipped } = plan([hostile]);
    expect(skipped).toEqual([]);
    expect(records).toEqual([
      {
        apiVersion: 'gov.secovia.eu/v1alpha1',
        kind: 'GovConsumption',
        metadata: {
          name: 'hu-budapest-2026-12.mk-skopje',
          labels: {
            'app.kubernetes.io/managed-by': 'secovia-operator',
            'gov.secovia.eu/tenant': 'hu-budapest',
            'gov.secovia.eu/country': 'HU',
            'gov.secovia.eu/month': '2026-12',
            'gov.secovia.eu/reported-by': 'mk-skopje',
            'gov.secovia.eu/federation': 'see',
          },
        },
        spec: {
          tenant: 'hu-budapest',
          month: '2026-12',
          country: 'HU',
          level: 'national',
          reportedBy: 'mk-skopje',
        },
        status: { cpuCoreHours: 10.5, memoryGiBHours: 21, storageGiBDays: 3, servicePlanHoursTotal: 48, coveredSeconds: 3600, uncoveredSeconds: 0 }, // prettier-ignore
      },
    ]);
  });

  it.each([
    ['a tenant it does not export to that peer', { tenant: 'hu-szeged' }, 'NotExported'],
    ['a name only like an exported one', { tenant: 'HU-BUDAPEST' }, 'NotExported'],
    ['a name with a suffix', { tenant: 'hu-budapest.evil' }, 'NotExported'],
    ['a name beyond a DNS label', { tenant: 'x'.repeat(300) }, 'InvalidExport'],
    ['a negative amount', { cpuCoreHours: -1 }, 'InvalidExport'],
    ['an infinite amount', { memoryGiBHours: JSON.parse('1e999') as number }, 'InvalidExport'],
    ['an amount as text', { storageGiBDays: '5' }, 'InvalidExport'],
    ['a missing amount', { servicePlanHours: undefined }, 'InvalidExport'],
    [
      'more seconds than the month has',
      { coveredSeconds: 31 * 86_400, uncoveredSeconds: 3600 },
      'InvalidExport',
    ],
    ['a month that is not one', { month: '2026-13' }, 'InvalidExport'],
    ['a month before the window', { month: '2025-11' }, 'InvalidExport'],
    ['a month after it', { month: '2027-01' }, 'InvalidExport'],
    ['not an object', 'hu-budapest', 'InvalidExport'],
  ])('refuses %s', (_what, patch, reason) => {
    const raw = typeof patch === 'string' ? patch : entry(patch);
    const { records, skipped } = plan([raw, entry({ month: '2026-11' })]);
    expect(records.map((r) => r.metadata.name)).toEqual(['hu-budapest-2026-11.mk-skopje']);
    expect(skipped).toEqual([expect.objectContaining({ kind: 'GovConsumption', reason })]);
    // A refused entry is named by its position, or by the local tenant: never by what the peer wrote.
    expect(['consumption[0]', 'hu-budapest']).toContain(skipped[0]!.name);
  });

  it('takes the current month, the 12 before it and, a day before midnight, the next one', () => {
    const lastDay = Date.UTC(2026, 11, 31, 23);
    const months = ['2025-12', '2026-12', '2027-01'];
    expect(
      plan(
        months.map((month) => entry({ month })),
        hu,
        lastDay,
      ).records,
    ).toHaveLength(3);
    expect(plan([entry({ month: '2027-01' })]).records).toEqual([]);
  });

  it('keeps the first of two entries for the same tenant and month', () => {
    const { records, skipped } = plan([entry({ cpuCoreHours: 1 }), entry({ cpuCoreHours: 2 })]);
    expect(records.map((r) => r.status!.cpuCoreHours)).toEqual([1]);
    expect(skipped).toEqual([expect.objectContaining({ name: 'hu-budapest-2026-12.mk-skopje', reason: 'InvalidExport' })]); // prettier-ignore
  });

  it('refuses a report longer than the bound, or that is not a list, whole', () => {
    const tooMany = Array.from({ length: MAX_CONSUMPTION_ENTRIES + 1 }, () => entry());
    for (const report of [tooMany, { 'hu-budapest': entry() }, 'all']) {
      const { records, skipped } = plan(report);
      expect(records).toEqual([]);
      expect(skipped).toEqual([expect.objectContaining({ reason: 'InvalidExport', name: 'mk-skopje' })]);
    }
    expect(plan(tooMany.slice(1)).records).toHaveLength(1);
  });

  it('reads nothing from a document that is not from that peer, or has no consumption', () => {
    expect(plan([entry()], hu, NOW, { member: 'rs-beograd', country: 'RS' })).toEqual({ records: [], skipped: [] }); // prettier-ignore
    expect(plan(undefined)).toEqual({ records: [], skipped: [] });
  });
});

describe('names of reported records', () => {
  const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
  const month = fc.constantFrom(...recentMonths(NOW, 40));

  it('never equal the name of a ledger, so the ledger never reads or writes one', () => {
    fc.assert(
      fc.property(label, month, label, label, month, (t1, m1, peer, t2, m2) => {
        expect(reportedName(t1, m1, peer)).not.toBe(ledgerName(t2, m2));
      }),
      { numRuns: 2000, seed: 20261215 },
    );
  });

  it('are different for different tenants, months or members', () => {
    fc.assert(
      fc.property(fc.tuple(label, month, label), fc.tuple(label, month, label), (a, b) => {
        fc.pre(a.join('/') !== b.join('/'));
        expect(reportedName(...a)).not.toBe(reportedName(...b));
      }),
      { numRuns: 2000, seed: 20261216 },
    );
  });
});

describe('a hostile report', () => {
  const hu = member('hu-central', 'HU', { import: true });
  const peer = peerOf(hu, 'mk-skopje');
  const exported = new Map(
    ['hu-budapest', 'hu-szeged'].map((n) => [n, govTenant(n, { federate: 'yes' }, 'HU')] as const),
  );
  const NAMES = [
    'hu-budapest',
    'hu-szeged',
    'hu-local',
    'HU-BUDAPEST',
    'hu-budapest.x',
    '__proto__',
    'constructor',
    '',
  ];
  const MONTHS = ['2026-12', '2026-01', '2025-12', '2025-11', '2027-01', '2026-13', '2026-1', '12-2026', ''];
  // Mostly plausible amounts, so that many entries pass; each hostile kind now and then.
  const amountArb = fc.oneof(
    { weight: 30, arbitrary: fc.double({ min: 0, max: 1e6, noNaN: true }) },
    { weight: 1, arbitrary: fc.double() },
    { weight: 1, arbitrary: fc.constantFrom(-1, 1e13, Number.MAX_VALUE, JSON.parse('1e999') as number) },
    { weight: 1, arbitrary: fc.string({ maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constant(null) },
  );
  const entryArb = fc.oneof(
    { weight: 5, arbitrary: fc.record({ tenant: fc.constantFrom(...NAMES), month: fc.constantFrom(...MONTHS), cpuCoreHours: amountArb, memoryGiBHours: amountArb, storageGiBDays: amountArb, servicePlanHours: amountArb, coveredSeconds: fc.oneof(fc.constantFrom(0, 3600, 2_678_400), amountArb), uncoveredSeconds: fc.constantFrom(0, 1, 86_400), country: fc.constantFrom('XX', 'HU'), reportedBy: fc.constantFrom('rs-beograd', 'evil') }, { requiredKeys: ['tenant', 'month', 'cpuCoreHours', 'memoryGiBHours', 'storageGiBDays', 'servicePlanHours', 'coveredSeconds', 'uncoveredSeconds'] }) }, // prettier-ignore
    { weight: 1, arbitrary: fc.anything() },
  );
  const accepted = new Set(['2026-12', '2026-01', '2025-12']);
  const STATUS_KEYS = ['coveredSeconds', 'cpuCoreHours', 'memoryGiBHours', 'servicePlanHoursTotal', 'storageGiBDays', 'uncoveredSeconds']; // prettier-ignore

  it('yields only records of exported tenants, named from them, with bounded finite totals', () => {
    let kept = 0;
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 12 }), (report) => {
        const { records, skipped } = consumptionPlan({ federation: hu, peer, document: { apiVersion: 'gov.secovia.eu/v1alpha1', kind: 'FederationExport', from: { member: 'mk-skopje', country: 'MK' }, to: { member: 'hu-central', country: 'HU' }, tenants: [], serviceClasses: [], services: [], consumption: report }, exported, now: NOW }); // prettier-ignore
        expect(records.length + skipped.length).toBe(report.length);
        expect(new Set(records.map((r) => r.metadata.name)).size).toBe(records.length);
        for (const r of records) {
          const local = exported.get(r.spec!.tenant)!;
          expect(local).toBeDefined();
          expect(accepted.has(r.spec!.month)).toBe(true);
          expect(r.metadata.name).toBe(reportedName(local.metadata.name, r.spec!.month, 'mk-skopje'));
          expect(r.spec).toEqual({ tenant: local.metadata.name, month: r.spec!.month, country: 'HU', level: 'municipal', reportedBy: 'mk-skopje' }); // prettier-ignore
          expect(r.metadata.labels!['gov.secovia.eu/reported-by']).toBe('mk-skopje');
          expect(Object.keys(r.status!).sort()).toEqual(STATUS_KEYS);
          for (const v of Object.values(r.status!) as number[]) {
            expect(Number.isFinite(v) && v >= 0 && v <= 1e12).toBe(true);
          }
        }
        kept += records.length;
      }),
      { numRuns: 400, seed: 20261217 },
    );
    // Not vacuous: many hostile entries are still kept, shaped by local rules.
    expect(kept).toBeGreaterThan(40);
  });
});
