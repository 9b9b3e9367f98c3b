// A whole collection: mark every repository, scan blobs/, and only then delete. The plan is complete before the
// first deletion, so a storage error while planning deletes nothing, and one while sweeping has deleted only
// things nothing referenced. Last, uploads abandoned longer than uploadAgeMs are deleted (they hold no blob yet).
import { formatDigest, type Digest } from '../storage/digest.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import { purgeUploads, type StaleUpload } from '../storage/purge.js';
import { markRegistry } from './mark.js';
import { forEachLimit, STORAGE_CONCURRENCY } from './parallel.js';
import { deleteBlob, deleteManifest, scanBlobs } from './sweep.js';

export interface CollectOptions {
  dryRun: boolean;
  deleteUntagged: boolean;
  /** Unreferenced blobs (and with deleteUntagged, untagged revisions) younger than this are kept. */
  minAgeMs: number;
  /** Uploads started longer ago than this are abandoned and deleted. */
  uploadAgeMs: number;
}

export type GcEvent =
  | { kind: 'mark'; repositories: number; manifests: number; repository: string }
  | { kind: 'scan'; blobs: number }
  | { kind: 'manifest'; repository: string; digest: Digest }
  | { kind: 'blob'; digest: Digest; size: number }
  | { kind: 'sweep'; done: number; total: number }
  | { kind: 'upload'; upload: StaleUpload }
  | { kind: 'upload-unreadable'; path: string };

export interface GcSummary {
  dryRun: boolean;
  repositories: number;
  manifestsMarked: number;
  /** Untagged revisions kept only for their age. */
  manifestsProtected: number;
  blobsStored: number;
  /** Stored blobs something references. */
  blobsMarked: number;
  /** Unreferenced blobs kept for their age, and their bytes. */
  blobsProtected: number;
  bytesProtected: number;
  /** In a dry run: what would be deleted. */
  manifestsDeleted: number;
  blobsDeleted: number;
  layerLinksDeleted: number;
  bytesFreed: number;
  /** Abandoned uploads deleted (in a dry run: that would be), and those kept for being younger. */
  uploadsDeleted: number;
  uploadsKept: number;
  durationMs: number;
}

export type GcPhase = 'mark' | 'sweep' | 'uploads';

/** A failure, with the phase it happened in and what had been deleted by then. */
export class GcError extends Error {
  constructor(
    readonly phase: GcPhase,
    readonly deleted: { manifests: number; blobs: number },
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'GcError';
  }
}

export async function collectGarbage(driver: StorageDriver, options: CollectOptions, onEvent: (event: GcEvent) => void): Promise<GcSummary> {
  const started = Date.now();
  const ages = { minAgeMs: options.minAgeMs, now: started };
  const deleted = { manifests: 0, blobs: 0 };
  let phase: GcPhase = 'mark';
  try {
    const mark = await markRegistry(driver, { ...ages, deleteUntagged: options.deleteUntagged }, (p) => onEvent({ kind: 'mark', ...p }));
    const scan = await scanBlobs(driver, mark.marked, ages, (s) => onEvent({ kind: 'scan', blobs: s.stored }));
    const layerLinks = scan.unreferenced.reduce((n, blob) => n + (mark.layerLinks.get(formatDigest(blob.digest))?.length ?? 0), 0);
    const total = mark.deletions.length + scan.unreferenced.length;
    phase = 'sweep';
    await forEachLimit(mark.deletions, STORAGE_CONCURRENCY, async (deletion) => {
      onEvent({ kind: 'manifest', repository: deletion.repository, digest: deletion.digest });
      if (!options.dryRun) await deleteManifest(driver, deletion);
      deleted.manifests++;
      onEvent({ kind: 'sweep', done: deleted.manifests + deleted.blobs, total });
    });
    await forEachLimit(scan.unreferenced, STORAGE_CONCURRENCY, async (blob) => {
      onEvent({ kind: 'blob', digest: blob.digest, size: blob.size });
      if (!options.dryRun) await deleteBlob(driver, blob.digest, mark.layerLinks.get(formatDigest(blob.digest)) ?? []);
      deleted.blobs++;
      onEvent({ kind: 'sweep', done: deleted.manifests + deleted.blobs, total });
    });
    phase = 'uploads';
    const uploads = await purgeUploads(driver, new Date(started - options.uploadAgeMs), options.dryRun, {
      stale: (upload) => onEvent({ kind: 'upload', upload }),
      unreadable: (path) => onEvent({ kind: 'upload-unreadable', path }),
    });
    return {
      dryRun: options.dryRun,
      repositories: mark.repositories,
      manifestsMarked: mark.manifestsMarked,
      manifestsProtected: mark.manifestsProtected,
      blobsStored: scan.stored,
      blobsMarked: scan.referenced,
      blobsProtected: scan.young.length,
      bytesProtected: scan.young.reduce((n, blob) => n + blob.size, 0),
      manifestsDeleted: deleted.manifests,
      blobsDeleted: deleted.blobs,
      layerLinksDeleted: layerLinks,
      bytesFreed: scan.unreferenced.reduce((n, blob) => n + blob.size, 0),
      uploadsDeleted: uploads.purged,
      uploadsKept: uploads.kept,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    throw new GcError(phase, { ...deleted }, err);
  }
}
