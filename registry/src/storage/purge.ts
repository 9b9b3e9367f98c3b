// storage.maintenance.uploadpurging: abandoned uploads (_uploads/<uuid> of a push that never finished) are deleted
// once their startedat is older than `age`, every `interval`, as distribution's purger does; `registry
// garbage-collect` deletes them through purgeUploads too. Where distribution's replicas each purge at a random
// moment of the interval, ours purge once per interval between them all.
import type { StorageConfig } from '../config/types.js';
import type { Coordinator } from '../coord/coordinator.js';
import { scheduleExclusive } from '../coord/exclusive.js';
import type { Logger } from '../log.js';
import type { StorageDriver } from './driver/driver.js';
import { isNotFound } from './driver/driver.js';
import { deleteIfExists } from './links.js';
import { lastPathElement, paths } from './paths.js';

/** The job's lease and record name (_coord/jobs/uploadpurge). */
const PURGE_JOB = 'uploadpurge';

export interface PurgeResult {
  /** Uploads deleted (in a dry run: that would have been). */
  purged: number;
  /** Uploads younger than the cut-off. */
  kept: number;
  /** startedat files that could not be read or parsed; those uploads are kept. */
  errors: number;
}

interface Upload {
  repository: string;
  uuid: string;
  startedAtPath: string;
}

export interface StaleUpload {
  repository: string;
  uuid: string;
  startedAt: Date;
}

/** Where purgeUploads says what it does: the purger logs it, the collector prints it. */
export interface PurgeReport {
  /** An upload deleted (in a dry run: that would be). */
  stale(upload: StaleUpload): void;
  /** The path of a startedat that is not a time; its upload is kept. */
  unreadable(path: string): void;
}

/** Every upload with a startedat file, from one walk that skips _layers and _manifests. */
async function findUploads(driver: StorageDriver): Promise<Upload[]> {
  const uploads: Upload[] = [];
  const prefix = `${paths.repositoriesRoot}/`;
  try {
    await driver.walk(paths.repositoriesRoot, (info) => {
      const name = lastPathElement(info.path);
      if (info.isDir) return name.startsWith('_') && name !== '_uploads' ? 'skip' : undefined;
      const match = /^(.+)\/_uploads\/([^/]+)\/startedat$/.exec(info.path.slice(prefix.length));
      if (match) uploads.push({ repository: match[1] as string, uuid: match[2] as string, startedAtPath: info.path });
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return uploads;
}

/** Deletes (or with dryRun, only reports) every upload started before olderThan. */
export async function purgeUploads(driver: StorageDriver, olderThan: Date, dryRun: boolean, report: PurgeReport): Promise<PurgeResult> {
  const result: PurgeResult = { purged: 0, kept: 0, errors: 0 };
  for (const upload of await findUploads(driver)) {
    let started: number;
    try {
      started = Date.parse((await driver.getContent(upload.startedAtPath)).toString('utf8').trim());
    } catch (err) {
      // Finished or cancelled since the walk saw it.
      if (isNotFound(err)) continue;
      throw err;
    }
    if (Number.isNaN(started)) {
      result.errors++;
      report.unreadable(upload.startedAtPath);
      continue;
    }
    if (started >= olderThan.getTime()) {
      result.kept++;
      continue;
    }
    result.purged++;
    if (!dryRun) await deleteIfExists(driver, paths.uploadDir(upload.repository, upload.uuid));
    report.stale({ repository: upload.repository, uuid: upload.uuid, startedAt: new Date(started) });
  }
  return result;
}

/** The purger's report: a log line per upload. */
export function loggedPurge(logger: Logger, dryRun: boolean): PurgeReport {
  return {
    stale: ({ repository, uuid, startedAt }) =>
      logger.info(
        { repository, uuid, startedAt: startedAt.toISOString() },
        dryRun ? 'upload purge (dry run): would delete abandoned upload' : 'upload purge: deleted abandoned upload',
      ),
    unreadable: (path) => logger.warn({ path }, 'upload purge: startedat is not a time; keeping the upload'),
  };
}

/**
 * Runs purgeUploads every uploadpurging.interval, once per interval across every process sharing the storage (a
 * once-per-fleet job: the workers of a machine and the replicas of a cluster take turns through its lease and its
 * record in storage), until stop(). Does nothing when purging is disabled, nor in read-only mode: an SA who switched
 * storage read-only (for a collection, a backup, a bucket copy) expects nothing to change in it, and purging deletes.
 */
export function startUploadPurger(driver: StorageDriver, coord: Coordinator, maintenance: StorageConfig['maintenance'], logger: Logger): { stop(): Promise<void> } {
  const config = maintenance.uploadpurging;
  const log = logger.child({ component: 'uploadpurger' });
  if (config.enabled && maintenance.readonly.enabled) log.info('upload purging is off while storage.maintenance.readonly is enabled');
  if (!config.enabled || maintenance.readonly.enabled) return { stop: async () => undefined };
  log.info({ ageMs: config.age, intervalMs: config.interval, dryRun: config.dryrun }, 'upload purging enabled');
  return scheduleExclusive(
    coord,
    driver,
    {
      name: PURGE_JOB,
      intervalMs: config.interval,
      async run(_signal, jobLog) {
        const result = await purgeUploads(driver, new Date(Date.now() - config.age), config.dryrun, loggedPurge(jobLog, config.dryrun));
        jobLog.info({ ...result, dryRun: config.dryrun }, 'upload purge finished');
        return result;
      },
    },
    log,
  );
}
