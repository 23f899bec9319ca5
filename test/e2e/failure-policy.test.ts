/**
 * Failures that no retry can hide: a reconcile the API server refuses turns the object's Ready False
 * with the server's reason and message (and back to True once it succeeds), and an operator whose
 * caches cannot sync (403 on a list) exits within its timeout, naming the informer and the error.
 */
import type { KubeClient } from '../../src/runtime/kube.js';
import type { Manager } from '../../src/runtime/manager.js';
import { registry } from '../../src/runtime/metrics.js';
import type { ControlPlane } from '../harness/controlplane.js';
import {
  clientFor,
  conditionOf,
  controlPlaneWithCrds,
  eventually,
  getObject,
  startInProcessOperator,
  startOperatorProcess,
} from './support.js';

const TENANTS = '/apis/gov.secovia.eu/v1alpha1/govtenants';

/** Namespaces named fail-*: refused by the API server itself, as a real policy or quota would. */
const REFUSE_NAMESPACES = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: e2e-refuse-fail-namespaces}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [namespaces]}]
  validations:
    - expression: "!object.metadata.name.startsWith('fail-')"
      message: "namespaces named fail-* are refused here"
      reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: e2e-refuse-fail-namespaces}
spec:
  policyName: e2e-refuse-fail-namespaces
  validationActions: [Deny]
`;

/** Failed reconciles of the tenant controller so far, from the operator's own metrics. */
async function tenantErrors(): Promise<number> {
  const text = await registry.metrics();
  const m = /^controller_runtime_reconcile_total\{controller="govtenant",result="error"\} (\d+)$/m.exec(text);
  return Number(m?.[1] ?? 0);
}

let cp: ControlPlane;
let client: KubeClient;
let operator: Manager;

beforeAll(async () => {
  cp = await controlPlaneWithCrds({ controllerManager: false });
  client = clientFor(cp);
  const applied = await cp.kubectl(['apply', '-f', '-'], { input: REFUSE_NAMESPACES });
  if (applied.code !== 0) throw new Error(applied.stderr);
  // The API server enforces a policy a moment after storing it: the operator starts once it does.
  await eventually(
    async () => {
      const r = await cp.kubectl(['create', 'namespace', 'fail-probe', '--dry-run=server']);
      return r.code !== 0 && r.stderr.includes('namespaces named fail-* are refused here');
    },
    30_000,
    'the refusing policy in force',
  );
  operator = await startInProcessOperator(cp);
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  client?.close();
  await cp?.stop();
}, 60_000);

test('a reconcile the API server refuses turns Ready False with its reason, and True once it passes', async () => {
  const body = {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name: 'fail-szeged' },
    spec: {
      displayName: 'Szeged',
      country: 'HU',
      level: 'municipal',
      environments: [{ name: 'prod' }],
      dataResidency: { allowedCountries: ['HU'] },
    },
  };
  await client.request('POST', TENANTS, { body });
  const failed = await eventually(
    async () => {
      const t = await getObject(client, `${TENANTS}/fail-szeged`);
      return conditionOf(t, 'Ready')?.reason === 'Forbidden' && t;
    },
    30_000,
    'Ready False, Forbidden',
  );
  const ready = conditionOf(failed, 'Ready')!;
  expect(ready.status).toBe('False');
  expect(ready.message).toContain('namespaces named fail-* are refused here');
  expect(ready.observedGeneration).toBe(failed.metadata.generation);
  // The retries keep failing the same way: the status is not rewritten for each of them.
  const version = failed.metadata.resourceVersion;
  const before = await tenantErrors();
  await eventually(async () => (await tenantErrors()) > before + 1, 30_000, 'two more failed retries');
  expect((await getObject(client, `${TENANTS}/fail-szeged`))?.metadata.resourceVersion).toBe(version);
  const refused = await cp.kubectl([
    'delete',
    'validatingadmissionpolicybinding',
    'e2e-refuse-fail-namespaces',
  ]);
  expect(refused.code).toBe(0);
  await eventually(
    async () => conditionOf(await getObject(client, `${TENANTS}/fail-szeged`), 'Ready')?.status === 'True',
    60_000,
    'Ready True once the namespace is admitted',
  );
}, 120_000);

test('caches that cannot sync end the process within the timeout, naming the informer and why', async () => {
  for (const args of [
    ['create', 'namespace', 'secovia-system'],
    ['-n', 'secovia-system', 'create', 'serviceaccount', 'no-rights'],
  ]) {
    const r = await cp.kubectl(args);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  const token = await cp.kubectl(['-n', 'secovia-system', 'create', 'token', 'no-rights']);
  const kubeconfig = cp.kubeconfigFor({ token: token.stdout.trim(), name: 'no-rights' });
  const started = Date.now();
  const p = startOperatorProcess(cp, [
    ...['--kubeconfig', kubeconfig, '--namespace', 'secovia-system', '--log-level', 'info'],
    ...['--leader-elect', 'false', '--cache-sync-timeout', '5s'],
  ]);
  const code = await Promise.race([
    p.exited,
    new Promise((r) => setTimeout(() => r('still running'), 60_000)),
  ]);
  expect(code).toBe(1);
  expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
  const lines = p
    .output()
    .split('\n')
    .filter((l) => l.includes('cache not synced within the timeout'))
    .map((l) => JSON.parse(l) as { resource: string; error: string });
  expect(lines.map((l) => l.resource)).toContain('govtenants.gov.secovia.eu');
  expect(lines.every((l) => /forbidden/i.test(l.error))).toBe(true);
}, 90_000);
