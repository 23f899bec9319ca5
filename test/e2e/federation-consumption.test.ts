/**
 * Consumption across a border on two real control planes, each with its operator as installed
 * (least privilege) and read-only credentials to the other. hu-central exports a tenant to
 * mk-skopje, which runs it (kube-controller-manager fills its quota usage from a Pod) and samples it
 * into its ledger every two seconds. Until mk-skopje's Federation opts in, what hu-central can read
 * of mk-skopje's export has no consumption at all; once it does, hu-central (which asks for reports)
 * keeps a record of it, labelled with the reporting member, beside its own ledger; opting out again
 * removes consumption from the export and leaves the record as it was.
 */
import type { GovConsumption } from '../../src/api/index.js';
import { monthOf } from '../../src/controllers/consumption/ledger.js';
import { exportCsv } from '../../src/consumption-csv.js';
import { KubeClient } from '../../src/runtime/kube.js';
import type { Manager } from '../../src/runtime/manager.js';
import {
  exchangeCredentials,
  federationOf,
  NS,
  startOperatorAsInstall,
  type FederationMember,
} from './federation-support.js';
import { clientFor, controlPlaneWithCrds, eventually, getObject, reservingPod } from './support.js';

const API = '/apis/gov.secovia.eu/v1alpha1';
const TENANT = 'hu-budapest';
const LEDGER_KEYS = [
  'cpuCoreHours',
  'memoryGiBHours',
  'storageGiBDays',
  'coveredSeconds',
  'uncoveredSeconds',
];

type Member = FederationMember & { operator?: Manager };
let hu: Member;
let mk: Member;
/** What hu-central's credentials for mk-skopje can read: exactly mk-skopje's export for it. */
let huView: KubeClient;

const federation = (self: Member, peer: Member, spec: object) =>
  federationOf(self, [peer], { syncIntervalSeconds: 10, ...spec });

/** mk-skopje's export for hu-central as hu-central reads it: the raw text and the parsed document. */
async function exportSeenByHu(): Promise<{ text: string; doc: Record<string, unknown> } | undefined> {
  const cm = await getObject(huView, `/api/v1/namespaces/${NS}/configmaps/secovia-export-hu-central`);
  const text = (cm as { data?: Record<string, string> } | undefined)?.data?.['export.json'];
  return text === undefined ? undefined : { text, doc: JSON.parse(text) as Record<string, unknown> };
}

const setExportConsumption = (on: boolean) =>
  mk.client.request('PATCH', `${API}/federations/see`, {
    contentType: 'application/merge-patch+json',
    body: { spec: { export: { consumption: on } } },
  });

beforeAll(async () => {
  const start = async (name: string, country: string, key: string, controllerManager: boolean) => {
    const cp = await controlPlaneWithCrds({ controllerManager, name: key });
    const client = clientFor(cp);
    await client.request('POST', '/api/v1/namespaces', { body: { metadata: { name: NS } } });
    return { name, country, cp, client };
  };
  hu = await start('hu-central', 'HU', 'hu', false);
  // mk-skopje runs the tenant: its quota usage is filled by kube-controller-manager.
  mk = await start('mk-skopje', 'MK', 'mk', true);
  const huToken = (await exchangeCredentials(hu, mk)).get(hu.name)!;
  huView = KubeClient.load({ kubeconfig: mk.cp.kubeconfigFor({ token: huToken, name: 'hu-view' }), userAgent: 'e2e' }); // prettier-ignore
  hu.operator = await startOperatorAsInstall(hu.cp);
  mk.operator = await startOperatorAsInstall(mk.cp, { consumptionIntervalMs: 2000 });
  await hu.client.request('POST', `${API}/federations`, {
    body: federation(hu, mk, {
      export: { tenantSelector: { matchLabels: { 'gov.secovia.eu/federate': 'true' } } },
      import: { acceptCountries: ['MK'], consumption: true },
    }),
  });
  await mk.client.request('POST', `${API}/federations`, {
    body: federation(mk, hu, { import: { acceptCountries: ['HU'] } }),
  });
  await hu.client.request('POST', `${API}/govtenants`, {
    body: {
      apiVersion: 'gov.secovia.eu/v1alpha1',
      kind: 'GovTenant',
      metadata: { name: TENANT, labels: { 'gov.secovia.eu/federate': 'true' } },
      spec: {
        displayName: 'Budapest Főváros',
        country: 'HU',
        level: 'municipal',
        environments: [{ name: 'prod' }],
        quota: { cpu: '2', memory: '4Gi', pods: 5 },
        dataResidency: { allowedCountries: ['HU', 'MK'] },
      },
    },
  });
  await eventually(() => getObject(mk.client, `/api/v1/namespaces/${TENANT}-prod/resourcequotas/secovia-quota`), 60_000, 'the import running in mk-skopje'); // prettier-ignore
  await mk.client.request('POST', `/api/v1/namespaces/${TENANT}-prod/pods`, {
    body: reservingPod(`${TENANT}-prod`, 'app'),
  });
}, 300_000);

afterAll(async () => {
  await hu?.operator?.stop();
  await mk?.operator?.stop();
  huView?.close();
  for (const m of [hu, mk]) {
    m?.client.close();
    await m?.cp.stop();
  }
}, 120_000);

it('reports consumption only once the Federation says so; the origin keeps it, labelled with the member', async () => {
  const month = monthOf(Date.now());
  const mkLedger = `${API}/govconsumptions/${TENANT}-${month}`;
  // mk-skopje counts the imported tenant where it runs, labelled with its origin.
  const counted = await eventually(
    async () => {
      const l = (await getObject(mk.client, mkLedger)) as GovConsumption | undefined;
      return (l?.status?.cpuCoreHours ?? 0) > 0 && l;
    },
    90_000,
    'reserved CPU in the ledger of mk-skopje',
  );
  expect(counted.spec).toMatchObject({ tenant: TENANT, originMember: 'hu-central', originCountry: 'HU' });

  // Opted out (the default): through a few syncs, the export hu-central reads has no consumption.
  const until = Date.now() + 12_000;
  while (Date.now() < until) {
    const seen = await exportSeenByHu();
    expect(seen).toBeDefined();
    expect(seen!.doc).not.toHaveProperty('consumption');
    for (const key of LEDGER_KEYS) expect(seen!.text).not.toContain(key);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const reportedName = `${TENANT}-${month}.mk-skopje`;
  expect(await getObject(hu.client, `${API}/govconsumptions/${reportedName}`)).toBeUndefined();

  // Opted in: the totals of the tenant imported from hu-central, and nothing else.
  await setExportConsumption(true);
  const reported = await eventually(
    async () => {
      const entries = (await exportSeenByHu())?.doc.consumption as Record<string, unknown>[] | undefined;
      const kept = (await getObject(hu.client, `${API}/govconsumptions/${reportedName}`)) as GovConsumption | undefined; // prettier-ignore
      const entry = entries?.find((e) => e.month === month);
      // Both sides move on every few seconds: wait for a moment when hu-central holds what mk-skopje publishes.
      if (!entries || !entry || !kept || kept.status?.cpuCoreHours !== entry.cpuCoreHours) return undefined;
      return { entries, entry, kept };
    },
    60_000,
    'the record of what mk-skopje reported, in hu-central',
  );
  expect(reported.entries.map((e) => e.tenant)).toEqual([TENANT]);
  expect(reported.entry.cpuCoreHours).toBeGreaterThan(0);
  expect(reported.kept.metadata.labels).toMatchObject({
    'gov.secovia.eu/reported-by': 'mk-skopje',
    'gov.secovia.eu/tenant': TENANT,
    'gov.secovia.eu/month': month,
    'gov.secovia.eu/federation': 'see',
  });
  expect(reported.kept.spec).toEqual({ tenant: TENANT, month, country: 'HU', level: 'municipal', reportedBy: 'mk-skopje' }); // prettier-ignore
  expect(reported.kept.status).toMatchObject({
    memoryGiBHours: reported.entry.memoryGiBHours,
    coveredSeconds: reported.entry.coveredSeconds,
    servicePlanHoursTotal: 0,
  });
  // hu-central's own ledger of the tenant is another object, and counts only what runs in hu-central.
  const own = (await getObject(hu.client, `${API}/govconsumptions/${TENANT}-${month}`)) as GovConsumption | undefined; // prettier-ignore
  expect(own?.spec?.reportedBy).toBeUndefined();
  expect(own?.status?.cpuCoreHours ?? 0).toBe(0);
  // The CSV per member shows where it ran; per tenant only what ran here.
  const perMember = await exportCsv(hu.client, { month, by: 'member' });
  expect(perMember).toMatch(new RegExp(`^${month},${TENANT},HU,municipal,,,mk-skopje,[0-9.]+,`, 'm'));
  expect(await exportCsv(hu.client, { month, by: 'tenant' })).not.toContain('mk-skopje');

  // Opted out again: the export loses its consumption; the record hu-central keeps stays as it was.
  await setExportConsumption(false);
  await eventually(
    async () => {
      const seen = await exportSeenByHu();
      return !!seen && !('consumption' in seen.doc) && LEDGER_KEYS.every((k) => !seen.text.includes(k));
    },
    30_000,
    'an export without consumption',
  );
  await new Promise((r) => setTimeout(r, 3000));
  const after = (await getObject(hu.client, `${API}/govconsumptions/${reportedName}`)) as GovConsumption;
  expect(after.status?.cpuCoreHours).toBeGreaterThanOrEqual(reported.kept.status!.cpuCoreHours!);
}, 240_000);
