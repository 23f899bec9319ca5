/** The HTTP client on a real API server: request framing on kept-alive connections. */
import type { KubeClient } from '../../src/runtime/kube.js';
import type { ControlPlane } from '../harness/controlplane.js';
import { startControlPlane } from '../harness/controlplane.js';
import { clientFor } from './support.js';

let cp: ControlPlane;
let client: KubeClient;

beforeAll(async () => {
  cp = await startControlPlane({ controllerManager: false });
  client = clientFor(cp);
}, 120_000);

afterAll(async () => {
  client?.close();
  await cp?.stop();
}, 60_000);

test('a DELETE with a body leaves the kept-alive connection usable for the next requests', async () => {
  const path = '/api/v1/namespaces/default/configmaps';
  for (let i = 0; i < 5; i++) {
    const created = await client.request<{ metadata: { uid: string } }>('POST', path, {
      body: { metadata: { name: `framing-${i}` }, data: { n: String(i) } },
    });
    await client.request('DELETE', `${path}/framing-${i}`, {
      body: { propagationPolicy: 'Background', preconditions: { uid: created.metadata.uid } },
    });
    // Without a framed body the server reads it as the start of this request and answers a bare 400.
    const version = await client.request<{ gitVersion: string }>('GET', '/version');
    expect(version.gitVersion).toBe('v1.34.4');
  }
}, 60_000);
