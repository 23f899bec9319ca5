/**
 * Scale: N GovTenants (two environments each, full quota, limits, five policies, two bindings)
 * created at once on a fresh control plane. Measures the time until all are Ready, the operator's
 * requests (its own count) and writes (the API server's audit log), and its peak RSS. Then, on a
 * second fresh control plane, the limit: the same objects, built by the same pure functions,
 * applied by a minimal client straight against the API server with the same concurrency (16
 * requests in flight: the operator runs 16 workers). Both runs also report the API server's own
 * request count (apiserver_request_total, every client: operator, controller manager, benchmark)
 * and its rate over the run.
 *
 *   npm run build && node --import ./hack/register-ts.mjs bench/scale.ts [N]
 */
import type { GovTenant } from '../src/api/index.js';
import { environmentObjects, tenantNamespace } from '../src/controllers/govtenant/desired.js';
import { resourceFor } from '../src/controllers/resources.js';
import { objectPath } from '../src/runtime/resources.js';
import type { KubeObject } from '../src/runtime/types.js';
import type { ControlPlane } from '../test/harness/controlplane.js';
import {
  benchPlane,
  benchTenant,
  byResource,
  createTenants,
  GROUP_PATH,
  metric,
  operatorRequests,
  operatorWrites,
  pool,
  report,
  round,
  startOperator,
  untilReady,
} from './support.js';

const N = Number(process.argv[2] ?? 100);
/** Requests in flight: the operator's workers and the minimal client's parallel writers alike. */
const CONCURRENCY = 16;

/** Requests the API server has served so far, from its own metrics. */
async function apiServerRequests(cp: ControlPlane): Promise<number> {
  const r = await cp.kubectl(['get', '--raw', '/metrics']);
  if (r.code !== 0) throw new Error(`API server metrics: ${r.stderr}`);
  return metric(r.stdout, 'apiserver_request_total');
}

/** The API server's requests during `run` and their rate per second. */
async function apiServerLoad(cp: ControlPlane, run: () => Promise<void>) {
  const before = await apiServerRequests(cp);
  const started = Date.now();
  await run();
  const seconds = (Date.now() - started) / 1000;
  const requests = (await apiServerRequests(cp)) - before;
  return { seconds, apiServer: { requests, perSecond: round(requests / seconds, 1) } };
}

async function operatorRun(): Promise<Record<string, unknown>> {
  const plane = await benchPlane({ controllerManager: true });
  const op = await startOperator(plane, CONCURRENCY);
  const { seconds: convergeSeconds, apiServer } = await apiServerLoad(plane.cp, () =>
    Promise.race([
      op.failed,
      (async () => {
        await createTenants(plane.client, N);
        await untilReady(plane.client, `${GROUP_PATH}/govtenants`, N);
      })(),
    ]),
  );
  const writes = operatorWrites(plane.auditLog);
  const result = {
    convergeSeconds,
    apiServer,
    operatorRequests: operatorRequests(await Promise.race([op.metrics(), op.failed])),
    operatorWrites: writes.length,
    writesByResource: byResource(writes),
    peakRssMiB: op.rss().peak,
  };
  await op.stop();
  await plane.stop();
  return result;
}

const name = (i: number): string => `t${String(i).padStart(4, '0')}`;

/** The floor: what the operator creates, applied directly; no watching, no checks, no events. */
async function limitRun(): Promise<{ seconds: number; apiServer: { requests: number; perSecond: number } }> {
  const plane = await benchPlane({ controllerManager: true });
  const { client } = plane;
  const settings = { ingressNamespace: 'ingress-nginx' };
  const apply = (o: KubeObject): Promise<unknown> =>
    client.request(
      'PATCH',
      objectPath(resourceFor(o.apiVersion, o.kind), o.metadata.name, o.metadata.namespace),
      {
        query: { fieldManager: 'bench', force: true },
        contentType: 'application/apply-patch+yaml',
        body: o,
      },
    );
  const load = await apiServerLoad(plane.cp, () =>
    pool(
      Array.from({ length: N }, (_, i) => i),
      CONCURRENCY,
      async (i) => {
        const t = await client.request<GovTenant>('POST', `${GROUP_PATH}/govtenants`, {
          body: benchTenant(i),
        });
        const peersAllowingUs = i > 0 ? [name(i - 1)] : [];
        for (const env of t.spec!.environments) {
          await apply(tenantNamespace(t, env.name, { createdBy: t.metadata.uid }));
          for (const o of environmentObjects(t, env, { settings, peersAllowingUs })) await apply(o);
        }
        await client.request('PATCH', `${GROUP_PATH}/govtenants/${t.metadata.name}/status`, {
          query: { fieldManager: 'bench', force: true },
          contentType: 'application/apply-patch+yaml',
          body: {
            apiVersion: t.apiVersion,
            kind: t.kind,
            metadata: { name: t.metadata.name },
            status: { observedGeneration: 1 },
          },
        });
      },
    ),
  );
  await plane.stop();
  return load;
}

const operator = await operatorRun();
const limit = await limitRun();
report('scale', {
  n: N,
  ...operator,
  limitSeconds: limit.seconds,
  limitApiServer: limit.apiServer,
  ratio: round((operator.convergeSeconds as number) / limit.seconds),
});
