/**
 * A hostile peer against a real control plane, with the operator in this process: its kubeconfig
 * cannot make the operator run a command or send a local file, and its server cannot make the
 * operator buffer without end nor ask again and again. Every hostile server listens on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeClient } from '../../src/runtime/kube.js';
import type { Manager } from '../../src/runtime/manager.js';
import type { KubeObject } from '../../src/runtime/types.js';
import type { ControlPlane } from '../harness/controlplane.js';
import {
  clientFor,
  conditionOf,
  controlPlaneWithCrds,
  eventually,
  getObject,
  startInProcessOperator,
  uniqueName,
} from './support.js';

const NS = 'secovia-system';
const FEDERATIONS = '/apis/gov.secovia.eu/v1alpha1/federations';
const EXPORT_PATH = `/api/v1/namespaces/${NS}/configmaps`;
const MiB = 1024 * 1024;

let cp: ControlPlane;
let client: KubeClient;
let operator: Manager;
let dir: string;
/** A self-signed certificate for 127.0.0.1, made by openssl (node:crypto makes no X.509). */
let tls: { key: string; cert: string };
const servers: HostileServer[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'secovia-hostile-'));
  tls = selfSigned(dir);
  cp = await controlPlaneWithCrds({ controllerManager: false, name: 'hostile' });
  client = clientFor(cp);
  await client.request('POST', '/api/v1/namespaces', { body: { metadata: { name: NS } } });
  operator = await startInProcessOperator(cp, NS);
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  for (const s of servers) await s.close();
  client?.close();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

function selfSigned(into: string): { key: string; cert: string } {
  const [key, cert] = [join(into, 'hostile.key'), join(into, 'hostile.crt')];
  // openssl is part of the machine's base system here; without it these tests cannot make a TLS peer.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=hostile-peer',
    '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' }); // prettier-ignore
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

interface HostileServer {
  url: string;
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** A peer's API server that answers /version and lists, and `watch` for every watch request. */
async function hostileServer(
  scheme: 'http' | 'https',
  watch: (res: http.ServerResponse) => void = (res) => res.end(),
): Promise<HostileServer> {
  const requests: HostileServer['requests'] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'https://peer');
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/version') return void res.end(JSON.stringify({ gitVersion: 'v1.34.4' }));
    if (url.pathname !== EXPORT_PATH) return void res.writeHead(404).end('{}');
    if (url.searchParams.get('watch') === 'true') return watch(res.writeHead(200));
    res.end(
      JSON.stringify({
        kind: 'ConfigMapList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '7' },
        items: [],
      }),
    );
  };
  const server = scheme === 'https' ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hostile: HostileServer = {
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(hostile);
  return hostile;
}

/** One line that never ends, written as fast as the operator reads it. */
function endlessLine(res: http.ServerResponse): void {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  res.write('{"type":"ADDED","object":{"metadata":{"name":"');
  const pump = (): void => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
}

type User = Record<string, unknown>;

function kubeconfig(server: string, caPem: string, user: User): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'peer',
        cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
      },
    ],
    users: [{ name: 'peer', user }],
    contexts: [{ name: 'peer', context: { cluster: 'peer', user: 'peer' } }],
    'current-context': 'peer',
  });
}

async function putSecret(peer: string, text: string): Promise<void> {
  await client.request('PATCH', `/api/v1/namespaces/${NS}/secrets/peer-${peer}`, {
    query: { fieldManager: 'e2e', force: true },
    contentType: 'application/apply-patch+yaml',
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `peer-${peer}`, namespace: NS },
      stringData: { kubeconfig: text },
    },
  });
}

/** A Federation with a single peer whose credentials are `text`. */
async function federateWith(name: string, text: string): Promise<string> {
  const peer = `${name}-peer`;
  await putSecret(peer, text);
  await client.request('POST', FEDERATIONS, {
    body: {
      apiVersion: 'gov.secovia.eu/v1alpha1',
      kind: 'Federation',
      metadata: { name },
      spec: {
        localMember: 'mk-skopje',
        localCountry: 'MK',
        peers: [
          {
            name: peer,
            country: 'HU',
            kubeconfigSecretRef: { namespace: NS, name: `peer-${peer}`, key: 'kubeconfig' },
          },
        ],
        import: { acceptCountries: ['HU'], staleAfterSeconds: 30 },
        syncIntervalSeconds: 10,
      },
    },
  });
  return peer;
}

async function removeFederation(name: string): Promise<void> {
  await client.request('DELETE', `${FEDERATIONS}/${name}`);
  await eventually(async () => !(await getObject(client, `${FEDERATIONS}/${name}`)), 30_000, `${name} gone`);
}

/** The Federation once its Ready condition has `reason` and its peer's message matches. */
const readyWith = (name: string, reason: string, message: RegExp): Promise<KubeObject> =>
  eventually(
    async () => {
      const f = await getObject(client, `${FEDERATIONS}/${name}`);
      return f && conditionOf(f, 'Ready')?.reason === reason && message.test(peerMessage(f) ?? '') && f;
    },
    60_000,
    `${name} Ready reason ${reason}, peer message ${message}`,
  );

async function warnings(name: string, reason: string): Promise<string[]> {
  const list = await client.request<{ items: { type: string; reason: string; message: string }[] }>(
    'GET',
    '/api/v1/namespaces/default/events',
    { query: { fieldSelector: `involvedObject.name=${name}` } },
  );
  return list.items.filter((e) => e.type === 'Warning' && e.reason === reason).map((e) => e.message);
}

const peerMessage = (f: KubeObject): string | undefined =>
  (f.status as { peers?: { message?: string }[] } | undefined)?.peers?.[0]?.message;

test('an exec plugin in the kubeconfig is refused and never run', async () => {
  const marker = join(dir, 'exec-ran');
  const exec = {
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    command: 'sh',
    args: ['-c', `echo ran > ${marker}; echo '{"status":{"token":"x"}}'`],
  };
  const caPem = readFileSync(cp.caFile, 'utf8');
  const peer = await federateWith('hostile-exec', kubeconfig(cp.server, caPem, { exec }));
  const f = await readyWith('hostile-exec', 'CredentialsRejected', /exec/);
  const message = `Secret ${NS}/peer-${peer} key kubeconfig: users[0].user.exec is not allowed`;
  expect(conditionOf(f, 'Ready')?.message).toContain(message);
  expect(conditionOf(f, 'Degraded')).toMatchObject({ status: 'True', reason: 'CredentialsRejected' });
  expect(peerMessage(f)).toBe(message);
  const events = await eventually(
    async () => {
      const w = await warnings('hostile-exec', 'CredentialsRejected');
      return w.length > 0 && w;
    },
    15_000,
    'Warning event CredentialsRejected',
  );
  expect(events).toEqual([`${peer}: ${message}`]);
  expect(existsSync(marker)).toBe(false);
  // Another refusal is another event; the first is not repeated.
  await putSecret(peer, kubeconfig(cp.server, caPem, { 'auth-provider': { name: 'oidc' } }));
  await eventually(
    async () => (await warnings('hostile-exec', 'CredentialsRejected')).length === 2,
    30_000,
    'second event',
  );
  expect((await warnings('hostile-exec', 'CredentialsRejected')).sort()).toEqual(
    [`${peer}: ${message}`, `${peer}: ${message.replace('user.exec', 'user.auth-provider')}`].sort(),
  );
  expect(existsSync(marker)).toBe(false);
  await removeFederation('hostile-exec');
}, 120_000);

test('a token file and an http server: the file is never read for the peer, the server never asked', async () => {
  const value = `local-secret-${uniqueName('v')}`;
  const file = join(dir, 'token');
  writeFileSync(file, value);
  const server = await hostileServer('http');
  const text = kubeconfig(server.url, tls.cert, { 'token-file': file });
  await federateWith('hostile-file', text);
  const f = await readyWith('hostile-file', 'CredentialsRejected', /./);
  expect(peerMessage(f)).toMatch(/users\[0\]\.user\.token-file is not allowed$/);
  expect(JSON.stringify(f.status)).not.toContain(value);
  expect(server.requests).toEqual([]);
  // The http:// server alone is refused too, before any request.
  await putSecret('hostile-file-peer', kubeconfig(server.url, tls.cert, { token: 'a-token' }));
  await readyWith(
    'hostile-file',
    'CredentialsRejected',
    /clusters\[0\]\.cluster\.server must be an https:\/\/ URL$/,
  );
  expect(server.requests).toEqual([]);
  await removeFederation('hostile-file');
}, 120_000);

test('an endless watch line is cut at the limit: memory stays bounded, the status says too large', async () => {
  const server = await hostileServer('https', endlessLine);
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    await federateWith('hostile-stream', kubeconfig(server.url, tls.cert, { token: 'a-token' }));
    const f = await readyWith('hostile-stream', 'ExportUnavailable', /too large/);
    expect(peerMessage(f)).toBe(
      `cannot read the export: WATCH ${EXPORT_PATH}: response too large, a line exceeds 2097152 bytes`,
    );
    // The peer keeps streaming to every watch it is given: memory is measured until it gets another
    // one (reopened after a backoff that grows to 30 s, so this waits on that, not on a fixed time).
    const watchesBefore = watchCount(server);
    await eventually(() => watchCount(server) > watchesBefore, 45_000, 'another watch after the cut');
    expect(watchCount(server)).toBeGreaterThan(watchesBefore);
  } finally {
    clearInterval(sampler);
  }
  expect(peak - baseline).toBeLessThan(100 * MiB);
  await removeFederation('hostile-stream');
}, 120_000);

const watchCount = (s: HostileServer): number =>
  s.requests.filter((r) => r.url.includes('watch=true')).length;

test('a watch that ends at once is not reopened at once, and the other watches stay live', async () => {
  const server = await hostileServer('https');
  await federateWith('hostile-churn', kubeconfig(server.url, tls.cert, { token: 'a-token' }));
  await eventually(() => watchCount(server) > 0, 30_000, 'first watch');
  const start = watchCount(server);
  const tenant = uniqueName('churn');
  const windowEnd = Date.now() + 10_000;
  // Within the window, a GovTenant is reconciled as usual: its namespace is created.
  await client.request('POST', '/apis/gov.secovia.eu/v1alpha1/govtenants', {
    body: {
      apiVersion: 'gov.secovia.eu/v1alpha1',
      kind: 'GovTenant',
      metadata: { name: tenant },
      spec: {
        displayName: 'Churn',
        country: 'MK',
        level: 'municipal',
        environments: [{ name: 'prod' }],
        dataResidency: { allowedCountries: ['MK'], classification: 'internal' },
      },
    },
  });
  await eventually(() => getObject(client, `/api/v1/namespaces/${tenant}-prod`), 10_000, 'tenant namespace');
  await new Promise((r) => setTimeout(r, Math.max(0, windowEnd - Date.now())));
  const inWindow = watchCount(server) - start;
  expect(inWindow).toBeGreaterThan(0); // the peer was still being watched, just not in a loop
  expect(inWindow).toBeLessThanOrEqual(10);
  expect(server.requests.every((r) => r.headers.authorization === 'Bearer a-token')).toBe(true);
  await removeFederation('hostile-churn');
}, 120_000);
