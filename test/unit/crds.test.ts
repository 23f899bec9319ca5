/** The committed CRDs are what src/api generates, and the API server will accept them as structural. */
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { renderCrds } from '../../src/api/render.js';

const CRDS = new URL('../../crds/', import.meta.url);
const rendered = renderCrds();

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

const crds = [...rendered].map(([file, text]) => ({ file, crd: parse(text) as Node }));
const versionOf = (crd: Node): Node => (crd.spec as { versions: Node[] }).versions[0]!;
const rootOf = (crd: Node): Node => (versionOf(crd).schema as { openAPIV3Schema: Node }).openAPIV3Schema;
const at = (schema: Node, ...path: string[]): Node =>
  path.reduce<Node>((node, key) => (node.properties as Record<string, Node>)[key]!, schema);

/** Every schema a field can hold: properties, array items and map values (not the anyOf branches). */
function* fields(node: Node, path: string): Generator<[string, Node]> {
  yield [path, node];
  if (isNode(node.properties)) {
    for (const [k, v] of Object.entries(node.properties)) yield* fields(v as Node, `${path}.${k}`);
  }
  if (isNode(node.items)) yield* fields(node.items, `${path}[]`);
  if (isNode(node.additionalProperties)) yield* fields(node.additionalProperties, `${path}{}`);
}

/** Every node and key anywhere in a document, for checks that must hold everywhere. */
function* allNodes(value: unknown): Generator<Node> {
  if (Array.isArray(value)) for (const v of value) yield* allNodes(v);
  if (!isNode(value)) return;
  yield value;
  for (const v of Object.values(value)) yield* allNodes(v);
}

describe('crds/', () => {
  it('holds exactly what renderCrds() produces (run `npm run generate` after changing src/api)', () => {
    const committed = readdirSync(CRDS)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    expect(committed).toEqual([...rendered.keys()].sort());
    for (const [file, text] of rendered) {
      const onDisk = readFileSync(new URL(file, CRDS), 'utf8');
      if (onDisk !== text) throw new Error(`crds/${file} is stale: run \`npm run generate\``);
    }
  });

  it('starts every file with the generated-file notice', () => {
    for (const text of rendered.values()) {
      expect(text.split('\n')[0]).toBe('# Generated from src/api by hack/generate-crds.ts; do not edit.');
    }
  });
});

describe.each(crds)('$file', ({ crd }) => {
  const root = rootOf(crd);

  it('describes every field of spec and status', () => {
    const missing = ['spec', 'status'].flatMap((part) =>
      [...fields(at(root, part), part)].filter(
        ([, n]) => typeof n.description !== 'string' || !n.description,
      ),
    );
    expect(missing.map(([path]) => path)).toEqual([]);
  });

  it('has no $ref, $schema, definitions or additionalProperties: false, and no maps beside properties', () => {
    for (const node of allNodes(root)) {
      for (const key of ['$ref', '$schema', '$defs', 'definitions', 'const', 'propertyNames']) {
        expect(node).not.toHaveProperty([key]);
      }
      expect(node.additionalProperties).not.toBe(false);
      if ('properties' in node) expect(node).not.toHaveProperty(['additionalProperties']);
    }
  });

  it('types every field, with object for objects and maps', () => {
    for (const [path, node] of fields(root, 'root')) {
      const typed = typeof node.type === 'string' || node['x-kubernetes-int-or-string'] === true;
      if (!typed) throw new Error(`${path} has no type`);
      if ('properties' in node || 'additionalProperties' in node) expect(node.type).toBe('object');
    }
  });

  it('bounds every string and list, so that CEL rules stay within the cost budget', () => {
    for (const [path, node] of fields(at(root, 'spec'), 'spec')) {
      const unbounded =
        (node.type === 'string' && node.maxLength === undefined && node.enum === undefined && !node.format) ||
        (node.type === 'array' && node.maxItems === undefined);
      if (unbounded) throw new Error(`${path} has no maxLength or maxItems`);
    }
  });

  it('keeps conditions as a list-map keyed by type', () => {
    const conditions = at(root, 'status', 'conditions');
    expect(conditions['x-kubernetes-list-type']).toBe('map');
    expect(conditions['x-kubernetes-list-map-keys']).toEqual(['type']);
    expect(at(conditions.items as Node, 'reason').pattern).toBe('^[A-Z][A-Za-z0-9]*$');
  });

  it('is named, categorised and versioned for the gov.secovia.eu group', () => {
    const names = (crd.spec as { names: Node }).names;
    expect(names.categories).toEqual(['secovia']);
    expect((crd.metadata as Node).name).toBe(`${String(names.plural)}.gov.secovia.eu`);
    expect(versionOf(crd)).toMatchObject({
      name: 'v1alpha1',
      served: true,
      storage: true,
      subresources: { status: {} },
    });
    expect(root.required).toEqual(['spec']);
    expect(at(root, 'metadata')).toEqual({ type: 'object' });
  });

  it('shows Age, and Ready from the Ready condition where it has one', () => {
    const columns = versionOf(crd).additionalPrinterColumns as Node[];
    expect(columns.at(-1)).toEqual({ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' });
    const ready = columns.find((c) => c.name === 'Ready');
    if (ready) expect(ready.jsonPath).toBe('.status.conditions[?(@.type=="Ready")].status');
  });
});

describe('kinds', () => {
  const byKind = new Map(crds.map(({ crd }) => [(crd.spec as { names: { kind: string } }).names.kind, crd]));

  it.each([
    ['GovTenant', 'Cluster', ['gt'], ['Country', 'Level', 'Ready', 'Namespaces', 'Age']],
    ['GovServiceClass', 'Cluster', ['gsc'], ['Block', 'Versions', 'Instances', 'Age']],
    ['GovService', 'Namespaced', ['gs'], ['Class', 'Plan', 'Version', 'Ready', 'URL', 'Age']],
    ['Federation', 'Cluster', ['fed'], ['Local', 'Country', 'Ready', 'Peers', 'Age']],
  ])('%s is %s with short names %j and columns %j', (kind, scope, shortNames, columns) => {
    const crd = byKind.get(kind)!;
    expect(crd.spec).toMatchObject({ scope, names: { shortNames } });
    expect((versionOf(crd).additionalPrinterColumns as Node[]).map((c) => c.name)).toEqual(columns);
  });

  it.each([
    ['GovTenant', ['spec', 'quota', 'cpu']],
    ['GovTenant', ['spec', 'limits', 'maxMemory']],
    ['GovServiceClass', ['spec', 'plans']],
  ])('%s %j is an int-or-string quantity with the quantity pattern', (kind, path) => {
    let node = at(rootOf(byKind.get(kind)!), ...path);
    if (node.type === 'array') node = at(node.items as Node, 'resources', 'cpu');
    expect(node).toMatchObject({
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      pattern: expect.stringContaining('[KMGTPE]i'),
    });
    expect(node).not.toHaveProperty(['type']);
  });

  it('keeps free-form objects free: parametersSchema and parameters preserve unknown fields', () => {
    const free = [
      at(rootOf(byKind.get('GovServiceClass')!), 'spec', 'parametersSchema'),
      at(rootOf(byKind.get('GovService')!), 'spec', 'parameters'),
    ];
    for (const node of free) {
      expect(node).toMatchObject({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
      expect(node).not.toHaveProperty(['additionalProperties']);
    }
  });

  it('checks that every <tenant>-<environment> namespace name fits, at the root of GovTenant', () => {
    const rules = rootOf(byKind.get('GovTenant')!)['x-kubernetes-validations'] as Node[];
    expect(rules.map((r) => r.rule)).toContain(
      'self.spec.environments.all(e, size(self.metadata.name) + size(e.name) < 63)',
    );
  });
});
