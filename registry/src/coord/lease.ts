// What every backend's lease shares: claim once, renew every third of the ttl, and give the lease up (abort its
// signal) before it can lapse, so that a holder that cannot renew stops working before another process may start.
import type { Logger } from '../log.js';
import type { Lease, LeaseHolder } from './coordinator.js';

/** How a backend stores leases; the renewal schedule and the loss rules are lease.ts's. */
export interface LeaseStore {
  /** Claims name for holder; undefined when it is now held, else the process that holds it. */
  claim(name: string, holder: string, ttlMs: number): Promise<LeaseHolder | undefined>;
  /** Extends a held lease; false when the store says the holder no longer holds it. */
  renew(name: string, holder: string, ttlMs: number): Promise<boolean>;
  release(name: string, holder: string): Promise<void>;
}

const now = (): number => performance.now();

export async function acquireLease(store: LeaseStore, name: string, holder: string, ttlMs: number, logger: Logger): Promise<Lease | LeaseHolder> {
  const started = now();
  const other = await store.claim(name, holder, ttlMs);
  if (other) return other;
  const controller = new AbortController();
  const log = logger.child({ lease: name });
  // Measured from before the claim: the lease cannot have been stored any earlier than that.
  let renewedAt = started;
  let timer: NodeJS.Timeout | undefined;
  let released = false;
  const lose = (reason: string): void => {
    if (controller.signal.aborted) return;
    log.warn({ reason }, 'lease lost; stopping the work it guarded');
    controller.abort(new Error(`lease ${name} lost: ${reason}`));
    clearTimeout(timer);
  };
  const renew = async (): Promise<void> => {
    const attempt = now();
    // A renewal that comes too late (a paused process) cannot be trusted: another may already hold the lease.
    if (attempt - renewedAt > ttlMs / 2) return lose(`not renewed for ${Math.round(attempt - renewedAt)} ms of a ${ttlMs} ms lease`);
    try {
      if (await store.renew(name, holder, ttlMs)) renewedAt = attempt;
      else return lose('another process holds it');
    } catch (err) {
      log.warn({ err }, 'lease renewal failed; retrying');
    }
    if (!controller.signal.aborted && !released) schedule(attempt);
  };
  // A third of the ttl after the last attempt began, not after it ended: a store that takes seconds to answer (a busy
  // bucket) would otherwise push the next attempt past half the ttl, and a healthy holder would give its lease up.
  const schedule = (from: number): void => {
    timer = setTimeout(() => void renew(), Math.max(1, Math.floor(ttlMs / 3 - (now() - from))));
    timer.unref();
  };
  schedule(started);
  return {
    name,
    holder,
    get expiresAt() {
      return Date.now() + ttlMs - (now() - renewedAt);
    },
    signal: controller.signal,
    async release() {
      if (released) return;
      released = true;
      clearTimeout(timer);
      if (!controller.signal.aborted) controller.abort(new Error(`lease ${name} released`));
      await store.release(name, holder).catch((err: unknown) => log.warn({ err }, 'lease release failed; it lapses at its expiry'));
    },
  };
}
