// storage.maintenance.prune: LAIN's weekly retention cron as a key of the config. `serve` prunes once per interval
// across the fleet (a once-per-fleet job, its last run recorded in storage), safely while the fleet serves pushes
// (its deletions go through a registered collection), and then has the background collector, when it is on, free
// the blobs only the pruned manifests used.
import type { StorageConfig } from '../config/types.js';
import { scheduleExclusive, type ScheduledJob } from '../coord/exclusive.js';
import type { BackgroundDeps } from '../gc/background.js';
import { withCollection } from '../gc/online.js';
import type { Logger } from '../log.js';
import { formatDigest } from '../storage/digest.js';
import { pruneRegistry, type PruneEvent } from './prune.js';

/** The job's name: its lease and its record (_coord/jobs/prune). */
export const PRUNE_JOB = 'prune';

function pruneLog(log: Logger): (event: PruneEvent) => void {
  return (event) => {
    if (event.kind === 'plan' && event.plan.dropped.length > 0) {
      log.info({ repository: event.plan.repository, kept: event.plan.kept.map((t) => t.tag), dropped: event.plan.dropped.map((t) => t.tag) }, 'pruning');
    }
    if (event.kind === 'manifest') log.info({ repository: event.repository, digest: formatDigest(event.deletion.digest), why: event.deletion.why }, 'deleting manifest');
    if (event.kind === 'untag') log.info({ repository: event.repository, tag: event.tag.tag }, 'removing tag; its manifest stays');
    if (event.kind === 'skip') log.info({ repository: event.repository, what: event.what }, 'left alone: changed since the plan');
  };
}

/**
 * Schedules retention; undefined when it is off, or in read-only mode, which it refuses (and says why). `collector`,
 * the background collector when it is on, runs right after each prune.
 */
export function schedulePrune(maintenance: StorageConfig['maintenance'], deps: BackgroundDeps, collector: ScheduledJob | undefined): ScheduledJob | undefined {
  const config = maintenance.prune;
  const log = deps.logger.child({ component: 'prune' });
  if (!config.enabled) return undefined;
  if (maintenance.readonly.enabled) {
    log.warn('storage.maintenance.prune is enabled but does not run while storage.maintenance.readonly is enabled: pruning deletes, and read-only storage must not change');
    return undefined;
  }
  log.info({ intervalMs: config.interval, keep: config.keep, repositories: config.repositories }, 'scheduled retention enabled');
  const { coordination, driver } = deps;
  return scheduleExclusive(
    coordination.coord,
    driver,
    {
      name: PRUNE_JOB,
      intervalMs: config.interval,
      async run(signal, jobLog) {
        const summary = await withCollection(
          driver,
          coordination.coord.id,
          jobLog,
          signal,
          (collection) => pruneRegistry(driver, { keep: config.keep, repos: config.repositories, dryRun: false }, pruneLog(jobLog), collection),
        );
        jobLog.info({ ...summary }, 'prune finished');
        if (!collector) {
          jobLog.info('blobs only the pruned manifests used stay until a collection: enable storage.maintenance.gc, or run registry garbage-collect');
        } else {
          const ran = await collector.runNow().catch((err: unknown) => {
            jobLog.warn({ err: { message: (err as Error).message } }, 'could not start the collection after the prune; it runs at its interval');
            return undefined;
          });
          if (!ran) jobLog.info('another process is collecting now or could not be asked; the collector frees the pruned blobs at its next run');
        }
        return summary;
      },
    },
    log,
  );
}
