// The mark phase over every repository: what survives, and which revisions and layer links go. Reads only; the
// sweep starts after it has finished, so a storage error here leaves everything in place.
import { Catalog } from '../storage/catalog.js';
import { formatDigest, type Digest } from '../storage/digest.js';
import { isNotFound, type StorageDriver } from '../storage/driver/driver.js';
import { listDigestDirs } from '../storage/links.js';
import { lastPathElement, paths } from '../storage/paths.js';
import { addTo } from './multimap.js';
import { forEachLimit, STORAGE_CONCURRENCY } from './parallel.js';
import { loadRepository, type RepositoryContents } from './repository.js';
import { markReferences, retain, rootsOf, type RetainOptions } from './retain.js';
import type { RevisionRemoval } from './sweep.js';

export interface ManifestDeletion extends RevisionRemoval {
  /** Blobs and child manifests it references: kept too should a writer make the revision referenced again. */
  references: Digest[];
}

export interface MarkResult {
  /** Formatted digests still referenced anywhere. */
  marked: Set<string>;
  repositories: number;
  manifestsMarked: number;
  /** Untagged revisions kept only for being younger than the minimum age. */
  manifestsProtected: number;
  deletions: ManifestDeletion[];
  /** Formatted digest -> repositories whose _layers link it. */
  layerLinks: Map<string, string[]>;
}

export interface MarkProgress {
  repositories: number;
  manifests: number;
  repository: string;
}

/** Tags whose history lists each digest being deleted; distribution removes those entries with the revision. */
async function tagHistory(driver: StorageDriver, name: string, digests: Set<string>): Promise<Map<string, string[]>> {
  const byDigest = new Map<string, string[]>();
  let tagDirs: string[];
  try {
    tagDirs = await driver.list(paths.tagsRoot(name));
  } catch (err) {
    if (isNotFound(err)) return byDigest;
    throw err;
  }
  await forEachLimit(tagDirs, STORAGE_CONCURRENCY, async (dir) => {
    const tag = lastPathElement(dir);
    for (const digest of await listDigestDirs(driver, paths.tagIndexRoot(name, tag))) {
      const key = formatDigest(digest);
      if (digests.has(key)) addTo(byDigest, key, tag);
    }
  });
  return byDigest;
}

/**
 * The doomed revisions with an index before its children and a manifest before its referrers: when a writer makes a
 * revision referenced again while the sweep runs, what it needs has not been deleted yet, and is spared with it.
 */
function parentsFirst(repo: RepositoryContents, doomed: Set<string>): string[] {
  const children = new Map<string, string[]>();
  const parents = new Map<string, number>();
  for (const key of doomed) {
    const refs = repo.revisions.get(key)?.refs;
    if (!refs || refs instanceof Error) continue;
    for (const child of refs.manifests.map((ref) => formatDigest(ref.digest))) if (doomed.has(child) && child !== key) addTo(children, key, child);
    const subject = refs.subject && formatDigest(refs.subject);
    if (subject && doomed.has(subject) && subject !== key) addTo(children, subject, key);
  }
  for (const list of children.values()) for (const child of list) parents.set(child, (parents.get(child) ?? 0) + 1);
  const order: string[] = [];
  let ready = [...doomed].filter((key) => !parents.has(key)).sort();
  while (ready.length > 0) {
    const next: string[] = [];
    for (const key of ready) {
      order.push(key);
      for (const child of children.get(key) ?? []) {
        const left = (parents.get(child) ?? 1) - 1;
        parents.set(child, left);
        if (left === 0) next.push(child);
      }
    }
    ready = next.sort();
  }
  // Content addressing makes a cycle impossible; anything left over is still deleted, last.
  const placed = new Set(order);
  return [...order, ...[...doomed].filter((key) => !placed.has(key)).sort()];
}

async function deletionsOf(driver: StorageDriver, repo: RepositoryContents, kept: Set<string>): Promise<ManifestDeletion[]> {
  const doomed = new Set([...repo.revisions.keys()].filter((key) => !kept.has(key)));
  if (doomed.size === 0) return [];
  const history = await tagHistory(driver, repo.name, doomed);
  return parentsFirst(repo, doomed).map((key) => {
    const revision = repo.revisions.get(key);
    if (!revision) throw new Error(`revision ${key} vanished from the plan`);
    const refs = revision.refs instanceof Error ? undefined : revision.refs;
    return {
      repository: repo.name,
      digest: revision.digest,
      ...(refs?.subject && { subject: refs.subject }),
      tags: history.get(key) ?? [],
      references: refs ? [...refs.blobs, ...refs.manifests].map((ref) => ref.digest) : [],
    };
  });
}

export async function markRegistry(driver: StorageDriver, options: RetainOptions, onProgress: (p: MarkProgress) => void): Promise<MarkResult> {
  const result: MarkResult = {
    marked: new Set(),
    repositories: 0,
    manifestsMarked: 0,
    manifestsProtected: 0,
    deletions: [],
    layerLinks: new Map(),
  };
  let manifests = 0;
  for (const name of await new Catalog(driver).all()) {
    const repo = await loadRepository(driver, name, () => {
      manifests++;
      onProgress({ repositories: result.repositories, manifests, repository: name });
    });
    const { roots, young } = await rootsOf(driver, repo, options);
    const kept = retain(repo, [...roots, ...young]);
    const protectedByAge = young.size === 0 ? 0 : kept.size - retain(repo, roots).size;
    markReferences(repo, kept, result.marked);
    result.deletions.push(...(await deletionsOf(driver, repo, kept)));
    for (const digest of repo.layerLinks) addTo(result.layerLinks, formatDigest(digest), name);
    result.repositories++;
    result.manifestsMarked += kept.size;
    result.manifestsProtected += protectedByAge;
    onProgress({ repositories: result.repositories, manifests, repository: name });
  }
  for (const key of result.layerLinks.keys()) if (result.marked.has(key)) result.layerLinks.delete(key);
  return result;
}
