/** A peer's kubeconfig is data, never instructions: the restricted shape, refusals naming the field. */
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { CredentialsRefused, parsePeerKubeconfig } from '../../src/controllers/federation/credentials.js';
import { credentialsFrom } from '../../src/controllers/federation/peers.js';
import type { KubeObject } from '../../src/runtime/types.js';

// A self-signed certificate (test/fixtures/certs), standing for both a CA and a client certificate.
const PEM = readFileSync(new URL('../fixtures/certs/peer-client.crt', import.meta.url), 'utf8');
const CERT = Buffer.from(PEM).toString('base64');
const KEY = Buffer.from('-----BEGIN PRIVATE KEY-----\nnot checked here\n').toString('base64');
const SECRET = 'peer-s3cret-value';

type Doc = Record<string, unknown>;

/** An honest kubeconfig, as hack/peer-credentials.sh writes it; `edit` makes it hostile. */
function doc(edit: (d: Doc & { clusters: Doc[]; users: Doc[]; contexts: Doc[] }) => void = () => {}): string {
  const d = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'hu', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': CERT } },
    ],
    users: [{ name: 'peer', user: { token: SECRET } }],
    contexts: [{ name: 'hu', context: { cluster: 'hu', user: 'peer' } }],
    'current-context': 'hu',
  };
  edit(d);
  return stringify(d);
}

const cluster = (d: { clusters: Doc[] }): Doc => d.clusters[0]!.cluster as Doc;
const user = (d: { users: Doc[] }): Doc => d.users[0]!.user as Doc;
const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: 'sh', args: ['-c', 'touch /tmp/x'] };

function refusal(text: string): string {
  try {
    parsePeerKubeconfig(text);
  } catch (e) {
    if (e instanceof CredentialsRefused) return e.message;
    throw e;
  }
  throw new Error('accepted');
}

describe('hostile kubeconfigs are refused, naming the field', () => {
  const table: [string, string, RegExp][] = [
    ['exec plugin', doc((d) => (user(d).exec = exec)), /^users\[0\]\.user\.exec is not allowed$/],
    [
      'auth provider',
      doc((d) => (user(d)['auth-provider'] = { name: 'oidc', config: { 'id-token': SECRET } })),
      /^users\[0\]\.user\.auth-provider is not allowed$/,
    ],
    [
      'tokenFile',
      doc((d) => (d.users[0]!.user = { tokenFile: '/etc/shadow' })),
      /^users\[0\]\.user\.tokenFile is not allowed$/,
    ],
    [
      'token-file',
      doc((d) => (d.users[0]!.user = { 'token-file': '/etc/shadow' })),
      /^users\[0\]\.user\.token-file is not allowed$/,
    ],
    [
      'username and password',
      doc((d) => (d.users[0]!.user = { username: 'admin', password: SECRET })),
      /^users\[0\]\.user\.username is not allowed$/,
    ],
    [
      'client certificate file',
      doc((d) => (d.users[0]!.user = { 'client-certificate': '/tmp/c.crt', 'client-key-data': KEY })),
      /^users\[0\]\.user\.client-certificate is not allowed$/,
    ],
    [
      'client key file',
      doc((d) => (d.users[0]!.user = { 'client-certificate-data': CERT, 'client-key': '/tmp/c.key' })),
      /^users\[0\]\.user\.client-key is not allowed$/,
    ],
    ['impersonation', doc((d) => (user(d).as = 'system:admin')), /^users\[0\]\.user\.as is not allowed$/],
    [
      'CA file',
      doc((d) => (cluster(d)['certificate-authority'] = '/etc/ssl/ca.pem')),
      /^clusters\[0\]\.cluster\.certificate-authority is not allowed$/,
    ],
    [
      'proxy',
      doc((d) => (cluster(d)['proxy-url'] = 'http://127.0.0.1:3128')),
      /^clusters\[0\]\.cluster\.proxy-url is not allowed$/,
    ],
    [
      'skipped verification',
      doc((d) => (cluster(d)['insecure-skip-tls-verify'] = true)),
      /^clusters\[0\]\.cluster\.insecure-skip-tls-verify is not allowed$/,
    ],
    [
      'http server',
      doc((d) => (cluster(d).server = 'http://127.0.0.1:8080')),
      /^clusters\[0\]\.cluster\.server must be an https:\/\/ URL$/,
    ],
    [
      'credentials in the server URL',
      doc((d) => (cluster(d).server = `https://admin:${SECRET}@127.0.0.1:6443`)),
      /^clusters\[0\]\.cluster\.server must not carry a user or password$/,
    ],
    [
      'server with a path',
      doc((d) => (cluster(d).server = 'https://127.0.0.1:6443/elsewhere')),
      /^clusters\[0\]\.cluster\.server must be https:\/\/host\[:port\], without path or query$/,
    ],
    [
      'no CA',
      doc((d) => delete cluster(d)['certificate-authority-data']),
      /^clusters\[0\]\.cluster\.certificate-authority-data is missing$/,
    ],
    [
      'CA that is no certificate',
      doc((d) => (cluster(d)['certificate-authority-data'] = Buffer.from(SECRET).toString('base64'))),
      /^clusters\[0\]\.cluster\.certificate-authority-data is not a base64 PEM certificate$/,
    ],
    [
      'two clusters',
      doc((d) => d.clusters.push({ name: 'other', cluster: cluster(d) })),
      /^clusters must list exactly one entry, it lists 2$/,
    ],
    [
      'two users',
      doc((d) => d.users.push({ name: 'other', user: { token: 'x' } })),
      /^users must list exactly one entry, it lists 2$/,
    ],
    ['no user', doc((d) => (d.users = [])), /^users must list exactly one entry, it lists 0$/],
    [
      'a context on another cluster',
      doc((d) => ((d.contexts[0]!.context as Doc).cluster = 'elsewhere')),
      /^contexts\[0\]\.context\.cluster must name clusters\[0\]$/,
    ],
    [
      'a current context that is not the one context',
      doc((d) => (d['current-context'] = 'elsewhere')),
      /^current-context must name contexts\[0\]$/,
    ],
    [
      'token and certificate together',
      doc((d) => Object.assign(user(d), { 'client-certificate-data': CERT, 'client-key-data': KEY })),
      /^users\[0\]\.user must have a token or a client certificate, not both$/,
    ],
    [
      'certificate without key',
      doc((d) => (d.users[0]!.user = { 'client-certificate-data': CERT })),
      /^users\[0\]\.user\.client-key-data is missing$/,
    ],
    ['no credential', doc((d) => (d.users[0]!.user = {})), /^users\[0\]\.user must have token, or/],
    [
      'a token that would break the header',
      doc((d) => (user(d).token = `${SECRET}\r\nX-Injected: 1`)),
      /^users\[0\]\.user\.token is not a bearer token$/,
    ],
    [
      'an unknown top-level field',
      doc((d) => (d.extensions = [{ name: 'x', extension: {} }])),
      /^extensions is not allowed$/,
    ],
    [
      'a field name that carries text',
      doc((d) => (user(d)[`exec ${SECRET}`] = 1)),
      /^users\[0\]\.user\.<unnamed field> is not allowed$/,
    ],
    ['not YAML', `users: [{user: {token: ${SECRET}}}], [`, /^the kubeconfig is not valid YAML$/],
    ['a list', '- a\n- b\n', /^the kubeconfig is not a YAML mapping$/],
  ];

  it.each(table)('%s', (_name, text, message) => {
    const got = refusal(text);
    expect(got).toMatch(message);
    expect(got).not.toContain(SECRET);
  });
});

describe('honest kubeconfigs are accepted in the restricted shape', () => {
  it('a bearer token', () => {
    expect(parsePeerKubeconfig(doc())).toEqual({
      server: 'https://127.0.0.1:6443',
      caData: CERT,
      token: SECRET,
    });
  });

  it('a client certificate and key, tls-server-name, a namespace, no current-context', () => {
    const text = doc((d) => {
      d.users[0]!.user = { 'client-certificate-data': CERT, 'client-key-data': KEY };
      cluster(d)['tls-server-name'] = 'api.hu.example';
      (d.contexts[0]!.context as Doc).namespace = 'secovia-system';
      delete d['current-context'];
      d.preferences = {};
    });
    expect(parsePeerKubeconfig(text)).toEqual({
      server: 'https://127.0.0.1:6443',
      caData: CERT,
      tlsServerName: 'api.hu.example',
      certData: CERT,
      keyData: KEY,
    });
  });

  it('a server without port, given with a trailing slash', () => {
    const text = doc((d) => (cluster(d).server = 'https://api.hu.example/'));
    expect(parsePeerKubeconfig(text).server).toBe('https://api.hu.example');
  });
});

describe('credentialsFrom', () => {
  const peer = {
    name: 'hu-central',
    country: 'HU',
    kubeconfigSecretRef: { namespace: 'secovia-system', name: 'hu', key: 'kubeconfig' },
    exportNamespace: 'secovia-system',
  };
  const secret = (kubeconfig: string): KubeObject =>
    ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'hu', namespace: 'secovia-system' },
      data: { kubeconfig: Buffer.from(kubeconfig).toString('base64') },
    }) as KubeObject;

  it('rejects a hostile kubeconfig, naming the Secret and the field and nothing of the content', () => {
    const got = credentialsFrom(peer, secret(doc((d) => (user(d).exec = exec))));
    expect(got).toEqual({
      reason: 'CredentialsRejected',
      problem: 'Secret secovia-system/hu key kubeconfig: users[0].user.exec is not allowed',
    });
  });

  it('keeps only the restricted shape of an honest one', () => {
    expect(credentialsFrom(peer, secret(doc()))).toEqual({
      access: { server: 'https://127.0.0.1:6443', caData: CERT, token: SECRET },
    });
  });
});
