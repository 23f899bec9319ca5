/**
 * Container images without a registry or a container engine: static Go programs (hack/node/) laid
 * into single-layer OCI images, written as one OCI image archive that `ctr images import` takes.
 * Layers are reproducible (sorted, zero times, numeric root owner), so an image's digest depends only
 * on what is in it. Used by the node harness (test/harness/node.ts) and hack/node.sh.
 *
 *   node --import ./hack/register-ts.mjs hack/node-images.ts OUT_DIR
 *
 * writes OUT_DIR/images.tar and OUT_DIR/images.json (each image's name and manifest digest).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = new URL('../', import.meta.url).pathname;

export interface ImageSpec {
  /** Full reference, e.g. registry.example.eu/secovia/e-permits:2.4.0 */
  name: string;
  /** Files of the image: path inside the image → file on this machine (mode 0755). */
  files: Record<string, string>;
  /** Directories of the image: path inside the image → directory on this machine, copied whole. */
  trees?: Record<string, string>;
  entrypoint: string[];
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
}

export interface BuiltImage {
  name: string;
  digest: string;
}

/** The UID the images run as by default: the restricted profile's non-root user. */
export const IMAGE_USER = '65532:65532';
export const PAUSE_IMAGE = 'secovia.local/pause:1';
export const APP_IMAGE = 'secovia.local/app:1';
export const COREDNS_IMAGE = 'secovia.local/coredns:1';

/** The repository of an image reference: without its tag or digest. */
export const repositoryOf = (ref: string): string => ref.replace(/@.*$/, '').replace(/:[^:/]+$/, '');

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** Builds the static programs of hack/node/ into dir; returns program → path. */
export function buildPrograms(dir: string): Record<'pause' | 'app', string> {
  mkdirSync(dir, { recursive: true });
  const out = { pause: join(dir, 'pause'), app: join(dir, 'app') };
  for (const [name, path] of Object.entries(out)) {
    execFileSync('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', path, `./${name}`], {
      cwd: join(ROOT, 'hack/node'),
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod -buildvcs=false' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return out;
}

/** A reproducible tar of the image's files (sorted names, zero times, owner root by number). */
function layerTar(work: string, files: Record<string, string>, trees: Record<string, string> = {}): string {
  const rootfs = join(work, 'rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  for (const [inImage, source] of Object.entries(trees)) {
    cpSync(source, join(rootfs, inImage), { recursive: true, dereference: true });
  }
  for (const [inImage, source] of Object.entries(files)) {
    const target = join(rootfs, inImage);
    mkdirSync(join(target, '..'), { recursive: true });
    copyFileSync(source, target);
    chmodSync(target, 0o755);
  }
  // Writable scratch for programs that need one (the pods mount an emptyDir there anyway).
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  const tar = join(work, 'layer.tar');
  execFileSync('tar', [
    '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu',
    '-C', rootfs, '-cf', tar, '.',
  ]); // prettier-ignore
  rmSync(rootfs, { recursive: true, force: true });
  return tar;
}

/** Writes every image into one OCI image archive (oci-layout, index.json, blobs) at `archive`. */
export function writeArchive(images: ImageSpec[], archive: string): BuiltImage[] {
  const work = `${archive}.d`;
  rmSync(work, { recursive: true, force: true });
  const blobs = join(work, 'layout', 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const blob = (data: Buffer | string, mediaType: string) => {
    const digest = sha256(data);
    writeFileSync(join(blobs, digest), data);
    return { mediaType, digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };
  const fileBlob = (file: string, mediaType: string) => {
    const digest = sha256(readFileSync(file));
    renameSync(file, join(blobs, digest));
    return { mediaType, digest: `sha256:${digest}`, size: statSync(join(blobs, digest)).size };
  };
  const manifests = images.map((image) => {
    const layer = fileBlob(
      layerTar(work, image.files, image.trees),
      'application/vnd.oci.image.layer.v1.tar',
    );
    const config = blob(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {
          Entrypoint: image.entrypoint,
          Env: Object.entries(image.env ?? {}).map(([k, v]) => `${k}=${v}`),
          User: image.user ?? IMAGE_USER,
          WorkingDir: image.workingDir ?? '/',
        },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
      'application/vnd.oci.image.config.v1+json',
    );
    const manifest = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config,
        layers: [layer],
      }),
      'application/vnd.oci.image.manifest.v1+json',
    );
    return { ...manifest, name: image.name };
  });
  // Each image under its tag and under its digest (repository@sha256:...): the container runtime
  // resolves a reference pinned by digest only through a name of that form.
  const index = manifests.flatMap(({ name, ...m }) =>
    [name, `${repositoryOf(name)}@${m.digest}`].map((n) => ({
      ...m,
      annotations: { 'io.containerd.image.name': n },
    })),
  );
  writeFileSync(join(work, 'layout', 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(work, 'layout', 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: index }));
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner',
    '-C', join(work, 'layout'), '-cf', archive, '.']); // prettier-ignore
  rmSync(work, { recursive: true, force: true });
  return manifests.map((m, i) => ({ name: images[i]!.name, digest: m.digest }));
}

interface SampleClass {
  metadata: { name: string };
  spec: { image: string; versions: string[]; port?: number; healthPath?: string };
}

/** The sample catalog's classes (config/samples): one image per class and version. */
export function catalogImages(app: string): ImageSpec[] {
  const text = readFileSync(join(ROOT, 'config/samples/gov_v1alpha1_govserviceclass.yaml'), 'utf8');
  const classes = parseAllDocuments(text).map((d) => d.toJS() as SampleClass);
  return classes.flatMap((c) =>
    c.spec.versions.map((version) => ({
      name: `${c.spec.image}:${version}`,
      files: { '/app': app },
      entrypoint: ['/app'],
      env: {
        SECOVIA_SERVICE: c.metadata.name,
        SECOVIA_VERSION: version,
        PORT: String(c.spec.port ?? 8080),
        HEALTH_PATH: c.spec.healthPath ?? '/healthz',
      },
    })),
  );
}

/** Builds the node's images (sandbox, test client, cluster DNS, the sample catalog) into outDir. */
export function buildNodeImages(outDir: string, corednsBinary: string): BuiltImage[] {
  const programs = buildPrograms(join(outDir, 'programs'));
  const images: ImageSpec[] = [
    { name: PAUSE_IMAGE, files: { '/pause': programs.pause }, entrypoint: ['/pause'] },
    { name: APP_IMAGE, files: { '/app': programs.app }, entrypoint: ['/app'] },
    { name: COREDNS_IMAGE, files: { '/coredns': corednsBinary }, entrypoint: ['/coredns'] },
    ...catalogImages(programs.app),
  ];
  const built = writeArchive(images, join(outDir, 'images.tar'));
  writeFileSync(join(outDir, 'images.json'), `${JSON.stringify(built, null, 2)}\n`);
  return built;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [outDir, coredns] = process.argv.slice(2);
  if (!outDir || !coredns) {
    console.error('usage: hack/node-images.ts OUT_DIR COREDNS_BINARY');
    process.exit(2);
  }
  for (const image of buildNodeImages(outDir, coredns)) console.log(`${image.digest} ${image.name}`);
}
