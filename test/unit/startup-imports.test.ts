/**
 * What the operator loads when it starts: the modules reached from its entry point by static imports.
 * The API's zod schemas (some 5 MiB of heap) are not among them: only a Federation's exchange with
 * its peers validates with them at run time, and it loads them when the first Federation is reconciled.
 * Nor is an ES import of a built-in whose lazy getters load what nothing uses (node:http's load undici).
 */
import { existsSync, readFileSync } from 'node:fs';

const SRC = new URL('../../src/', import.meta.url);

/** Value imports and re-exports of a module: `import type` and `export type` load nothing. */
const STATIC_IMPORT = /^(?:import|export)\s+(?!type\b)(?:[^;'"]*?\sfrom\s+)?'([^']+)';/gms;

/** Every module reached from `entry` (a path under src) by static imports: sources and packages. */
function staticGraph(entry: string): { sources: Set<string>; packages: Set<string>; builtins: Set<string> } {
  const sources = new Set<string>();
  const packages = new Set<string>();
  const builtins = new Set<string>();
  const visit = (url: URL): void => {
    const path = url.pathname.slice(SRC.pathname.length);
    if (sources.has(path)) return;
    sources.add(path);
    for (const [, specifier] of readFileSync(url, 'utf8').matchAll(STATIC_IMPORT)) {
      if (specifier!.startsWith('.')) {
        const next = new URL(specifier!.replace(/\.js$/, '.ts'), url);
        if (!existsSync(next)) throw new Error(`${path}: cannot resolve ${specifier}`);
        visit(next);
      } else if (specifier!.startsWith('node:')) {
        builtins.add(specifier!);
      } else {
        packages.add(
          specifier!.startsWith('@')
            ? specifier!.split('/').slice(0, 2).join('/')
            : specifier!.split('/')[0]!,
        );
      }
    }
  };
  visit(new URL(entry, SRC));
  return { sources, packages, builtins };
}

describe('the modules loaded at start', () => {
  const start = staticGraph('main.ts');

  it('reach the controllers and the runtime', () => {
    expect([...start.sources]).toEqual(
      expect.arrayContaining([
        'controllers/index.ts',
        'controllers/federation/reconcile.ts',
        'runtime/manager.ts',
      ]),
    );
    expect([...start.packages]).toEqual(expect.arrayContaining(['winston', 'prom-client']));
  });

  it('leave out zod and the schemas', () => {
    expect([...start.packages]).not.toContain('zod');
    expect([...start.sources].filter((s) => s.startsWith('api/') && s !== 'api/constants.ts')).toEqual([]);
  });

  it('take node:http, node:fs and node:util through require', () => {
    expect([...start.builtins]).toEqual(expect.arrayContaining(['node:https', 'node:module', 'node:crypto']));
    expect([...start.builtins].filter((b) => ['node:http', 'node:fs', 'node:util'].includes(b))).toEqual([]);
  });

  it('leave out the federation exchange, which loads the schemas', () => {
    const exchange = staticGraph('controllers/federation/exchange.ts');
    expect([...exchange.packages]).toContain('zod');
    expect(start.sources.has('controllers/federation/exchange.ts')).toBe(false);
  });
});
