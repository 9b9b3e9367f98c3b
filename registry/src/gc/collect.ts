// A whole collection: mark every repository, scan blobs/, and only then delete. The plan is complete before the
// first deletion, so a storage error while planning deletes nothing, and one while sweeping has deleted only
// things nothing referenced. On a live registry the caller runs it inside a Collection (online.ts), and the sweep
// deletes batch by batch under it: whatever a writer announced meanwhile is kept, with everything it needs. Last,
// uploads abandoned longer than uploadAgeMs are deleted (they hold no blob yet).
import { formatDigest, type Digest } from '../storage/digest.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import { purgeUploads, type StaleUpload } from '../storage/purge.js';
import type { Collection } from './collection.js';
import { markRegistry, type ManifestDeletion } from './mark.js';
import { addTo } from './multimap.js';
import { forEachLimit, STORAGE_CONCURRENCY } from './parallel.js';
import { deleteBlob, deleteManifest, scanBlobs, type StoredBlob } from './sweep.js';

export interface CollectOptions {
  dryRun: boolean;
  deleteUntagged: boolean;
  /** Unreferenced blobs (and with deleteUntagged, untagged revisions) younger than this are kept. */
  minAgeMs: number;
  /**
   * Uploads started longer ago than this are abandoned and deleted; unset, uploads are left to the purger
   * (storage.maintenance.uploadpurging), as the background collector does.
   */
  uploadAgeMs?: number;
}

export type GcEvent =
  | { kind: 'mark'; repositories: number; manifests: number; repository: string }
  | { kind: 'scan'; blobs: number }
  | { kind: 'manifest'; repository: string; digest: Digest }
  | { kind: 'blob'; digest: Digest; size: number }
  /** Planned for deletion, kept: a writer made it referenced while the collection ran. */
  | { kind: 'spared'; repository?: string; digest: Digest }
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
  /** Planned for deletion and kept because a writer referenced them during the collection. */
  manifestsSpared: number;
  blobsSpared: number;
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

/** The running collection's side of each batch (a Collection): tombstones, the writers' intents, liveness. */
export type SweepGuard = Pick<Collection, 'protect' | 'release' | 'assertAlive'>;

/** Deletions tombstoned and decided together; small enough that a writer waiting on one waits a moment only. */
const BATCH = 4 * STORAGE_CONCURRENCY;
/** Blob batches in flight at once: they need no order, unlike manifests (parents before children). */
const BLOB_BATCHES_AT_ONCE = 4;

/**
 * What a writer announced, and everything the plan would delete that it needs: the blobs and children of a revision
 * a writer tagged again, and its referrers, transitively.
 */
class Spared {
  readonly keys = new Set<string>();
  private readonly planned = new Map<string, ManifestDeletion[]>();
  private readonly referrers = new Map<string, string[]>();

  constructor(deletions: ManifestDeletion[]) {
    for (const deletion of deletions) {
      addTo(this.planned, formatDigest(deletion.digest), deletion);
      if (deletion.subject) addTo(this.referrers, formatDigest(deletion.subject), formatDigest(deletion.digest));
    }
  }

  add(key: string): void {
    const pending = [key];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      if (this.keys.has(next)) continue;
      this.keys.add(next);
      for (const deletion of this.planned.get(next) ?? []) pending.push(...deletion.references.map(formatDigest));
      pending.push(...(this.referrers.get(next) ?? []));
    }
  }
}

function batches<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

/**
 * Collects. A dry run needs no guard; a real one is handed the running Collection, and checks `signal` (the lease,
 * the process stopping) between batches.
 */
export async function collectGarbage(
  driver: StorageDriver,
  options: CollectOptions,
  onEvent: (event: GcEvent) => void,
  guard?: SweepGuard,
  signal?: AbortSignal,
): Promise<GcSummary> {
  if (!options.dryRun && !guard) throw new Error('a collection that deletes runs inside a registered Collection');
  const started = Date.now();
  const ages = { minAgeMs: options.minAgeMs, now: started };
  const deleted = { manifests: 0, blobs: 0 };
  const counts = { layerLinks: 0, bytes: 0, manifestsSpared: 0, blobsSpared: 0 };
  let phase: GcPhase = 'mark';
  try {
    const mark = await markRegistry(driver, { ...ages, deleteUntagged: options.deleteUntagged }, (p) => onEvent({ kind: 'mark', ...p }));
    const scan = await scanBlobs(driver, mark.marked, ages, (s) => onEvent({ kind: 'scan', blobs: s.stored }));
    const total = mark.deletions.length + scan.unreferenced.length;
    const linksOf = (blob: StoredBlob) => mark.layerLinks.get(formatDigest(blob.digest)) ?? [];
    phase = 'sweep';
    const progress = () => onEvent({ kind: 'sweep', done: deleted.manifests + deleted.blobs + counts.manifestsSpared + counts.blobsSpared, total });
    const removeManifest = async (deletion: ManifestDeletion) => {
      onEvent({ kind: 'manifest', repository: deletion.repository, digest: deletion.digest });
      if (!options.dryRun) await deleteManifest(driver, deletion);
      deleted.manifests++;
      progress();
    };
    const removeBlob = async (blob: StoredBlob) => {
      onEvent({ kind: 'blob', digest: blob.digest, size: blob.size });
      if (!options.dryRun) await deleteBlob(driver, blob.digest, linksOf(blob));
      deleted.blobs++;
      counts.layerLinks += linksOf(blob).length;
      counts.bytes += blob.size;
      progress();
    };
    if (!guard || options.dryRun) {
      await forEachLimit(mark.deletions, STORAGE_CONCURRENCY, removeManifest);
      await forEachLimit(scan.unreferenced, STORAGE_CONCURRENCY, removeBlob);
    } else {
      const spared = new Spared(mark.deletions);
      const sweep = async <T>(batch: T[], digestOf: (item: T) => Digest, remove: (item: T) => Promise<void>, spare: (item: T) => void) => {
        signal?.throwIfAborted();
        const digests = batch.map(digestOf);
        for (const key of await guard.protect(digests)) spared.add(key);
        guard.assertAlive();
        try {
          await forEachLimit(batch, STORAGE_CONCURRENCY, async (item) => {
            if (spared.keys.has(formatDigest(digestOf(item)))) spare(item);
            else await remove(item);
          });
        } finally {
          await guard.release(digests);
        }
      };
      for (const batch of batches(mark.deletions)) {
        await sweep(batch, (d) => d.digest, removeManifest, (d) => {
          counts.manifestsSpared++;
          onEvent({ kind: 'spared', repository: d.repository, digest: d.digest });
          progress();
        });
      }
      await forEachLimit(batches(scan.unreferenced), BLOB_BATCHES_AT_ONCE, (batch) =>
        sweep(batch, (b) => b.digest, removeBlob, (b) => {
          counts.blobsSpared++;
          onEvent({ kind: 'spared', digest: b.digest });
          progress();
        }),
      );
    }
    phase = 'uploads';
    const uploads =
      options.uploadAgeMs === undefined
        ? { purged: 0, kept: 0 }
        : await purgeUploads(driver, new Date(started - options.uploadAgeMs), options.dryRun, {
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
      layerLinksDeleted: counts.layerLinks,
      bytesFreed: counts.bytes,
      manifestsSpared: counts.manifestsSpared,
      blobsSpared: counts.blobsSpared,
      uploadsDeleted: uploads.purged,
      uploadsKept: uploads.kept,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    throw new GcError(phase, { ...deleted }, err);
  }
}
