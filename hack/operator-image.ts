/**
 * The operator's image without a container engine: the same content as the Dockerfile's final
 * stage (compiled JavaScript, production dependencies, Node.js, running as 65532), with the Node.js
 * binary of hack/ensure-node.sh and the C libraries it links from this machine (Debian's glibc and
 * libstdc++, as the distroless base carries them). Written as an OCI image archive for
 * `ctr images import`, named like the chart's default image, so that the chart runs it as it is.
 *
 *   npm run build && node --import ./hack/register-ts.mjs hack/operator-image.ts OUT_DIR
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { writeArchive, type BuiltImage } from './node-images.js';

const ROOT = new URL('../', import.meta.url).pathname;

/** The chart's default image: its repository and appVersion. */
export function chartImage(): string {
  const chart = parse(readFileSync(join(ROOT, 'charts/secovia-operator/Chart.yaml'), 'utf8')) as {
    appVersion: string;
  };
  const values = parse(readFileSync(join(ROOT, 'charts/secovia-operator/values.yaml'), 'utf8')) as {
    image: { repository: string };
  };
  return `${values.image.repository}:${chart.appVersion}`;
}

/** The Dockerfile's last stage: what the image is. */
const lastStage = (): string => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  return dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
};

/** The image's ENTRYPOINT: Node.js, its flags, the operator's script. */
export function imageEntrypoint(): string[] {
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(lastStage());
  if (!line) throw new Error('the Dockerfile has no ENTRYPOINT in exec form');
  return JSON.parse(line[1]!) as string[];
}

/** The flags the image gives Node.js, between the binary and the script. */
export const imageNodeFlags = (): string[] => imageEntrypoint().slice(1, -1);

/** The environment the image gives the operator: the ENV lines of the Dockerfile's last stage. */
export function imageEnvironment(): Record<string, string> {
  const last = lastStage();
  return Object.fromEntries(
    [...last.matchAll(/^ENV\s+(.+)$/gm)].flatMap(([, pairs]) =>
      pairs!
        .split(/\s+/)
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    ),
  );
}

/** The shared libraries a dynamically linked binary loads, as ldd resolves them on this machine. */
function sharedLibraries(binary: string): Record<string, string> {
  const out = execFileSync('ldd', [binary]).toString();
  const libs: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs[m[1]!] = m[1]!;
  }
  return libs;
}

/**
 * The production dependencies of package-lock.json (`npm ci --omit=dev`, as the Dockerfile's second
 * stage installs them), cached by the lock file's hash outside the repository.
 */
function productionDependencies(): string {
  const lock = readFileSync(join(ROOT, 'package-lock.json'));
  const cache = process.env.SECOVIA_CACHE ?? join(homedir(), '.cache', 'secovia');
  const dir = join(cache, 'operator-deps', createHash('sha256').update(lock).digest('hex').slice(0, 16));
  if (existsSync(join(dir, 'node_modules', '.package-lock.json'))) return join(dir, 'node_modules');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(dir, f));
  execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return join(dir, 'node_modules');
}

export function buildOperatorImage(outDir: string): BuiltImage {
  const node = join(
    execFileSync('bash', [join(ROOT, 'hack/ensure-node.sh')])
      .toString()
      .trim(),
    'node',
  );
  const dist = join(ROOT, 'dist/src');
  if (!existsSync(join(dist, 'main.js')))
    throw new Error('dist/src/main.js is missing: run `npm run build` first');
  mkdirSync(outDir, { recursive: true });
  const [image] = writeArchive(
    [
      {
        name: chartImage(),
        files: {
          '/nodejs/bin/node': node,
          ...sharedLibraries(node),
          '/app/package.json': join(ROOT, 'package.json'),
        },
        trees: { '/app/dist/src': dist, '/app/node_modules': productionDependencies() },
        entrypoint: imageEntrypoint(),
        env: imageEnvironment(),
        workingDir: '/app',
      },
    ],
    join(outDir, 'operator.tar'),
  );
  return image!;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [outDir] = process.argv.slice(2);
  if (!outDir) {
    console.error('usage: hack/operator-image.ts OUT_DIR');
    process.exit(2);
  }
  const image = buildOperatorImage(outDir);
  console.log(`${image.digest} ${image.name}`);
}
