/** Where the client connects and how it authenticates: kubeconfig files, their merge, the in-cluster account. */
import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { loadConnection, REREAD_MS, type Connection } from '../../src/runtime/kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'secovia-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  jest.restoreAllMocks();
});

const NO_HOME = { HOME: join(dir, 'no-home') };
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function file(path: string, content: string): string {
  const full = join(dir, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, content);
  return full;
}

function kubeconfig(path: string, doc: Record<string, unknown>): string {
  return file(path, stringify({ apiVersion: 'v1', kind: 'Config', ...doc }));
}

const one = (cluster: Record<string, unknown>, user: Record<string, unknown>) => ({
  clusters: [{ name: 'c', cluster }],
  users: [{ name: 'u', user }],
  contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
  'current-context': 'ctx',
});

async function optionsOf(c: Connection): Promise<https.RequestOptions> {
  const o: https.RequestOptions = { headers: {} };
  await c.auth.applyToHTTPSOptions(o);
  return o;
}

describe('loadConnection', () => {
  it('reads a token and a CA file relative to the kubeconfig, and verifies TLS', async () => {
    file('plain/pki/ca.crt', 'the CA');
    const path = kubeconfig(
      'plain/config',
      one(
        {
          server: 'https://api.example:6443',
          'certificate-authority': 'pki/ca.crt',
          'tls-server-name': 'kube',
        },
        { token: 't0ken' },
      ),
    );
    const c = loadConnection({ kubeconfig: path, env: NO_HOME });
    expect(c.server).toBe('https://api.example:6443');
    expect(c.auth).not.toBeInstanceOf(KubeConfig);
    const o = await optionsOf(c);
    expect(o.headers).toEqual({ authorization: 'Bearer t0ken' });
    expect(String(o.ca)).toBe('the CA');
    expect(o).toMatchObject({ servername: 'kube', rejectUnauthorized: true });
  });

  it('reads inline client certificates, and skips TLS verification only when told', async () => {
    const path = kubeconfig(
      'cert/config',
      one(
        { server: 'https://127.0.0.1:6443', 'insecure-skip-tls-verify': true },
        { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
      ),
    );
    const o = await optionsOf(loadConnection({ kubeconfig: path, env: NO_HOME }));
    expect([String(o.cert), String(o.key)]).toEqual(['CERT', 'KEY']);
    expect(o.rejectUnauthorized).toBe(false);
    expect(o.headers).toEqual({});
  });

  it('sends basic credentials', async () => {
    const path = kubeconfig(
      'basic/config',
      one({ server: 'https://127.0.0.1:6443' }, { username: 'admin', password: 'pw' }),
    );
    expect((await optionsOf(loadConnection({ kubeconfig: path, env: NO_HOME }))).auth).toBe('admin:pw');
  });

  it('merges the files of KUBECONFIG as kubectl does: the first that names an entry wins', async () => {
    const first = kubeconfig('merge/a', {
      clusters: [{ name: 'c', cluster: { server: 'https://first:6443' } }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    });
    const second = kubeconfig('merge/b', {
      ...one({ server: 'https://second:6443' }, { token: 'from-b' }),
      'current-context': 'other',
    });
    const c = loadConnection({ env: { ...NO_HOME, KUBECONFIG: [first, second].join(delimiter) } });
    expect(c.server).toBe('https://first:6443');
    expect((await optionsOf(c)).headers).toEqual({ authorization: 'Bearer from-b' });
  });

  it('reads ~/.kube/config when neither --kubeconfig nor KUBECONFIG is given', () => {
    kubeconfig('home/.kube/config', one({ server: 'https://home:6443' }, { token: 't' }));
    expect(loadConnection({ env: { HOME: join(dir, 'home') } }).server).toBe('https://home:6443');
  });

  it('uses the in-cluster service account, whose rotated token is read again after a minute', async () => {
    const sa = join(dir, 'serviceaccount');
    file('serviceaccount/ca.crt', 'cluster CA');
    file('serviceaccount/token', 'token-1\n');
    const env = { ...NO_HOME, KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' };
    const c = loadConnection({ env, serviceAccountDir: sa });
    expect(c.server).toBe('https://[fd00::1]:443');
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now);
    expect((await optionsOf(c)).headers).toEqual({ authorization: 'Bearer token-1' });
    expect(String((await optionsOf(c)).ca)).toBe('cluster CA');
    file('serviceaccount/token', 'token-2\n');
    jest.spyOn(Date, 'now').mockReturnValue(now + REREAD_MS - 1);
    expect((await optionsOf(c)).headers).toEqual({ authorization: 'Bearer token-1' });
    jest.spyOn(Date, 'now').mockReturnValue(now + REREAD_MS);
    expect((await optionsOf(c)).headers).toEqual({ authorization: 'Bearer token-2' });
  });

  it('hands a kubeconfig that runs a command to authenticate to @kubernetes/client-node', async () => {
    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: 'from-exec' },
    };
    const exec = {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: '/bin/sh',
      args: ['-c', `echo '${JSON.stringify(credential)}'`],
      interactiveMode: 'Never',
    };
    const path = kubeconfig('exec/config', one({ server: 'https://eks.example:443' }, { exec }));
    const c = loadConnection({ kubeconfig: path, env: NO_HOME });
    expect(c.server).toBe('https://eks.example:443');
    const headers = Object.entries((await optionsOf(c)).headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]);
    expect(headers).toContainEqual(['authorization', 'Bearer from-exec']);
  });

  it('says what is missing', () => {
    expect(() => loadConnection({ env: NO_HOME, serviceAccountDir: join(dir, 'none') })).toThrow(
      'no kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config) and no in-cluster service account',
    );
    const noContext = kubeconfig('empty/config', { clusters: [] });
    expect(() => loadConnection({ kubeconfig: noContext, env: NO_HOME })).toThrow(
      'kubeconfig has no current cluster',
    );
  });
});
