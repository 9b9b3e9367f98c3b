// proxy.ttl: mirrored tags and manifests nobody pulled for longer than their upstream's ttl are deleted, the way
// distribution's proxy scheduler expires them, so that the garbage collector frees their blobs. Runs once per fleet
// (scheduleExclusive) from the use records in storage, so restarts neither forget nor repeat it.
import { scheduleExclusive, type ScheduledJob } from '../coord/exclusive.js';
import type { Coordinator } from '../coord/coordinator.js';
import { RegistryError } from '../errcode.js';
import type { Logger } from '../log.js';
import { formatDigest, sameDigest } from '../storage/digest.js';
import { deleteIfExists } from '../storage/links.js';
import type { RegistryStore } from '../storage/registry-store.js';
import type { Routes } from './routing.js';
import { listUses, type UseRecord } from './usage.js';

export interface EvictionResult {
  tags: number;
  manifests: number;
  /** Expired manifests kept because a tag still in use points at them. */
  kept: number;
}

const JOB = 'mirror-eviction';
const MINUTE = 60_000;

/** Ignores "already gone": the tag or manifest was deleted through the API, or by an earlier run that stopped. */
async function unlessGone(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (!(err instanceof RegistryError)) throw err;
  }
}

/**
 * Deletes the expired tags, then the expired manifests no remaining tag points at, of every mirrored repository.
 * Content whose repository no configured upstream mirrors any more is kept: nothing says how long to keep it.
 */
export async function evictExpired(store: RegistryStore, routes: Routes, now: number, log: Logger, signal?: AbortSignal): Promise<EvictionResult> {
  const result: EvictionResult = { tags: 0, manifests: 0, kept: 0 };
  const byRepository = new Map<string, UseRecord[]>();
  for (const record of await listUses(store.driver)) {
    const records = byRepository.get(record.name) ?? [];
    records.push(record);
    byRepository.set(record.name, records);
  }
  for (const [name, records] of byRepository) {
    if (signal?.aborted) break;
    const ttl = routes.route(name)?.upstream.ttl ?? 0;
    if (ttl === 0) continue;
    const expired = (record: UseRecord) => now - record.lastUsed > ttl;
    for (const record of records.filter((r) => r.tag !== undefined && expired(r))) {
      await unlessGone(() => store.tags.untag(name, record.tag as string));
      await deleteIfExists(store.driver, record.path);
      result.tags++;
      log.info({ name, tag: record.tag }, 'mirrored tag expired (proxy.ttl)');
    }
    const tagged = [...(await store.tags.all(name)).values()];
    for (const record of records) {
      const digest = record.digest;
      if (digest === undefined || !expired(record)) continue;
      if (tagged.some((target) => sameDigest(target, digest))) {
        result.kept++;
        continue;
      }
      await unlessGone(() => store.manifests.delete(name, digest));
      await deleteIfExists(store.driver, record.path);
      result.manifests++;
      log.info({ name, digest: formatDigest(digest) }, 'mirrored manifest expired (proxy.ttl)');
    }
  }
  return result;
}

/** How often the job looks: a tenth of the shortest ttl, between a minute and an hour. */
function intervalOf(routes: Routes): number | undefined {
  const ttls = routes
    .all()
    .map((u) => u.ttl)
    .filter((ttl) => ttl > 0);
  if (ttls.length === 0) return undefined;
  return Math.min(Math.max(Math.min(...ttls) / 10, MINUTE), 60 * MINUTE);
}

/** The once-per-fleet eviction job, or undefined when every upstream keeps its content for ever (ttl 0). */
export function scheduleEviction(coord: Coordinator, store: RegistryStore, routes: Routes, logger: Logger): ScheduledJob | undefined {
  const intervalMs = intervalOf(routes);
  if (intervalMs === undefined) return undefined;
  return scheduleExclusive(
    coord,
    store.driver,
    { name: JOB, intervalMs, run: (signal, log) => evictExpired(store, routes, Date.now(), log, signal) },
    logger,
  );
}
