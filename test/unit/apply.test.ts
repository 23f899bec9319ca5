/** The pure parts of the apply path: quantity values, the "already applied" check and the applied hash. */
import { APPLIED_HASH } from '../../src/controllers/labels.js';
import { isSubset, quantityValue, withAppliedHash } from '../../src/runtime/apply.js';
import type { KubeObject } from '../../src/runtime/types.js';

describe('quantityValue', () => {
  it.each<[unknown, number]>([
    ['1Gi', 1073741824],
    ['1024Mi', 1073741824],
    ['1Ki', 1024],
    ['1Ti', 2 ** 40],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['500m', 0.5],
    ['250m', 0.25],
    ['1k', 1000],
    ['2M', 2e6],
    ['1G', 1e9],
    ['1e3', 1000],
    ['1e+3', 1000],
    ['5e-1', 0.5],
    ['2', 2],
    [2, 2],
    [0, 0],
    ['0', 0],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['+3', 3],
    ['-1', -1],
  ])('%p is %p', (input, expected) => {
    expect(quantityValue(input)).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['a word', 'abc'],
    ['the empty string', ''],
    ['a suffix alone', 'Gi'],
    ['a lower-case binary suffix', '1gi'],
    ['a space before the suffix', '1 Gi'],
    ['two dots', '1.2.3'],
    ['two signs', '--1'],
    ['an unknown suffix', '1Xi'],
    ['two suffixes', '1GiMi'],
    ['a boolean', true],
    ['null', null],
    ['undefined', undefined],
    ['an object', { cpu: '1' }],
    ['an array', ['1']],
  ])('%s is not a quantity', (_name, input) => {
    expect(quantityValue(input)).toBeUndefined();
  });

  // Suffixes and exponents that Kubernetes (and the CRD schema's quantity pattern) accept.
  it.each<[string, number]>([
    ['1E3', 1000],
    ['500u', 0.0005],
    ['100n', 1e-7],
  ])('%s is the Kubernetes quantity %p', (input, expected) => {
    // Decimal fractions are not exact in binary floating point: equal to within rounding.
    expect(quantityValue(input)).toBeCloseTo(expected, 15);
  });
});

describe('isSubset', () => {
  it.each<[string, unknown, unknown, boolean]>([
    ['equal scalars', 'a', 'a', true],
    ['different strings', 'a', 'b', false],
    ['nested equal', { spec: { replicas: 2 } }, { spec: { replicas: 2 } }, true],
    ['nested different', { spec: { replicas: 2 } }, { spec: { replicas: 3 } }, false],
    ['extra fields in live are fine', { spec: { a: 1 } }, { spec: { a: 1, b: 2 }, status: { x: 1 } }, true],
    ['a missing field is not', { spec: { a: 1, b: 2 } }, { spec: { a: 1 } }, false],
    ['a missing nested object is not', { spec: { template: {} } }, { spec: {} }, false],
    ['an undefined desired field is skipped', { spec: { a: 1, b: undefined } }, { spec: { a: 1 } }, true],
    ['an undefined desired field ignores the live value', { a: undefined }, { a: 'x' }, true],
    ['an empty desired object matches any object', {}, { a: 1 }, true],
    ['an object does not match a scalar', { a: 1 }, 'a', false],
    ['an object does not match null', { a: 1 }, null, false],
    ['an object does not match an array', {}, [], false],
    ['an array does not match an object', [], {}, false],
    ['arrays by position', [1, 2], [1, 2], true],
    ['arrays in another order', [1, 2], [2, 1], false],
    ['a longer live array', [1], [1, 2], false],
    ['a shorter live array', [1, 2], [1], false],
    ['arrays of objects: subset per element', [{ name: 'a' }], [{ name: 'a', uid: 'x' }], true],
    ['arrays of objects: element differs', [{ name: 'a' }], [{ name: 'b' }], false],
    ['null equals null', null, null, true],
    ['null does not equal a missing value', { a: null }, {}, false],
    ['1024Mi matches 1Gi', '1024Mi', '1Gi', true],
    ['1Gi matches 1024Mi', '1Gi', '1024Mi', true],
    ['1000m matches 1', '1000m', '1', true],
    ['1 matches 1000m', '1', '1000m', true],
    ['a number matches its string', 2, '2', true],
    ['a string matches its number', '200', 200, true],
    ['0.5 matches 500m', '0.5', '500m', true],
    ['1Gi does not match 1G', '1Gi', '1G', false],
    ['2 does not match 2k', '2', '2k', false],
    ['a quantity does not match a word', '1', 'one', false],
    [
      'quantities inside objects',
      { hard: { cpu: '2', memory: '1Gi' } },
      { hard: { cpu: '2000m', memory: '1024Mi' } },
      true,
    ],
    ['true does not match "true"', true, 'true', false],
    ['"true" does not match true', 'true', true, false],
    ['1 does not match true', 1, true, false],
    ['0 does not match false', 0, false, false],
    ['"1" does not match true', '1', true, false],
    ['true does not match 1', true, 1, false],
    ['false matches false', false, false, true],
    ['false does not match a missing value', { a: false }, {}, false],
  ])('%s', (_name, desired, live, expected) => {
    expect(isSubset(desired, live)).toBe(expected);
  });

  // The API server stores quantities in canonical form: 0.7 comes back as 700m, 1.4 as 1400m.
  it.each<[string, string]>([
    ['0.7', '700m'],
    ['1.4', '1400m'],
    ['0.35', '350m'],
    ['0.0005', '500u'],
    ['1E3', '1e3'],
  ])('%s matches its canonical form %s', (desired, live) => {
    expect(isSubset({ spec: { hard: { cpu: desired } } }, { spec: { hard: { cpu: live } } })).toBe(true);
  });
});

describe('withAppliedHash', () => {
  const quota = (cpu: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'secovia-quota', namespace: 'hu-budapest-prod', labels: { a: 'b' }, ...extra },
    spec: { hard: { 'requests.cpu': cpu } },
  });
  const hash = (o: KubeObject): string | undefined =>
    withAppliedHash(o, APPLIED_HASH).metadata.annotations?.[APPLIED_HASH];

  it('records a short hex hash under the applied-hash annotation', () => {
    expect(APPLIED_HASH).toBe('gov.secovia.eu/applied-hash');
    expect(hash(quota('1'))).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is stable for equal content built separately', () => {
    expect(hash(quota('1'))).toBe(hash(quota('1')));
  });

  it.each<[string, KubeObject]>([
    ['another value', quota('2')],
    ['another name', { ...quota('1'), metadata: { ...quota('1').metadata, name: 'other' } }],
    ['another namespace', quota('1', { namespace: 'hu-budapest-test' })],
    ['another label', quota('1', { labels: { a: 'c' } })],
    ['an annotation', quota('1', { annotations: { note: 'x' } })],
    [
      'an owner reference',
      quota('1', { ownerReferences: [{ apiVersion: 'v', kind: 'K', name: 'n', uid: 'u' }] }),
    ],
    ['another kind', { ...quota('1'), kind: 'LimitRange' }],
  ])('changes with %s', (_name, changed) => {
    expect(hash(changed)).not.toBe(hash(quota('1')));
  });

  it('keeps the other annotations and the rest of the object', () => {
    const o = quota('1', { annotations: { note: 'x' } });
    const hashed = withAppliedHash(o, APPLIED_HASH);
    expect(hashed.metadata.annotations).toEqual({ note: 'x', [APPLIED_HASH]: hash(o) });
    expect({ ...hashed, metadata: { ...hashed.metadata, annotations: { note: 'x' } } }).toEqual(o);
  });

  it('does not modify its input', () => {
    const o = quota('1', { annotations: { note: 'x' } });
    const copy = structuredClone(o);
    withAppliedHash(o, APPLIED_HASH);
    expect(o).toEqual(copy);
  });

  it('gives an object that matches itself once stored', () => {
    const hashed = withAppliedHash(quota('1'), APPLIED_HASH);
    const live = { ...structuredClone(hashed), status: { used: {} } };
    live.metadata.uid = 'uid-1';
    expect(isSubset(hashed, live)).toBe(true);
    expect(isSubset(withAppliedHash(quota('2'), APPLIED_HASH), live)).toBe(false);
  });
});
