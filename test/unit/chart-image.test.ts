/**
 * The image and the Deployment fit together: what the Dockerfile runs is what the e2e test starts
 * (node and the built dist/), as the user the Deployment requires, with production dependencies only.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const ROOT = new URL('../../', import.meta.url).pathname;
const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((l) => l.trim() && !l.trim().startsWith('#'))
  .map((l) => {
    const [op = '', ...rest] = l.trim().split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });
const stages = instructions.reduce<{ op: string; args: string }[][]>((acc, i) => {
  if (i.op === 'FROM') acc.push([]);
  acc[acc.length - 1]!.push(i);
  return acc;
}, []);
const final = stages[stages.length - 1]!;
const arg = (op: string) => final.find((i) => i.op === op)?.args;

interface Container {
  command?: string[];
  args?: string[];
  securityContext: { runAsUser: number; runAsGroup: number; readOnlyRootFilesystem: boolean };
}
const manager = parseAllDocuments(readFileSync(`${ROOT}config/manager/manager.yaml`, 'utf8'))
  .map((d) => d.toJS() as { kind: string; spec: { template: { spec: { containers: Container[] } } } })
  .find((d) => d.kind === 'Deployment')!.spec.template.spec.containers[0]!;

describe('Dockerfile', () => {
  it('builds in stages and ships production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const installs = final.filter((i) => i.op === 'RUN');
    expect(installs).toEqual([]); // nothing runs in the final stage: it has no shell
    const deps = instructions.filter((i) => i.op === 'RUN' && i.args.includes('--omit=dev'));
    expect(deps).toHaveLength(1);
  });

  it('runs on a base image without a shell, as a numeric non-root user, with no HEALTHCHECK', () => {
    expect(final[0]!.args).toMatch(/^gcr\.io\/distroless\/nodejs\d+-debian\d+:nonroot$/);
    expect(arg('USER')).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(instructions.some((i) => i.op === 'HEALTHCHECK')).toBe(false);
  });

  it('starts node, sized for memory, on the built dist/src/main.js in exec form, and the Deployment does not override it', () => {
    expect(JSON.parse(arg('ENTRYPOINT')!)).toEqual([
      '/nodejs/bin/node',
      '--optimize-for-size',
      'dist/src/main.js',
    ]);
    expect(final.some((i) => i.op === 'CMD')).toBe(false);
    expect(manager.command).toBeUndefined();
    expect(manager.args).toBeUndefined();
  });

  it('runs as the user the Deployment asks for, on a read-only root filesystem', () => {
    const [uid, gid] = arg('USER')!.split(':').map(Number);
    expect(manager.securityContext).toMatchObject({
      runAsUser: uid,
      runAsGroup: gid,
      readOnlyRootFilesystem: true,
    });
  });

  it('copies only what the image is built from (.dockerignore allows no tests, charts or secrets)', () => {
    const allowed = readFileSync(`${ROOT}.dockerignore`, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'));
    expect(allowed.sort()).toEqual([
      '!package-lock.json',
      '!package.json',
      '!src/',
      '!tsconfig.build.json',
      '!tsconfig.json',
    ]);
    expect(readFileSync(`${ROOT}.dockerignore`, 'utf8')).toMatch(/^\*$/m);
  });
});
