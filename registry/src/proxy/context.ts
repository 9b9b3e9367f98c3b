// What the mirror's blob and manifest paths share: the stores they write through, the fleet-wide single flight,
// the use records, the metrics, and the upstream a request goes to.
import type { Context } from '../api/context.js';
import { RegistryError } from '../errcode.js';
import type { SingleFlight } from '../coord/single-flight.js';
import type { Metrics } from '../metrics.js';
import type { RegistryStore } from '../storage/registry-store.js';
import type { Route } from './routing.js';
import type { UpstreamClient } from './upstream-client.js';
import type { UsageRecords } from './usage.js';

export interface MirrorServices {
  store: RegistryStore;
  flight: SingleFlight;
  usage: UsageRecords;
  metrics?: Metrics;
}

export interface Upstream extends Route {
  client: UpstreamClient;
}

/**
 * Response header saying where a mirrored blob or manifest came from: `hit` (storage; for a tag, after the upstream
 * confirmed it), `miss` (fetched from the upstream for this request), `stale` (storage, because the upstream did not
 * answer about the tag).
 */
export const MIRROR_HEADER = 'X-Registry-Mirror';

export type Outcome = 'hit' | 'miss' | 'stale';

export function markOutcome(ctx: Context, outcome: Outcome): void {
  ctx.set(MIRROR_HEADER, outcome);
}

/** What the store answers, or undefined where it answers with a registry error (not there). */
export async function present<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof RegistryError) return undefined;
    throw err;
  }
}
