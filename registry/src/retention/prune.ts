// `registry prune`: plan every matching repository first (a storage error or an unreadable manifest while planning
// deletes nothing), then delete. Blobs are left to the collector: a pruned manifest's layers may be shared.
// Between the plan and a deletion a push may move or add a tag, so each tag is removed only while it still points
// where the plan saw it. Manifests are deleted as a garbage collection deletes them, inside a registered Collection
// (docs/gc-online.md): batch by batch, each tombstoned first, and a manifest a writer announced meanwhile (a push
// tagging it again), or that a tag points at now, is kept with the children and referrers the plan had doomed with it.
import { Catalog } from '../storage/catalog.js';
import { formatDigest, type Digest } from '../storage/digest.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import { deleteIfExists } from '../storage/links.js';
import { paths } from '../storage/paths.js';
import { TagStore } from '../storage/tags.js';
import type { SweepGuard } from '../gc/collect.js';
import { deleteManifest } from '../gc/sweep.js';
import { planRepository, type PlannedDeletion, type RepositoryPlan, type TagAge } from './plan.js';

export interface PruneOptions {
  keep: number;
  /** Repository globs (`*` any characters, "/" included; `?` one character); none means every repository. */
  repos: string[];
  dryRun: boolean;
}

export type PruneEvent =
  | { kind: 'plan'; plan: RepositoryPlan }
  | { kind: 'manifest'; repository: string; deletion: PlannedDeletion }
  | { kind: 'untag'; repository: string; tag: TagAge }
  /** Re-tagged or moved by a push since the plan: left alone. */
  | { kind: 'skip'; repository: string; what: string };

export interface PruneSummary {
  dryRun: boolean;
  repositories: number;
  tagsKept: number;
  tagsRemoved: number;
  manifestsDeleted: number;
  skipped: number;
}

function globMatcher(globs: string[]): (name: string) => boolean {
  if (globs.length === 0) return () => true;
  const patterns = globs.map((glob) => {
    const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
    return new RegExp(`^${source}$`, 's');
  });
  return (name) => patterns.some((pattern) => pattern.test(name));
}

/** Tags and manifests tombstoned and decided together. */
const BATCH = 64;

/** Runs `decide` over the items batch by batch, each batch's digests tombstoned, with those a writer announced. */
async function inBatches<T>(items: T[], digestOf: (item: T) => Digest, guard: SweepGuard, decide: (batch: T[], announced: Set<string>) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += BATCH) {
    const batch = items.slice(start, start + BATCH);
    const digests = batch.map(digestOf);
    const announced = await guard.protect(digests);
    try {
      guard.assertAlive();
      await decide(batch, announced);
    } finally {
      await guard.release(digests);
    }
  }
}

async function applyPlan(driver: StorageDriver, plan: RepositoryPlan, onEvent: (event: PruneEvent) => void, summary: PruneSummary, guard: SweepGuard): Promise<void> {
  const name = plan.repository;
  const tags = new TagStore(driver);
  const skip = (what: string) => {
    onEvent({ kind: 'skip', repository: name, what });
    summary.skipped++;
  };
  // A push naming the tag's manifest since the plan (the same image pushed to the tag again) keeps the tag.
  await inBatches(plan.dropped, (t) => t.digest, guard, async (batch, announced) => {
    const now = await tags.all(name);
    for (const dropped of batch) {
      const current = now.get(dropped.tag);
      if (current === undefined || formatDigest(current) !== formatDigest(dropped.digest) || announced.has(formatDigest(dropped.digest))) {
        skip(`tag ${dropped.tag}, pushed again since the plan`);
        continue;
      }
      await deleteIfExists(driver, paths.tagDir(name, dropped.tag));
      if (plan.untagOnly.includes(dropped)) onEvent({ kind: 'untag', repository: name, tag: dropped });
      summary.tagsRemoved++;
    }
  });
  // Kept since the plan, and so everything planned to go with them (the plan lists parents first).
  const kept = new Set<string>();
  await inBatches(plan.deletions, (d) => d.digest, guard, async (batch, announced) => {
    const tagged = new Set([...(await tags.all(name)).values()].map(formatDigest));
    for (const deletion of batch) {
      const key = formatDigest(deletion.digest);
      const why = announced.has(key)
        ? 'referenced by a push since the plan'
        : tagged.has(key)
          ? 'tagged again since the plan'
          : deletion.follows && kept.has(formatDigest(deletion.follows))
            ? `${formatDigest(deletion.follows)}, which it goes with, is kept`
            : undefined;
      if (why !== undefined) {
        kept.add(key);
        skip(`manifest ${key}, ${why}`);
        continue;
      }
      onEvent({ kind: 'manifest', repository: name, deletion });
      await deleteManifest(driver, { repository: name, digest: deletion.digest, ...(deletion.subject && { subject: deletion.subject }), tags: [] });
      summary.manifestsDeleted++;
    }
  });
}

/** Plans and prunes; a run that deletes (not dryRun) is handed the running Collection as `guard`. */
export async function pruneRegistry(driver: StorageDriver, options: PruneOptions, onEvent: (event: PruneEvent) => void, guard?: SweepGuard): Promise<PruneSummary> {
  if (!options.dryRun && !guard) throw new Error('a prune that deletes runs inside a registered Collection');
  const matches = globMatcher(options.repos);
  const plans: RepositoryPlan[] = [];
  for (const name of await new Catalog(driver).all()) {
    if (!matches(name)) continue;
    const plan = await planRepository(driver, name, options.keep);
    plans.push(plan);
    onEvent({ kind: 'plan', plan });
  }
  const summary: PruneSummary = {
    dryRun: options.dryRun,
    repositories: plans.length,
    tagsKept: plans.reduce((n, p) => n + p.kept.length, 0),
    tagsRemoved: 0,
    manifestsDeleted: 0,
    skipped: 0,
  };
  for (const plan of plans) {
    if (guard && !options.dryRun) {
      await applyPlan(driver, plan, onEvent, summary, guard);
      continue;
    }
    for (const tag of plan.untagOnly) onEvent({ kind: 'untag', repository: plan.repository, tag });
    for (const deletion of plan.deletions) onEvent({ kind: 'manifest', repository: plan.repository, deletion });
    summary.tagsRemoved += plan.dropped.length;
    summary.manifestsDeleted += plan.deletions.length;
  }
  return summary;
}
