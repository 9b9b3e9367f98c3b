// A registry's storage written directly in distribution's layout, without pushing anything through HTTP: many
// repositories of small images, some tagged, some untagged, some deleted (their revision links gone, so their blobs
// are garbage). For collections over registries too large to push in a test or a benchmark.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseDigest, type Digest } from '../../registry/src/storage/digest.js';
import type { StorageDriver } from '../../registry/src/storage/driver/driver.js';
import { forEachLimit } from '../../registry/src/gc/parallel.js';
import { paths } from '../../registry/src/storage/paths.js';
import { pseudoRandomBytes } from './content.js';

export interface LayoutSpec {
  repositories: number;
  /** Manifests per repository. */
  manifests: number;
  /** Layers of each image, each its own blob (with the config and the manifest: layers + 2 blobs per image). */
  layers: number;
  /** Of every this many images, one is tagged; the rest are untagged. */
  tagEvery: number;
  /** Of every this many images, one was deleted: its blobs are referenced by nothing. */
  deleteEvery: number;
  /** Bytes of each layer. */
  layerSize: number;
  /** Distinguishes the content of two layouts. */
  seed: string;
}

export interface Layout {
  manifests: number;
  blobs: number;
  /** Images deleted, and their blobs (manifest, config and layers): what a collection without --delete-untagged frees. */
  deletedImages: number;
  garbageBlobs: number;
  /** Untagged images still stored: what --delete-untagged deletes on top. */
  untaggedImages: number;
}

/** Writes one file of the layout: on disk (fs, no fsync) or through a storage driver. */
export type Put = (path: string, content: Buffer) => Promise<void>;

export function diskPut(root: string): Put {
  return async (path, content) => {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  };
}

export function driverPut(driver: StorageDriver): Put {
  return (path, content) => driver.putContent(path, content);
}

function digestOf(content: Buffer): Digest {
  return parseDigest(`sha256:${createHash('sha256').update(content).digest('hex')}`);
}

const link = (digest: Digest) => Buffer.from(`${digest.algorithm}:${digest.hex}`);

/** Writes the layout with `concurrency` files in flight; returns what it holds. */
export async function writeLayout(put: Put, spec: LayoutSpec, concurrency = 32): Promise<Layout> {
  const layout: Layout = { manifests: 0, blobs: 0, deletedImages: 0, garbageBlobs: 0, untaggedImages: 0 };
  const images = Array.from({ length: spec.repositories * spec.manifests }, (_, i) => i);
  await forEachLimit(images, concurrency, async (i) => {
    const repository = `layout/r${String(Math.floor(i / spec.manifests)).padStart(4, '0')}`;
    const n = i % spec.manifests;
    const layers = Array.from({ length: spec.layers }, (_, l) => pseudoRandomBytes(`${spec.seed} ${i} layer ${l}`, spec.layerSize));
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, image: `${spec.seed} ${i}` }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${digestOf(config).hex}`, size: config.length },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${digestOf(l).hex}`, size: l.length })),
      }),
    );
    const deleted = n % spec.deleteEvery === spec.deleteEvery - 1;
    const tagged = !deleted && n % spec.tagEvery === 0;
    for (const content of [manifest, config, ...layers]) {
      const digest = digestOf(content);
      await put(paths.blobData(digest), content);
      if (content !== manifest) await put(paths.layerLink(repository, digest), link(digest));
    }
    const digest = digestOf(manifest);
    if (!deleted) await put(paths.revisionLink(repository, digest), link(digest));
    if (tagged) {
      const tag = `v${n}`;
      await put(paths.tagIndexLink(repository, tag, digest), link(digest));
      await put(paths.tagCurrentLink(repository, tag), link(digest));
    }
    layout.manifests++;
    layout.blobs += spec.layers + 2;
    if (deleted) {
      layout.deletedImages++;
      layout.garbageBlobs += spec.layers + 2;
    } else if (!tagged) {
      layout.untaggedImages++;
    }
  });
  return layout;
}
