// The sweep: which stored blobs nobody references, and the deletions themselves. Every deletion tolerates a path
// already gone, so a second collector, a DELETE racing this one, or a rerun after an interrupted sweep is harmless.
import { formatDigest, type Digest } from '../storage/digest.js';
import { isNotFound, type StorageDriver } from '../storage/driver/driver.js';
import { deleteIfExists } from '../storage/links.js';
import { blobDataDigest, paths } from '../storage/paths.js';

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

/** Visits every blob under blobs/ with its size and age, from one walk: no blob is opened or stat'ed on its own. */
export async function walkBlobs(driver: StorageDriver, visit: (blob: StoredBlob, modTime: Date) => void): Promise<void> {
  try {
    await driver.walk(paths.blobsRoot, (info) => {
      const digest = info.isDir ? undefined : blobDataDigest(info.path);
      if (digest) visit({ digest, size: info.size }, info.modTime);
    });
  } catch (err) {
    // A registry that never stored a blob has no blobs/ directory.
    if (!isNotFound(err)) throw err;
  }
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
