// Which manifests of one repository survive a collection, and which digests they keep alive.
//
// distribution 2.8 keeps every revision, or with --delete-untagged only the ones a tag's current link names, and
// marks what each kept manifest references one level down. Two deliberate differences with --delete-untagged:
// the children of a kept index are kept with their own blobs (distribution 2.8 deletes them, so a tagged multi-arch
// image stops pulling: its issue #3178), and so are the referrers of a kept manifest (signatures, SBOMs: manifests
// whose `subject` names it), which 2.8 does not know about.
import { formatDigest } from '../storage/digest.js';
import { isNotFound, type StorageDriver } from '../storage/driver/driver.js';
import { paths } from '../storage/paths.js';
import { addTo } from './multimap.js';
import { forEachLimit, STORAGE_CONCURRENCY } from './parallel.js';
import { referencesOf, type RepositoryContents } from './repository.js';

export interface RetainOptions {
  deleteUntagged: boolean;
  /** With deleteUntagged, an untagged revision whose link is younger than this is kept (a push may be in flight). */
  minAgeMs: number;
  /** Milliseconds since the epoch the ages are measured from. */
  now: number;
}

export interface Roots {
  /** Every revision, or with deleteUntagged the tagged ones. */
  roots: Set<string>;
  /** With deleteUntagged, the untagged revisions younger than minAgeMs: kept too. */
  young: Set<string>;
}

/** The revisions a collection starts from. */
export async function rootsOf(driver: StorageDriver, repo: RepositoryContents, options: RetainOptions): Promise<Roots> {
  if (!options.deleteUntagged) return { roots: new Set(repo.revisions.keys()), young: new Set() };
  const roots = new Set<string>();
  for (const digest of repo.tags.values()) {
    const key = formatDigest(digest);
    if (repo.revisions.has(key)) roots.add(key);
  }
  const young = new Set<string>();
  if (options.minAgeMs > 0) {
    const untagged = [...repo.revisions].filter(([key]) => !roots.has(key));
    await forEachLimit(untagged, STORAGE_CONCURRENCY, async ([key, revision]) => {
      let modTime: Date;
      try {
        ({ modTime } = await driver.stat(paths.revisionLink(repo.name, revision.digest)));
      } catch (err) {
        // Deleted through the API since it was read: nothing to protect.
        if (isNotFound(err)) return;
        throw err;
      }
      if (options.now - modTime.getTime() < options.minAgeMs) young.add(key);
    });
  }
  return { roots, young };
}

/** The roots, the children of kept indexes and the referrers of kept manifests, transitively. */
export function retain(repo: RepositoryContents, roots: Iterable<string>): Set<string> {
  const referrers = new Map<string, string[]>();
  for (const [key, revision] of repo.revisions) {
    if (revision.refs instanceof Error || !revision.refs.subject) continue;
    addTo(referrers, formatDigest(revision.refs.subject), key);
  }
  const kept = new Set<string>();
  const pending = [...roots];
  for (let key = pending.pop(); key !== undefined; key = pending.pop()) {
    const revision = repo.revisions.get(key);
    if (!revision || kept.has(key)) continue;
    kept.add(key);
    pending.push(...referencesOf(repo.name, revision).manifests.map((child) => formatDigest(child.digest)));
    pending.push(...(referrers.get(key) ?? []));
  }
  return kept;
}

/** Adds to `marked` every digest the kept revisions need: themselves, their blobs and their children. */
export function markReferences(repo: RepositoryContents, kept: Iterable<string>, marked: Set<string>): void {
  for (const key of kept) {
    const revision = repo.revisions.get(key);
    if (!revision) continue;
    marked.add(key);
    const refs = referencesOf(repo.name, revision);
    for (const ref of [...refs.blobs, ...refs.manifests]) marked.add(formatDigest(ref.digest));
  }
}
