/** The local control plane harness itself: controllers work, instances are independent, restarts keep data. */
import { existsSync } from 'node:fs';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.js';

/** Polls until `check` returns something other than undefined/false, or fails after timeoutMs. */
async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** kubectl that must succeed. */
async function ok(cp: ControlPlane, args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const exists = async (cp: ControlPlane, args: string[]): Promise<boolean> =>
  (await cp.kubectl(['get', ...args, '-o', 'name'])).code === 0;

let full: ControlPlane; // with kube-controller-manager
let bare: ControlPlane; // API server and etcd only

beforeAll(async () => {
  // Side by side, started concurrently: nothing may be shared between them but the binaries.
  [full, bare] = await Promise.all([
    startControlPlane({ name: 'full' }),
    startControlPlane({ name: 'bare', controllerManager: false }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([full?.stop(), bare?.stop()]);
}, 60_000);

test('the kubeconfig verifies TLS against the API server CA', async () => {
  expect(full.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(await ok(full, ['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster}'])).toContain(
    full.caFile,
  );
  expect(await ok(full, ['get', '--raw', '/readyz'])).toBe('ok');
  // The CA of one control plane does not vouch for another one.
  const r = await full.kubectl(['get', '--raw', '/readyz', '--server', bare.server]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/certificate/i);
});

test('bootstrap objects exist as soon as the control plane is up', async () => {
  for (const cp of [full, bare]) {
    expect(await exists(cp, ['namespace', 'default'])).toBe(true);
    expect(await exists(cp, ['clusterrole', 'admin'])).toBe(true);
  }
  expect(await exists(full, ['serviceaccount', 'default', '-n', 'default'])).toBe(true);
});

test('namespace deletion completes: the controller manager removes its content', async () => {
  const ns = `gone-${Date.now().toString(36)}`;
  await ok(full, ['create', 'namespace', ns]);
  await ok(full, ['create', 'configmap', 'cm', '-n', ns, '--from-literal=a=b']);
  await ok(full, ['delete', 'namespace', ns, '--wait=false']);
  await until(`namespace ${ns} to disappear`, async () => !(await exists(full, ['namespace', ns])), 60_000);
}, 90_000);

test('a ResourceQuota gets status.hard and status.used from the controller manager', async () => {
  await ok(full, ['create', 'quota', 'q', '-n', 'default', '--hard=configmaps=10,pods=2']);
  const status = await until('quota status', async () => {
    const out = await ok(full, ['get', 'quota', 'q', '-n', 'default', '-o', 'jsonpath={.status}']);
    const s = out
      ? (JSON.parse(out) as { hard?: Record<string, string>; used?: Record<string, string> })
      : {};
    return s.hard && s.used ? s : undefined;
  });
  expect(status.hard).toEqual({ configmaps: '10', pods: '2' });
  expect(Number(status.used?.configmaps)).toBeGreaterThanOrEqual(1); // kube-root-ca.crt
}, 90_000);

test('two control planes are independent', async () => {
  expect(full.server).not.toBe(bare.server);
  expect(full.dir).not.toBe(bare.dir);
  await ok(full, ['create', 'configmap', 'only-in-full', '-n', 'default']);
  expect(await exists(full, ['configmap', 'only-in-full', '-n', 'default'])).toBe(true);
  expect(await exists(bare, ['configmap', 'only-in-full', '-n', 'default'])).toBe(false);
  // The admin token of one is unknown to the other.
  const r = await bare.kubectl(['get', 'namespaces'], { asToken: full.adminToken });
  expect(r.stderr).toMatch(/Unauthorized/);
});

test('service account tokens are signed and checked, and RBAC applies to them', async () => {
  await ok(full, ['create', 'serviceaccount', 'reader', '-n', 'default']);
  const token = (await ok(full, ['create', 'token', 'reader', '-n', 'default'])).trim();
  const denied = await full.kubectl(['get', 'configmaps', '-n', 'default'], { asToken: token });
  expect(denied.stderr).toMatch(/forbidden.*system:serviceaccount:default:reader/);

  await ok(full, [
    'create',
    'rolebinding',
    'reader',
    '-n',
    'default',
    '--clusterrole=view',
    '--serviceaccount=default:reader',
  ]);
  const kubeconfig = full.kubeconfigFor({ token, name: 'reader' });
  expect(kubeconfig).not.toBe(full.kubeconfigPath);
  const allowed = await until('the role binding to apply', async () => {
    const r = await full.kubectl([
      '--kubeconfig',
      kubeconfig,
      'get',
      'configmaps',
      '-n',
      'default',
      '-o',
      'name',
    ]);
    return r.code === 0 ? r.stdout : undefined;
  });
  expect(allowed).toContain('configmap/kube-root-ca.crt');
}, 60_000);

test('restarting the API server or etcd keeps the data', async () => {
  await ok(bare, ['create', 'configmap', 'survivor', '-n', 'default', '--from-literal=k=v']);
  const pidsBefore = bare.pids();

  await bare.restartApiServer();
  expect(await ok(bare, ['get', 'configmap', 'survivor', '-n', 'default', '-o', 'jsonpath={.data.k}'])).toBe(
    'v',
  );

  await bare.restartEtcd();
  const value = await until('the API server to reach etcd again', async () => {
    const r = await bare.kubectl([
      'get',
      'configmap',
      'survivor',
      '-n',
      'default',
      '-o',
      'jsonpath={.data.k}',
    ]);
    return r.code === 0 ? r.stdout : undefined;
  });
  expect(value).toBe('v');
  expect(bare.pids()).toHaveLength(2);
  expect(bare.pids().some((p) => pidsBefore.includes(p))).toBe(false); // both really restarted
}, 90_000);

test('a component that fails to start is reported with its log', async () => {
  const start = startControlPlane({ controllerManager: false, extraApiServerFlags: ['--no-such-flag'] });
  await expect(start).rejects.toThrow(
    /kube-apiserver .*exited[\s\S]*last lines[\s\S]*unknown flag: --no-such-flag/,
  );
}, 60_000);

test('stop() leaves no process and no directory behind', async () => {
  const pids = [...full.pids(), ...bare.pids()];
  expect(pids).toHaveLength(5);
  expect(pids.every(alive)).toBe(true);
  await Promise.all([full.stop(), bare.stop()]);
  expect(pids.filter(alive)).toEqual([]);
  expect(existsSync(full.dir) || existsSync(bare.dir)).toBe(false);
  expect(full.pids()).toEqual([]);
}, 60_000);
