// What `registry prune` does to one repository: keep the N most recently pushed tags, delete the manifests only the
// other tags need. distribution stores no push time, so a tag's age is the modification time of its
// _manifests/tags/<tag>/current/link, which every push of the tag rewrites (on S3/OSS: the object's LastModified; a
// copy of the storage that does not keep times makes every tag look just pushed).
//
// Deleted: each manifest a dropped tag points at, with the children of a deleted index and the referrers of a
// deleted manifest. Never deleted: anything a kept tag needs (its manifest, a kept index's children, a kept
// manifest's referrers, transitively), nor anything another revision still needs (an untagged index this run
// does not touch keeps its children). A dropped tag whose manifest is kept loses only the tag.
import { formatDigest, type Digest } from '../storage/digest.js';
import { isNotFound, type StorageDriver } from '../storage/driver/driver.js';
import { paths } from '../storage/paths.js';
import { addTo } from '../gc/multimap.js';
import { forEachLimit, STORAGE_CONCURRENCY } from '../gc/parallel.js';
import { loadRepository, type RepositoryContents } from '../gc/repository.js';
import { retain } from '../gc/retain.js';

export interface TagAge {
  tag: string;
  digest: Digest;
  pushed: Date;
}

export interface PlannedDeletion {
  digest: Digest;
  /** Its referrers-index entry lives under this subject. */
  subject?: Digest;
  /** The dropped tags pointing at it. */
  tags: string[];
  /** Why it goes: "tagged v1, v2", "child of index sha256:…", "referrer of sha256:…". */
  why: string;
  /** The planned deletion it goes with (an index for its child, a subject for its referrer): kept, it keeps this. */
  follows?: Digest;
}

export interface RepositoryPlan {
  repository: string;
  /** Newest first. */
  kept: TagAge[];
  dropped: TagAge[];
  /** Parents before their children and referrers. */
  deletions: PlannedDeletion[];
  /** Dropped tags whose manifest stays (another tag, a kept index or an untouched revision needs it). */
  untagOnly: TagAge[];
}

/** Every tag with the time its current link was last written, newest first (ties by name, for stable output). */
async function tagAges(driver: StorageDriver, repo: RepositoryContents): Promise<TagAge[]> {
  const ages: TagAge[] = [];
  await forEachLimit(repo.tags, STORAGE_CONCURRENCY, async ([tag, digest]) => {
    try {
      const { modTime } = await driver.stat(paths.tagCurrentLink(repo.name, tag));
      ages.push({ tag, digest, pushed: modTime });
    } catch (err) {
      // Deleted through the API since the tags were listed: nothing to keep or drop.
      if (!isNotFound(err)) throw err;
    }
  });
  return ages.sort((a, b) => b.pushed.getTime() - a.pushed.getTime() || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
}

interface Reason {
  why: string;
  follows?: Digest;
}

/** Why each revision of the doomed closure goes, from the dropped tags down through children and referrers. */
function reasons(repo: RepositoryContents, dropped: TagAge[], doomed: Set<string>): Map<string, Reason> {
  const why = new Map<string, Reason>();
  const pending: string[] = [];
  const tagged = new Map<string, string[]>();
  for (const { tag, digest } of dropped) addTo(tagged, formatDigest(digest), tag);
  const referrers = new Map<string, string[]>();
  for (const [key, revision] of repo.revisions) {
    if (!(revision.refs instanceof Error) && revision.refs.subject !== undefined) addTo(referrers, formatDigest(revision.refs.subject), key);
  }
  const follow = (key: string, reason: Reason): void => {
    if (!doomed.has(key) || why.has(key)) return;
    why.set(key, reason);
    pending.push(key);
  };
  for (const [key, tags] of tagged) follow(key, { why: `tagged ${tags.join(', ')}` });
  for (let key = pending.shift(); key !== undefined; key = pending.shift()) {
    const revision = repo.revisions.get(key);
    if (revision === undefined) continue;
    if (!(revision.refs instanceof Error)) {
      for (const child of revision.refs.manifests) follow(formatDigest(child.digest), { why: `child of index ${key}`, follows: revision.digest });
    }
    for (const referrer of referrers.get(key) ?? []) follow(referrer, { why: `referrer of ${key}`, follows: revision.digest });
  }
  return why;
}

export async function planRepository(driver: StorageDriver, name: string, keep: number): Promise<RepositoryPlan> {
  const repo = await loadRepository(driver, name);
  const ages = await tagAges(driver, repo);
  const kept = ages.slice(0, keep);
  const dropped = ages.slice(keep);
  const present = (digests: Digest[]) => digests.map(formatDigest).filter((key) => repo.revisions.has(key));
  const candidates = retain(repo, present(dropped.map((t) => t.digest)));
  for (const key of retain(repo, present(kept.map((t) => t.digest)))) candidates.delete(key);
  // Whatever this run does not delete keeps what it needs, tagged or not.
  const untouched = [...repo.revisions.keys()].filter((key) => !candidates.has(key));
  for (const key of retain(repo, untouched)) candidates.delete(key);
  const why = reasons(repo, dropped, candidates);
  const deletions = [...why].map(([key, reason]): PlannedDeletion => {
    const revision = repo.revisions.get(key)!;
    const subject = revision.refs instanceof Error ? undefined : revision.refs.subject;
    return {
      digest: revision.digest,
      ...(subject !== undefined && { subject }),
      tags: dropped.filter((t) => formatDigest(t.digest) === key).map((t) => t.tag),
      why: reason.why,
      ...(reason.follows && { follows: reason.follows }),
    };
  });
  return { repository: name, kept, dropped, deletions, untagOnly: dropped.filter((t) => !why.has(formatDigest(t.digest))) };
}
