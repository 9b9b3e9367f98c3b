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

export interface ManifestDeletion {
  repository: string;
  digest: Digest;
  /** Its referrers-index entry lives under this subject. */
  subject?: Digest;
  /** Tags whose history (tags/<tag>/index) lists the revision. */
  tags: string[];
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

async function deletionsOf(driver: StorageDriver, repo: RepositoryContents, kept: Set<string>): Promise<ManifestDeletion[]> {
  const doomed = new Set([...repo.revisions.keys()].filter((key) => !kept.has(key)));
  if (doomed.size === 0) return [];
  const history = await tagHistory(driver, repo.name, doomed);
  return [...doomed].sort().map((key) => {
    const revision = repo.revisions.get(key);
    if (!revision) throw new Error(`revision ${key} vanished from the plan`);
    const subject = revision.refs instanceof Error ? undefined : revision.refs.subject;
    return { repository: repo.name, digest: revision.digest, ...(subject && { subject }), tags: history.get(key) ?? [] };
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
