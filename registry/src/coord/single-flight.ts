// One fetch of a thing for many waiters, across the fleet. Within a process, waiters share the leader's promise.
// Across processes, the leader is whoever takes the lease "flight.<key>"; the others wait for its "done" message
// (or poll, in case the message is lost) and read the result where the leader put it (ready()). A leader that dies
// lets its lease lapse, and the next waiter to take it leads instead.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import { checkName, isLease, type Coordinator, type Lease } from './coordinator.js';

export interface Flight<T> {
  /** The finished result, where the leader keeps it (storage), or undefined while there is none. */
  ready(): Promise<T | undefined>;
  /** Produces the result. Runs in one process of the fleet at a time for a key; `lease` is undefined when the
   * coordination backend is unreachable and this process works alone. */
  lead(lease: Lease | undefined): Promise<T>;
}

export interface SingleFlightOptions {
  /** Lease ttl: how long a dead leader holds up its followers. */
  ttlMs?: number;
  /** Followers look at ready() at least this often, in case a "done" message is lost. */
  pollMs?: number;
  /** A follower gives up after waiting this long in all. */
  maxWaitMs?: number;
}

const TOPIC = 'flight-done';

export class FlightTimeoutError extends Error {
  constructor(readonly key: string, waitedMs: number) {
    super(`waited ${waitedMs} ms for another process to finish ${key}`);
    this.name = 'FlightTimeoutError';
  }
}

export class SingleFlight {
  private readonly local = new Map<string, Promise<unknown>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly unsubscribe: () => void;
  private readonly ttlMs: number;
  private readonly pollMs: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly coord: Coordinator,
    private readonly logger: Logger,
    options: SingleFlightOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.pollMs = options.pollMs ?? 1000;
    this.maxWaitMs = options.maxWaitMs ?? 600_000;
    this.unsubscribe = coord.subscribe(TOPIC, {
      keys: (keys) => keys.forEach((key) => this.wake(key)),
      reset: () => [...this.waiters.keys()].forEach((key) => this.wake(key)),
    });
  }

  /** The result for key, produced once however many ask at once. `key` is a lease-name-safe string. */
  run<T>(key: string, flight: Flight<T>): Promise<T> {
    checkName('lease', `flight.${key}`);
    const existing = this.local.get(key) as Promise<T> | undefined;
    if (existing) return existing;
    const running = this.fly(key, flight).finally(() => this.local.delete(key));
    this.local.set(key, running);
    return running;
  }

  close(): void {
    this.unsubscribe();
  }

  private async fly<T>(key: string, flight: Flight<T>): Promise<T> {
    const started = performance.now();
    for (;;) {
      const done = await flight.ready();
      if (done !== undefined) return done;
      let attempt: Awaited<ReturnType<Coordinator['tryLease']>> | undefined;
      try {
        attempt = await this.coord.tryLease(`flight.${key}`, this.ttlMs);
      } catch (err) {
        this.logger.warn({ err: { message: (err as Error).message }, key }, 'coordination unavailable; fetching without the fleet');
        return flight.lead(undefined);
      }
      if (isLease(attempt)) {
        try {
          return await flight.lead(attempt);
        } finally {
          await attempt.release();
          await this.coord.publish(TOPIC, [key]).catch(() => undefined);
        }
      }
      const waited = performance.now() - started;
      if (waited > this.maxWaitMs) throw new FlightTimeoutError(key, Math.round(waited));
      // Jittered: followers claiming a storage lease together can all back off, and would again in step.
      await this.waitFor(key, Math.min(this.pollMs, Math.max(attempt.expiresAt - Date.now(), 10)) * (0.5 + Math.random()));
    }
  }

  private async waitFor(key: string, ms: number): Promise<void> {
    const controller = new AbortController();
    let set = this.waiters.get(key);
    if (!set) this.waiters.set(key, (set = new Set()));
    const wake = (): void => controller.abort();
    set.add(wake);
    try {
      await sleep(ms, undefined, { signal: controller.signal }).catch(() => undefined);
    } finally {
      set.delete(wake);
      if (set.size === 0) this.waiters.delete(key);
    }
  }

  private wake(key: string): void {
    for (const wake of this.waiters.get(key) ?? []) wake();
  }
}
