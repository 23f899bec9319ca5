/**
 * The Argo CD health check of every gov.secovia.eu kind (config/argocd/health.lua), run by a real
 * Lua interpreter (Debian's lua5.4; Argo CD runs the same script in gopher-lua) against status shapes
 * the operator writes.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { HEALTH_CHECKED_KINDS } from '../../hack/install-files.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const script = readFileSync(`${ROOT}config/argocd/health.lua`, 'utf8');

/** A JSON value as a Lua table constructor (arrays as sequences, as Argo CD hands objects to Lua). */
function lua(v: unknown): string {
  if (Array.isArray(v)) return `{${v.map(lua).join(', ')}}`;
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `[${JSON.stringify(k)}] = ${lua(x)}`)
      .join(', ')}}`;
  return v === null ? 'nil' : JSON.stringify(v);
}

function health(obj: unknown): { status: string; message: string } {
  const program = `obj = ${lua(obj)}\nlocal hs = (function()\n${script}\nend)()\nprint(hs.status)\nprint(hs.message)`;
  const [status = '', message = ''] = execFileSync('lua5.4', ['-'], {
    input: program,
    encoding: 'utf8',
  }).split('\n');
  return { status, message };
}

const cond = (type: string, status: string, reason = 'R', message = `${type} ${status}`) => ({
  type,
  status,
  reason,
  message,
});
const object = (generation: number, status?: Record<string, unknown>) => ({
  metadata: { name: 'x', generation },
  ...(status ? { status } : {}),
});
/** An object whose current generation the operator has observed, with these conditions. */
const observed = (...conditions: ReturnType<typeof cond>[]) =>
  object(1, { observedGeneration: 1, conditions });

describe('Argo CD health check', () => {
  it.each([
    ['no status yet', object(1), 'Progressing'],
    [
      'an older generation observed',
      object(2, { observedGeneration: 1, conditions: [cond('Ready', 'True')] }),
      'Progressing',
    ],
    [
      'Ready',
      object(3, { observedGeneration: 3, conditions: [cond('Ready', 'True', 'Reconciled', 'all good')] }),
      'Healthy',
    ],
    ['Ready Unknown', observed(cond('Ready', 'Unknown')), 'Progressing'],
    ['a namespace conflict', observed(cond('Ready', 'False', 'NamespaceConflict')), 'Degraded'],
    ['a suspended tenant', observed(cond('Ready', 'True'), cond('Suspended', 'True')), 'Suspended'],
    ['a service rolling out', observed(cond('Ready', 'False', 'RollingOut')), 'Progressing'],
    [
      'a Deployment still progressing',
      observed(
        cond('Progressing', 'True', 'ReplicaSetUpdated'),
        cond('Ready', 'False', 'MinimumReplicasUnavailable'),
      ),
      'Progressing',
    ],
    [
      'a Deployment past its progress deadline',
      observed(
        cond('Progressing', 'False', 'ProgressDeadlineExceeded'),
        cond('Ready', 'False', 'MinimumReplicasUnavailable'),
      ),
      'Degraded',
    ],
    [
      'a rolled-out service refused by quota',
      observed(
        cond('Progressing', 'True', 'NewReplicaSetAvailable'),
        cond('Ready', 'False', 'QuotaExceeded'),
      ),
      'Degraded',
    ],
  ])('%s: %s', (_what, obj, status) => {
    expect(health(obj).status).toBe(status);
  });

  it("carries the Ready condition's reason and message into the Degraded message", () => {
    const obj = observed(cond('Ready', 'False', 'ClassNotFound', 'class e-permits does not exist'));
    expect(health(obj)).toEqual({
      status: 'Degraded',
      message: 'ClassNotFound: class e-permits does not exist',
    });
  });

  it('is registered in argocd-cm for every kind, with the script as it is', () => {
    const cm = parse(readFileSync(`${ROOT}config/argocd/argocd-cm-health.yaml`, 'utf8')) as {
      data: Record<string, string>;
    };
    expect(Object.keys(cm.data).sort()).toEqual(
      HEALTH_CHECKED_KINDS.map((k) => `resource.customizations.health.gov.secovia.eu_${k}`).sort(),
    );
    for (const value of Object.values(cm.data)) expect(value).toBe(script);
  });
});
