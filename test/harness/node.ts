/**
 * A real node for a local control plane: containerd (Debian's package) with runc and the CNI bridge
 * plugin, kubelet, kube-proxy and kube-scheduler (built from the same k8s.io/kubernetes module as the
 * control plane), kube-router's firewall as the NetworkPolicy agent, and CoreDNS as cluster DNS (a
 * Deployment in kube-system, from an image built here). No registry: the images come from
 * hack/node-images.ts and are imported into containerd.
 *
 * One node per machine at a time: it owns a bridge, iptables chains, ipsets, network namespaces and
 * mounts beyond its directory, all of which hack/node.sh creates and removes (see hack/node.env for
 * the fixed names and addresses). Its state lives in CONTROL_PLANE_DIR/node/.
 *
 * Used by the e2e tests, the benchmarks and hack/control-plane.ts, so it must not depend on jest.
 */
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { buildNodeImages, COREDNS_IMAGE, PAUSE_IMAGE } from '../../hack/node-images.js';
import {
  freePort,
  running,
  spawnLogged,
  startControlPlane,
  tail,
  terminateChild,
  type ControlPlane,
  type ControlPlaneOptions,
} from './controlplane.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** hack/node.env: the node's fixed names and addresses. */
export const NODE = Object.fromEntries(
  readFileSync(join(ROOT, 'hack/node.env'), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => l.split('=', 2) as [string, string]),
) as Record<
  | 'NODE_NAME'
  | 'NODE_BRIDGE'
  | 'NODE_IP'
  | 'POD_CIDR'
  | 'SERVICE_CIDR'
  | 'CLUSTER_DNS'
  | 'CLUSTER_DOMAIN'
  | 'CNI_NETWORK',
  string
>;

const USERS = {
  kubelet: { name: `system:node:${NODE.NODE_NAME}`, groups: ['system:nodes'] },
  proxy: { name: 'system:kube-proxy' },
  scheduler: { name: 'system:kube-scheduler' },
  router: { name: 'secovia-node:kube-router' },
};

/** What a control plane needs so that a node can join it: an address pods can route to, node identities. */
export function nodeControlPlaneOptions(opts: ControlPlaneOptions = {}): ControlPlaneOptions {
  return {
    ...opts,
    address: NODE.NODE_IP,
    serviceClusterIpRange: NODE.SERVICE_CIDR,
    authorizationModes: ['Node', 'RBAC'],
    users: [...(opts.users ?? []), ...Object.values(USERS)],
    extraApiServerFlags: [
      ...(opts.extraApiServerFlags ?? []),
      '--enable-admission-plugins=NodeRestriction',
      '--kubelet-preferred-address-types=InternalIP',
    ],
  };
}

export type NodeComponent = 'containerd' | 'kube-scheduler' | 'kubelet' | 'kube-proxy' | 'kube-router';

export interface LocalNode {
  name: string;
  dir: string;
  /** containerd's socket, for `ctr --address`. */
  containerdSocket: string;
  /** Image name → manifest digest of every image imported into the node. */
  images: Record<string, string>;
  pids(): number[];
  /** The process id of one component, if it runs. */
  pidOf(c: NodeComponent): number | undefined;
  /** Runs the Debian ctr against the node's containerd in the k8s.io namespace. */
  ctr(args: string[]): Promise<string>;
  /** Imports an image archive (hack/node-images.ts writeArchive) into the node's containerd. */
  importImages(archive: string): Promise<void>;
  /** Stops the components, kills every pod's processes and removes all host-wide state (hack/node.sh cleanup). */
  stop(): Promise<void>;
}

let binaries: Promise<string> | undefined;

/** Builds (first time only, cached with the control plane) and returns the directory of the node's binaries. */
export function nodeBinaries(): Promise<string> {
  binaries ??= run('bash', [join(ROOT, 'hack/build-node.sh')], { maxBuffer: 1 << 24 }).then((r) =>
    r.stdout.trim().split('\n').pop()!.trim(),
  );
  binaries.catch(() => (binaries = undefined));
  return binaries;
}

/** A node is process-wide host state: it is removed on exit too, whatever happens to the test run. */
let active: { state: string } | undefined;
function cleanUpOnExit(): void {
  if (active && process.env.KEEP_CONTROL_PLANE !== '1') {
    execFileSync('bash', [join(ROOT, 'hack/node.sh'), 'cleanup', active.state], { stdio: 'ignore' });
  }
  active = undefined;
  releaseLock();
}
process.on('exit', cleanUpOnExit);
// A signal's default action ends the process without 'exit': clean up first, then re-raise it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    cleanUpOnExit();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

/** One node per machine: a lock file holding the owner's pid; a dead owner's lock is taken over. */
export const LOCK = '/run/secovia-node.lock';
let locked = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // An exited process not reaped yet (the init of a detached node's processes may reap late) is not alive.
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The lock's owner has exited. An empty lock (pid 0) is being written: creating it and writing are two steps. */
const staleLock = (owner: number): boolean => !Number.isInteger(owner) || (owner > 0 && !alive(owner));

/** The pid in the lock file; 0 while its owner has created it and not yet written it; undefined once it is gone. */
function lockOwner(): number | undefined {
  try {
    return Number(readFileSync(LOCK, 'utf8').trim());
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function acquireLock(timeoutMs = 30 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let told = false; ;) {
    try {
      writeFileSync(LOCK, `${process.pid}\n`, { flag: 'wx' });
      locked = true;
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = lockOwner();
    if (owner === undefined) continue; // released since: take it
    if (staleLock(owner)) rmSync(LOCK, { force: true });
    else if (Date.now() > deadline) throw new Error(`another node (process ${owner}) holds ${LOCK}`);
    else {
      if (!told) console.error(`waiting for the node of process ${owner} (one node per machine: ${LOCK})`);
      told = true;
      await sleep(1000);
    }
  }
}

function releaseLock(): void {
  if (locked) rmSync(LOCK, { force: true });
  locked = false;
}

/** The components in stop order: the kubelet first, so that nothing starts a container again. */
const STOP_ORDER: readonly NodeComponent[] = [
  'kubelet',
  'kube-router',
  'kube-proxy',
  'kube-scheduler',
  'containerd',
];

/**
 * Stops a node started detached (hack/control-plane.sh up NAME --node) from another process: its
 * components by their pid files, then hack/node.sh cleanup. Does nothing when there is none.
 */
export async function stopDetachedNode(controlPlaneDir: string): Promise<void> {
  const dir = join(controlPlaneDir, 'node');
  if (!existsSync(dir)) return;
  for (const c of STOP_ORDER) {
    const file = join(dir, `${c}.pid`);
    const pid = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : NaN;
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) continue;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  await run('bash', [join(ROOT, 'hack/node.sh'), 'cleanup', dir]);
  const owner = existsSync(LOCK) ? Number(readFileSync(LOCK, 'utf8').trim()) : NaN;
  if (staleLock(owner)) rmSync(LOCK, { force: true });
}

const CONTAINERD_CONFIG = (d: string, cniDir: string) => `version = 2
root = "${d}/root"
state = "${d}/state"
[grpc]
  address = "${d}/containerd.sock"
[ttrpc]
  address = "${d}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${d}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # Without CAP_SYS_RESOURCE (a VM like this one) runc fails to raise a process's OOM score.
  restrict_oom_score_adj = true
  # Pods' network namespaces under the state directory, not /run/netns: one place to clean.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".registry]
    # Every registry is a closed port on loopback: an image that is not on the node fails at once,
    # and no pull ever leaves this machine (not even a DNS lookup of the registry's name).
    config_path = "${d}/registries"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${cniDir}"
    max_conf_num = 1
`;

class Node implements LocalNode {
  readonly name = NODE.NODE_NAME;
  readonly dir: string;
  readonly containerdSocket: string;
  images: Record<string, string> = {};
  private readonly procs = new Map<NodeComponent, ChildProcess>();
  private stopping?: Promise<void>;

  constructor(
    private readonly cp: ControlPlane,
    private readonly binDir: string,
    private readonly detached: boolean,
  ) {
    this.dir = join(cp.dir, 'node');
    this.containerdSocket = join(this.dir, 'containerd', 'containerd.sock');
  }

  private path(...parts: string[]): string {
    const p = join(this.dir, ...parts);
    mkdirSync(join(p, '..'), { recursive: true });
    return p;
  }

  private kubeconfig(user: string): string {
    return this.cp.kubeconfigFor({ token: this.cp.tokenOf(user), name: user.replace(/:/g, '-') });
  }

  private launch(c: NodeComponent, binary: string, args: string[]): void {
    this.procs.set(c, spawnLogged(this.dir, c, binary, args, { detached: this.detached }));
  }

  private logTail(c: NodeComponent): string {
    return `last lines of ${join(this.dir, `${c}.log`)}:\n${tail(join(this.dir, `${c}.log`))}`;
  }

  /** Polls `ready` until it holds; fails early with the log's tail if the component exits. */
  private async waitFor(c: NodeComponent, what: string, ready: () => Promise<boolean>, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!running(this.procs.get(c))) throw new Error(`${c} exited before ${what}; ${this.logTail(c)}`);
      if (await ready().catch(() => false)) return;
      if (Date.now() > deadline)
        throw new Error(`${c}: no ${what} after ${timeoutMs} ms; ${this.logTail(c)}`);
      await sleep(200);
    }
  }

  async ctr(args: string[]): Promise<string> {
    const r = await run('ctr', ['--address', this.containerdSocket, '--namespace', 'k8s.io', ...args], {
      maxBuffer: 1 << 24,
    });
    return r.stdout;
  }

  async importImages(archive: string): Promise<void> {
    await this.ctr(['images', 'import', archive]);
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const images = this.buildImages();
    await this.startContainerd();
    await this.importImages(join(this.dir, 'images', 'images.tar'));
    this.images = Object.fromEntries((await images).map((i) => [i.name, i.digest]));
    this.launch('kube-scheduler', join(this.binDir, 'kube-scheduler'), [
      `--kubeconfig=${this.kubeconfig(USERS.scheduler.name)}`,
      '--leader-elect=false',
      '--secure-port=0',
      '-v=0',
    ]);
    await this.startKubelet();
    await this.applyAddons(); // before kube-router: it holds kube-router's permissions
    await this.startProxy();
    await this.startRouter();
    const w = await this.cp.kubectl(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=120s']); // prettier-ignore
    if (w.code !== 0) throw new Error(`cluster DNS not ready: ${w.stdout}${w.stderr}`);
  }

  private async buildImages() {
    const coredns = join(this.binDir, 'coredns');
    return buildNodeImages(join(this.dir, 'images'), coredns);
  }

  private async startContainerd(): Promise<void> {
    const d = join(this.dir, 'containerd');
    const cniDir = join(this.dir, 'cni', 'net.d');
    mkdirSync(cniDir, { recursive: true });
    writeFileSync(
      join(cniDir, '10-secovia.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: NODE.CNI_NETWORK,
        plugins: [
          {
            type: 'bridge',
            bridge: NODE.NODE_BRIDGE,
            isGateway: true,
            ipMasq: false,
            hairpinMode: true,
            ipam: {
              type: 'host-local',
              ranges: [[{ subnet: NODE.POD_CIDR, gateway: NODE.NODE_IP }]],
              routes: [{ dst: '0.0.0.0/0' }],
              dataDir: join(this.dir, 'cni', 'ipam'),
            },
          },
        ],
      }),
    );
    writeFileSync(this.path('containerd', 'config.toml'), CONTAINERD_CONFIG(d, cniDir));
    writeFileSync(
      this.path('containerd', 'registries', '_default', 'hosts.toml'),
      'server = "https://127.0.0.1:9"\n[host."https://127.0.0.1:9"]\n  capabilities = ["pull", "resolve"]\n',
    );
    this.launch('containerd', '/usr/bin/containerd', ['--config', join(d, 'config.toml')]);
    // A node that outlives this process is held by its containerd: the lock names that process.
    if (this.detached) {
      writeFileSync(LOCK, `${this.procs.get('containerd')?.pid}\n`);
      locked = false;
    }
    await this.waitFor('containerd', 'its socket', async () => {
      await this.ctr(['version']);
      return true;
    });
  }

  private async startKubelet(): Promise<void> {
    const k = join(this.dir, 'kubelet');
    const resolvConf = this.path('kubelet', 'resolv.conf');
    writeFileSync(resolvConf, ''); // pods get the cluster DNS only: no search path or server of this machine
    const config = {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: NODE.NODE_IP,
      port: await freePort(),
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: await freePort(),
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true } },
      authorization: { mode: 'Webhook' },
      cgroupDriver: 'cgroupfs',
      failSwapOn: false,
      failCgroupV1: false,
      containerRuntimeEndpoint: `unix://${this.containerdSocket}`,
      clusterDNS: [NODE.CLUSTER_DNS],
      clusterDomain: NODE.CLUSTER_DOMAIN,
      resolvConf,
      podLogsDir: join(k, 'pod-logs'),
      // The images were imported, never pulled: garbage collection must not delete them.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
      serializeImagePulls: false,
      nodeStatusReportFrequency: '10s',
    };
    writeFileSync(this.path('kubelet', 'config.yaml'), stringify(config));
    this.launch('kubelet', join(this.binDir, 'kubelet'), [
      `--config=${join(k, 'config.yaml')}`,
      `--kubeconfig=${this.kubeconfig(USERS.kubelet.name)}`,
      `--root-dir=${join(k, 'root')}`,
      `--cert-dir=${join(k, 'pki')}`,
      `--hostname-override=${NODE.NODE_NAME}`,
      `--node-ip=${NODE.NODE_IP}`,
      '-v=1',
    ]);
    await this.waitFor('kubelet', 'a Ready node', async () => {
      const r = await this.cp.kubectl(['get', 'node', NODE.NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']); // prettier-ignore
      return r.stdout.trim() === 'True';
    });
  }

  private async startProxy(): Promise<void> {
    const config = {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      clientConnection: { kubeconfig: this.kubeconfig(USERS.proxy.name) },
      hostnameOverride: NODE.NODE_NAME,
      bindAddress: NODE.NODE_IP,
      clusterCIDR: NODE.POD_CIDR,
      mode: 'iptables',
      healthzBindAddress: `127.0.0.1:${await freePort()}`,
      metricsBindAddress: `127.0.0.1:${await freePort()}`,
      // NodePorts on the node's bridge address only: no route_localnet, nothing on this machine's own network.
      nodePortAddresses: [`${NODE.NODE_IP}/32`],
      iptables: { localhostNodePorts: false },
      // Leave the machine's conntrack settings alone.
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    };
    writeFileSync(this.path('kube-proxy', 'config.yaml'), stringify(config));
    this.launch('kube-proxy', join(this.binDir, 'kube-proxy'), [
      `--config=${join(this.dir, 'kube-proxy', 'config.yaml')}`,
      '-v=0',
    ]);
    const healthz = `http://${config.healthzBindAddress}/healthz`;
    await this.waitFor('kube-proxy', 'healthz', async () => (await fetch(healthz)).ok);
  }

  private async startRouter(): Promise<void> {
    this.launch('kube-router', join(this.binDir, 'kube-router'), [
      `--kubeconfig=${this.kubeconfig(USERS.router.name)}`,
      `--hostname-override=${NODE.NODE_NAME}`,
      '--run-firewall=true',
      '--run-router=false',
      '--run-service-proxy=false',
      '--enable-cni=false',
      '--metrics-port=0',
      '--health-port=0',
      '-v=1',
    ]);
    await this.waitFor('kube-router', 'its firewall chains', async () => {
      const { stdout } = await run('iptables', ['-w', '-S', 'KUBE-ROUTER-FORWARD']);
      return stdout.includes('KUBE-ROUTER-FORWARD');
    });
  }

  private async applyAddons(): Promise<void> {
    const manifest = readFileSync(join(ROOT, 'hack/node/addons.yaml'), 'utf8')
      .replaceAll('${CLUSTER_DNS}', NODE.CLUSTER_DNS)
      .replaceAll('${CLUSTER_DOMAIN}', NODE.CLUSTER_DOMAIN)
      .replaceAll('${COREDNS_IMAGE}', COREDNS_IMAGE);
    const r = await this.cp.kubectl(['apply', '-f', '-'], { input: manifest });
    if (r.code !== 0) throw new Error(`node add-ons: ${r.stderr}`);
  }

  pidOf(c: NodeComponent): number | undefined {
    const child = this.procs.get(c);
    return running(child) ? child!.pid : undefined;
  }

  pids(): number[] {
    return [...this.procs.values()].flatMap((c) => (running(c) && c.pid ? [c.pid] : []));
  }

  /** Once only: a second stop would clean the host without the lock, under the next node. */
  stop(): Promise<void> {
    return (this.stopping ??= this.stopOnce());
  }

  private async stopOnce(): Promise<void> {
    // The kubelet first, so that nothing starts a container again; hack/node.sh then kills every
    // pod's processes through their cgroups (containerd's shims would outlive containerd).
    for (const c of STOP_ORDER) {
      const child = this.procs.get(c);
      this.procs.delete(c);
      if (child) await terminateChild(child, 5000);
    }
    await run('bash', [join(ROOT, 'hack/node.sh'), 'cleanup', this.dir]);
    if (active?.state === this.dir) active = undefined;
    releaseLock();
  }
}

/**
 * Starts a control plane able to take a node, then the node; resolves once the node is Ready and
 * cluster DNS answers. Host state left by an earlier node is removed first.
 */
export async function startNodeCluster(
  opts: ControlPlaneOptions = {},
): Promise<{ cp: ControlPlane; node: LocalNode }> {
  if (active) throw new Error(`a node runs already (${active.state}): one node per machine`);
  const binDir = await nodeBinaries();
  await run('bash', [join(ROOT, 'hack/node.sh'), 'install']);
  await acquireLock();
  // Leftovers of an earlier node go first; the bridge must exist before the API server binds its address.
  await run('bash', [join(ROOT, 'hack/node.sh'), 'cleanup']);
  await run('bash', [join(ROOT, 'hack/node.sh'), 'setup']);
  let cp: ControlPlane | undefined;
  try {
    cp = await startControlPlane(nodeControlPlaneOptions(opts));
    const node = new Node(cp, binDir, !!opts.detached);
    // A detached node outlives this process: its exit must not clean it up.
    if (!opts.detached) active = { state: node.dir };
    try {
      await node.start();
    } catch (e) {
      await node.stop().catch(() => undefined);
      throw e;
    }
    return { cp, node };
  } catch (e) {
    await cp?.stop().catch(() => undefined);
    await run('bash', [join(ROOT, 'hack/node.sh'), 'cleanup']).catch(() => undefined);
    active = undefined;
    releaseLock();
    throw e;
  }
}
