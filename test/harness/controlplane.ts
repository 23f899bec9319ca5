/**
 * A real local control plane, the way controller-runtime's envtest runs one: etcd, kube-apiserver
 * and (optionally) kube-controller-manager as local processes on free loopback ports, built from
 * the published Go modules by hack/build-control-plane.sh. Several can run side by side.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
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
import { promisify } from 'node:util';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

export interface ControlPlaneOptions {
  name?: string;
  /** Run kube-controller-manager too (namespace deletion, garbage collection, quota status). Default true. */
  controllerManager?: boolean;
  /** Directory for data, certificates, kubeconfig and logs; default a fresh temporary directory. */
  baseDir?: string;
  binDir?: string;
  /** Leave the processes running when this Node process exits (the CLI's `up`). */
  detached?: boolean;
  extraApiServerFlags?: string[];
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ControlPlane {
  name: string;
  dir: string;
  server: string;
  kubeconfigPath: string;
  adminToken: string;
  caFile: string;
  binDir: string;
  env: NodeJS.ProcessEnv;
  kubectl(args: string[], opts?: { input?: string }): Promise<KubectlResult>;
  kubeconfigFor(user: { token: string; name?: string }): string;
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  restartApiServer(): Promise<void>;
  stopEtcd(): Promise<void>;
  startEtcd(): Promise<void>;
  restartEtcd(): Promise<void>;
  pids(): number[];
  stop(): Promise<void>;
}

let binaries: Promise<string> | undefined;

/** Builds (once, cached outside the repository) and returns the directory of the binaries. */
export function controlPlaneBinaries(): Promise<string> {
  binaries ??= run('bash', [join(ROOT, 'hack/build-control-plane.sh')], { maxBuffer: 1 << 24 }).then((r) =>
    r.stdout.trim().split('\n').pop()!.trim(),
  );
  return binaries;
}

/** A free loopback port (bound then released; a rare race is retried by the caller). */
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

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

interface Proc {
  name: string;
  args: () => string[];
  child?: ChildProcess;
}

class LocalControlPlane implements ControlPlane {
  readonly adminToken = randomBytes(24).toString('hex');
  server = '';
  readonly kubeconfigPath: string;
  readonly caFile: string;
  private readonly ports = { etcd: 0, peer: 0, api: 0 };
  private readonly etcd: Proc;
  private readonly apiserver: Proc;
  private readonly kcm?: Proc;

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly binDir: string,
    private readonly opts: ControlPlaneOptions,
  ) {
    this.kubeconfigPath = join(dir, 'kubeconfig');
    this.caFile = join(dir, 'pki', 'apiserver.crt');
    this.etcd = { name: 'etcd', args: () => this.etcdArgs() };
    this.apiserver = { name: 'kube-apiserver', args: () => this.apiServerArgs() };
    if (opts.controllerManager !== false)
      this.kcm = { name: 'kube-controller-manager', args: () => this.kcmArgs() };
  }

  get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      KUBECONFIG: this.kubeconfigPath,
      PATH: `${this.binDir}:${process.env.PATH ?? ''}`,
    };
  }

  async start(): Promise<void> {
    mkdirSync(join(this.dir, 'pki'), { recursive: true });
    this.writeCredentials();
    this.ports.etcd = await freePort();
    this.ports.peer = await freePort();
    this.ports.api = await freePort();
    this.server = `https://127.0.0.1:${this.ports.api}`;
    await this.startEtcd();
    await this.startApiServer();
    this.writeKubeconfig(this.kubeconfigPath, 'admin', this.adminToken);
    if (this.kcm) this.launch(this.kcm);
    await this.waitForBootstrap();
  }

  private writeCredentials(): void {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(this.dir, 'pki', 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
    writeFileSync(join(this.dir, 'pki', 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(this.dir, 'pki', 'tokens.csv'), `${this.adminToken},admin,admin-uid,system:masters\n`);
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
      '--unsafe-no-fsync',
      '--log-level=error',
    ];
  }

  private apiServerArgs(): string[] {
    const pki = join(this.dir, 'pki');
    return [
      `--etcd-servers=http://127.0.0.1:${this.ports.etcd}`,
      `--cert-dir=${pki}`,
      `--secure-port=${this.ports.api}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--authorization-mode=RBAC',
      `--token-auth-file=${join(pki, 'tokens.csv')}`,
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      // Without a controller manager nothing creates default service accounts for pods.
      ...(this.kcm ? [] : ['--disable-admission-plugins=ServiceAccount']),
      '--event-ttl=1h',
      '-v=0',
      ...(this.opts.extraApiServerFlags ?? []),
    ];
  }

  private kcmArgs(): string[] {
    const pki = join(this.dir, 'pki');
    return [
      `--kubeconfig=${this.kubeconfigPath}`,
      `--service-account-private-key-file=${join(pki, 'sa.key')}`,
      `--root-ca-file=${this.caFile}`,
      '--leader-elect=false',
      '--secure-port=0',
      '--controllers=*',
      '--use-service-account-credentials=false',
      '--concurrent-namespace-syncs=5',
      '--concurrent-gc-syncs=5',
      '-v=0',
    ];
  }

  private launch(p: Proc): void {
    const log = join(this.dir, `${p.name}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(join(this.binDir, p.name), p.args(), {
      stdio: ['ignore', fd, fd],
      detached: !!this.opts.detached,
    });
    closeSync(fd);
    if (this.opts.detached) child.unref();
    else children.add(child);
    child.once('exit', () => children.delete(child));
    writeFileSync(join(this.dir, `${p.name}.pid`), String(child.pid));
    p.child = child;
  }

  private async stopProc(p: Proc): Promise<void> {
    const child = p.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
    p.child = undefined;
  }

  private async waitUntil(p: Proc, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (p.child && p.child.exitCode !== null) break;
      if (await check().catch(() => false)) return;
      await sleep(100);
    }
    const why =
      p.child?.exitCode !== null ? `exited with ${p.child?.exitCode}` : `not ready after ${timeoutMs} ms`;
    throw new Error(`${p.name} ${why}; last log lines:\n${tail(join(this.dir, `${p.name}.log`))}`);
  }

  async startEtcd(): Promise<void> {
    this.launch(this.etcd);
    await this.waitUntil(
      this.etcd,
      async () => {
        const res = await fetch(`http://127.0.0.1:${this.ports.etcd}/health`);
        return ((await res.json()) as { health?: string }).health === 'true';
      },
      30_000,
    );
  }

  async stopEtcd(): Promise<void> {
    await this.stopProc(this.etcd);
  }

  async restartEtcd(): Promise<void> {
    await this.stopEtcd();
    await this.startEtcd();
  }

  async startApiServer(): Promise<void> {
    this.launch(this.apiserver);
    await this.waitUntil(this.apiserver, async () => (await this.get('/readyz')) === 200, 60_000);
  }

  async stopApiServer(): Promise<void> {
    await this.stopProc(this.apiserver);
  }

  async restartApiServer(): Promise<void> {
    await this.stopApiServer();
    await this.startApiServer();
  }

  /** Ready for tests: RBAC bootstrap roles and the default namespace exist. */
  private async waitForBootstrap(): Promise<void> {
    await this.waitUntil(
      this.apiserver,
      async () =>
        (await this.get('/apis/rbac.authorization.k8s.io/v1/clusterroles/admin')) === 200 &&
        (await this.get('/api/v1/namespaces/default')) === 200,
      60_000,
    );
  }

  /** GET with the admin token, verifying TLS against the API server's own CA. Returns the status code. */
  private get(path: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = https.get(
        `${this.server}${path}`,
        {
          ca: existsSync(this.caFile) ? readFileSync(this.caFile) : undefined,
          headers: { authorization: `Bearer ${this.adminToken}` },
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

  private writeKubeconfig(path: string, user: string, token: string): void {
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: ${this.name}, cluster: {server: "${this.server}", certificate-authority: "${this.caFile}"}}]`,
        `users: [{name: ${user}, user: {token: "${token}"}}]`,
        `contexts: [{name: ${this.name}, context: {cluster: ${this.name}, user: ${user}}}]`,
        `current-context: ${this.name}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }

  kubeconfigFor(user: { token: string; name?: string }): string {
    const name = user.name ?? 'user';
    const path = join(this.dir, `kubeconfig-${name.replace(/[^a-zA-Z0-9-]/g, '-')}`);
    this.writeKubeconfig(path, name.replace(/[^a-zA-Z0-9-]/g, '-'), user.token);
    return path;
  }

  kubectl(args: string[], opts: { input?: string } = {}): Promise<KubectlResult> {
    return new Promise((resolve) => {
      const child = spawn(join(this.binDir, 'kubectl'), ['--kubeconfig', this.kubeconfigPath, ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(opts.input ?? '');
    });
  }

  pids(): number[] {
    return [this.kcm, this.apiserver, this.etcd].flatMap((p) => (p?.child?.pid ? [p.child.pid] : []));
  }

  async stop(): Promise<void> {
    for (const p of [this.kcm, this.apiserver, this.etcd]) if (p) await this.stopProc(p);
    if (process.env.KEEP_CONTROL_PLANE !== '1' && !this.opts.baseDir)
      rmSync(this.dir, { recursive: true, force: true });
  }
}

let started = 0;

/** Starts a control plane; retries once with new ports if a port was taken in the meantime. */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = opts.binDir ?? (await controlPlaneBinaries());
  const name = opts.name ?? `cp${process.pid}-${started++}`;
  for (let attempt = 1; ; attempt++) {
    const dir = opts.baseDir ?? mkdtempSync(join(tmpdir(), `secovia-${name}-`));
    const cp = new LocalControlPlane(name, dir, binDir, opts);
    try {
      await cp.start();
      return cp;
    } catch (e) {
      await cp.stop();
      if (attempt >= 2 || !/address already in use/i.test(String(e))) throw e;
      if (opts.baseDir) rmSync(opts.baseDir, { recursive: true, force: true });
    }
  }
}
