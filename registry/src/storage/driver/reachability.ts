// A storage backend that cannot be reached when the registry starts is waited for, not a reason to exit: exiting
// under --restart=always (or the cluster's deploy service) is a crash loop that serves nothing. Until the backend's
// start check passes, every storage operation fails as `unreachable` (503 UNAVAILABLE naming the driver), /v2/ and
// everything that needs no storage still answers, /debug/health reports it, and the check is retried in the
// background with a log line each time what is wrong changes.
import type { HealthStatus } from '../../health.js';
import type { Logger } from '../../log.js';
import { StorageError, type StorageDriver } from './driver.js';

export interface RetrySchedule {
  /** The first retry waits this long; each next one twice as long, up to maxMs. */
  firstMs: number;
  maxMs: number;
}

export const STORAGE_RETRY: RetrySchedule = { firstMs: 1_000, maxMs: 30_000 };

export interface Reachability extends HealthStatus {
  /** Throws an `unreachable` StorageError while the backend has not answered yet. */
  require(operation: string): void;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs the driver's start check once and, if it fails, keeps retrying it in the background until it passes. The
 * logger's lines name the driver (a child with driverLogFields).
 */
export async function reachDriver(driver: StorageDriver, logger: Logger, retry: RetrySchedule = STORAGE_RETRY): Promise<Reachability> {
  const check = driver.check?.bind(driver);
  const name = `storagedriver_${driver.name}`;
  let failure: unknown;
  try {
    await check?.();
    logger.info('storage driver ready');
  } catch (err) {
    failure = err;
    logger.warn(
      { reason: reasonOf(err) },
      'storage unreachable at start: serving, with storage routes answering 503 UNAVAILABLE; retrying in the background',
    );
  }
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const attempt = async (delayMs: number): Promise<void> => {
    try {
      await check?.();
    } catch (err) {
      if (reasonOf(err) !== reasonOf(failure)) logger.warn({ reason: reasonOf(err) }, 'storage still unreachable, now for another reason');
      failure = err;
      schedule(Math.min(delayMs * 2, retry.maxMs));
      return;
    }
    failure = undefined;
    logger.info('storage reachable: serving storage routes');
  };
  const schedule = (delayMs: number): void => {
    // unref: a pending retry never keeps a stopping process alive.
    if (!stopped) timer = setTimeout(() => void attempt(delayMs), delayMs).unref();
  };
  if (failure !== undefined) schedule(retry.firstMs);
  return {
    require(operation) {
      if (failure !== undefined) throw new StorageError(driver.name, operation, failure, 'unreachable');
    },
    failing: () => (failure === undefined ? {} : { [name]: `unreachable since the registry started: ${reasonOf(failure)}` }),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
