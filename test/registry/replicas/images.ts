// A small image pushed and pulled the way a client does it over the API: a blob is uploaded only when HEAD says the
// repository lacks it, so a replica that wrongly answers "exists" shows up as a skipped upload.
import { expect } from 'chai';
import { pseudoRandomBytes } from '../../helpers/content.js';
import { OCI_MANIFEST, sha256 } from '../../helpers/oci.js';

export interface Blob {
  digest: string;
  content: Buffer;
}

export interface Image {
  name: string;
  tag: string;
  config: Blob;
  layers: Blob[];
  /** The manifest's bytes and digest. */
  manifest: string;
  digest: string;
}

function blob(content: Buffer): Blob {
  return { digest: sha256(content), content };
}

/** The same name and tag always give the same bytes, so an image can be pushed again exactly as it was. */
export function imageOf(name: string, tag: string, layerCount = 2): Image {
  const config = blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' }, name, tag })));
  const layers = Array.from({ length: layerCount }, (_, i) => blob(pseudoRandomBytes(`${name}:${tag}/${i}`, 96 * 1024 + i)));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.content.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.digest, size: l.content.length })),
  });
  return { name, tag, config, layers, manifest, digest: sha256(manifest) };
}

export function blobsOf(image: Image): Blob[] {
  return [image.config, ...image.layers];
}

/** HEAD each blob, upload those the registry says it lacks, then PUT the manifest; returns the blobs it skipped. */
export async function push(base: string, image: Image): Promise<{ skipped: string[] }> {
  const skipped: string[] = [];
  for (const { digest, content } of blobsOf(image)) {
    const head = await fetch(`${base}/v2/${image.name}/blobs/${digest}`, { method: 'HEAD' });
    if (head.status === 200) {
      skipped.push(digest);
      continue;
    }
    const res = await fetch(`${base}/v2/${image.name}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: content, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status, `upload of ${digest} via ${base}`).to.equal(201);
  }
  const res = await fetch(`${base}/v2/${image.name}/manifests/${image.tag}`, { method: 'PUT', body: image.manifest, headers: { 'content-type': OCI_MANIFEST } });
  expect(res.status, `manifest PUT via ${base}: ${await res.text()}`).to.equal(201);
  return { skipped };
}

/** Pulls the image by tag and checks every byte; HEADs everything too, so both answers are cached where they can be. */
export async function expectPulls(base: string, image: Image): Promise<void> {
  const manifestUrl = `${base}/v2/${image.name}/manifests/${image.tag}`;
  const manifest = await fetch(manifestUrl, { headers: { accept: OCI_MANIFEST } });
  expect(manifest.status, `GET ${manifestUrl}`).to.equal(200);
  expect(await manifest.text(), `GET ${manifestUrl}`).to.equal(image.manifest);
  expect((await fetch(`${base}/v2/${image.name}/manifests/${image.digest}`, { method: 'HEAD' })).status).to.equal(200);
  for (const { digest, content } of blobsOf(image)) {
    const url = `${base}/v2/${image.name}/blobs/${digest}`;
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status, `HEAD ${url}`).to.equal(200);
    expect(head.headers.get('content-length'), `HEAD ${url}`).to.equal(String(content.length));
    const res = await fetch(url);
    expect(res.status, `GET ${url}`).to.equal(200);
    expect(sha256(Buffer.from(await res.arrayBuffer())), `GET ${url}`).to.equal(digest);
  }
}

/** Nothing of the image answers 200, and no blob of it can be mounted into `other` as if it were still there. */
export async function expectGone(base: string, image: Image, other: string): Promise<void> {
  for (const reference of [image.digest, image.tag]) {
    for (const method of ['HEAD', 'GET']) {
      const url = `${base}/v2/${image.name}/manifests/${reference}`;
      expect((await fetch(url, { method })).status, `${method} ${url}`).to.equal(404);
    }
  }
  for (const { digest } of blobsOf(image)) {
    for (const method of ['HEAD', 'GET']) {
      const url = `${base}/v2/${image.name}/blobs/${digest}`;
      expect((await fetch(url, { method })).status, `${method} ${url}`).to.equal(404);
    }
    const mount = await fetch(`${base}/v2/${other}/blobs/uploads/?mount=${digest}&from=${image.name}`, { method: 'POST' });
    expect(mount.status, `mount of ${digest} via ${base}`).to.equal(202);
    await fetch(new URL(mount.headers.get('location') as string, base), { method: 'DELETE' });
  }
}
