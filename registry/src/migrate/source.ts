// One repository of the source storage as migrate copies it: gc's reading of its revisions, tags and layer links,
// plus the tag histories and referrer links, and every blob it needs. Read-only.
import { loadRepository, type RepositoryContents } from '../gc/repository.js';
import { formatDigest, type Digest } from '../storage/digest.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import { linkPointsAt, listDigestDirs } from '../storage/links.js';
import { paths } from '../storage/paths.js';

export interface ReferrerLink {
  subject: Digest;
  digest: Digest;
}

export interface SourceRepository extends RepositoryContents {
  /** Tag -> every digest its index/ lists. */
  tagHistory: Map<string, Digest[]>;
  /** Referrer links present at the source. */
  referrers: ReferrerLink[];
  /** Every blob the repository holds or references (layer links, manifest contents, what manifests name), once each. */
  blobs: Digest[];
}

function blobsOf(contents: RepositoryContents): Digest[] {
  const blobs = new Map<string, Digest>();
  const add = (digest: Digest) => blobs.set(formatDigest(digest), digest);
  contents.layerLinks.forEach(add);
  for (const revision of contents.revisions.values()) {
    add(revision.digest);
    if (revision.refs instanceof Error) continue;
    for (const ref of [...revision.refs.blobs, ...revision.refs.manifests]) add(ref.digest);
  }
  return [...blobs.values()];
}

export async function readSourceRepository(driver: StorageDriver, name: string): Promise<SourceRepository> {
  const contents = await loadRepository(driver, name);
  const tagHistory = new Map<string, Digest[]>();
  for (const tag of contents.tags.keys()) tagHistory.set(tag, await listDigestDirs(driver, paths.tagIndexRoot(name, tag)));
  const referrers: ReferrerLink[] = [];
  for (const revision of contents.revisions.values()) {
    const subject = revision.refs instanceof Error ? undefined : revision.refs.subject;
    if (subject && (await linkPointsAt(driver, paths.referrerLink(name, subject, revision.digest), revision.digest))) {
      referrers.push({ subject, digest: revision.digest });
    }
  }
  return { ...contents, tagHistory, referrers, blobs: blobsOf(contents) };
}
