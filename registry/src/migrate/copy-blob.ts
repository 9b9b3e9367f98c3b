// Copies one blob between drivers as a stream, hashing as it goes. The bytes land in the destination's staging area
// and are moved into blobs/ only once their digest matches, so a blob under blobs/ is always whole: that is what
// lets a resumed run trust a destination blob of the right size without reading it back.
import type { Readable } from 'node:stream';
import { formatDigest, newHash, type Digest } from '../storage/digest.js';
import { isNotFound, type StorageDriver } from '../storage/driver/driver.js';
import { paths } from '../storage/paths.js';

export type BlobOutcome =
  | { kind: 'copied' | 'present' | 'would-copy'; size: number }
  | { kind: 'missing' }
  /** The source bytes do not hash to the digest (or their length changed while reading): nothing was written. */
  | { kind: 'corrupt'; size: number; actual: string };

export function isAvailable(outcome: BlobOutcome | undefined): boolean {
  return outcome !== undefined && (outcome.kind === 'copied' || outcome.kind === 'present' || outcome.kind === 'would-copy');
}

async function sizeAt(driver: StorageDriver, path: string): Promise<number | undefined> {
  try {
    const info = await driver.stat(path);
    return info.isDir ? undefined : info.size;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function copyBlob(source: StorageDriver, dest: StorageDriver, digest: Digest, dryRun: boolean): Promise<BlobOutcome> {
  const path = paths.blobData(digest);
  const size = await sizeAt(source, path);
  if (size === undefined) return { kind: 'missing' };
  if ((await sizeAt(dest, path)) === size) return { kind: 'present', size };
  if (dryRun) return { kind: 'would-copy', size };
  const staging = paths.migrateStaging(digest);
  const writer = await dest.writer(staging, false);
  const hash = newHash(digest.algorithm);
  let reader: Readable | undefined;
  try {
    reader = await source.reader(path);
    for await (const chunk of reader as AsyncIterable<Buffer>) {
      hash.update(chunk);
      await writer.write(chunk);
    }
  } catch (err) {
    reader?.destroy();
    await writer.cancel();
    throw err;
  }
  const actual = `${digest.algorithm}:${hash.digest('hex')}`;
  if (actual !== formatDigest(digest) || writer.size !== size) {
    await writer.cancel();
    return { kind: 'corrupt', size: writer.size, actual };
  }
  await writer.commit();
  await dest.move(staging, path);
  return { kind: 'copied', size };
}
