// `registry prune`: plan every matching repository first (a storage error or an unreadable manifest while planning
// deletes nothing), then delete. Blobs are left to the collector: a pruned manifest's layers may be shared.
// Between the plan and a deletion a push may move or add a tag, so each tag is removed only while it still points
// where the plan saw it, and a manifest only while no tag points at it.
import { Catalog } from '../storage/catalog.js';
import { formatDigest } from '../storage/digest.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import { deleteIfExists } from '../storage/links.js';
import { paths } from '../storage/paths.js';
import { TagStore } from '../storage/tags.js';
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

async function applyPlan(driver: StorageDriver, plan: RepositoryPlan, onEvent: (event: PruneEvent) => void, summary: PruneSummary): Promise<void> {
  const name = plan.repository;
  const tags = new TagStore(driver);
  const now = await tags.all(name);
  for (const dropped of plan.dropped) {
    const current = now.get(dropped.tag);
    if (current === undefined || formatDigest(current) !== formatDigest(dropped.digest)) {
      onEvent({ kind: 'skip', repository: name, what: `tag ${dropped.tag}, pushed again since the plan` });
      summary.skipped++;
      continue;
    }
    await deleteIfExists(driver, paths.tagDir(name, dropped.tag));
    if (plan.untagOnly.includes(dropped)) onEvent({ kind: 'untag', repository: name, tag: dropped });
    summary.tagsRemoved++;
  }
  const tagged = new Set([...(await tags.all(name)).values()].map(formatDigest));
  for (const deletion of plan.deletions) {
    if (tagged.has(formatDigest(deletion.digest))) {
      onEvent({ kind: 'skip', repository: name, what: `manifest ${formatDigest(deletion.digest)}, tagged again since the plan` });
      summary.skipped++;
      continue;
    }
    onEvent({ kind: 'manifest', repository: name, deletion });
    await deleteManifest(driver, { repository: name, digest: deletion.digest, ...(deletion.subject && { subject: deletion.subject }), tags: [] });
    summary.manifestsDeleted++;
  }
}

export async function pruneRegistry(driver: StorageDriver, options: PruneOptions, onEvent: (event: PruneEvent) => void): Promise<PruneSummary> {
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
    if (!options.dryRun) {
      await applyPlan(driver, plan, onEvent, summary);
      continue;
    }
    for (const tag of plan.untagOnly) onEvent({ kind: 'untag', repository: plan.repository, tag });
    for (const deletion of plan.deletions) onEvent({ kind: 'manifest', repository: plan.repository, deletion });
    summary.tagsRemoved += plan.dropped.length;
    summary.manifestsDeleted += plan.deletions.length;
  }
  return summary;
}
