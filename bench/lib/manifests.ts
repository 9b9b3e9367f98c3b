// A small OCI image (config + one layer) whose manifests differ only by an annotation, so each PUT stores a new
// manifest while both registries' blob-existence checks still pass.
import { blobBytes, mountBlob, pushMonolithic, sha256, type BlobBytes } from './blobs.js';
import type { Client } from './http.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** What docker and containerd send: distribution 2.8 answers MANIFEST_UNKNOWN for an OCI manifest not accepted. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, 'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');

export interface ImageBlobs {
  config: BlobBytes;
  layer: BlobBytes;
}

export function imageBlobs(seed: string): ImageBlobs {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(seed)] } }));
  return { config: { bytes: config, digest: sha256(config) }, layer: blobBytes(`${seed}/layer`, 4096) };
}

/** The manifest body; `note` makes it unique. */
export function manifestBody(blobs: ImageBlobs, note: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: blobs.config.digest, size: blobs.config.bytes.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: blobs.layer.digest, size: blobs.layer.bytes.length }],
      annotations: { 'org.example.bench': note },
    }),
  );
}

export async function pushImageBlobs(client: Client, repo: string, blobs: ImageBlobs): Promise<void> {
  await pushMonolithic(client, repo, blobs.config);
  await pushMonolithic(client, repo, blobs.layer);
}

/** Makes the image's blobs available in `repo` by mounting them from `from`, where pushImageBlobs put them. */
export async function mountImageBlobs(client: Client, repo: string, from: string, blobs: ImageBlobs): Promise<void> {
  await mountBlob(client, repo, blobs.config.digest, from);
  await mountBlob(client, repo, blobs.layer.digest, from);
}

export async function putManifest(client: Client, repo: string, reference: string, body: Buffer): Promise<void> {
  await client.call('PUT', `/v2/${repo}/manifests/${reference}`, [201], { 'content-type': OCI_MANIFEST, 'content-length': body.length }, body);
}
