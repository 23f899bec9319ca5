/**
 * CLI around the test harness: local control planes that outlive the command, for the demo,
 * benchmarks and people. State lives in .control-plane/<name>/ of the repository.
 *   up [NAME]      start (or reuse) and print `export KUBECONFIG=...`
 *   down [NAME]    stop it and remove its state
 *   status [NAME]  running or not
 *   env [NAME]     print the export line
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane } from '../test/harness/controlplane.js';

const ROOT = new URL('../', import.meta.url).pathname;
const [command = 'status', name = 'local'] = process.argv.slice(2);
const dir = join(ROOT, '.control-plane', name);
const kubeconfig = join(dir, 'kubeconfig');

const pids = (): number[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.pid'))
        .map((f) => Number(readFileSync(join(dir, f), 'utf8')))
        .filter((p) => p > 0)
    : [];

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const running = (): boolean => existsSync(kubeconfig) && pids().length > 0 && pids().every(alive);

async function down(): Promise<void> {
  for (const pid of pids()) if (alive(pid)) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (pids().some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  switch (command) {
    case 'up':
      if (!running()) {
        await down();
        await startControlPlane({ name, baseDir: dir, detached: true });
      }
      console.log(`export KUBECONFIG=${kubeconfig}`);
      return;
    case 'down':
      await down();
      return;
    case 'env':
      console.log(`export KUBECONFIG=${kubeconfig}`);
      return;
    case 'status':
      console.log(running() ? `${name}: running (KUBECONFIG=${kubeconfig})` : `${name}: not running`);
      return;
    default:
      console.error(`usage: control-plane.sh up|down|status|env [NAME]`);
      process.exit(2);
  }
}

main().catch((e: unknown) => {
  console.error(`control-plane: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
