// The backend that needs no extra service: leases and events are small files in the registry's own storage, so it
// works wherever the registry's storage is shared (one disk for the workers of a machine, a bucket for replicas).
// Every decision compares modification times written by the storage itself, never two hosts' clocks.
import type { Logger } from '../log.js';
import { isNotFound, type StorageDriver } from '../storage/driver/driver.js';
import { deleteIfExists } from '../storage/links.js';
import { lastPathElement, paths } from '../storage/paths.js';
import { checkName, COORDINATOR_ID, newCoordinatorId, type Coordinator, type Lease, type LeaseHolder, type Subscriber } from './coordinator.js';
import { acquireLease, type LeaseStore } from './lease.js';
import { LocalBus } from './local-bus.js';
import type { Relay, RelayMessage } from './relay.js';

/**
 * Object stores keep modification times to the second (S3's LastModified): a claim counts as live for this much longer,
 * which only ever makes a takeover later, never earlier.
 */
const MTIME_RESOLUTION_MS = 1000;

interface Claim {
  path: string;
  holder: string;
  modTime: number;
  ttlMs: number;
}

/**
 * A lease is a directory of claims. A process writes its claim, then lists the directory: it holds the lease when no
 * other live claim is there (live: modified less than its ttl before the claim just written, by the storage's
 * clock). With storage that reads its own writes and lists them at once (local disk; S3 and OSS since 2020), two
 * processes that claim together cannot both miss each other: the second to list sees the first. Both may back off;
 * the next attempt settles it.
 */
class StorageLeases implements LeaseStore {
  constructor(private readonly driver: StorageDriver) {}

  private async claims(name: string): Promise<Claim[]> {
    const found: Claim[] = [];
    try {
      await this.driver.walk(paths.leaseDir(name), (info) => {
        const holder = lastPathElement(info.path);
        if (!info.isDir && COORDINATOR_ID.test(holder)) found.push({ path: info.path, holder, modTime: info.modTime.getTime(), ttlMs: 0 });
      });
    } catch (err) {
      if (isNotFound(err)) return found;
      throw err;
    }
    await Promise.all(
      found.map(async (claim) => {
        try {
          claim.ttlMs = Number(JSON.parse((await this.driver.getContent(claim.path)).toString('utf8')).ttlMs) || 0;
        } catch (err) {
          // Released while we looked, or a half-written claim of a crashed process: it counts as expired.
          if (!isNotFound(err) && !(err instanceof SyntaxError)) throw err;
        }
      }),
    );
    return found;
  }

  private write(name: string, holder: string, ttlMs: number): Promise<void> {
    return this.driver.putContent(paths.leaseClaim(name, holder), Buffer.from(JSON.stringify({ ttlMs })));
  }

  async claim(name: string, holder: string, ttlMs: number): Promise<LeaseHolder | undefined> {
    // A cheap look first, by this host's clock: a lease plainly held costs no write.
    const held = (await this.claims(name)).find((c) => c.holder !== holder && c.modTime + c.ttlMs + MTIME_RESOLUTION_MS > Date.now());
    if (held) return { name, holder: held.holder, expiresAt: held.modTime + held.ttlMs };
    await this.write(name, holder, ttlMs);
    const claims = await this.claims(name);
    const mine = claims.find((c) => c.holder === holder);
    if (!mine) throw new Error(`lease ${name}: the claim just written is not listed`);
    const live = claims.filter((c) => c.holder !== holder && c.modTime + c.ttlMs + MTIME_RESOLUTION_MS > mine.modTime);
    if (live.length > 0) {
      await deleteIfExists(this.driver, mine.path);
      const first = live[0] as Claim;
      return { name, holder: first.holder, expiresAt: first.modTime + first.ttlMs };
    }
    // Lapsed claims of crashed processes: a holder renews (or gives up) well before its claim lapses. Tidying only:
    // a failure here changes nothing about who holds the lease.
    await Promise.all(claims.filter((c) => c !== mine).map((c) => deleteIfExists(this.driver, c.path).catch(() => false)));
    return undefined;
  }

  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    await this.write(name, holder, ttlMs);
    return true;
  }

  async release(name: string, holder: string): Promise<void> {
    await deleteIfExists(this.driver, paths.leaseClaim(name, holder));
  }
}

export interface StorageBackendOptions {
  /** Whether this process reads other processes' events (one process per machine does; it relays to the rest). */
  poll: boolean;
  pollMs?: number;
  /** Events older than this are deleted, and a process that could not poll for half of it resets its subscribers. */
  retentionMs?: number;
  relay?: Relay;
}

/** <15-digit ms time>-<group>-<seq>; anything else in the directory (a driver's temp file) is not an event. */
const EVENT_NAME = /^\d{15}-[A-Za-z0-9-]+-\d+$/;

/** Published keys are batched for this long into one event file. */
const BATCH_MS = 20;

interface Pending {
  messages: { topic: string; keys: string[] }[];
  written: Promise<void>;
}

export class StorageCoordinator implements Coordinator {
  readonly backend = 'storage' as const;
  readonly id = newCoordinatorId();
  private readonly group: string;
  private readonly leases: StorageLeases;
  private readonly bus = new LocalBus();
  private readonly pollMs: number;
  private readonly retentionMs: number;
  private seq = 0;
  private pending: Pending | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private seen: Set<string> | undefined;
  private lastPoll = Date.now();
  private closed = false;

  constructor(
    private readonly driver: StorageDriver,
    private readonly logger: Logger,
    private readonly options: StorageBackendOptions,
  ) {
    this.leases = new StorageLeases(driver);
    this.group = options.relay?.group ?? this.id;
    this.pollMs = options.pollMs ?? 1000;
    this.retentionMs = options.retentionMs ?? 300_000;
    options.relay?.onMessage((message) => this.receive(message));
    if (options.poll) this.schedulePoll(0);
  }

  tryLease(name: string, ttlMs: number): Promise<Lease | LeaseHolder> {
    checkName('lease', name);
    return acquireLease(this.leases, name, this.id, ttlMs, this.logger);
  }

  async publish(topic: string, keys: string[]): Promise<void> {
    checkName('topic', topic);
    this.bus.deliver(topic, keys);
    this.options.relay?.send({ kind: 'keys', topic, keys });
    if (!this.pending) {
      const batch: Pending = { messages: [], written: Promise.resolve() };
      batch.written = new Promise<void>((resolve) => setTimeout(resolve, BATCH_MS)).then(() => {
        this.pending = undefined;
        return this.driver.putContent(paths.event(this.eventName()), Buffer.from(JSON.stringify(batch.messages)));
      });
      this.pending = batch;
    }
    this.pending.messages.push({ topic, keys });
    await this.pending.written;
  }

  subscribe(topic: string, subscriber: Subscriber): () => void {
    checkName('topic', topic);
    return this.bus.subscribe(topic, subscriber);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.pollTimer);
    await this.pending?.written.catch(() => undefined);
  }

  private eventName(): string {
    return `${String(Date.now()).padStart(15, '0')}-${this.group}-${this.seq++}`;
  }

  private receive(message: RelayMessage): void {
    if (message.kind === 'reset') this.bus.reset();
    else this.bus.deliver(message.topic, message.keys);
  }

  /** Delivers here and to the rest of the machine's group, which does not poll. */
  private fanOut(message: RelayMessage): void {
    this.receive(message);
    this.options.relay?.send(message);
  }

  private schedulePoll(delayMs: number): void {
    if (this.closed) return;
    this.pollTimer = setTimeout(() => void this.poll(), delayMs);
    this.pollTimer.unref();
  }

  private async poll(): Promise<void> {
    try {
      await this.readEvents();
      if (Date.now() - this.lastPoll > this.retentionMs / 2) {
        this.logger.warn({ gapMs: Date.now() - this.lastPoll }, 'coordination events were not read for a while; caches reset');
        this.fanOut({ kind: 'reset' });
      }
      this.lastPoll = Date.now();
    } catch (err) {
      this.logger.warn({ err }, 'reading coordination events failed; retrying');
    }
    this.schedulePoll(this.pollMs);
  }

  private async readEvents(): Promise<void> {
    let names: string[];
    try {
      names = (await this.driver.list(paths.eventsRoot)).map(lastPathElement).filter((name) => EVENT_NAME.test(name));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      names = [];
    }
    const first = this.seen === undefined;
    const seen = this.seen ?? new Set<string>();
    const expired = Date.now() - this.retentionMs;
    for (const name of names) {
      if (Number(name.slice(0, 15)) < expired) {
        await deleteIfExists(this.driver, paths.event(name));
        continue;
      }
      if (seen.has(name) || first || name.slice(16, name.lastIndexOf('-')) === this.group) continue;
      try {
        const messages = JSON.parse((await this.driver.getContent(paths.event(name))).toString('utf8')) as { topic: string; keys: string[] }[];
        for (const message of messages) this.fanOut({ kind: 'keys', topic: message.topic, keys: message.keys });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    this.seen = new Set(names);
    // The first listing takes what is there as seen. In a machine's group, a poller that replaces one that died may
    // so skip what was published since: the other workers reset rather than miss it.
    if (first && this.options.relay) this.fanOut({ kind: 'reset' });
  }
}
