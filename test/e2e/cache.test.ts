/** The list+watch cache on a real API server: it survives API server and etcd restarts without losing events. */
import { Informer } from '../../src/runtime/cache.js';
import type { KubeClient } from '../../src/runtime/kube.js';
import { builtinResources } from '../../src/runtime/resources.js';
import type { ControlPlane } from '../harness/controlplane.js';
import { startControlPlane } from '../harness/controlplane.js';
import { clientFor, eventually, uniqueName } from './support.js';

let cp: ControlPlane;
let client: KubeClient;

beforeAll(async () => {
  cp = await startControlPlane({ controllerManager: false });
  client = clientFor(cp);
}, 120_000);

let stopInformer: (() => Promise<void>) | undefined;

afterAll(async () => {
  await stopInformer?.();
  client?.close();
  await cp?.stop();
}, 60_000);

const configMap = (name: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default' },
});
const CMS = '/api/v1/namespaces/default/configmaps';

describe('Informer on a real API server', () => {
  it('delivers every change across an API server restart and an etcd restart, without re-listing', async () => {
    const informer = new Informer(client, {
      resource: builtinResources.ConfigMap,
      namespace: 'default',
      backoffMs: { base: 100, max: 1000 },
    });
    const seen: string[] = [];
    informer.onEvent((type, obj) => seen.push(`${type}:${obj.metadata.name}`));
    informer.start();
    stopInformer = () => informer.stop();
    await informer.waitForSync();
    const before = uniqueName('before-');
    await client.request('POST', CMS, { body: configMap(before) });
    await eventually(() => seen.includes(`add:${before}`), 10_000, 'first add');

    await cp.restartApiServer();
    const afterApi = uniqueName('api-');
    await client.request('POST', CMS, { body: configMap(afterApi) });
    await client.request('DELETE', `${CMS}/${before}`);
    await eventually(
      () => seen.includes(`add:${afterApi}`) && seen.includes(`delete:${before}`),
      30_000,
      'events after API server restart',
    );

    await cp.restartEtcd();
    const afterEtcd = uniqueName('etcd-');
    await eventually(
      async () => !!(await client.request('POST', CMS, { body: configMap(afterEtcd) })),
      30_000,
      'API usable after etcd restart',
    );
    await eventually(() => seen.includes(`add:${afterEtcd}`), 30_000, 'event after etcd restart');

    expect(informer.get(before, 'default')).toBeUndefined();
    expect(informer.get(afterEtcd, 'default')).toBeDefined();
    expect(seen.filter((e) => e === `add:${afterEtcd}`)).toHaveLength(1);
  }, 120_000);
});
