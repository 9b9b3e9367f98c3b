// The accounting behind `registry du`: bytes each repository references, split into what only it references and
// what it shares with others, and what a collection would free now. It uses the collector's own mark rules, so
// "would free" is what `garbage-collect --min-age 0s` deletes, not an estimate.
import { Catalog } from '../storage/catalog.js';
import { formatDigest } from '../storage/digest.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import { loadRepository } from './repository.js';
import { markReferences, retain, rootsOf } from './retain.js';
import { walkBlobs } from './sweep.js';

export interface RepositoryUsage {
  repository: string;
  tags: number;
  manifests: number;
  /** Stored bytes of blobs (manifests included) only this repository references. */
  exclusiveBytes: number;
  /** Stored bytes of blobs this repository references that others reference too. */
  sharedBytes: number;
}

export interface Usage {
  repositories: RepositoryUsage[];
  stored: { blobs: number; bytes: number };
  /** Freed by `garbage-collect --min-age 0s`. */
  unreferenced: { blobs: number; bytes: number };
  /** Freed on top of that by `garbage-collect --delete-untagged --min-age 0s`. */
  untagged: { manifests: number; blobs: number; bytes: number };
}

interface Footprint {
  usage: RepositoryUsage;
  referenced: Set<string>;
}

export async function diskUsage(driver: StorageDriver): Promise<Usage> {
  const sizes = new Map<string, number>();
  await walkBlobs(driver, (blob) => sizes.set(formatDigest(blob.digest), blob.size));

  const footprints: Footprint[] = [];
  const keptUntagged = new Set<string>();
  let untaggedManifests = 0;
  for (const name of await new Catalog(driver).all()) {
    const repo = await loadRepository(driver, name);
    const referenced = new Set<string>();
    markReferences(repo, repo.revisions.keys(), referenced);
    const { roots } = await rootsOf(driver, repo, { deleteUntagged: true, minAgeMs: 0, now: Date.now() });
    const tagged = retain(repo, roots);
    markReferences(repo, tagged, keptUntagged);
    untaggedManifests += repo.revisions.size - tagged.size;
    footprints.push({
      usage: { repository: name, tags: repo.tags.size, manifests: repo.revisions.size, exclusiveBytes: 0, sharedBytes: 0 },
      referenced,
    });
  }

  const owners = new Map<string, number>();
  for (const { referenced } of footprints) for (const key of referenced) owners.set(key, (owners.get(key) ?? 0) + 1);
  for (const { usage, referenced } of footprints) {
    for (const key of referenced) {
      const size = sizes.get(key) ?? 0;
      if (owners.get(key) === 1) usage.exclusiveBytes += size;
      else usage.sharedBytes += size;
    }
  }

  const usage: Usage = {
    repositories: footprints.map((f) => f.usage),
    stored: { blobs: 0, bytes: 0 },
    unreferenced: { blobs: 0, bytes: 0 },
    untagged: { manifests: untaggedManifests, blobs: 0, bytes: 0 },
  };
  for (const [key, size] of sizes) {
    usage.stored.blobs++;
    usage.stored.bytes += size;
    const bucket = !owners.has(key) ? usage.unreferenced : !keptUntagged.has(key) ? usage.untagged : undefined;
    if (bucket) {
      bucket.blobs++;
      bucket.bytes += size;
    }
  }
  return usage;
}
