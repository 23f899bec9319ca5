/**
 * Local control planes that outlive the command, for the demo, benchmarks and people. The start logic
 * is the test harness's (test/harness/controlplane.ts), with the processes detached; their state
 * (pid files, kubeconfig, certificates, etcd data, logs) lives in .control-plane/NAME/ of the repository.
 *   up [NAME] [--node]  start it unless it runs already; print `export KUBECONFIG=...`; with
 *                       --node, a real node too (test/harness/node.ts; root; one per machine)
 *   down [NAME]    stop it (and its node) and remove its state
 *   status [NAME]  print whether it runs (exit code 3 if it does not)
 *   env [NAME]     print `export KUBECONFIG=...` (exit code 1 if it does not run)
 * Only the export line goes to stdout, so `eval "$(bash hack/control-plane.sh up)"` works.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { COMPONENTS, startControlPlane } from '../test/harness/controlplane.js';
import { LOCK, startNodeCluster, stopDetachedNode } from '../test/harness/node.js';

const ROOT = new URL('../', import.meta.url).pathname;
const args = process.argv.slice(2);
const withNode = args.includes('--node');
const [command = 'status', name = 'local'] = args.filter((a) => a !== '--node');
const dir = join(ROOT, '.control-plane', name);
const kubeconfig = join(dir, 'kubeconfig');
const exportLine = `export KUBECONFIG=${kubeconfig}`;

/** Whether pid is a live (not zombie) process running component. */
function runs(pid: number, component: string): boolean {
  try {
    const [stat = '', ...cmd] = execFileSync('ps', ['-o', 'stat=,command=', '-p', String(pid)])
      .toString()
      .trim()
      .split(/\s+/);
    return !stat.startsWith('Z') && cmd.join(' ').includes(component);
  } catch {
    return false; // ps exits non-zero when there is no such process
  }
}

/** The pid in a component's pid file (in dir, or the node's), if that process still runs that component. */
function pidOf(component: string, under = dir): number | undefined {
  const file = join(under, `${component}.pid`);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  // A stale pid file (after a reboot, say) may name an unrelated process now: check the command.
  return Number.isInteger(pid) && pid > 0 && runs(pid, component) ? pid : undefined;
}

const NODE_COMPONENTS = ['containerd', 'kubelet', 'kube-proxy', 'kube-router', 'kube-scheduler'];
const nodeDir = join(dir, 'node');
const livePids = (): number[] => [
  ...COMPONENTS.flatMap((c) => pidOf(c) ?? []),
  ...NODE_COMPONENTS.flatMap((c) => pidOf(c, nodeDir) ?? []),
];

/** etcd and kube-apiserver run (the controller manager alone may have been stopped on purpose). */
const isRunning = (): boolean =>
  existsSync(kubeconfig) && pidOf('etcd') !== undefined && pidOf('kube-apiserver') !== undefined;

/** SIGTERM, then SIGKILL if it still runs after 5 s. */
async function terminate(component: string): Promise<void> {
  const pid = pidOf(component);
  if (pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (runs(pid, component) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (runs(pid, component)) process.kill(pid, 'SIGKILL');
}

/** A live process other than this node's containerd that holds the node lock: another node runs. */
function otherNodeOwner(): number | undefined {
  const owner = existsSync(LOCK) ? Number(readFileSync(LOCK, 'utf8').trim()) : NaN;
  if (!Number.isInteger(owner) || owner <= 0 || owner === pidOf('containerd', nodeDir)) return undefined;
  return runs(owner, '') ? owner : undefined;
}

/** Stops the node, the API server and its client, etcd last, and removes the state. */
async function down(): Promise<void> {
  const other = existsSync(nodeDir) ? otherNodeOwner() : undefined;
  // Stopping a node cleans the host (bridge, chains, pods' processes): never under another node.
  if (other !== undefined) {
    throw new Error(`another node (process ${other}) holds ${LOCK}: run down again once it has stopped`);
  }
  await stopDetachedNode(dir);
  await Promise.all([terminate('kube-controller-manager'), terminate('kube-apiserver')]);
  await terminate('etcd');
  rmSync(dir, { recursive: true, force: true });
}

/** Every component of the node runs. */
const nodeRuns = (): boolean => NODE_COMPONENTS.every((c) => pidOf(c, nodeDir) !== undefined);

async function up(): Promise<void> {
  // A control plane that runs without the node asked for (or with part of it) is started anew.
  if (!isRunning() || (withNode && !nodeRuns())) {
    await down(); // leftovers of a half-dead control plane
    const started = Date.now();
    console.error(`starting control plane ${name} in ${dir}`);
    if (withNode) await startNodeCluster({ name, baseDir: dir, detached: true });
    else await startControlPlane({ name, baseDir: dir, detached: true });
    console.error(`control plane ${name} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  console.log(exportLine);
}

function status(): void {
  if (isRunning()) {
    console.log(`${name}: running (pids ${livePids().join(' ')}), KUBECONFIG=${kubeconfig}`);
  } else {
    console.log(`${name}: not running`);
    process.exitCode = 3;
  }
}

function env(): void {
  if (isRunning()) console.log(exportLine);
  else {
    console.error(
      `control plane ${name} is not running; start it with: bash hack/control-plane.sh up ${name}`,
    );
    process.exitCode = 1;
  }
}

const commands: Record<string, () => void | Promise<void>> = { up, down, status, env };

async function main(): Promise<void> {
  const run = commands[command];
  if (!run || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
    console.error('usage: bash hack/control-plane.sh up|down|status|env [NAME] [--node]');
    process.exitCode = 2;
    return;
  }
  await run();
}

main().catch((e: unknown) => {
  console.error(`control-plane ${command} ${name}: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
