// Blob content and the blob protocol steps the workloads time. Content is generated and hashed before a timed step
// starts, so the client's own hashing never caps a figure.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pseudoRandomBytes, pseudoRandomChunks } from '../../test/helpers/content.js';
import { drain, header, withQuery, type Client, type Reply } from './http.js';

export interface BlobFile {
  path: string;
  digest: string;
  size: number;
}

export interface BlobBytes {
  bytes: Buffer;
  digest: string;
}

const READ_CHUNK = 1024 * 1024;
const octetStream = 'application/octet-stream';

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Writes `size` pseudo-random bytes (unique per seed) to `path`, hashing them on the way; never all in memory. */
export async function writeBlobFile(path: string, seed: string, size: number): Promise<BlobFile> {
  const hash = createHash('sha256');
  const file = await open(path, 'w');
  try {
    for (const chunk of pseudoRandomChunks(seed, size)) {
      hash.update(chunk);
      await file.write(chunk);
    }
  } finally {
    await file.close();
  }
  return { path, digest: `sha256:${hash.digest('hex')}`, size };
}

export function blobBytes(seed: string, size: number): BlobBytes {
  const bytes = pseudoRandomBytes(seed, size);
  return { bytes, digest: sha256(bytes) };
}

function fileRange(blob: BlobFile, start: number, end: number): Readable {
  return createReadStream(blob.path, { start, end: end - 1, highWaterMark: READ_CHUNK });
}

async function startUpload(client: Client, repo: string): Promise<string> {
  const reply = await client.call('POST', `/v2/${repo}/blobs/uploads/`, [202], { 'content-length': 0 });
  return client.pathOf(header(reply, 'location'));
}

/** POST, then one PUT carrying the whole blob: the monolithic upload every registry supports. */
export async function pushMonolithic(client: Client, repo: string, blob: BlobFile | BlobBytes): Promise<void> {
  const location = await startUpload(client, repo);
  await putFile(client, withQuery(location, 'digest', blob.digest), blob, [201]);
}

/** One PUT carrying the whole blob, streamed from its file (or its bytes). */
export function putFile(client: Client, path: string, blob: BlobFile | BlobBytes, expect: number[]): Promise<Reply> {
  const isFile = 'path' in blob;
  const size = isFile ? blob.size : blob.bytes.length;
  return client.call('PUT', path, expect, { 'content-type': octetStream, 'content-length': size }, isFile ? fileRange(blob, 0, size) : blob.bytes);
}

/** POST, PATCHes of `chunkSize` bytes each following the Location they return, then a PUT with no body. */
export async function pushChunked(client: Client, repo: string, blob: BlobFile, chunkSize: number): Promise<void> {
  let location = await startUpload(client, repo);
  for (let start = 0; start < blob.size; start += chunkSize) {
    const end = Math.min(start + chunkSize, blob.size);
    const reply = await client.call(
      'PATCH',
      location,
      [202],
      { 'content-type': octetStream, 'content-length': end - start, 'content-range': `${start}-${end - 1}` },
      fileRange(blob, start, end),
    );
    location = client.pathOf(header(reply, 'location'));
  }
  await client.call('PUT', withQuery(location, 'digest', blob.digest), [201], { 'content-length': 0 });
}

/** GETs a blob and throws away its bytes; returns how many arrived. */
export async function pullBlob(client: Client, repo: string, digest: string): Promise<number> {
  const res = await client.send('GET', `/v2/${repo}/blobs/${digest}`);
  if (res.statusCode !== 200) {
    await drain(res);
    throw new Error(`GET blob ${digest} from ${repo}: HTTP ${res.statusCode}`);
  }
  return drain(res);
}

/** GETs a blob and hashes it: the untimed check that the registry serves what was pushed. */
export async function verifyBlob(client: Client, repo: string, blob: BlobFile): Promise<void> {
  const res = await client.send('GET', `/v2/${repo}/blobs/${blob.digest}`);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of res) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  const got = `sha256:${hash.digest('hex')}`;
  if (res.statusCode !== 200 || got !== blob.digest || size !== blob.size) {
    throw new Error(`GET blob ${blob.digest} from ${repo}: HTTP ${res.statusCode}, ${size} bytes hashing to ${got}`);
  }
}

/** Links an existing blob into another repository (cross-repository mount), as a client pushing a shared layer does. */
export async function mountBlob(client: Client, repo: string, digest: string, from: string): Promise<void> {
  await client.call('POST', `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, [201], {
    'content-length': 0,
  });
}
