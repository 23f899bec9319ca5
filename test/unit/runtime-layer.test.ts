/**
 * The runtime is a generic library, as controller-runtime is: it names no kind, group or name of
 * this operator, which gives it its identity and its resource types through the Manager's options.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { GROUP, kindDefinitions } from '../../src/api/index.js';
import { operatorIdentity } from '../../src/controllers/index.js';
import { resourceFor, resources } from '../../src/controllers/resources.js';
import { builtinResources, resolverOf } from '../../src/runtime/resources.js';

const RUNTIME = new URL('../../src/runtime/', import.meta.url);
const sources = readdirSync(RUNTIME)
  .filter((f) => f.endsWith('.ts'))
  .map((file) => ({ file, text: readFileSync(new URL(file, RUNTIME), 'utf8') }));

/** Every line of the runtime that matches `pattern`, as `file:line: text`. */
const linesMatching = (pattern: RegExp): string[] =>
  sources.flatMap(({ file, text }) =>
    text
      .split('\n')
      .map((line, i) => ({ line, at: `${file}:${i + 1}` }))
      .filter(({ line }) => pattern.test(line))
      .map(({ line, at }) => `${at}: ${line.trim()}`),
  );

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the runtime layer', () => {
  it('scans the whole runtime', () => {
    expect(sources.map((s) => s.file)).toEqual(
      expect.arrayContaining(['apply.ts', 'cache.ts', 'events.ts', 'manager.ts', 'resources.ts', 'types.ts']),
    );
  });

  it.each([
    ['the API group', new RegExp(escape(GROUP))],
    ['the operator name', /secovia/i],
    ['a kind of the operator', new RegExp(`\\b(${kindDefinitions.map((d) => d.kind).join('|')})\\b`)],
    ['a resource of the operator', new RegExp(`\\b(${kindDefinitions.map((d) => d.plural).join('|')})\\b`)],
    ['a Gov* identifier', /\bGov[A-Z]\w*/],
  ])('never names %s', (_what, pattern) => {
    expect(linesMatching(pattern)).toEqual([]);
  });

  it('imports nothing from outside itself', () => {
    expect(linesMatching(/\bfrom '\.\.\//)).toEqual([]);
  });

  it('resolves only the types of the table it is given', () => {
    const resolve = resolverOf(builtinResources);
    expect(resolve('coordination.k8s.io/v1', 'Lease')).toBe(builtinResources.Lease);
    expect(() => resolve('v1', 'Pod')).toThrow('unknown resource type v1 Pod');
  });
});

describe('the operator as the runtime sees it', () => {
  it('keeps the names live clusters already hold', () => {
    expect(operatorIdentity).toMatchObject({
      leaseName: 'secovia-operator-leader',
      applier: { fieldManager: 'secovia-operator', appliedHashAnnotation: 'gov.secovia.eu/applied-hash' },
      eventReporter: { component: 'secovia-operator', reportingComponent: 'gov.secovia.eu/secovia-operator' },
    });
  });

  it.each([
    ['GovTenant', 'govtenants', false],
    ['GovServiceClass', 'govserviceclasses', false],
    ['GovService', 'govservices', true],
    ['GovServiceImport', 'govserviceimports', true],
    ['Federation', 'federations', false],
  ])('resolves its kind %s to the resource %s', (kind, plural, namespaced) => {
    expect(resourceFor('gov.secovia.eu/v1alpha1', kind)).toEqual({
      group: 'gov.secovia.eu',
      version: 'v1alpha1',
      kind,
      plural,
      namespaced,
    });
  });

  it('resolves the built-in kinds beside its own', () => {
    expect(resourceFor('apps/v1', 'Deployment')).toBe(resources.Deployment);
    expect(Object.keys(resources)).toEqual(
      expect.arrayContaining([...kindDefinitions.map((d) => d.kind), ...Object.keys(builtinResources)]),
    );
  });
});
