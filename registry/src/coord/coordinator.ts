// The coordination layer: what the processes of one fleet (the workers of a machine, the replicas sharing a storage
// backend) need from each other, behind one small interface with a storage backend and a Redis backend.
// docs/coordination.md says what each primitive guarantees, and what happens when Redis or a process dies.
//
// - a lease with an expiry: at most one process holds a name at a time, renewed while it works;
// - a message bus: keys published on a topic reach every process (cache invalidation, "fetch finished");
// - single flight (single-flight.ts) and once-per-fleet jobs (exclusive.ts) are built on those two.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export interface LeaseHolder {
  name: string;
  /** Coordinator id of the process that holds it. */
  holder: string;
  /** When it lapses unless renewed, in ms since the epoch as the holder or the backend sees it (approximate). */
  expiresAt: number;
}

export interface Lease extends LeaseHolder {
  /**
   * Aborted once the lease may be lost: a renewal failed for longer than half the ttl, the backend said another
   * process holds it, or release() was called. Work under a lease checks it before every irreversible step.
   */
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

export interface Subscriber {
  /** Keys published on the topic, by any process of the fleet, this one included. */
  keys(keys: string[]): void;
  /** Messages may have been missed (a reconnect, a gap in polling): drop whatever the keys would have invalidated. */
  reset(): void;
}

export type Backend = 'local' | 'storage' | 'redis';

export interface Coordinator {
  readonly backend: Backend;
  /** This process's name in leases, events and logs: <host>-<pid>-<random>. */
  readonly id: string;
  /** Takes the lease when nobody holds it, else says who does. Throws when the backend cannot be reached. */
  tryLease(name: string, ttlMs: number): Promise<Lease | LeaseHolder>;
  /** Sends keys to every subscriber of the topic in the fleet. Best effort: a process that misses them is reset. */
  publish(topic: string, keys: string[]): Promise<void>;
  subscribe(topic: string, subscriber: Subscriber): () => void;
  /** Releases held leases, stops polling, closes connections. */
  close(): Promise<void>;
}

export function isLease(result: Lease | LeaseHolder): result is Lease {
  return 'signal' in result;
}

/** Lease names and topics become storage path components and Redis keys: keep them to one safe alphabet. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function checkName(kind: 'lease' | 'topic', name: string): void {
  if (!NAME.test(name)) throw new Error(`coordination ${kind} name ${JSON.stringify(name)} must match ${NAME}`);
}

/** <host>-<pid>-<6 hex>: anything else in a lease directory (a driver's temp file) is not a claim. */
export const COORDINATOR_ID = /^[A-Za-z0-9]+-\d+-[0-9a-f]{6}$/;

export function newCoordinatorId(): string {
  const host = hostname().replace(/[^A-Za-z0-9]/g, '').slice(0, 40) || 'host';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
