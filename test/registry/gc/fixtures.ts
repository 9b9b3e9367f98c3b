// Shared by the garbage-collection tests: a registry's files as a checksummed map, a pull that verifies every byte,
// pushes by digest, and a data set of images sharing layers with an index, a referrer and untagged revisions.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { SweepGuard } from '../../../registry/src/gc/collect.js';
import { parseDigest } from '../../../registry/src/storage/digest.js';
import { isNotFound, type StorageDriver } from '../../../registry/src/storage/driver/driver.js';
import { paths } from '../../../registry/src/storage/paths.js';
import { Client, OCI_INDEX, OCI_MANIFEST, sha256 } from '../../helpers/oci.js';

const ACCEPT = [OCI_MANIFEST, OCI_INDEX, 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');

/** The sweep guard of a collection nothing writes during (the tests of what a collection marks): nobody announces. */
export const unguarded: SweepGuard = { protect: async () => new Set(), release: async () => undefined, assertAlive: () => undefined };

/** Whether the storage holds the blob's data now. */
export async function stored(driver: StorageDriver, digest: string): Promise<boolean> {
  try {
    await driver.stat(paths.blobData(parseDigest(digest)));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Every file under root (relative path -> sha256 of its content); directories are not listed. */
export async function snapshotTree(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const path = relative(root, full);
    // The coordination layer's leases and records come and go with a running registry's jobs: not content.
    if (path.split(sep).includes('_coord')) continue;
    files.set(path, createHash('sha256').update(await readFile(full)).digest('hex'));
  }
  return files;
}

/** Paths in before and not in after, sorted. */
export function removedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...before.keys()].filter((path) => !after.has(path)).sort();
}

/** docker/registry/v2/... paths, relative to the storage root, as the tests name files. */
export const layout = {
  blob: (digest: string) => {
    const hex = digest.split(':')[1] as string;
    return `docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
  },
  revision: (repo: string, digest: string) => `docker/registry/v2/repositories/${repo}/_manifests/revisions/sha256/${digest.split(':')[1]}/link`,
  layerLink: (repo: string, digest: string) => `docker/registry/v2/repositories/${repo}/_layers/sha256/${digest.split(':')[1]}/link`,
  tagHistory: (repo: string, tag: string, digest: string) => `docker/registry/v2/repositories/${repo}/_manifests/tags/${tag}/index/sha256/${digest.split(':')[1]}/link`,
};

/** Pulls name:reference (an index with all its children) and checks every digest and size; returns what it fetched. */
export async function pullVerified(client: Client, name: string, reference: string): Promise<string[]> {
  const res = await client.request('GET', `/v2/${name}/manifests/${reference}`, { headers: { accept: ACCEPT } });
  if (res.status !== 200) throw new Error(`pull ${name}:${reference}: ${res.status} ${await res.text()}`);
  const body = Buffer.from(await res.arrayBuffer());
  const digest = sha256(body);
  if (res.headers.get('docker-content-digest') !== digest) throw new Error(`pull ${name}:${reference}: digest header ${res.headers.get('docker-content-digest')} for content ${digest}`);
  const manifest = JSON.parse(body.toString('utf8')) as { manifests?: { digest: string }[]; config?: { digest: string; size: number }; layers?: { digest: string; size: number }[] };
  const fetched = [digest];
  for (const child of manifest.manifests ?? []) fetched.push(...(await pullVerified(client, name, child.digest)));
  for (const blob of [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])]) {
    const blobRes = await client.request('GET', `/v2/${name}/blobs/${blob.digest}`, { redirect: 'follow' });
    if (blobRes.status !== 200) throw new Error(`pull ${name} blob ${blob.digest}: ${blobRes.status}`);
    const content = Buffer.from(await blobRes.arrayBuffer());
    if (sha256(content) !== blob.digest || content.length !== blob.size) throw new Error(`pull ${name} blob ${blob.digest}: content does not match`);
    fetched.push(blob.digest);
  }
  return fetched;
}

/** POST then PUT ?digest=: the upload flow distribution 2.8 speaks too (it answers a monolithic POST with 202). */
export async function pushBlob(client: Client, name: string, content: string | Buffer): Promise<string> {
  const digest = sha256(content);
  const started = await client.request('POST', `/v2/${name}/blobs/uploads/`);
  if (started.status !== 202) throw new Error(`start upload to ${name}: ${started.status} ${await started.text()}`);
  const url = new URL(started.headers.get('location') as string, client.base);
  url.searchParams.set('digest', digest);
  const done = await client.request('PUT', `${url.pathname}${url.search}`, {
    headers: { 'content-type': 'application/octet-stream' },
    body: typeof content === 'string' ? Buffer.from(content) : content,
  });
  if (done.status !== 201) throw new Error(`push blob ${digest} to ${name}: ${done.status} ${await done.text()}`);
  return digest;
}

export interface PushedImage {
  digest: string;
  size: number;
  config: string;
  configSize: number;
  layers: string[];
  layerSizes: number[];
}

/** Pushes config and layers, then the manifest under `reference` (a tag, or its own digest when reference is undefined). */
export async function pushImage(client: Client, name: string, reference: string | undefined, layers: string[], extra: Record<string, unknown> = {}, arch = 'amd64'): Promise<PushedImage> {
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) } }));
  const configDigest = await pushBlob(client, name, config);
  const layerDescriptors = [];
  for (const layer of layers) {
    layerDescriptors.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: await pushBlob(client, name, layer), size: Buffer.byteLength(layer) });
  }
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: layerDescriptors,
    ...extra,
  });
  const { digest } = await client.pushManifest(name, reference ?? sha256(body), body);
  return { digest, size: Buffer.byteLength(body), config: configDigest, configSize: config.length, layers: layerDescriptors.map((l) => l.digest), layerSizes: layerDescriptors.map((l) => l.size) };
}

export interface PushedIndex {
  digest: string;
  size: number;
  children: PushedImage[];
}

/** Pushes one image per architecture by digest, then an OCI index of them under tag. */
export async function pushIndex(client: Client, name: string, tag: string, base: string, arches: string[]): Promise<PushedIndex> {
  const children: PushedImage[] = [];
  for (const arch of arches) children.push(await pushImage(client, name, undefined, [base, `${name}:${tag} layer for ${arch}`], {}, arch));
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: children.map((c, i) => ({ mediaType: OCI_MANIFEST, digest: c.digest, size: c.size, platform: { architecture: arches[i], os: 'linux' } })),
  });
  const { digest } = await client.pushManifest(name, tag, body, OCI_INDEX);
  return { digest, size: Buffer.byteLength(body), children };
}

const BASE = 'base layer shared by every image';

/**
 * The data set most tests collect over:
 * - app:v1 and app:v2 share `base`; other:v1 shares it across repositories; app:v1 is the image to DELETE;
 * - app:latest pushed twice, so its first revision is untagged;
 * - multi:v1, a tagged index whose platform manifests are untagged (pushed by digest);
 * - app has a referrer (a signature manifest with subject app:v2), untagged;
 * - bydigest holds one manifest pushed only by digest: the repository has no tags at all.
 */
export async function seedRegistry(client: Client) {
  return { ...(await seedTagged(client)), byDigest: await pushTagless(client) };
}

/** A repository holding one manifest pushed only by digest, with the shared base layer: it has no tags directory. */
export function pushTagless(client: Client): Promise<PushedImage> {
  return pushImage(client, 'bydigest', undefined, [BASE, 'bydigest own layer']);
}

/** seedRegistry without the tagless repository. */
export async function seedTagged(client: Client) {
  const v1 = await pushImage(client, 'app', 'v1', [BASE, 'app v1 own layer']);
  const v2 = await pushImage(client, 'app', 'v2', [BASE, 'app v2 own layer']);
  const other = await pushImage(client, 'other', 'v1', [BASE, 'other v1 own layer']);
  const oldLatest = await pushImage(client, 'app', 'latest', [BASE, 'app latest, first push']);
  const latest = await pushImage(client, 'app', 'latest', [BASE, 'app latest, second push']);
  const multi = await pushIndex(client, 'multi', 'v1', BASE, ['amd64', 'arm64']);
  const signature = await pushImage(client, 'app', undefined, ['signature of app v2'], {
    artifactType: 'application/vnd.example.signature',
    subject: { mediaType: OCI_MANIFEST, digest: v2.digest, size: v2.size },
  });
  return { base: sha256(BASE), v1, v2, other, oldLatest, latest, multi, signature };
}

export type Seeded = Awaited<ReturnType<typeof seedRegistry>>;
