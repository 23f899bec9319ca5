/**
 * A small HTTP client for the Kubernetes API: @kubernetes/client-node supplies configuration and
 * authentication; requests and watch streams are plain node:https so that bodies stay exactly as
 * written (server-side apply) and watch streams are under our control (bookmarks, watchdog).
 */
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { restClientRequestDuration, restClientRequests } from './metrics.js';

export interface Status {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

/** An error answered by the API server (or the network), with the HTTP status and the API reason. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body?: Status,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.status === 404;
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.status === 409;
export const isGone = (e: unknown): boolean => e instanceof ApiError && e.status === 410;

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface WatchEvent<T = unknown> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export function buildPath(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export class KubeClient {
  private readonly url: URL;
  private readonly agent: http.Agent;

  private constructor(
    private readonly kc: KubeConfig,
    readonly userAgent: string,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.url = new URL(cluster.server);
    this.agent =
      this.url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true })
        : new http.Agent({ keepAlive: true });
  }

  /** Loads from a kubeconfig path, from KUBECONFIG/~/.kube/config, or from the in-cluster service account. */
  static load(opts: { kubeconfig?: string; userAgent?: string } = {}): KubeClient {
    const kc = new KubeConfig();
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
    return new KubeClient(kc, opts.userAgent ?? 'secovia-operator');
  }

  static fromString(kubeconfig: string, userAgent = 'secovia-operator'): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig);
    return new KubeClient(kc, userAgent);
  }

  /** Closes idle keep-alive connections so that a stopped operator leaves nothing open. */
  close(): void {
    this.agent.destroy();
    this.tlsAgentCache?.agent.destroy();
  }

  get host(): string {
    return this.url.host;
  }

  get server(): string {
    return this.url.origin;
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const started = process.hrtime.bigint();
    let code = '<error>';
    try {
      const res = await this.send(method, path, opts);
      code = String(res.status);
      const parsed = res.text ? (JSON.parse(res.text) as unknown) : undefined;
      if (res.status >= 400) throw apiErrorFrom(res.status, parsed, method, path);
      return parsed as T;
    } finally {
      restClientRequests.inc({ code, method, host: this.host });
      restClientRequestDuration.observe(
        { verb: method, host: this.host },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    }
  }

  /**
   * Streams a watch: calls onEvent for each event line and resolves when the server ends the
   * stream. Rejects with ApiError on a non-200 answer. Aborting the signal ends it quietly.
   */
  async watch<T>(
    path: string,
    query: Query,
    onEvent: (e: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const req = await this.open('GET', buildPath(path, { ...query, watch: true }), { signal });
    return new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        restClientRequests.inc({ code: String(res.statusCode), method: 'WATCH', host: this.host });
        if (res.statusCode !== 200) {
          readBody(res).then(
            (text) => reject(apiErrorFrom(res.statusCode ?? 0, safeJson(text), 'WATCH', path)),
            reject,
          );
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          try {
            while ((nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl).trim();
              buffered = buffered.slice(nl + 1);
              if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
            }
          } catch (e) {
            // The consumer refused an event (e.g. an ERROR event): end this stream with that error.
            req.destroy();
            reject(e);
          }
        });
        res.on('end', () => resolve());
        res.on('error', (e) => (signal.aborted ? resolve() : reject(e)));
      });
      req.on('error', (e) => (signal.aborted ? resolve() : reject(e)));
      req.end();
    });
  }

  private async send(
    method: string,
    path: string,
    opts: RequestOptions,
  ): Promise<{ status: number; text: string }> {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = await this.open(method, buildPath(path, opts.query), {
      contentType: body === undefined ? undefined : (opts.contentType ?? 'application/json'),
      contentLength: body === undefined ? undefined : Buffer.byteLength(body),
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: opts.signal,
    });
    return new Promise((resolve, reject) => {
      req.on('response', (res) =>
        readBody(res).then((text) => resolve({ status: res.statusCode ?? 0, text }), reject),
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  private async open(
    method: string,
    pathAndQuery: string,
    o: { contentType?: string; contentLength?: number; timeoutMs?: number; signal?: AbortSignal },
  ): Promise<http.ClientRequest> {
    const options: https.RequestOptions = { headers: {} };
    // Re-read credentials on every request: tokens rotate (projected service account tokens, exec plugins).
    await this.kc.applyToHTTPSOptions(options);
    const headers: http.OutgoingHttpHeaders = {
      ...(options.headers as http.OutgoingHttpHeaders),
      accept: 'application/json',
      'user-agent': this.userAgent,
    };
    if (o.contentType) headers['content-type'] = o.contentType;
    // Node frames no body of a DELETE by itself: without a length, the body would be read as the
    // start of the next request on the kept-alive connection, which then fails with a bare 400.
    if (o.contentLength !== undefined) headers['content-length'] = o.contentLength;
    const lib = this.url.protocol === 'https:' ? https : http;
    const req = lib.request({
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: this.url.port,
      method,
      path: pathAndQuery,
      headers,
      agent: this.tlsAgent(options),
      auth: options.auth,
      signal: o.signal,
    });
    if (o.timeoutMs)
      req.setTimeout(o.timeoutMs, () =>
        req.destroy(new ApiError(0, 'Timeout', `${method} ${pathAndQuery}: timed out`)),
      );
    return req;
  }

  private tlsAgentCache?: { key: string; agent: http.Agent };

  /** One keep-alive agent per distinct TLS material (it changes only when credentials files rotate). */
  private tlsAgent(o: https.RequestOptions): http.Agent {
    if (this.url.protocol !== 'https:') return this.agent;
    const key = [o.ca, o.cert, o.key, o.rejectUnauthorized, o.servername].map(String).join('|');
    if (this.tlsAgentCache?.key !== key) {
      this.tlsAgentCache = {
        key,
        agent: new https.Agent({
          keepAlive: true,
          ca: o.ca,
          cert: o.cert,
          key: o.key,
          rejectUnauthorized: o.rejectUnauthorized ?? true,
          servername: o.servername,
        }),
      };
    }
    return this.tlsAgentCache.agent;
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

function apiErrorFrom(status: number, body: unknown, method: string, path: string): ApiError {
  const s = (body ?? {}) as Status;
  return new ApiError(status, s.reason ?? 'Unknown', s.message ?? `${method} ${path}: HTTP ${status}`, s);
}
