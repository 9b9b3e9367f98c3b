import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pseudoRandomChunks } from './content.js';
import { makeTempDir } from './spawn.js';
import { runTool, toolPath } from './tools.js';

// Working commands (skopeo 1.9.3, umoci 0.4.7, run as root, no network):
//   umoci init --layout DIR; umoci new --image DIR:TAG
//   umoci insert --image DIR:TAG --history.created T --history.created_by X FILE /data/layer-N
//   umoci config --image DIR:TAG --architecture ARCH --os linux --created T --no-history
//   skopeo --insecure-policy copy [--all] oci:DIR:TAG docker://127.0.0.1:PORT/NAME:TAG --dest-tls-verify=false
//   skopeo --insecure-policy copy --format v2s2 oci:DIR:TAG dir:OUT
//   skopeo --insecure-policy inspect --raw|--tls-verify=false docker://127.0.0.1:PORT/NAME:TAG

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const refName = 'org.opencontainers.image.ref.name';
// Fixed timestamps (and fixed file mtimes) make the same options produce byte-identical blobs and digests.
const epoch = '1970-01-01T00:00:00Z';

export interface Platform {
  architecture: string;
  os: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface OciManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

interface OciIndexJson {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface OciImageOptions {
  tag: string;
  /** A count of generated layers (each one file of layerSize seeded bytes), or the file contents, one per layer. */
  layers: number | Buffer[];
  /** Bytes per generated layer file; default 4096. */
  layerSize?: number;
  /** Default amd64. */
  arch?: string;
  /** Default linux. */
  os?: string;
  /** Same seed, same layer contents (and digests); default a random UUID, so images share nothing. */
  seed?: string;
}

export interface ImageRef {
  /** `oci:<dir>:<tag>`, for skopeo. */
  ref: string;
  /** Digest and size of the manifest (or of the index, for buildMultiArchIndex). */
  digest: string;
  size: number;
}

export interface BuiltImage extends ImageRef {
  manifest: OciManifest;
}

export interface BuiltIndex extends ImageRef {
  manifests: (Descriptor & { platform: Platform })[];
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function blobPath(dir: string, digest: string): string {
  return join(dir, 'blobs', ...digest.split(':'));
}

async function readIndex(dir: string): Promise<OciIndexJson> {
  return JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as OciIndexJson;
}

function umoci(args: string[]): Promise<string> {
  return runTool(toolPath('umoci'), args);
}

/** Runs skopeo with `--insecure-policy` and returns stdout; throws with stderr. Add `--dest-tls-verify=false` etc. for http. */
export function skopeo(args: string[]): Promise<string> {
  return runTool(toolPath('skopeo'), ['--insecure-policy', ...args]);
}

/** Global flags for podman as root with its storage under tmp (FIELD-NOTES); `podman run` does not work here. */
export function podmanArgs(tmp: string): string[] {
  return [
    '--root', join(tmp, 'root'),
    '--runroot', join(tmp, 'runroot'),
    '--storage-driver', 'vfs',
    '--cgroup-manager', 'cgroupfs',
    '--events-backend', 'file',
  ];
}

/** Builds a single-platform image with umoci into the OCI layout at dir (created when absent), tagged opts.tag. */
export async function buildOciImage(dir: string, opts: OciImageOptions): Promise<BuiltImage> {
  const image = `${dir}:${opts.tag}`;
  if (!(await access(join(dir, 'oci-layout')).then(() => true, () => false))) await umoci(['init', '--layout', dir]);
  await umoci(['new', '--image', image]);
  const seed = opts.seed ?? randomUUID();
  const count = typeof opts.layers === 'number' ? opts.layers : opts.layers.length;
  const work = await makeTempDir('layer');
  try {
    for (let i = 0; i < count; i++) {
      const file = join(work, `layer-${i}`);
      const content = typeof opts.layers === 'number' ? pseudoRandomChunks(`${seed}/${i}`, opts.layerSize ?? 4096) : [opts.layers[i]];
      await pipeline(Readable.from(content), createWriteStream(file));
      await utimes(file, 0, 0);
      await umoci(['insert', '--image', image, '--history.created', epoch, '--history.created_by', `layer ${i}`, file, `/data/layer-${i}`]);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  await umoci(['config', '--image', image, '--architecture', opts.arch ?? 'amd64', '--os', opts.os ?? 'linux', '--created', epoch, '--no-history']);
  const desc = (await readIndex(dir)).manifests.findLast((d) => d.annotations?.[refName] === opts.tag);
  if (desc === undefined) throw new Error(`umoci left no ${opts.tag} in ${dir}/index.json`);
  const manifest = JSON.parse(await readFile(blobPath(dir, desc.digest), 'utf8')) as OciManifest;
  return { ref: `oci:${image}`, digest: desc.digest, size: desc.size, manifest };
}

/**
 * Builds one image per architecture (seeded per arch, so their layers differ) and tags an OCI image index of them as
 * `tag`; umoci only makes single images, so the index blob and its index.json entry are written here.
 */
export async function buildMultiArchIndex(
  dir: string,
  tag: string,
  arches: string[],
  opts: Omit<OciImageOptions, 'tag' | 'arch'> = { layers: 1 },
): Promise<BuiltIndex> {
  const seed = opts.seed ?? randomUUID();
  const manifests: BuiltIndex['manifests'] = [];
  // One at a time: umoci rewrites index.json on every command.
  for (const arch of arches) {
    const img = await buildOciImage(dir, { ...opts, tag: `${tag}-${arch}`, arch, seed: `${seed}/${arch}` });
    manifests.push({ mediaType: OCI_MANIFEST, digest: img.digest, size: img.size, platform: { architecture: arch, os: opts.os ?? 'linux' } });
  }
  const blob = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests } satisfies OciIndexJson));
  const digest = sha256(blob);
  await writeFile(blobPath(dir, digest), blob);
  const perArch = new Set([tag, ...arches.map((a) => `${tag}-${a}`)]);
  const layout = await readIndex(dir);
  // The per-arch tags were only handles for umoci; the layout keeps just the index under `tag`.
  layout.manifests = layout.manifests.filter((d) => !perArch.has(d.annotations?.[refName] ?? ''));
  layout.manifests.push({ mediaType: OCI_INDEX, digest, size: blob.length, annotations: { [refName]: tag } });
  await writeFile(join(dir, 'index.json'), JSON.stringify(layout));
  return { ref: `oci:${dir}:${tag}`, digest, size: blob.length, manifests };
}

/** Converts an image to Docker schema 2 in a `dir:` layout (skopeo's --format v2s2); returns that reference and digest. */
export async function toDockerV2s2(ociRef: string, outDir: string): Promise<ImageRef> {
  await skopeo(['copy', '--format', 'v2s2', ociRef, `dir:${outDir}`]);
  const manifest = await readFile(join(outDir, 'manifest.json'));
  return { ref: `dir:${outDir}`, digest: sha256(manifest), size: manifest.length };
}
