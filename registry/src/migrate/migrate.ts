// Copies every repository from one storage to another through the StorageDriver interface alone. Per repository:
// blobs first (streamed, verified), then layer links, manifest revisions (platform manifests before the indexes
// naming them), referrer links and tag histories, and the tags' current links last. An interrupted run therefore
// never leaves a tag naming content that is not there, and a rerun skips every blob already in place.
// A registry may already serve the destination and collect garbage there: each repository's links are written in one
// guarded write (gc/barrier.ts) naming every blob they make referenced, after checking those blobs are still there.
import type { WriteBarrier } from '../gc/barrier.js';
import { Catalog } from '../storage/catalog.js';
import { formatDigest, type Digest } from '../storage/digest.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import { isNotFound } from '../storage/driver/driver.js';
import { deleteIfExists } from '../storage/links.js';
import { paths } from '../storage/paths.js';
import { forEachLimit, STORAGE_CONCURRENCY } from '../gc/parallel.js';
import { copyBlob, isAvailable, type BlobOutcome } from './copy-blob.js';
import { copyLink } from './copy-link.js';
import { readSourceRepository, type SourceRepository } from './source.js';

/**
 * Blobs streamed at once unless --concurrency says otherwise: enough to hide an object store's latency, few enough to
 * keep memory flat.
 */
export const BLOB_CONCURRENCY = 4;

export type LinkKind = 'layer link' | 'manifest' | 'referrer' | 'tag history' | 'tag';

export type MigrateEvent =
  | { kind: 'repository'; name: string; index: number; total: number }
  | { kind: 'blob'; repository: string; digest: Digest; outcome: BlobOutcome }
  | { kind: 'link'; repository: string; link: LinkKind; what: string }
  /** Something of the source left out because content it needs is missing or corrupt there. */
  | { kind: 'not-copied'; repository: string; link: LinkKind; what: string; reason: string };

export interface MigrateSummary {
  dryRun: boolean;
  repositories: number;
  blobsCopied: number;
  /** Already at the destination with the right size. */
  blobsPresent: number;
  bytesCopied: number;
  /** Formatted digest -> why it was not copied. */
  blobsFailed: Map<string, string>;
  linksWritten: number;
  linksUnchanged: number;
  /** Links and tags left out, described. */
  notCopied: string[];
  durationMs: number;
}

function failureReason(outcome: BlobOutcome | undefined): string {
  if (outcome?.kind === 'missing') return 'missing at the source';
  if (outcome?.kind === 'corrupt') return `corrupt at the source (its content hashes to ${outcome.actual})`;
  return 'not copied';
}

class RepositoryMigration {
  /** Formatted digest -> why that revision cannot be linked (undefined: it can). */
  private readonly problems = new Map<string, string | undefined>();

  constructor(
    private readonly dest: StorageDriver,
    private readonly repo: SourceRepository,
    private readonly blobs: Map<string, BlobOutcome>,
    private readonly summary: MigrateSummary,
    private readonly onEvent: (event: MigrateEvent) => void,
  ) {}

  private blobOk(digest: Digest): boolean {
    return isAvailable(this.blobs.get(formatDigest(digest)));
  }

  /** Why the revision cannot be linked (its content, a blob it names or a child it needs is unavailable), or undefined. */
  private revisionProblem(digest: Digest): string | undefined {
    const key = formatDigest(digest);
    if (this.problems.has(key)) return this.problems.get(key);
    const problem = this.findProblem(digest);
    this.problems.set(key, problem);
    return problem;
  }

  private findProblem(digest: Digest): string | undefined {
    const key = formatDigest(digest);
    if (!this.blobOk(digest)) return `its content ${key} is ${failureReason(this.blobs.get(key))}`;
    const revision = this.repo.revisions.get(key);
    if (!revision || revision.refs instanceof Error) return undefined;
    for (const ref of revision.refs.blobs) {
      if (!this.blobOk(ref.digest)) return `blob ${formatDigest(ref.digest)} is ${failureReason(this.blobs.get(formatDigest(ref.digest)))}`;
    }
    for (const child of revision.refs.manifests) {
      const problem = this.revisionProblem(child.digest);
      if (problem) return `platform manifest ${formatDigest(child.digest)}: ${problem}`;
    }
    return undefined;
  }

  private async links(link: LinkKind, items: { path: string; digest: Digest; what: string; problem: string | undefined }[], dryRun: boolean): Promise<void> {
    const name = this.repo.name;
    await forEachLimit(items, STORAGE_CONCURRENCY, async ({ path, digest, what, problem }) => {
      if (problem !== undefined) {
        this.summary.notCopied.push(`${link} ${what}: ${problem}`);
        this.onEvent({ kind: 'not-copied', repository: name, link, what, reason: problem });
        return;
      }
      if ((await copyLink(this.dest, path, digest, dryRun)) === 'unchanged') {
        this.summary.linksUnchanged++;
        return;
      }
      this.summary.linksWritten++;
      this.onEvent({ kind: 'link', repository: name, link, what });
    });
  }

  async run(dryRun: boolean): Promise<void> {
    const { name, revisions, tags, tagHistory, referrers, layerLinks } = this.repo;
    await this.links(
      'layer link',
      layerLinks.map((digest) => ({
        path: paths.layerLink(name, digest),
        digest,
        what: `${name}@${formatDigest(digest)}`,
        problem: this.blobOk(digest) ? undefined : `blob ${failureReason(this.blobs.get(formatDigest(digest)))}`,
      })),
      dryRun,
    );
    const all = [...revisions.values()];
    const isIndex = (r: (typeof all)[number]) => !(r.refs instanceof Error) && r.refs.manifests.length > 0;
    for (const group of [all.filter((r) => !isIndex(r)), all.filter(isIndex)]) {
      await this.links(
        'manifest',
        group.map(({ digest }) => ({ path: paths.revisionLink(name, digest), digest, what: `${name}@${formatDigest(digest)}`, problem: this.revisionProblem(digest) })),
        dryRun,
      );
    }
    await this.links(
      'referrer',
      referrers.map(({ subject, digest }) => ({
        path: paths.referrerLink(name, subject, digest),
        digest,
        what: `${name}@${formatDigest(digest)} -> ${formatDigest(subject)}`,
        problem: this.revisionProblem(digest),
      })),
      dryRun,
    );
    // A history entry for a revision that is gone, or could not be copied, is dropped: it names nothing to pull.
    const history = [...tagHistory].flatMap(([tag, digests]) =>
      digests
        .filter((digest) => revisions.has(formatDigest(digest)) && this.revisionProblem(digest) === undefined)
        .map((digest) => ({ path: paths.tagIndexLink(name, tag, digest), digest, what: `${name}:${tag} had ${formatDigest(digest)}`, problem: undefined })),
    );
    await this.links('tag history', history, dryRun);
    await this.links(
      'tag',
      [...tags].map(([tag, digest]) => ({
        path: paths.tagCurrentLink(name, tag),
        digest,
        what: `${name}:${tag} -> ${formatDigest(digest)}`,
        problem: revisions.has(formatDigest(digest)) ? this.revisionProblem(digest) : 'the manifest it names is not in the repository at the source',
      })),
      dryRun,
    );
  }
}

/** The blobs among `digests` the destination no longer holds (a collection there swept them since they were copied). */
async function goneAt(dest: StorageDriver, digests: Digest[]): Promise<string[]> {
  const gone: string[] = [];
  await forEachLimit(digests, STORAGE_CONCURRENCY, async (digest) => {
    await dest.stat(paths.blobData(digest)).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
      gone.push(formatDigest(digest));
    });
  });
  return gone.sort();
}

export interface MigrateOptions {
  dryRun: boolean;
  concurrency?: number;
  /** The destination's write barrier, for a garbage collection running there meanwhile. */
  barrier: WriteBarrier;
}

export async function migrate(source: StorageDriver, dest: StorageDriver, options: MigrateOptions, onEvent: (event: MigrateEvent) => void): Promise<MigrateSummary> {
  const started = Date.now();
  const summary: MigrateSummary = {
    dryRun: options.dryRun,
    repositories: 0,
    blobsCopied: 0,
    blobsPresent: 0,
    bytesCopied: 0,
    blobsFailed: new Map(),
    linksWritten: 0,
    linksUnchanged: 0,
    notCopied: [],
    durationMs: 0,
  };
  // Outcome of every blob handled so far: a layer shared by many repositories is copied (or found present) once.
  const blobs = new Map<string, BlobOutcome>();
  const names = await new Catalog(source).all();
  for (const [index, name] of names.entries()) {
    onEvent({ kind: 'repository', name, index, total: names.length });
    const repo = await readSourceRepository(source, name);
    const todo = repo.blobs.filter((digest) => !blobs.has(formatDigest(digest)));
    await forEachLimit(todo, options.concurrency ?? BLOB_CONCURRENCY, async (digest) => {
      const outcome = await copyBlob(source, dest, digest, options.dryRun);
      blobs.set(formatDigest(digest), outcome);
      if (outcome.kind === 'copied' || outcome.kind === 'would-copy') {
        summary.blobsCopied++;
        summary.bytesCopied += outcome.size;
      } else if (outcome.kind === 'present') {
        summary.blobsPresent++;
      } else {
        summary.blobsFailed.set(formatDigest(digest), failureReason(outcome));
      }
      onEvent({ kind: 'blob', repository: name, digest, outcome });
    });
    const migration = new RepositoryMigration(dest, repo, blobs, summary, onEvent);
    if (options.dryRun) {
      await migration.run(true);
    } else {
      const linked = repo.blobs.filter((digest) => isAvailable(blobs.get(formatDigest(digest))));
      await options.barrier.guard(
        linked,
        async () => {
          const gone = await goneAt(dest, linked);
          if (gone.length > 0) {
            throw new Error(`${name}: ${gone.join(', ')} left the destination since copied (a garbage collection there swept it); run migrate again to copy it anew`);
          }
          await migration.run(false);
        },
        { verify: () => goneAt(dest, linked) },
      );
    }
    summary.repositories++;
  }
  if (!options.dryRun) await deleteIfExists(dest, paths.migrateRoot);
  summary.durationMs = Date.now() - started;
  return summary;
}
