/**
 * Bad input: every manifest of test/fixtures/invalid/<kind>/ is refused by a real API server (dry
 * run, nothing stored) with a message that names the field given in its `# expect:` comment. The
 * base each one breaks (test/fixtures/valid/<kind>.yaml) is accepted, so each refusal comes from
 * the one field that the manifest changes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { KubeClient } from '../../src/runtime/kube.js';
import { resourceFor } from '../../src/controllers/resources.js';
import { collectionPath } from '../../src/runtime/resources.js';
import type { KubeObject } from '../../src/runtime/types.js';
import type { ControlPlane } from '../harness/controlplane.js';
import { clientFor, controlPlaneWithCrds, ROOT } from './support.js';

const FIXTURES = `${ROOT}test/fixtures`;
const KINDS = ['govtenant', 'govserviceclass', 'govservice', 'federation'];

interface Manifest {
  file: string;
  expectedField: string;
  object: KubeObject;
}

function load(path: string): Manifest {
  const text = readFileSync(path, 'utf8');
  const expectedField = /^# expect: (\S+)$/m.exec(text)?.[1] ?? '';
  return { file: path.slice(FIXTURES.length + 1), expectedField, object: parse(text) as KubeObject };
}

const corpus = KINDS.flatMap((kind) =>
  readdirSync(`${FIXTURES}/invalid/${kind}`)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => load(`${FIXTURES}/invalid/${kind}/${f}`)),
);

/** The field path as a whole word of the message: `spec.quota` must not pass for `spec.quota.cpu`. */
const namesField = (message: string, field: string): boolean =>
  new RegExp(`(^|[\\s"'([])${field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[\\s"':,)])`).test(message);

let cp: ControlPlane;
let client: KubeClient;

beforeAll(async () => {
  cp = await controlPlaneWithCrds({ controllerManager: false });
  client = clientFor(cp);
  await client.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'corpus' } },
  });
}, 180_000);

afterAll(async () => {
  client?.close();
  await cp?.stop();
}, 60_000);

/** Creates with dryRun=All and strict field validation (kubectl's default): the refusal, or undefined. */
async function refusal(obj: KubeObject): Promise<string | undefined> {
  const r = resourceFor(obj.apiVersion, obj.kind);
  try {
    await client.request('POST', collectionPath(r, obj.metadata.namespace), {
      query: { dryRun: 'All', fieldValidation: 'Strict' },
      body: obj,
    });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

describe('invalid input corpus', () => {
  it('holds at least 60 manifests across every kind, each naming the field it breaks', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    for (const kind of KINDS)
      expect(corpus.filter((m) => m.file.includes(`/${kind}/`)).length).toBeGreaterThan(5);
    // A field of the spec, or the name where the kind constrains it beyond the API server's own rules.
    expect(corpus.filter((m) => !/^(spec\.|metadata\.name$)/.test(m.expectedField))).toEqual([]);
  });

  it.each(KINDS)('accepts the valid base of %s', async (kind) => {
    expect(await refusal(load(`${FIXTURES}/valid/${kind}.yaml`).object)).toBeUndefined();
  });

  it('refuses every manifest with a message naming its field', async () => {
    const outcomes: { file: string; field: string; message?: string }[] = [];
    // Eight requests at a time: fast, and gentle on a shared machine.
    for (let i = 0; i < corpus.length; i += 8) {
      const batch = corpus.slice(i, i + 8);
      const messages = await Promise.all(batch.map((m) => refusal(m.object)));
      batch.forEach((m, j) => outcomes.push({ file: m.file, field: m.expectedField, message: messages[j] }));
    }
    const wrong = outcomes.filter((o) => !o.message || !namesField(o.message, o.field));
    expect(wrong).toEqual([]);
  });
});
