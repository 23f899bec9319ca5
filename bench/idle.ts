/**
 * Idle: N tenants converge, the operator is left alone for a window (ten minutes by default, longer
 * than the shortest watch renewal, so resumed watches are included), and the API server's audit log
 * counts every write the operator made in it. The operator runs as deployed, with leader election:
 * the Lease renewals are reported apart from the writes to everything else.
 *
 *   npm run build && node --import ./hack/register-ts.mjs bench/idle.ts [N] [MINUTES]
 */
import {
  benchPlane,
  byResource,
  createTenants,
  GROUP_PATH,
  metric,
  operatorWrites,
  report,
  sleep,
  startOperator,
  untilQuiet,
  untilReady,
} from './support.js';

const N = Number(process.argv[2] ?? 1000);
const MINUTES = Number(process.argv[3] ?? 10);

const plane = await benchPlane({ controllerManager: true });
const op = await startOperator(plane);
const started = Date.now();
await createTenants(plane.client, N);
await untilReady(plane.client, `${GROUP_PATH}/govtenants`, N);
const readyAt = Date.now();
const lastWrite = await untilQuiet(plane.auditLog);
const tail = operatorWrites(plane.auditLog, readyAt).filter((w) => w.resource !== 'leases');
const watchesBefore = metric(await op.metrics(), 'rest_client_requests_total', (l) =>
  /method="WATCH"/.test(l),
);
const windowStart = Date.now();
await sleep(MINUTES * 60_000);
const inWindow = operatorWrites(plane.auditLog, windowStart);
const watches = metric(await op.metrics(), 'rest_client_requests_total', (l) => /method="WATCH"/.test(l));
report('idle', {
  n: N,
  convergeSeconds: (readyAt - started) / 1000,
  tailWritesAfterReady: tail.length,
  tailByResource: byResource(tail),
  tailSeconds: Math.max(0, lastWrite - readyAt) / 1000,
  idleMinutes: MINUTES,
  idleWrites: inWindow.filter((w) => w.resource !== 'leases').length,
  idleWritesByResource: byResource(inWindow.filter((w) => w.resource !== 'leases')),
  leaseRenewals: inWindow.filter((w) => w.resource === 'leases').length,
  watchesRenewedInWindow: watches - watchesBefore,
  rssMiB: op.rss(),
});
await op.stop();
await plane.stop();
