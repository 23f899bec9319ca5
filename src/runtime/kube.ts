/**
 * A small HTTP client for the Kubernetes API: configuration and authentication come from
 * kubeconfig.ts; requests and watch streams are plain node:https so that bodies stay exactly as
 * written (server-side apply) and watch streams are under our control (bookmarks, watchdog).
 */
import { setMaxListeners } from 'node:events';
import type { Agent, ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { http } from './builtins.js';
import { authenticator, loadConnection, type Authenticator, type LoadOptions } from './kubeconfig.js';
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

/**
 * What a client reads and sends at most. Off unless given: the local API server is trusted, a
 * peer's is not, so that a hostile peer cannot make the operator buffer or send without end.
 */
export interface ClientLimits {
  /** Bytes of one response body: a get, a list page, an error. */
  maxResponseBytes?: number;
  /** Bytes of one watch event line. */
  maxWatchLineBytes?: number;
  /** A request budget (watches included): `perSecond` on average, up to `burst` at once. */
  requests?: { perSecond: number; burst: number };
}

/** Credentials given inline, as the operator parsed them: nothing to run and no file to read. */
export interface InlineCredentials {
  /** https://host[:port] */
  server: string;
  /** Base64 PEM of the CA that the server's certificate must chain to. */
  caData: string;
  /** The name the serving certificate must carry, when it differs from the server's host. */
  tlsServerName?: string;
  token?: string;
  certData?: string;
  keyData?: string;
}

/** The TLS material and bearer token of inline credentials, the same for every request. */
function inlineAuthenticator(c: InlineCredentials): Authenticator {
  const decoded = (b64?: string): (() => Buffer) | undefined => {
    const content = b64 ? Buffer.from(b64, 'base64') : undefined;
    return content && (() => content);
  };
  return authenticator({
    ca: decoded(c.caData),
    cert: decoded(c.certData),
    key: decoded(c.keyData),
    token: c.token ? () => c.token : undefined,
    servername: c.tlsServerName,
  });
}

/** Waits `ms`, or less if the signal aborts; leaves no listener behind either way. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** A token bucket: `perSecond` tokens a second, at most `burst` saved up; a reservation may queue. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token and returns how many milliseconds to wait before using it. */
  reserve(now = Date.now()): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.perSecond;
  }
}

const tooLarge = (what: string, maxBytes: number, part: string): ApiError =>
  new ApiError(0, 'ResponseTooLarge', `${what}: response too large, ${part} exceeds ${maxBytes} bytes`);

/** Splits a byte stream into lines; a line growing past maxBytes is refused before more is buffered. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly maxBytes = Infinity,
    private readonly what = 'stream',
  ) {}

  /** The lines that this chunk completes; throws ApiError ResponseTooLarge on an overlong line. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(10, start)) >= 0) {
      this.add(chunk.subarray(start, nl));
      lines.push(Buffer.concat(this.parts, this.size).toString('utf8'));
      this.parts = [];
      this.size = 0;
      start = nl + 1;
    }
    if (start < chunk.length) this.add(chunk.subarray(start));
    return lines;
  }

  private add(part: Buffer): void {
    if (this.size + part.length > this.maxBytes) throw tooLarge(this.what, this.maxBytes, 'a line');
    this.parts.push(part);
    this.size += part.length;
  }
}

export function buildPath(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export class KubeClient {
  private readonly url: URL;
  private readonly agent: Agent;
  private readonly budget?: TokenBucket;
  /** Aborted when this process must stop talking to the API server at once (leader lease lost). */
  private readonly fence = new AbortController();

  private constructor(
    server: string,
    private readonly auth: Authenticator,
    readonly userAgent: string,
    private readonly limits: ClientLimits = {},
  ) {
    this.url = new URL(server);
    this.agent =
      this.url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true })
        : new http.Agent({ keepAlive: true });
    if (limits.requests) this.budget = new TokenBucket(limits.requests.perSecond, limits.requests.burst);
    // Every request in flight (watches included) listens on the fence: many at once is normal.
    setMaxListeners(0, this.fence.signal);
  }

  /** Loads from a kubeconfig path, from KUBECONFIG/~/.kube/config, or from the in-cluster service account. */
  static load(opts: LoadOptions & { userAgent: string }): KubeClient {
    const { server, auth } = loadConnection(opts);
    return new KubeClient(server, auth, opts.userAgent);
  }

  /**
   * A client of a peer: built from inline credentials alone, so that nothing of a kubeconfig is
   * run or read, with limits on what it reads and how often it asks.
   */
  static fromPeer(credentials: InlineCredentials, userAgent: string, limits: ClientLimits): KubeClient {
    if (new URL(credentials.server).protocol !== 'https:')
      throw new Error('a peer is reached over https only');
    return new KubeClient(credentials.server, inlineAuthenticator(credentials), userAgent, limits);
  }

  /** From now on no request is sent, and those in flight are aborted: a replica that lost the lease writes nothing. */
  fenceOff(reason: Error): void {
    this.fence.abort(reason);
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
      if (res.status >= 400) throw apiErrorFrom(res.status, safeJson(res.text), method, path);
      return parseBody<T>(res, method, path);
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
          readBody(res, this.limits.maxResponseBytes, `WATCH ${path}`).then(
            (text) => reject(apiErrorFrom(res.statusCode ?? 0, safeJson(text), 'WATCH', path)),
            reject,
          );
          return;
        }
        const lines = new LineSplitter(this.limits.maxWatchLineBytes, `WATCH ${path}`);
        res.on('data', (chunk: Buffer) => {
          try {
            for (const line of lines.push(chunk)) {
              const text = line.trim();
              if (text) onEvent(JSON.parse(text) as WatchEvent<T>);
            }
          } catch (e) {
            // An overlong line, or the consumer refused an event (e.g. an ERROR event): end the stream.
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
    req.end(body);
    return exchange(req, this.limits.maxResponseBytes, `${method} ${path}`);
  }

  private async open(
    method: string,
    pathAndQuery: string,
    o: { contentType?: string; contentLength?: number; timeoutMs?: number; signal?: AbortSignal },
  ): Promise<ClientRequest> {
    if (this.fence.signal.aborted) throw this.fence.signal.reason;
    // A peer's budget: a hostile peer that ends every request at once is not asked again at once.
    const wait = this.budget?.reserve() ?? 0;
    if (wait > 0) await sleep(wait, o.signal);
    const options: https.RequestOptions = { headers: {} };
    // Re-read credentials on every request: tokens rotate (projected service account tokens, exec plugins).
    await this.auth.applyToHTTPSOptions(options);
    const headers: OutgoingHttpHeaders = {
      ...(options.headers as OutgoingHttpHeaders),
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
      signal: o.signal ? AbortSignal.any([o.signal, this.fence.signal]) : this.fence.signal,
    });
    if (o.timeoutMs)
      req.setTimeout(o.timeoutMs, () =>
        req.destroy(new ApiError(0, 'Timeout', `${method} ${pathAndQuery}: timed out`)),
      );
    return req;
  }

  private tlsAgentCache?: { key: string; agent: Agent };

  /** One keep-alive agent per distinct TLS material (it changes only when credentials files rotate). */
  private tlsAgent(o: https.RequestOptions): Agent {
    if (this.url.protocol !== 'https:') return this.agent;
    const key = [o.ca, o.cert, o.key, o.rejectUnauthorized, o.servername].map(String).join('|');
    if (this.tlsAgentCache?.key !== key) {
      // Rotated credentials: connections made with the old ones are closed, not left to linger.
      this.tlsAgentCache?.agent.destroy();
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

/** The body of a response, refused (and its connection closed) once it grows past maxBytes. */
async function readBody(res: IncomingMessage, maxBytes = Infinity, what = 'response'): Promise<string> {
  if (Number(res.headers['content-length'] ?? 0) > maxBytes) {
    res.destroy();
    throw tooLarge(what, maxBytes, 'the body');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early destroys the response; at its end no listener of ours is left on it.
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(what, maxBytes, 'the body');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** Errors a request reports once its exchange is over (there is no one left to tell). */
const afterExchange = (): void => undefined;

/**
 * The status and body of the response to a request; the request's errors (a timeout) end it at any
 * point. Node's agent keeps the first request of each keep-alive TLS socket reachable as long as the
 * socket lives, so no listener of ours stays on the request to keep a body reachable too.
 */
async function exchange(
  req: ClientRequest,
  maxBytes: number | undefined,
  what: string,
): Promise<{ status: number; text: string }> {
  req.on('error', afterExchange);
  // Plain listeners, removed at the end: an AbortController per request would create (and throw
  // away) an AbortError with its stack for every request.
  let onError!: (e: Error) => void;
  let onResponse!: (res: IncomingMessage) => void;
  const failed = new Promise<never>((_, reject) => (onError = reject));
  failed.catch(afterExchange);
  const response = new Promise<IncomingMessage>((resolve) => (onResponse = resolve));
  req.once('error', onError);
  req.once('response', onResponse);
  try {
    const res = await Promise.race([response, failed]);
    return { status: res.statusCode ?? 0, text: await Promise.race([readBody(res, maxBytes, what), failed]) };
  } finally {
    req.off('error', onError);
    req.off('response', onResponse);
  }
}

/** The start of a body that is not the API server's JSON (an HTML page), on one line. */
const excerpt = (text: string): string => text.slice(0, 200).replace(/\s+/g, ' ');

/** A 2xx answer that is not JSON (a proxy's HTML page) is an API error, not a SyntaxError. */
function parseBody<T>(res: { status: number; text: string }, method: string, path: string): T {
  if (!res.text) return undefined as T;
  try {
    return JSON.parse(res.text) as T;
  } catch {
    throw new ApiError(
      res.status,
      'InvalidResponse',
      `${method} ${path}: HTTP ${res.status} answer is not JSON: ${excerpt(res.text)}`,
    );
  }
}

/** An error body as the API server writes it, or an excerpt of whatever else answered (an HTML page). */
function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text ? { message: excerpt(text) } : undefined;
  }
}

/** The Kubernetes StatusReason of an answer without a Status body (a proxy or load balancer). */
const REASON_OF_STATUS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function apiErrorFrom(status: number, body: unknown, method: string, path: string): ApiError {
  const s = (body ?? {}) as Status;
  const reason = s.reason ?? REASON_OF_STATUS[status] ?? 'Unknown';
  const message = s.message
    ? `${method} ${path}: HTTP ${status}: ${s.message}`
    : `${method} ${path}: HTTP ${status}`;
  return new ApiError(status, reason, s.kind === 'Status' ? (s.message ?? message) : message, s);
}
