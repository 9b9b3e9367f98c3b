// Running a collection on a live registry, for `registry garbage-collect` and the background collector alike: the
// fleet's lease `gc` (one collector at a time, so the work is not done twice; safety comes from the Collection), the
// registration and its grace around the work, and telling every process which blobs are gone.
import { setTimeout as sleep } from 'node:timers/promises';
import { isLease, type Coordinator, type Lease, type LeaseHolder } from '../coord/coordinator.js';
import type { Coordination } from '../coord/factory.js';
import type { Logger } from '../log.js';
import { BLOB_GONE_TOPIC } from '../storage/descriptor-cache.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import { formatDigest } from '../storage/digest.js';
import { collectGarbage, type CollectOptions, type GcEvent, type GcSummary } from './collect.js';
import { Collection } from './collection.js';

/** The lease every collector takes: the command's and the background job's are one. */
export const GC_LEASE = 'gc';
/**
 * Renewed every third of this; a killed collector holds the lease this long at most. Long enough that a renewal
 * queued behind a collection's own requests on a busy bucket (16 s seen on s3rver with 100,000 blobs) is not taken
 * for a dead holder.
 */
export const GC_LEASE_TTL_MS = 120_000;
const LEASE_POLL_MS = 2_000;
/** Digests per published message: a sweep of a large registry is told in pieces. */
const GONE_PER_MESSAGE = 1000;

export class CollectorBusyError extends Error {
  constructor(readonly holder: LeaseHolder) {
    super(`another collection is running: ${describeHolder(holder)}`);
    this.name = 'CollectorBusyError';
  }
}

export function describeHolder(holder: LeaseHolder): string {
  return `lease ${holder.name} held by ${holder.holder}, which lapses at ${new Date(holder.expiresAt).toISOString()} unless its holder renews it`;
}

/**
 * Takes the collectors' lease; while another process holds it, calls onWaiting with each new holder and tries again
 * about every 2 s, or with wait false throws CollectorBusyError at once.
 */
export async function takeCollectorLease(coord: Coordinator, wait: boolean, onWaiting: (holder: LeaseHolder) => void): Promise<Lease> {
  let shown: string | undefined;
  for (;;) {
    const result = await coord.tryLease(GC_LEASE, GC_LEASE_TTL_MS);
    if (isLease(result)) return result;
    if (!wait) throw new CollectorBusyError(result);
    if (result.holder !== shown) onWaiting(result);
    shown = result.holder;
    // Jittered: two collectors that claimed at the same instant and both backed off must not retry in step.
    await sleep(LEASE_POLL_MS * (0.5 + Math.random()));
  }
}

/**
 * Registers a collection as `holder`, waits out its grace, runs the work (which marks, then sweeps through the
 * collection) and removes the registration, whatever the work did.
 */
export async function withCollection<T>(
  driver: StorageDriver,
  holder: string,
  logger: Logger,
  signal: AbortSignal | undefined,
  work: (collection: Collection) => Promise<T>,
  registered: (collection: Collection) => void = () => undefined,
): Promise<T> {
  const collection = await Collection.start(driver, holder, logger);
  registered(collection);
  try {
    await collection.grace(signal);
    return await work(collection);
  } finally {
    await collection.finish().catch((err: unknown) =>
      logger.warn({ err: { message: (err as Error).message }, collection: collection.id }, 'removing the collection registration failed; the next collection removes it'),
    );
  }
}

export interface LiveCollection {
  holder: string;
  logger: Logger;
  /** The lease, the process stopping: checked before each batch. */
  signal?: AbortSignal;
  /** Told once the collection is registered, before its grace. */
  registered?: (collection: Collection) => void;
  /** Filled with the formatted digest of each blob deleted, as it goes: for announceGone, even after a failure. */
  swept: string[];
}

/** One collection on a live registry: registered, its grace waited out, marked and swept under the registration. */
export function collectLive(driver: StorageDriver, options: CollectOptions, onEvent: (event: GcEvent) => void, live: LiveCollection): Promise<GcSummary> {
  return withCollection(
    driver,
    live.holder,
    live.logger,
    live.signal,
    (collection) =>
      collectGarbage(
        driver,
        options,
        (event) => {
          if (event.kind === 'blob') live.swept.push(formatDigest(event.digest));
          onEvent(event);
        },
        collection,
        live.signal,
      ),
    live.registered,
  );
}

/** Drops swept blobs from every process's descriptor cache (and the shared Redis one, when there is one). */
export async function announceGone(coordination: Pick<Coordination, 'coord' | 'descriptors'>, digests: string[]): Promise<void> {
  for (let i = 0; i < digests.length; i += GONE_PER_MESSAGE) {
    const keys = digests.slice(i, i + GONE_PER_MESSAGE);
    if (coordination.descriptors) await coordination.descriptors.forget(keys);
    else await coordination.coord.publish(BLOB_GONE_TOPIC, keys);
  }
}
