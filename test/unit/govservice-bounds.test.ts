/** Bounds of a GovService: its name (CRD rules) and its parameters (CRD keys, operator depth and size). */
import { MAX_PARAMETERS, MAX_PARAMETERS_BYTES } from '../../src/api/constants.js';
import { govServiceDefinition } from '../../src/api/govservice.js';
import { govServiceSpec } from '../../src/api/index.js';
import { depthOf, parametersBoundsProblem } from '../../src/controllers/govservice/checks.js';

/** The root rules read self.metadata.name only: evaluated here with their regular expression and prefix. */
function nameRefusals(name: string): string[] {
  const [shape, prefix] = govServiceDefinition.validations!;
  const pattern = /matches\('(.+)'\)/.exec(shape!.rule)![1]!;
  const max = Number(/size\(self\.metadata\.name\) <= (\d+)/.exec(shape!.rule)![1]);
  return [
    ...(name.length <= max && new RegExp(pattern).test(name) ? [] : [shape!.message]),
    ...(name.startsWith('secovia-') ? [prefix!.message] : []),
  ];
}

describe('GovService names', () => {
  it.each([
    ['permits', 0],
    ['p', 0],
    ['e-permits-2', 0],
    [`p${'a'.repeat(62)}`, 0],
    [`p${'a'.repeat(63)}`, 1],
    ['1permits', 1],
    ['-permits', 1],
    ['permits-', 1],
    ['Permits', 1],
    ['permits.v2', 1],
    ['secovia-quota', 1],
    ['secovia', 0],
  ])('%s: %i refusal(s)', (name, refusals) => {
    expect(nameRefusals(name)).toHaveLength(refusals);
  });

  it('name the field in every message', () => {
    for (const v of govServiceDefinition.validations!) expect(v.message).toMatch(/^metadata\.name: /);
  });
});

describe('GovService parameters', () => {
  const spec = (parameters: unknown) =>
    govServiceSpec.safeParse({ class: 'e-permits', plan: 'small', parameters });

  it(`accepts ${MAX_PARAMETERS} keys and refuses one more`, () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    expect(spec(keys(MAX_PARAMETERS)).success).toBe(true);
    expect(spec(keys(MAX_PARAMETERS + 1)).success).toBe(false);
  });

  it.each([
    [{}, 1],
    [{ a: 1 }, 1],
    [{ a: [1, 2] }, 2],
    [{ a: { b: { c: [] } } }, 4],
    [[[[[]]]], 4],
    ['text', 0],
  ])('depth of %j is %i', (value, depth) => {
    expect(depthOf(value)).toBe(depth);
  });

  it('stops counting past its limit, however deep the value', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(depthOf(deep, 8)).toBe(9);
  });

  const nested = (levels: number): unknown => {
    let v: unknown = 'leaf';
    for (let i = 0; i < levels; i++) v = { n: v };
    return v;
  };

  it.each([
    ['absent', undefined, undefined],
    ['8 levels', nested(8), undefined],
    ['9 levels', nested(9), 'spec.parameters: nested more than 8 levels deep (objects and arrays)'],
    ['64 KiB', { blob: 'x'.repeat(MAX_PARAMETERS_BYTES - 11) }, undefined],
    [
      'one byte more',
      { blob: 'x'.repeat(MAX_PARAMETERS_BYTES - 10) },
      `spec.parameters: ${MAX_PARAMETERS_BYTES + 1} bytes as JSON, at most ${MAX_PARAMETERS_BYTES} are allowed`,
    ],
  ])('bounds: %s', (_name, parameters, message) => {
    const problem = parametersBoundsProblem(parameters);
    expect(problem?.message).toBe(message);
    if (message) expect(problem?.reason).toBe('InvalidParameters');
  });
});
