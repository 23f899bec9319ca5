/** Writes crds/*.yaml from the zod schemas in src/api (npm run generate). */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { GROUP } from '../src/api/index.js';
import { renderCrds } from '../src/api/render.js';

const dir = new URL('../crds/', import.meta.url);
const files = renderCrds();
mkdirSync(dir, { recursive: true });
for (const [name, text] of files) writeFileSync(new URL(name, dir), text);
// A kind that was removed or renamed must not leave its old CRD behind.
for (const stale of readdirSync(dir).filter((f) => f.startsWith(`${GROUP}_`) && !files.has(f))) {
  rmSync(new URL(stale, dir));
}
console.log(`wrote ${[...files.keys()].map((f) => `crds/${f}`).join(', ')}`);
