/**
 * The consumption ledger on a real API server, with kube-controller-manager filling the quota's
 * usage from real Pod objects (no kubelet: they stay Pending and count in the quota). The operator's
 * clock is set to run over midnight of the first of a month; the leader is restarted before it and
 * changed after it. Each month's ledger must then hold exactly the reserved requests times the time
 * it covers, with no second counted twice and no gap, and the CSV export must say the same.
 */
import { spawn } from 'node:child_process';
import type { GovConsumption } from '../../src/api/index.js';
import { operatorIdentity, registerControllers } from '../../src/controllers/index.js';
import { OPERATOR } from '../../src/controllers/labels.js';
import { nextMonthStart, monthOf } from '../../src/controllers/consumption/ledger.js';
import { KubeClient } from '../../src/runtime/kube.js';
import { rootLogger } from '../../src/runtime/log.js';
import { Manager } from '../../src/runtime/manager.js';
import type { ControlPlane } from '../harness/controlplane.js';
import { clientFor, conditionOf, controlPlaneWithCrds, eventually, getObject, govTenant, reservingPod, ROOT, uniqueName } from './support.js'; // prettier-ignore

const INTERVAL_MS = 5000;
const API = '/apis/gov.secovia.eu/v1alpha1';
let cp: ControlPlane;
let admin: KubeClient;
const running = new Set<Manager>();
/** The operator's clock: about 45 s before midnight UTC of the first of next month when the test starts. */
let offsetMs = 0;
const clock = (): number => Date.now() + offsetMs;

async function replica(identity: string): Promise<Manager> {
  const manager = new Manager({
    ...operatorIdentity,
    client: KubeClient.load({ kubeconfig: cp.kubeconfigPath, userAgent: `${OPERATOR} (${identity})` }),
    logger: rootLogger.child({ replica: identity }),
    namespace: 'default',
    identity,
    leaderElection: true,
    metricsPort: 0,
    healthPort: 0,
    onLeaseLost: () => undefined,
    gracefulShutdownMs: 5000,
  });
  registerControllers(manager, {
    namespace: 'default',
    workers: 4,
    ingressNamespace: 'ingress-nginx',
    ingressClassName: 'nginx',
    tlsSecretSuffix: '-tls',
    consumptionIntervalMs: INTERVAL_MS,
    clock,
  });
  await manager.start();
  running.add(manager);
  return manager;
}

async function stop(m: Manager): Promise<void> {
  running.delete(m);
  await m.stop();
}

const ledgerOf = (name: string): Promise<GovConsumption | undefined> =>
  getObject(admin, `${API}/govconsumptions/${name}`) as Promise<GovConsumption | undefined>;

beforeAll(async () => {
  cp = await controlPlaneWithCrds({ controllerManager: true });
  admin = clientFor(cp);
}, 300_000);

afterAll(async () => {
  for (const m of running) await m.stop();
  admin?.close();
  await cp?.stop();
}, 60_000);

it('counts reserved requests per month across a restart, a leader change and a month boundary; the CSV agrees', async () => {
  offsetMs = nextMonthStart(Date.now()) - 45_000 - Date.now();
  const [m1, m2] = [monthOf(clock()), monthOf(clock() + 60_000)];
  const name = uniqueName('led');
  const imported = uniqueName('imp');
  const quota = { cpu: '4', memory: '8Gi', pods: 10 };
  await admin.request('POST', `${API}/govtenants`, { body: govTenant(name, { quota }) });
  const origin = { 'gov.secovia.eu/origin-member': 'hu-central', 'gov.secovia.eu/origin-country': 'HU' };
  const importedTenant = govTenant(imported, { country: 'HU', dataResidency: { allowedCountries: ['HU', 'GR'] }, quota }); // prettier-ignore
  await admin.request('POST', `${API}/govtenants`, { body: { ...importedTenant, metadata: { name: imported, labels: origin } } }); // prettier-ignore

  const replicas = [await replica('first'), await replica('second')];
  const leading = (): Manager | undefined => replicas.find((r) => r.isLeader());
  for (const [t, pods] of [
    [name, 3],
    [imported, 1],
  ] as const) {
    await eventually(() => getObject(admin, `/api/v1/namespaces/${t}-prod/resourcequotas/secovia-quota`), 30_000, 'quota'); // prettier-ignore
    for (let i = 0; i < pods; i++) {
      await admin.request('POST', `/api/v1/namespaces/${t}-prod/pods`, {
        body: reservingPod(`${t}-prod`, `p${i}`),
      });
    }
  }
  // From the first sample that sees every pod on, the rate is constant: the baseline of the checks.
  const base = await eventually(
    async () => {
      const l = await ledgerOf(`${name}-${m1}`);
      return l?.status?.lastObserved?.cpuCores === 1.5 ? l.status : undefined;
    },
    60_000,
    'a sample that sees the three pods',
  );
  const importedBase = await eventually(async () => {
    const l = await ledgerOf(`${imported}-${m1}`);
    return l?.status?.lastObserved?.cpuCores === 0.5 ? l.status : undefined;
  });
  expect(Date.parse(base.lastSampleTime!)).toBeLessThan(nextMonthStart(clock()));

  // Restart before midnight: the leader stops (releasing the Lease) and a new process of it starts.
  const first = await eventually(leading, 30_000, 'a leader');
  await stop(first);
  replicas[replicas.indexOf(first)] = await replica('restarted');
  await eventually(leading, 30_000, 'a leader after the restart');
  // Over midnight: both months get their part; then the leader changes.
  const next = await eventually(() => ledgerOf(`${name}-${m2}`), 90_000, `the ledger of ${m2}`);
  expect(conditionOf(await ledgerOf(`${name}-${m1}`), 'Closed')?.status).toBe('True');
  const acting = (await eventually(leading))!;
  const other = replicas.find((r) => r !== acting)!;
  await stop(acting);
  await eventually(() => other.isLeader(), 30_000, 'the other replica leading');
  const samplesBefore = next.status?.samples ?? 0;
  await eventually(
    async () => ((await ledgerOf(`${name}-${m2}`))?.status?.samples ?? 0) >= samplesBefore + 3,
    60_000,
    'three samples by the new leader',
  );
  // The leader's metrics: the tenant's reserved requests with its country, level and origin, and the country's total.
  const metrics = await (await fetch(`http://127.0.0.1:${other.ports.metrics}/metrics`)).text();
  expect(metrics).toContain(`secovia_tenant_quota_used{tenant="${name}",country="GR",level="municipal",origin_member="",resource="requests.cpu"} 1.5`); // prettier-ignore
  expect(metrics).toContain(`secovia_tenant_quota_used{tenant="${imported}",country="HU",level="municipal",origin_member="hu-central",resource="requests.cpu"} 0.5`); // prettier-ignore
  expect(metrics).toContain(`secovia_tenant_namespaces{tenant="${name}",country="GR",level="municipal",origin_member=""} 1`); // prettier-ignore
  expect(metrics).toMatch(/secovia_country_quota_used\{country="GR",resource="requests.cpu"\} 1.5/);
  await stop(other);

  const [old, now] = [(await ledgerOf(`${name}-${m1}`))!, (await ledgerOf(`${name}-${m2}`))!];
  expect(old.status!.lastSampleTime).toBe(
    new Date(nextMonthStart(Date.parse(base.lastSampleTime!))).toISOString(),
  );
  const covered = old.status!.coveredSeconds! - base.coveredSeconds! + now.status!.coveredSeconds!;
  const uncovered = old.status!.uncoveredSeconds! - base.uncoveredSeconds! + now.status!.uncoveredSeconds!;
  const span = (Date.parse(now.status!.lastSampleTime!) - Date.parse(base.lastSampleTime!)) / 1000;
  // Every second between the baseline and the last sample counted once, none twice, no gap.
  expect(covered + uncovered).toBeCloseTo(span, 3);
  expect(uncovered).toBe(0);
  // 1.5 cores and 3 GiB reserved the whole time: the ledger is the rate times the covered time, per month.
  const hours = (s: number) => s / 3600;
  expect(old.status!.cpuCoreHours! - base.cpuCoreHours!).toBeCloseTo(1.5 * hours(old.status!.coveredSeconds! - base.coveredSeconds!), 5); // prettier-ignore
  expect(now.status!.cpuCoreHours!).toBeCloseTo(1.5 * hours(now.status!.coveredSeconds!), 5);
  expect(now.status!.memoryGiBHours!).toBeCloseTo(3 * hours(now.status!.coveredSeconds!), 5);
  expect(now.spec).toMatchObject({ tenant: name, month: m2, country: 'GR', level: 'municipal' });
  const importedNow = (await ledgerOf(`${imported}-${m2}`))!;
  expect(importedNow.spec).toMatchObject({ country: 'HU', originMember: 'hu-central', originCountry: 'HU' });
  expect(importedNow.status!.cpuCoreHours!).toBeCloseTo(0.5 * hours(importedNow.status!.coveredSeconds!), 5);
  expect(importedBase.lastObserved?.memoryGiB).toBe(1);

  // kubectl, by country and month.
  const listed = await cp.kubectl(['get', 'govconsumptions', '-l', `gov.secovia.eu/country=HU,gov.secovia.eu/month=${m2}`]); // prettier-ignore
  expect(listed.stdout).toMatch(
    /NAME\s+TENANT\s+COUNTRY\s+MONTH\s+CPU-H\s+MEM-GIB-H\s+STORAGE-GIB-D\s+UNCOVERED-S\s+ORIGIN/,
  );
  expect(listed.stdout).toContain(`${imported}-${m2}`);
  expect(listed.stdout).not.toContain(name + '-');

  // The CSV export of the month, from the operator's binary.
  const csv = await run(['consumption-csv', '--month', m2, '--kubeconfig', cp.kubeconfigPath]);
  const row = csv
    .split('\r\n')
    .find((l) => l.startsWith(`${m2},${name},`))!
    .split(',');
  expect(Number(row[6])).toBe(now.status!.cpuCoreHours);
  expect(Number(row[7])).toBe(now.status!.memoryGiBHours);
  expect(Number(row[10])).toBeCloseTo(hours(now.status!.coveredSeconds!), 5);
  const importedRow = csv.split('\r\n').find((l) => l.startsWith(`${m2},${imported},`));
  expect(importedRow).toContain(',HU,municipal,hu-central,HU,');
  const byCountry = await run(['consumption-csv', '--month', m2, '--by', 'country', '--kubeconfig', cp.kubeconfigPath]); // prettier-ignore
  expect(byCountry).toContain(`${m2},GR,1,${now.status!.cpuCoreHours},`);
  expect(byCountry).toContain(`${m2},HU,1,${importedNow.status!.cpuCoreHours},`);
}, 300_000);

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', `${ROOT}hack/register-ts.mjs`, `${ROOT}src/main.ts`, ...args]); // prettier-ignore
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}
