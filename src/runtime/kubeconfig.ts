/**
 * Where the operator connects and how it authenticates: a kubeconfig (--kubeconfig, else KUBECONFIG,
 * else ~/.kube/config) or the in-cluster service account, read here. @kubernetes/client-node, whose
 * generated API alone takes some 70 MiB of memory, is loaded only for a kubeconfig that runs or asks
 * something to authenticate (exec plugins, auth providers) or goes through a proxy.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { fs } from './builtins.js';
import type https from 'node:https';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, resolve } from 'node:path';
import { parse } from 'yaml';

/** Puts the authentication of a request into its options. */
export interface Authenticator {
  applyToHTTPSOptions(o: https.RequestOptions): Promise<void>;
}

export interface Connection {
  server: string;
  auth: Authenticator;
}

/** TLS material and credentials, each read when a request is made (files rotate in place). */
export interface Credentials {
  ca?: () => Buffer | undefined;
  cert?: () => Buffer | undefined;
  key?: () => Buffer | undefined;
  token?: () => string | undefined;
  /** user:password for basic authentication. */
  basic?: string;
  servername?: string;
  insecure?: boolean;
}

export function authenticator(c: Credentials): Authenticator {
  return {
    applyToHTTPSOptions: (o) => {
      Object.assign(o, { ca: c.ca?.(), cert: c.cert?.(), key: c.key?.(), servername: c.servername });
      o.rejectUnauthorized = !c.insecure;
      const token = c.token?.()?.trim();
      if (token) o.headers = { ...o.headers, authorization: `Bearer ${token}` };
      if (c.basic) o.auth = c.basic;
      return Promise.resolve();
    },
  };
}

/** Token files are read again after a minute at most, as client-go does: projected tokens rotate. */
export const REREAD_MS = 60_000;

/** A file's content, read again once it is older than REREAD_MS. */
function fileContent(path: string): () => Buffer {
  let read: { at: number; content: Buffer } | undefined;
  return () => {
    if (!read || Date.now() - read.at >= REREAD_MS) read = { at: Date.now(), content: fs.readFileSync(path) };
    return read.content;
  };
}

const inline = (base64: string): (() => Buffer) => {
  const content = Buffer.from(base64, 'base64');
  return () => content;
};

/** Inline base64 data, else a file, else nothing. */
function material(data: unknown, file: unknown): (() => Buffer) | undefined {
  if (typeof data === 'string' && data) return inline(data);
  return typeof file === 'string' && file ? fileContent(file) : undefined;
}

type Fields = Record<string, unknown>;
interface Entry {
  name: string;
  body: Fields;
}
interface Kubeconfig {
  clusters: Entry[];
  users: Entry[];
  contexts: Entry[];
  currentContext?: string;
}

/** File paths in a kubeconfig are relative to the kubeconfig's own directory, as for kubectl. */
const PATH_FIELDS = ['certificate-authority', 'client-certificate', 'client-key', 'token-file'];

function entries(doc: Fields, list: string, body: string, dir: string): Entry[] {
  const items = Array.isArray(doc[list]) ? (doc[list] as Fields[]) : [];
  return items.map((item) => {
    const fields = { ...((item?.[body] as Fields | undefined) ?? {}) };
    for (const f of PATH_FIELDS)
      if (typeof fields[f] === 'string' && fields[f]) fields[f] = resolve(dir, fields[f] as string);
    return { name: String(item?.name ?? ''), body: fields };
  });
}

function readKubeconfig(path: string): Kubeconfig {
  const doc = (parse(fs.readFileSync(path, 'utf8')) ?? {}) as Fields;
  const dir = dirname(resolve(path));
  const current = doc['current-context'];
  return {
    clusters: entries(doc, 'clusters', 'cluster', dir),
    users: entries(doc, 'users', 'user', dir),
    contexts: entries(doc, 'contexts', 'context', dir),
    currentContext: typeof current === 'string' && current ? current : undefined,
  };
}

/** Several files merge as kubectl merges them: the first file that names an entry or a current context wins. */
function merge(configs: Kubeconfig[]): Kubeconfig {
  const first = (list: Entry[]): Entry[] =>
    list.filter((e, i) => list.findIndex((o) => o.name === e.name) === i);
  return {
    clusters: first(configs.flatMap((c) => c.clusters)),
    users: first(configs.flatMap((c) => c.users)),
    contexts: first(configs.flatMap((c) => c.contexts)),
    currentContext: configs.find((c) => c.currentContext)?.currentContext,
  };
}

const named = (list: Entry[], name: unknown): Fields | undefined => list.find((e) => e.name === name)?.body;

/** What only the library can do: run a command or ask a provider for a token, or go through a proxy. */
const needsLibrary = (cluster: Fields, user: Fields): boolean =>
  user.exec !== undefined || user['auth-provider'] !== undefined || cluster['proxy-url'] !== undefined;

function credentialsOf(cluster: Fields, user: Fields): Credentials {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  const token = str(user.token);
  const tokenFile = str(user['token-file']);
  const username = str(user.username);
  return {
    ca: material(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: material(user['client-certificate-data'], user['client-certificate']),
    key: material(user['client-key-data'], user['client-key']),
    token: token ? () => token : tokenFile ? textOf(fileContent(tokenFile)) : undefined,
    basic: username ? `${username}:${str(user.password) ?? ''}` : undefined,
    servername: str(cluster['tls-server-name']),
    insecure: cluster['insecure-skip-tls-verify'] === true,
  };
}

const textOf =
  (content: () => Buffer): (() => string) =>
  () =>
    content().toString('utf8');

function fromKubeconfigs(paths: string[], loadWithLibrary: (server: string) => Connection): Connection {
  const config = merge(paths.map(readKubeconfig));
  const context = named(config.contexts, config.currentContext);
  const cluster = named(config.clusters, context?.cluster);
  if (!context || !cluster) throw new Error('kubeconfig has no current cluster');
  const user = named(config.users, context.user) ?? {};
  if (typeof cluster.server !== 'string' || !cluster.server)
    throw new Error('kubeconfig cluster has no server');
  if (needsLibrary(cluster, user)) return loadWithLibrary(cluster.server);
  return { server: cluster.server, auth: authenticator(credentialsOf(cluster, user)) };
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The service account's token and CA, and the API server the cluster's environment names. */
function inCluster(env: NodeJS.ProcessEnv, dir: string): Connection {
  const { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port } = env;
  if (!host || !port) throw new Error('KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set');
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    auth: authenticator({
      ca: fileContent(`${dir}/ca.crt`),
      token: textOf(fileContent(`${dir}/token`)),
    }),
  };
}

/**
 * The library's own loader, for what is not read here: imported when the first request is
 * authenticated, so that a plain kubeconfig never loads it.
 */
function withLibrary(kubeconfig: string | undefined, server: string): Connection {
  let loaded: Promise<KubeConfig> | undefined;
  const load = async (): Promise<KubeConfig> => {
    const library = await import('@kubernetes/client-node');
    const kc = new library.KubeConfig();
    if (kubeconfig) kc.loadFromFile(kubeconfig);
    else kc.loadFromDefault();
    return kc;
  };
  return {
    server,
    auth: { applyToHTTPSOptions: async (o) => (await (loaded ??= load())).applyToHTTPSOptions(o) },
  };
}

export interface LoadOptions {
  /** A kubeconfig file; else KUBECONFIG (paths separated as in PATH), else ~/.kube/config, else in-cluster. */
  kubeconfig?: string;
  env?: NodeJS.ProcessEnv;
  serviceAccountDir?: string;
}

export function loadConnection(opts: LoadOptions = {}): Connection {
  const env = opts.env ?? process.env;
  const paths = opts.kubeconfig ? [opts.kubeconfig] : (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const home = `${env.HOME ?? homedir()}/.kube/config`;
  if (!paths.length && fs.existsSync(home)) paths.push(home);
  if (paths.length) return fromKubeconfigs(paths, (server) => withLibrary(opts.kubeconfig, server));
  const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (fs.existsSync(`${dir}/token`)) return inCluster(env, dir);
  throw new Error(
    'no kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config) and no in-cluster service account',
  );
}
