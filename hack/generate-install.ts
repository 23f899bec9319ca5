/** Writes the generated parts of the Helm chart, config/ and the Argo CD health checks (npm run generate). */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CRD_COPY_DIRS, installFiles } from './install-files.js';

const root = new URL('../', import.meta.url).pathname;
const files = installFiles();
for (const [path, text] of files) {
  mkdirSync(dirname(`${root}${path}`), { recursive: true });
  writeFileSync(`${root}${path}`, text);
}
for (const dir of CRD_COPY_DIRS) {
  for (const f of readdirSync(`${root}${dir}`).filter((f) => !files.has(`${dir}${f}`)))
    rmSync(`${root}${dir}${f}`);
}
console.log(`wrote ${files.size} files of charts/ and config/`);
