// storage.maintenance.gc: `serve` collects garbage by itself, once per interval across the fleet (a once-per-fleet
// job under the lease `gc`, which `registry garbage-collect` takes too), safely while the fleet serves pushes. Progress
// and the result go to the log; runs, duration, what was freed and the last success to the metrics.
import type { StorageConfig } from '../config/types.js';
import type { Coordination } from '../coord/factory.js';
import { scheduleExclusive, type ScheduledJob } from '../coord/exclusive.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { formatDigest } from '../storage/digest.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import type { GcEvent, GcSummary } from './collect.js';
import { announceGone, collectLive, GC_LEASE, GC_LEASE_TTL_MS } from './online.js';

/** A long collection says where it is this often. */
const PROGRESS_EVERY_MS = 10_000;

export interface BackgroundDeps {
  coordination: Pick<Coordination, 'coord' | 'descriptors'>;
  driver: StorageDriver;
  metrics?: Metrics;
  logger: Logger;
}

/** Logs each phase as it starts and where it stands every 10 s; each deletion at debug, each spared item at info. */
function progressLog(log: Logger): (event: GcEvent) => void {
  let phase: GcEvent['kind'] | undefined;
  let shownAt = 0;
  return (event) => {
    if (event.kind === 'manifest') return log.debug({ repository: event.repository, digest: formatDigest(event.digest) }, 'deleting manifest');
    if (event.kind === 'blob') return log.debug({ digest: formatDigest(event.digest), size: event.size }, 'deleting blob');
    if (event.kind === 'spared') {
      return log.info({ digest: formatDigest(event.digest), ...(event.repository !== undefined && { repository: event.repository }) }, 'kept: referenced during the collection');
    }
    const now = performance.now();
    if (event.kind === phase && now - shownAt < PROGRESS_EVERY_MS) return;
    phase = event.kind;
    shownAt = now;
    const { kind, ...where } = event;
    log.info(where, kind === 'mark' ? 'marking' : kind === 'scan' ? 'scanning blobs' : 'sweeping');
  };
}

function record(metrics: Metrics, summary: GcSummary): void {
  metrics.gcBlobsFreed.inc(summary.blobsDeleted);
  metrics.gcBytesFreed.inc(summary.bytesFreed);
  metrics.gcManifestsDeleted.inc(summary.manifestsDeleted);
  metrics.gcSpared.inc(summary.manifestsSpared + summary.blobsSpared);
  metrics.gcLastSuccess.set(Date.now() / 1000);
}

/**
 * Schedules the background collector; undefined when it is off, or in read-only mode, which it refuses (and says
 * why): a collection deletes, and read-only storage must not change.
 */
export function scheduleCollector(maintenance: StorageConfig['maintenance'], deps: BackgroundDeps): ScheduledJob | undefined {
  const config = maintenance.gc;
  const log = deps.logger.child({ component: 'gc' });
  if (!config.enabled) return undefined;
  if (maintenance.readonly.enabled) {
    log.warn(
      'storage.maintenance.gc is enabled but the background collector does not run while storage.maintenance.readonly is enabled: ' +
        'a collection deletes, and read-only storage must not change (collect with `registry garbage-collect` instead)',
    );
    return undefined;
  }
  log.info({ intervalMs: config.interval, minAgeMs: config.minage, deleteUntagged: config.deleteuntagged }, 'background garbage collection enabled');
  const { coordination, driver, metrics } = deps;
  return scheduleExclusive(
    coordination.coord,
    driver,
    {
      name: GC_LEASE,
      intervalMs: config.interval,
      ttlMs: GC_LEASE_TTL_MS,
      async run(signal, jobLog) {
        const started = performance.now();
        const gone: string[] = [];
        const progress = progressLog(jobLog);
        const options = { dryRun: false, deleteUntagged: config.deleteuntagged, minAgeMs: config.minage };
        try {
          const summary = await collectLive(driver, options, progress, {
            holder: coordination.coord.id,
            logger: jobLog,
            signal,
            swept: gone,
            registered: (collection) => jobLog.info({ collection: collection.id }, 'garbage collection registered; waiting for writes already under way'),
          });
          jobLog.info({ ...summary }, 'garbage collection finished');
          metrics?.gcRuns.inc({ outcome: 'success' });
          if (metrics) record(metrics, summary);
          return summary;
        } catch (err) {
          metrics?.gcRuns.inc({ outcome: 'failure' });
          throw err;
        } finally {
          metrics?.gcDuration.observe((performance.now() - started) / 1000);
          await announceGone(coordination, gone).catch((err: unknown) =>
            jobLog.warn({ err: { message: (err as Error).message } }, 'telling the fleet which blobs are gone failed; their caches drop them at their next miss'),
          );
        }
      },
    },
    log,
  );
}
