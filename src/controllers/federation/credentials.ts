/**
 * A peer's kubeconfig, read as data and never as instructions: exactly one https cluster with its
 * CA inline and exactly one user with an inline token or client certificate. Whatever would run a
 * command, read a file, go through a proxy or skip verification is refused before any use, naming
 * the kubeconfig field and never its value.
 */
import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import type { InlineCredentials } from '../../runtime/kube.js';

/** All that the operator keeps of a peer's kubeconfig. */
export type PeerAccess = InlineCredentials;

/** A refusal with the kubeconfig field it is about. */
export class CredentialsRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsRefused';
  }
}

type Fields = Record<string, unknown>;

const TOP_LEVEL = ['apiVersion', 'kind', 'clusters', 'users', 'contexts', 'current-context', 'preferences'];
// tls-server-name is allowed: it only narrows which certificate is accepted, and reads or runs nothing.
const CLUSTER = ['server', 'certificate-authority-data', 'tls-server-name'];
const USER = ['token', 'client-certificate-data', 'client-key-data'];
const CONTEXT = ['cluster', 'user', 'namespace'];
/** A Secret holds at most 1 MiB; a kubeconfig that is larger is not one that a peer handed over. */
const MAX_KUBECONFIG_BYTES = 1024 * 1024;

function refuse(message: string): never {
  throw new CredentialsRefused(message);
}

/** Parses a peer's kubeconfig into PeerAccess, or throws CredentialsRefused naming the field. */
export function parsePeerKubeconfig(text: string): PeerAccess {
  if (Buffer.byteLength(text) > MAX_KUBECONFIG_BYTES) refuse('the kubeconfig is larger than 1 MiB');
  const doc = parseYaml(text);
  onlyFields(doc, TOP_LEVEL, '');
  if (doc.preferences !== undefined && !isEmptyObject(doc.preferences)) refuse('preferences is not allowed');
  const cluster = single(doc, 'clusters', 'cluster');
  const user = single(doc, 'users', 'user');
  const context = single(doc, 'contexts', 'context');
  onlyFields(cluster.body, CLUSTER, 'clusters[0].cluster.');
  onlyFields(user.body, USER, 'users[0].user.');
  onlyFields(context.body, CONTEXT, 'contexts[0].context.');
  if (context.body.cluster !== cluster.name) refuse('contexts[0].context.cluster must name clusters[0]');
  if (context.body.user !== user.name) refuse('contexts[0].context.user must name users[0]');
  const current = doc['current-context'];
  if (current !== undefined && current !== '' && current !== context.name)
    refuse('current-context must name contexts[0]');
  return { ...clusterAccess(cluster.body), ...userAccess(user.body) };
}

function parseYaml(text: string): Fields {
  let doc: unknown;
  try {
    // The parser's own messages quote the input: they are dropped, as the input holds secrets.
    doc = parse(text, { maxAliasCount: 16 });
  } catch {
    return refuse('the kubeconfig is not valid YAML');
  }
  return isObject(doc) ? doc : refuse('the kubeconfig is not a YAML mapping');
}

const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmptyObject = (v: unknown): boolean => v === null || (isObject(v) && Object.keys(v).length === 0);

function onlyFields(obj: Fields, allowed: string[], prefix: string): void {
  for (const key of Object.keys(obj))
    if (!allowed.includes(key)) refuse(`${prefix}${fieldName(key)} is not allowed`);
}

/** A field name for a message: a hostile key could itself carry text meant to be hidden. */
const fieldName = (key: string): string => (/^[A-Za-z0-9_-]{1,64}$/.test(key) ? key : '<unnamed field>');

/** The one named entry of a list such as clusters, with its body (cluster, user or context). */
function single(doc: Fields, list: string, body: string): { name: string; body: Fields } {
  const entries = doc[list];
  if (!Array.isArray(entries) || entries.length !== 1)
    refuse(`${list} must list exactly one entry, it lists ${Array.isArray(entries) ? entries.length : 0}`);
  const entry = (entries as unknown[])[0];
  if (!isObject(entry)) return refuse(`${list}[0] is not a mapping`);
  onlyFields(entry, ['name', body], `${list}[0].`);
  if (typeof entry.name !== 'string' || !entry.name) refuse(`${list}[0].name is missing`);
  if (!isObject(entry[body])) refuse(`${list}[0].${body} is missing`);
  return { name: entry.name as string, body: entry[body] as Fields };
}

function clusterAccess(c: Fields): Pick<PeerAccess, 'server' | 'caData' | 'tlsServerName'> {
  const tlsServerName = hostName(c['tls-server-name']);
  return {
    server: httpsOrigin(c.server),
    caData: certificate(c['certificate-authority-data'], 'clusters[0].cluster.certificate-authority-data'),
    ...(tlsServerName ? { tlsServerName } : {}),
  };
}

/** https://host[:port] and nothing else: the client uses no path, and credentials go in users[0]. */
function httpsOrigin(server: unknown): string {
  if (typeof server !== 'string' || !server) refuse('clusters[0].cluster.server is missing');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return refuse('clusters[0].cluster.server is not a URL');
  }
  if (url.protocol !== 'https:') refuse('clusters[0].cluster.server must be an https:// URL');
  if (url.username || url.password) refuse('clusters[0].cluster.server must not carry a user or password');
  if (url.pathname !== '/' || url.search || url.hash)
    refuse('clusters[0].cluster.server must be https://host[:port], without path or query');
  return url.origin;
}

function hostName(name: unknown): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== 'string' || !/^[A-Za-z0-9.-]{1,253}$/.test(name))
    refuse('clusters[0].cluster.tls-server-name is not a host name');
  return name;
}

function certificate(data: unknown, field: string): string {
  if (typeof data !== 'string' || !data) refuse(`${field} is missing`);
  if (!isCertificate(data)) refuse(`${field} is not a base64 PEM certificate`);
  return data;
}

function isCertificate(base64: string): boolean {
  try {
    new X509Certificate(Buffer.from(base64, 'base64'));
    return true;
  } catch {
    return false;
  }
}

function userAccess(u: Fields): Pick<PeerAccess, 'token' | 'certData' | 'keyData'> {
  const { token, 'client-certificate-data': certData, 'client-key-data': keyData } = u;
  if (token !== undefined && (certData !== undefined || keyData !== undefined))
    refuse('users[0].user must have a token or a client certificate, not both');
  if (token !== undefined) return { token: bearerToken(token) };
  if (certData === undefined && keyData === undefined)
    return refuse('users[0].user must have token, or client-certificate-data with client-key-data');
  const cert = certificate(certData, 'users[0].user.client-certificate-data');
  if (typeof keyData !== 'string' || !keyData) refuse('users[0].user.client-key-data is missing');
  return { certData: cert, keyData };
}

/** Visible ASCII only: anything else would break, or smuggle into, the Authorization header. */
function bearerToken(token: unknown): string {
  if (typeof token !== 'string' || !/^[\x21-\x7e]{1,16384}$/.test(token))
    refuse('users[0].user.token is not a bearer token');
  return token;
}
