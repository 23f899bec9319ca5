/**
 * Answers that are not the API server's own: a proxy's HTML 503, a 200 that is not JSON, a Status
 * body. Each becomes an ApiError with the status, a Kubernetes reason and an excerpt, never a
 * SyntaxError. A small HTTP server on loopback plays the proxy.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, KubeClient } from '../../src/runtime/kube.js';

const answers: Record<string, { status: number; type: string; body: string }> = {
  '/html-503': {
    status: 503,
    type: 'text/html',
    body: '<html><body><h1>503 Service Temporarily Unavailable</h1>' + 'x'.repeat(5000) + '</body></html>',
  },
  '/html-200': { status: 200, type: 'text/html', body: '<html>login page</html>' },
  '/status-403': {
    status: 403,
    type: 'application/json',
    body: JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: 'namespaces is forbidden' }), // prettier-ignore
  },
  '/empty-502': { status: 502, type: 'text/plain', body: '' },
};

let server: http.Server;
let dir: string;
let client: KubeClient;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const a = answers[req.url ?? ''] ?? { status: 404, type: 'text/plain', body: 'no' };
    res.writeHead(a.status, { 'content-type': a.type }).end(a.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  dir = mkdtempSync(join(tmpdir(), 'secovia-kube-errors-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n`,
  );
  client = KubeClient.load({ kubeconfig, userAgent: 'secovia-unit' });
});

afterAll(async () => {
  client.close();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const failure = async (path: string): Promise<ApiError> => {
  try {
    await client.request('GET', path);
  } catch (e) {
    return e as ApiError;
  }
  throw new Error(`GET ${path} succeeded`);
};

test.each([
  ['/html-503', 503, 'ServiceUnavailable', '503 Service Temporarily Unavailable'],
  ['/html-200', 200, 'InvalidResponse', 'is not JSON: <html>login page</html>'],
  ['/status-403', 403, 'Forbidden', 'namespaces is forbidden'],
  ['/empty-502', 502, 'BadGateway', 'GET /empty-502: HTTP 502'],
])('GET %s is an ApiError %i %s', async (path, status, reason, text) => {
  const e = await failure(path);
  expect(e).toBeInstanceOf(ApiError);
  expect([e.status, e.reason]).toEqual([status, reason]);
  expect(e.message).toContain(text);
  expect(e.message.length).toBeLessThan(400);
});
