/**
 * Restart: with N converged tenants present, the operator is stopped and a new one started. Measures
 * the time until it is ready (caches synced) and has reconciled every tenant, and the writes it made
 * meanwhile according to the API server's audit log (Lease writes of leader election apart).
 *
 *   npm run build && node --import ./hack/register-ts.mjs bench/restart.ts [N]
 */
import {
  benchPlane,
  byResource,
  createTenants,
  GROUP_PATH,
  metric,
  operatorRequests,
  operatorWrites,
  readyNames,
  report,
  sleep,
  startOperator,
  untilQuiet,
  untilReady,
} from './support.js';

const N = Number(process.argv[2] ?? 1000);
const AFTER_MS = 30_000;

const plane = await benchPlane({ controllerManager: true });
const first = await startOperator(plane);
await createTenants(plane.client, N);
await untilReady(plane.client, `${GROUP_PATH}/govtenants`, N);
await untilQuiet(plane.auditLog);
await first.stop();

const restartedAt = Date.now();
const op = await startOperator(plane);
while (!(await op.ready())) await sleep(50);
const readySeconds = (Date.now() - restartedAt) / 1000;
const reconciled = async (): Promise<boolean> => {
  const m = await op.metrics();
  const done = metric(m, 'controller_runtime_reconcile_total', (l) => /controller="govtenant"/.test(l));
  return done >= N && metric(m, 'workqueue_depth', (l) => /name="govtenant"/.test(l)) === 0;
};
while (!(await reconciled())) await sleep(100);
const reconciledSeconds = (Date.now() - restartedAt) / 1000;
// Writes that a restart causes may lag the reconciles (events, status): watch a while longer.
await sleep(AFTER_MS);
const writes = operatorWrites(plane.auditLog, restartedAt);
const others = writes.filter((w) => w.resource !== 'leases');
report('restart', {
  n: N,
  secondsUntilReady: readySeconds,
  secondsUntilAllReconciled: reconciledSeconds,
  stillReady: (await readyNames(plane.client, `${GROUP_PATH}/govtenants`)).size,
  writes: others.length,
  writesByResource: byResource(others),
  leaseWrites: writes.length - others.length,
  requests: operatorRequests(await op.metrics()),
  rssMiB: op.rss(),
});
await op.stop();
await plane.stop();
