/**
 * A real local control plane, the way controller-runtime's envtest runs one: etcd, kube-apiserver
 * and (optionally) kube-controller-manager as local processes on free loopback ports, no containers.
 * The binaries are built from the published Go modules by hack/build-control-plane.sh. Several
 * control planes can run side by side; each owns one directory (data, certificates, kubeconfig, logs).
 *
 * Used by the e2e tests, the benchmarks and hack/control-plane.ts, so it must not depend on jest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface ControlPlaneOptions {
  name?: string;
  /** Run kube-controller-manager too (namespace deletion, garbage collection, quota status). Default true. */
  controllerManager?: boolean;
  /** Directory for data, certificates, kubeconfig and logs; default a fresh directory under os.tmpdir(). */
  baseDir?: string;
  /** Directory of the binaries; default the output of hack/build-control-plane.sh. */
  binDir?: string;
  extraApiServerFlags?: string[];
  /** The address the API server binds and advertises; default 127.0.0.1 (a node's pods need another). */
  address?: string;
  /** Default 10.0.0.0/24: no node, so no packet is ever sent to it. */
  serviceClusterIpRange?: string;
  /** Default RBAC only. */
  authorizationModes?: string[];
  /** Users with a static bearer token each (see tokenOf), e.g. the node's components. */
  users?: { name: string; groups?: string[] }[];
  /**
   * Let the processes outlive this Node process (hack/control-plane.sh up): they get their own
   * session, are not killed on exit, and are found again through the pid files in the directory.
   */
  detached?: boolean;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ControlPlane {
  name: string;
  dir: string;
  /** https://ADDRESS:PORT (127.0.0.1 unless options.address) */
  server: string;
  kubeconfigPath: string;
  adminToken: string;
  /** The API server's serving certificate followed by its CA: trust it to verify TLS for real. */
  caFile: string;
  binDir: string;
  /** The environment of this process with KUBECONFIG set and the binaries first on PATH. */
  env: NodeJS.ProcessEnv;
  /** Runs the built kubectl as admin, or as the bearer token `asToken`. */
  kubectl(args: string[], opts?: { input?: string; asToken?: string }): Promise<KubectlResult>;
  /**
   * Writes another kubeconfig next to the admin one for a bearer token and returns its path; `server`
   * (default this API server) is another way to it, such as a proxy on loopback.
   */
  kubeconfigFor(user: { token: string; name?: string; server?: string }): string;
  /** The static token of one of options.users. */
  tokenOf(user: string): string;
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  restartApiServer(): Promise<void>;
  /** Stopping etcd keeps its data directory and ports, so startEtcd() brings the same data back. */
  stopEtcd(): Promise<void>;
  startEtcd(): Promise<void>;
  restartEtcd(): Promise<void>;
  /** Process ids of the running components. */
  pids(): number[];
  /** Kills every process (SIGTERM, SIGKILL after 5 s) and removes dir unless KEEP_CONTROL_PLANE=1. */
  stop(): Promise<void>;
}

type Component = 'etcd' | 'kube-apiserver' | 'kube-controller-manager';

/** The components in start order; the pid files are named after them. */
export const COMPONENTS: readonly Component[] = ['etcd', 'kube-apiserver', 'kube-controller-manager'];

let binaries: Promise<string> | undefined;

/** Builds (first time only, cached outside the repository) and returns the directory of the binaries. */
export function controlPlaneBinaries(): Promise<string> {
  binaries ??= new Promise<string>((resolve, reject) => {
    // stderr passes through: the first build takes minutes and reports its progress there.
    const child = spawn('bash', [join(ROOT, 'hack/build-control-plane.sh')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const dir = out.trim().split('\n').pop()?.trim();
      if (code === 0 && dir) resolve(dir);
      else reject(new Error(`hack/build-control-plane.sh failed (exit ${code})`));
    });
  });
  binaries.catch(() => (binaries = undefined)); // a failed build may be retried
  return binaries;
}

/** A free loopback port: bound to port 0, read, released. A rare race is retried by startControlPlane. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Children of this process (not the detached ones), and the temporary directories in use. A test run
// that crashes or is interrupted must not leave API servers (or 60 MB of etcd data each) behind, so
// they are killed and removed on exit and on the usual termination signals.
// Jest evaluates this module once per test file: keep one registry and one set of hooks per process.
interface Registry {
  children: Set<ChildProcess>;
  tempDirs: Set<string>;
}
const REGISTRY = Symbol.for('secovia.controlplane.registry');
const shared = globalThis as { [REGISTRY]?: Registry };
const registry = (shared[REGISTRY] ??= registerCleanup({ children: new Set(), tempDirs: new Set() }));

function registerCleanup(r: Registry): Registry {
  const cleanUp = (): void => {
    for (const c of r.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (process.env.KEEP_CONTROL_PLANE === '1') return;
    for (const dir of r.tempDirs) rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUp();
      // Re-raise for the default behaviour (exit), unless someone else handles this signal.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
  return r;
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export const running = (c: ChildProcess | undefined): boolean =>
  !!c && c.exitCode === null && c.signalCode === null;

/**
 * Starts `binary` with its output appended to DIR/NAME.log and its pid in DIR/NAME.pid. Unless
 * detached, it is killed when this process exits.
 */
export function spawnLogged(
  dir: string,
  name: string,
  binary: string,
  args: string[],
  opts: { detached?: boolean; env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  if (!existsSync(binary)) throw new Error(`${binary} not found`);
  const fd = openSync(join(dir, `${name}.log`), 'a');
  writeFileSync(fd, `--- ${new Date().toISOString()} ${name} ${args.join(' ')}\n`);
  const child = spawn(binary, args, { stdio: ['ignore', fd, fd], detached: !!opts.detached, env: opts.env });
  closeSync(fd); // the child has its own copy
  if (opts.detached) child.unref();
  else registry.children.add(child);
  child.once('exit', () => registry.children.delete(child));
  child.on('error', () => undefined); // a spawn failure shows up as an exit, reported with the log
  writeFileSync(join(dir, `${name}.pid`), `${child.pid ?? ''}\n`);
  return child;
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process has exited. */
export async function terminateChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(killer);
}

class LocalControlPlane implements ControlPlane {
  readonly adminToken = randomBytes(24).toString('hex');
  private readonly tokens = new Map<string, string>();
  readonly kubeconfigPath: string;
  readonly caFile: string;
  server = '';
  private readonly pki: string;
  private readonly ports = { etcd: 0, peer: 0, api: 0 };
  private readonly procs = new Map<Component, ChildProcess>();
  private readonly withControllerManager: boolean;

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly binDir: string,
    private readonly opts: ControlPlaneOptions,
  ) {
    this.kubeconfigPath = join(dir, 'kubeconfig');
    this.pki = join(dir, 'pki');
    // kube-apiserver writes a self-signed serving certificate and its CA into --cert-dir; the .crt
    // file holds the serving certificate followed by the CA, which is all a client needs to trust.
    this.caFile = join(dir, 'apiserver', 'apiserver.crt');
    this.withControllerManager = opts.controllerManager !== false;
  }

  get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      KUBECONFIG: this.kubeconfigPath,
      // A discovery cache per control plane: ports are reused by later control planes with other CRDs.
      KUBECACHEDIR: join(this.dir, 'kubectl-cache'),
      PATH: `${this.binDir}:${process.env.PATH ?? ''}`,
    };
  }

  async start(): Promise<void> {
    mkdirSync(this.pki, { recursive: true });
    this.writeCredentials();
    this.ports.etcd = await freePort();
    this.ports.peer = await freePort();
    this.ports.api = await freePort();
    this.server = `https://${this.address}:${this.ports.api}`;
    this.writeKubeconfig(this.kubeconfigPath, 'admin', this.adminToken);
    await this.startEtcd();
    await this.startApiServer();
    if (this.withControllerManager) this.launch('kube-controller-manager', this.controllerManagerArgs());
    await this.waitForBootstrap();
  }

  private writeCredentials(): void {
    // Service account tokens are signed with this key pair (no openssl needed).
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(this.pki, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }), {
      mode: 0o600,
    });
    writeFileSync(join(this.pki, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const lines = [`${this.adminToken},admin,admin,system:masters`];
    for (const [i, user] of (this.opts.users ?? []).entries()) {
      const token = randomBytes(24).toString('hex');
      this.tokens.set(user.name, token);
      lines.push(`${token},${user.name},u${i},"${(user.groups ?? []).join(',')}"`);
    }
    writeFileSync(join(this.pki, 'tokens.csv'), `${lines.join('\n')}\n`, { mode: 0o600 });
  }

  private get address(): string {
    return this.opts.address ?? '127.0.0.1';
  }

  tokenOf(user: string): string {
    const token = this.tokens.get(user);
    if (!token) throw new Error(`control plane ${this.name} has no static token for ${user}`);
    return token;
  }

  private etcdArgs(): string[] {
    const client = `http://127.0.0.1:${this.ports.etcd}`;
    const peer = `http://127.0.0.1:${this.ports.peer}`;
    return [
      '--name=default',
      `--data-dir=${join(this.dir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      // Tests throw the data away: durability is not worth the fsync latency.
      '--unsafe-no-fsync',
      '--log-level=error',
    ];
  }

  private apiServerArgs(): string[] {
    return [
      `--etcd-servers=http://127.0.0.1:${this.ports.etcd}`,
      `--cert-dir=${join(this.dir, 'apiserver')}`,
      `--secure-port=${this.ports.api}`,
      `--bind-address=${this.address}`,
      `--advertise-address=${this.address}`,
      `--service-cluster-ip-range=${this.opts.serviceClusterIpRange ?? '10.0.0.0/24'}`,
      '--allow-privileged=true',
      `--authorization-mode=${(this.opts.authorizationModes ?? ['RBAC']).join(',')}`,
      `--token-auth-file=${join(this.pki, 'tokens.csv')}`,
      `--service-account-key-file=${join(this.pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(this.pki, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      // Without a controller manager nobody creates the "default" service accounts that the
      // ServiceAccount admission plugin insists on, so pods could never be created.
      ...(this.withControllerManager ? [] : ['--disable-admission-plugins=ServiceAccount']),
      '--event-ttl=1h',
      // On SIGTERM, end open watches (the controller manager's, an operator's) instead of waiting
      // for them: otherwise the HTTP/2 shutdown blocks and every restart runs into the SIGKILL.
      '--shutdown-watch-termination-grace-period=2s',
      '-v=0',
      ...(this.opts.extraApiServerFlags ?? []),
    ];
  }

  private controllerManagerArgs(): string[] {
    return [
      `--kubeconfig=${this.kubeconfigPath}`,
      `--service-account-private-key-file=${join(this.pki, 'sa.key')}`,
      `--root-ca-file=${this.caFile}`,
      '--leader-elect=false',
      // No serving endpoint: one port less to find, and readiness is observed through the API.
      '--secure-port=0',
      '--controllers=*',
      '--use-service-account-credentials=false',
      '--concurrent-namespace-syncs=5',
      '-v=0',
    ];
  }

  private logFile(c: Component): string {
    return join(this.dir, `${c}.log`);
  }

  private launch(c: Component, args: string[]): ChildProcess {
    const child = spawnLogged(this.dir, c, join(this.binDir, c), args, { detached: this.opts.detached });
    this.procs.set(c, child);
    return child;
  }

  private async terminate(c: Component, graceMs = 5000): Promise<void> {
    const child = this.procs.get(c);
    this.procs.delete(c);
    rmSync(join(this.dir, `${c}.pid`), { force: true });
    if (child) await terminateChild(child, graceMs);
  }

  /** Polls `ready` until it holds; fails early with the log's tail if the process exits. */
  private async waitFor(c: Component, what: string, ready: () => Promise<boolean>, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const child = this.procs.get(c);
      if (!running(child)) {
        const how = child ? `exited (${child.exitCode ?? child.signalCode})` : 'is not running';
        throw new Error(`${c} of control plane ${this.name} ${how} before ${what}; ${this.logTail(c)}`);
      }
      if (await ready().catch(() => false)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${c} of control plane ${this.name}: no ${what} after ${timeoutMs} ms; ${this.logTail(c)}`,
        );
      }
      await sleep(100);
    }
  }

  private logTail(c: Component): string {
    return `last lines of ${this.logFile(c)}:\n${tail(this.logFile(c))}`;
  }

  async startEtcd(): Promise<void> {
    if (running(this.procs.get('etcd'))) return;
    this.launch('etcd', this.etcdArgs());
    await this.waitFor('etcd', 'health', async () => {
      const res = await fetch(`http://127.0.0.1:${this.ports.etcd}/health`, {
        signal: AbortSignal.timeout(2000),
      });
      return ((await res.json()) as { health?: string }).health === 'true';
    });
  }

  stopEtcd(): Promise<void> {
    // etcd's graceful stop waits up to ~7 s for the API server's watch streams, which never end on
    // their own. Killing it sooner loses nothing: acknowledged writes are already in its WAL file.
    return this.terminate('etcd', 1000);
  }

  async restartEtcd(): Promise<void> {
    await this.stopEtcd();
    await this.startEtcd();
  }

  async startApiServer(): Promise<void> {
    if (running(this.procs.get('kube-apiserver'))) return;
    this.launch('kube-apiserver', this.apiServerArgs());
    await this.waitFor('kube-apiserver', '/readyz', async () => (await this.get('/readyz')) === 200);
  }

  stopApiServer(): Promise<void> {
    return this.terminate('kube-apiserver');
  }

  async restartApiServer(): Promise<void> {
    await this.stopApiServer();
    await this.startApiServer();
  }

  /**
   * /readyz does not wait for the bootstrap objects (RBAC roles, the default namespace) that tests
   * rely on. With a controller manager, also wait for the "default" service account: it proves the
   * controllers run, and pods cannot be admitted in "default" before it exists.
   */
  private async waitForBootstrap(): Promise<void> {
    const paths = ['/apis/rbac.authorization.k8s.io/v1/clusterroles/admin', '/api/v1/namespaces/default'];
    await this.waitFor('kube-apiserver', 'bootstrap objects', async () => {
      const codes = await Promise.all(paths.map((p) => this.get(p)));
      return codes.every((code) => code === 200);
    });
    if (!this.withControllerManager) return;
    await this.waitFor(
      'kube-controller-manager',
      'default service account',
      async () => (await this.get('/api/v1/namespaces/default/serviceaccounts/default')) === 200,
    );
  }

  /** GET as admin, verifying TLS against the API server's own CA. Resolves to the status code. */
  private get(path: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = https.get(
        `${this.server}${path}`,
        {
          ca: readFileSync(this.caFile),
          headers: { authorization: `Bearer ${this.adminToken}` },
          agent: false, // no kept-alive sockets holding up the exit of a short-lived CLI
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
    });
  }

  private writeKubeconfig(path: string, user: string, token: string, server = this.server): void {
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: this.name, cluster: { server, 'certificate-authority': this.caFile } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: this.name, context: { cluster: this.name, user } }],
      'current-context': this.name,
    };
    writeFileSync(path, stringify(config), { mode: 0o600 });
  }

  kubeconfigFor(user: { token: string; name?: string; server?: string }): string {
    const name = (user.name ?? 'user').replace(/[^a-zA-Z0-9.-]/g, '-');
    const path = join(this.dir, `kubeconfig-${name}`);
    this.writeKubeconfig(path, name, user.token, user.server);
    return path;
  }

  kubectl(args: string[], opts: { input?: string; asToken?: string } = {}): Promise<KubectlResult> {
    const auth = opts.asToken ? [`--token=${opts.asToken}`] : [];
    return new Promise((resolve) => {
      const child = spawn(
        join(this.binDir, 'kubectl'),
        ['--kubeconfig', this.kubeconfigPath, ...auth, ...args],
        {
          env: this.env,
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', (e) => (stderr += String(e)));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.on('error', () => undefined); // kubectl may exit without reading its input
      child.stdin.end(opts.input ?? '');
    });
  }

  pids(): number[] {
    return [...this.procs.values()].flatMap((c) => (running(c) && c.pid ? [c.pid] : []));
  }

  async stop(): Promise<void> {
    // etcd last, so that the API server does not spend its shutdown retrying a vanished etcd.
    await Promise.all([this.terminate('kube-controller-manager'), this.terminate('kube-apiserver')]);
    await this.terminate('etcd');
    if (process.env.KEEP_CONTROL_PLANE !== '1') rmSync(this.dir, { recursive: true, force: true });
    registry.tempDirs.delete(this.dir);
  }
}

let started = 0;

/**
 * Starts a control plane and resolves once it is ready for tests: API server ready, RBAC bootstrap
 * roles and the default namespace present, controllers running. A port taken between choosing it and
 * binding it ("address already in use") is retried with new ports.
 */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = opts.binDir ?? (await controlPlaneBinaries());
  const name = opts.name ?? `cp${process.pid}-${started++}`;
  for (let attempt = 1; ; attempt++) {
    const dir = opts.baseDir ?? mkdtempSync(join(tmpdir(), `secovia-${name}-`));
    if (!opts.baseDir) registry.tempDirs.add(dir);
    mkdirSync(dir, { recursive: true });
    const cp = new LocalControlPlane(name, dir, binDir, opts);
    try {
      await cp.start();
      return cp;
    } catch (e) {
      // The error already carries the tail of the failing component's log.
      await cp.stop().catch(() => undefined);
      if (attempt >= 3 || !/address already in use/i.test(String(e))) throw e;
    }
  }
}
