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
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
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

export function buildOperatorImage(outDir: string): BuiltImage {
  const node = join(
    execFileSync('bash', [join(ROOT, 'hack/ensure-node.sh')])
      .toString()
      .trim(),
    'node',
  );
  const dist = join(ROOT, 'dist/src');
  const work = join(outDir, 'operator');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // Production dependencies only, from the lock file, as the Dockerfile's second stage installs them.
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(work, f));
  execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: work,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const [image] = writeArchive(
    [
      {
        name: chartImage(),
        files: {
          '/nodejs/bin/node': node,
          ...sharedLibraries(node),
          '/app/package.json': join(ROOT, 'package.json'),
        },
        trees: { '/app/dist/src': dist, '/app/node_modules': join(work, 'node_modules') },
        entrypoint: ['/nodejs/bin/node', 'dist/src/main.js'],
        env: { NODE_ENV: 'production' },
        workingDir: '/app',
      },
    ],
    join(outDir, 'operator.tar'),
  );
  rmSync(work, { recursive: true, force: true });
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
