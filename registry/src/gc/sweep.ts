// The sweep: which stored blobs nobody references, and the deletions themselves. Every deletion tolerates a path
// already gone, so a second collector, a DELETE racing this one, or a rerun after an interrupted sweep is harmless.
import { formatDigest, type Digest } from '../storage/digest.js';
import { isNotFound, type StorageDriver } from '../storage/driver/driver.js';
import { deleteIfExists } from '../storage/links.js';
import { blobDataDigest, paths } from '../storage/paths.js';
import { forEachLimit, STORAGE_CONCURRENCY } from './parallel.js';

export interface StoredBlob {
  digest: Digest;
  size: number;
}

export interface BlobScan {
  /** Blobs under blobs/. */
  stored: number;
  /** Referenced blobs found in storage. */
  referenced: number;
  /** Unreferenced, old enough: to delete. */
  unreferenced: StoredBlob[];
  /** Unreferenced but younger than the minimum age: kept. */
  young: StoredBlob[];
}

export interface ScanOptions {
  minAgeMs: number;
  now: number;
}

/** The directories under path, or none when it does not exist (a registry that never stored a blob has no blobs/). */
async function listIfPresent(driver: StorageDriver, path: string): Promise<string[]> {
  try {
    return await driver.list(path);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

/**
 * Visits every blob under blobs/ with its size and age, from walks (no blob is opened or stat'ed on its own): one per
 * blobs/<algorithm>/<two hex>/ directory, several at once, since a walk visits one entry after the other and the
 * storage's latency, not its work, would set the pace.
 */
export async function walkBlobs(driver: StorageDriver, visit: (blob: StoredBlob, modTime: Date) => void): Promise<void> {
  const prefixes = (await Promise.all((await listIfPresent(driver, paths.blobsRoot)).map((algorithm) => listIfPresent(driver, algorithm)))).flat();
  await forEachLimit(prefixes, STORAGE_CONCURRENCY, async (prefix) => {
    try {
      await driver.walk(prefix, (info) => {
        const digest = info.isDir ? undefined : blobDataDigest(info.path);
        if (digest) visit({ digest, size: info.size }, info.modTime);
      });
    } catch (err) {
      // Emptied and removed since it was listed.
      if (!isNotFound(err)) throw err;
    }
  });
}

export async function scanBlobs(driver: StorageDriver, marked: Set<string>, options: ScanOptions, onBlob: (scan: BlobScan) => void): Promise<BlobScan> {
  const scan: BlobScan = { stored: 0, referenced: 0, unreferenced: [], young: [] };
  await walkBlobs(driver, (blob, modTime) => {
    scan.stored++;
    if (marked.has(formatDigest(blob.digest))) scan.referenced++;
    else if (options.now - modTime.getTime() < options.minAgeMs) scan.young.push(blob);
    else scan.unreferenced.push(blob);
    onBlob(scan);
  });
  // In path order, as one walk would have found them: what a dry run lists comes out the same every time.
  const byDigest = (a: StoredBlob, b: StoredBlob) => (formatDigest(a.digest) < formatDigest(b.digest) ? -1 : 1);
  scan.unreferenced.sort(byDigest);
  scan.young.sort(byDigest);
  return scan;
}

/** A revision to remove from a repository, with the entries that name it. */
export interface RevisionRemoval {
  repository: string;
  digest: Digest;
  /** Its referrers-index entry lives under this subject. */
  subject?: Digest;
  /** Tags whose history (tags/<tag>/index) lists the revision. */
  tags: string[];
}

/** Removes a revision with its tag-history entries and its referrers-index entry, as distribution's vacuum does. */
export async function deleteManifest(driver: StorageDriver, deletion: RevisionRemoval): Promise<void> {
  const { repository, digest } = deletion;
  for (const tag of deletion.tags) await deleteIfExists(driver, paths.tagIndexDir(repository, tag, digest));
  if (deletion.subject) await deleteIfExists(driver, paths.referrerDir(repository, deletion.subject, digest));
  await deleteIfExists(driver, paths.revisionDir(repository, digest));
}

/**
 * Removes the repositories' links to a blob, then the blob: a repository never advertises a blob that is gone, and
 * an interruption in between leaves only an unlinked blob for the next run.
 */
export async function deleteBlob(driver: StorageDriver, digest: Digest, linkedFrom: string[]): Promise<void> {
  for (const repository of linkedFrom) await deleteIfExists(driver, paths.layerDir(repository, digest));
  await deleteIfExists(driver, paths.blobDir(digest));
}
