// The backend for one process with nothing shared (the inmemory storage driver, tests): leases in a map, the bus
// in-process. Same semantics as the shared backends, for a fleet of one.
import type { Logger } from '../log.js';
import { checkName, newCoordinatorId, type Coordinator, type Lease, type LeaseHolder, type Subscriber } from './coordinator.js';
import { acquireLease, type LeaseStore } from './lease.js';
import { LocalBus } from './local-bus.js';

class MemoryLeases implements LeaseStore {
  private readonly held = new Map<string, LeaseHolder>();

  async claim(name: string, holder: string, ttlMs: number): Promise<LeaseHolder | undefined> {
    const current = this.held.get(name);
    if (current && current.holder !== holder && current.expiresAt > Date.now()) return current;
    this.held.set(name, { name, holder, expiresAt: Date.now() + ttlMs });
    return undefined;
  }

  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const current = this.held.get(name);
    if (current?.holder !== holder) return false;
    current.expiresAt = Date.now() + ttlMs;
    return true;
  }

  async release(name: string, holder: string): Promise<void> {
    if (this.held.get(name)?.holder === holder) this.held.delete(name);
  }
}

/** What the coordinators of one process share; one per process unless a test stands several processes up in one. */
export class LocalHub {
  readonly leases = new MemoryLeases();
  readonly bus = new LocalBus();
}

export class LocalCoordinator implements Coordinator {
  readonly backend = 'local' as const;
  readonly id = newCoordinatorId();
  private readonly leases: MemoryLeases;
  private readonly bus: LocalBus;

  constructor(
    private readonly logger: Logger,
    hub = new LocalHub(),
  ) {
    this.leases = hub.leases;
    this.bus = hub.bus;
  }

  tryLease(name: string, ttlMs: number): Promise<Lease | LeaseHolder> {
    checkName('lease', name);
    return acquireLease(this.leases, name, this.id, ttlMs, this.logger);
  }

  async publish(topic: string, keys: string[]): Promise<void> {
    checkName('topic', topic);
    this.bus.deliver(topic, keys);
  }

  subscribe(topic: string, subscriber: Subscriber): () => void {
    checkName('topic', topic);
    return this.bus.subscribe(topic, subscriber);
  }

  async close(): Promise<void> {}
}
