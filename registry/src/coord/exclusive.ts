// Jobs that must run once per interval across the whole fleet (upload purging, background collection, retention):
// every process that may run them looks at the job's record in storage every so often; the one that finds it due
// and takes the job's lease runs it, and records when. The record lives in storage, so a restart of any process,
// or of all of them, neither skips a run nor repeats one.
import type { Logger } from '../log.js';
import { isNotFound, type StorageDriver } from '../storage/driver/driver.js';
import { paths } from '../storage/paths.js';
import { checkName, isLease, type Coordinator } from './coordinator.js';

export interface JobRecord {
  /** ms since the epoch, by the clock of the process that ran it */
  lastStart?: number;
  lastFinish?: number;
  lastSuccess?: number;
  holder?: string;
  result?: unknown;
  error?: string;
}

export interface ExclusiveJob {
  /** Lease and record name. */
  name: string;
  intervalMs: number;
  /** How often a process looks whether the job is due (at most the interval). */
  checkEveryMs?: number;
  /** Lease ttl; the lease is renewed while the job runs. */
  ttlMs?: number;
  /** Does the work; stops early when the signal aborts (the lease was lost, or the process is stopping). */
  run(signal: AbortSignal, log: Logger): Promise<unknown>;
}

export interface ScheduledJob {
  /** Runs the job now if no process holds its lease, whatever the record says; undefined when another holds it. */
  runNow(): Promise<JobRecord | undefined>;
  stop(): Promise<void>;
}

export async function readJobRecord(driver: StorageDriver, name: string): Promise<JobRecord> {
  try {
    return JSON.parse((await driver.getContent(paths.jobRecord(name))).toString('utf8')) as JobRecord;
  } catch (err) {
    if (isNotFound(err) || err instanceof SyntaxError) return {};
    throw err;
  }
}

async function writeJobRecord(driver: StorageDriver, name: string, record: JobRecord): Promise<void> {
  await driver.putContent(paths.jobRecord(name), Buffer.from(JSON.stringify(record)));
}

export function scheduleExclusive(coord: Coordinator, driver: StorageDriver, job: ExclusiveJob, logger: Logger): ScheduledJob {
  checkName('lease', job.name);
  const log = logger.child({ job: job.name });
  const checkEvery = Math.min(job.checkEveryMs ?? 60_000, job.intervalMs);
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();

  const due = (record: JobRecord): boolean => record.lastStart === undefined || Date.now() - record.lastStart >= job.intervalMs;

  const attempt = async (force: boolean): Promise<JobRecord | undefined> => {
    if (!force && !due(await readJobRecord(driver, job.name))) return undefined;
    const lease = await coord.tryLease(job.name, job.ttlMs ?? 60_000);
    if (!isLease(lease)) {
      log.debug({ holder: lease.holder }, 'job runs elsewhere');
      return undefined;
    }
    try {
      // Another process may have finished a run between our look and our lease.
      const before = await readJobRecord(driver, job.name);
      if (!force && !due(before)) return undefined;
      const record: JobRecord = { ...before, lastStart: Date.now(), holder: coord.id };
      await writeJobRecord(driver, job.name, record);
      const signal = AbortSignal.any([lease.signal, stopping.signal]);
      try {
        record.result = await job.run(signal, log);
        record.lastSuccess = Date.now();
        delete record.error;
      } catch (err) {
        record.error = (err as Error).message;
        log.error({ err }, 'job failed; it runs again at its next interval');
      }
      record.lastFinish = Date.now();
      await writeJobRecord(driver, job.name, record);
      return record;
    } finally {
      await lease.release();
    }
  };

  const tick = async (): Promise<void> => {
    try {
      await attempt(false);
    } catch (err) {
      log.warn({ err: { message: (err as Error).message } }, 'could not check or start the job; trying again later');
    }
    if (stopping.signal.aborted) return;
    // Jitter, so that processes do not keep looking at the same moment: two claiming a storage lease together can
    // both back off, and would again and again in step.
    timer = setTimeout(() => (current = tick()), checkEvery * (0.5 + Math.random()));
    timer.unref();
  };
  timer = setTimeout(() => (current = tick()), Math.random() * checkEvery);
  timer.unref();

  return {
    runNow: () => attempt(true),
    async stop() {
      stopping.abort(new Error('the process is stopping'));
      clearTimeout(timer);
      await current;
    },
  };
}
