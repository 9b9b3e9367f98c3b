// storage.cache.blobdescriptor: what the registry remembers of a blob (its size) so that serving it needs no stat.
// A cached size is only ever used behind a link read from storage (a repository's _layers or revision link) and only
// to serve the bytes, whose read fails before the first byte when the blob is gone; answers that let a client skip
// sending a blob (HEAD, mount, a manifest's references) and everything that writes ask storage (BlobStore.statStored).
// Entries are dropped everywhere when a blob goes (topic "blob-gone" of the coordination layer).
import type { Redis } from 'ioredis';
import type { Coordinator } from '../coord/coordinator.js';
import { BoundedMap } from './bounded-map.js';

export interface DescriptorCache {
  get(digest: string): Promise<number | undefined>;
  set(digest: string, size: number): void;
  /** Forgets the blobs here, in the shared cache, and in every process of the fleet. */
  forget(digests: string[]): Promise<void>;
  close(): void;
}

export const BLOB_GONE_TOPIC = 'blob-gone';
const LOCAL_ENTRIES = 10_000;

/** One process's entries, dropped when any process of the fleet says a blob is gone. */
export class MemoryDescriptorCache implements DescriptorCache {
  protected readonly local = new BoundedMap<string, number>(LOCAL_ENTRIES);
  private readonly unsubscribe: () => void;

  constructor(protected readonly coord: Coordinator) {
    this.unsubscribe = coord.subscribe(BLOB_GONE_TOPIC, {
      keys: (digests) => digests.forEach((digest) => this.local.delete(digest)),
      reset: () => this.local.clear(),
    });
  }

  async get(digest: string): Promise<number | undefined> {
    return this.local.get(digest);
  }

  set(digest: string, size: number): void {
    this.local.set(digest, size);
  }

  async forget(digests: string[]): Promise<void> {
    for (const digest of digests) this.local.delete(digest);
    await this.coord.publish(BLOB_GONE_TOPIC, digests);
  }

  close(): void {
    this.unsubscribe();
  }
}

const REDIS_PREFIX = 'registry:blobs:';
/** Entries of blobs nobody asks for leave Redis on their own. */
const REDIS_TTL_S = 7 * 24 * 3600;
const SKIP_AFTER_FAILURE_MS = 2000;

/**
 * distribution's redis blob descriptor cache: shared by every replica, in front of each process's own entries. Redis
 * being away is a miss, never an error: the blob is stat'ed in storage instead.
 */
export class RedisDescriptorCache extends MemoryDescriptorCache {
  /** After a failed command, Redis is left alone for a moment: a hung server must not add its timeout to every pull. */
  private skipUntil = 0;

  constructor(
    coord: Coordinator,
    private readonly redis: Redis,
  ) {
    super(coord);
    // Redis is back (possibly empty): stop skipping it, and forget what was learnt meanwhile, or those entries, kept
    // here only, would never reach Redis for the other replicas.
    redis.on('ready', () => {
      this.skipUntil = 0;
      this.local.clear();
    });
  }

  private async shared<T>(command: () => Promise<T>): Promise<T | undefined> {
    if (performance.now() < this.skipUntil) return undefined;
    try {
      return await command();
    } catch {
      this.skipUntil = performance.now() + SKIP_AFTER_FAILURE_MS;
      return undefined;
    }
  }

  override async get(digest: string): Promise<number | undefined> {
    const local = this.local.get(digest);
    if (local !== undefined) return local;
    const shared = await this.shared(() => this.redis.get(REDIS_PREFIX + digest));
    const size = shared === null || shared === undefined ? undefined : Number(shared);
    if (size === undefined || !Number.isSafeInteger(size) || size < 0) return undefined;
    this.local.set(digest, size);
    return size;
  }

  override set(digest: string, size: number): void {
    super.set(digest, size);
    void this.shared(() => this.redis.set(REDIS_PREFIX + digest, String(size), 'EX', REDIS_TTL_S));
  }

  override async forget(digests: string[]): Promise<void> {
    // Not skipped after a failure: a forgotten blob is worth a try even while Redis looks unwell.
    if (digests.length > 0) await this.redis.del(...digests.map((d) => REDIS_PREFIX + d)).catch(() => undefined);
    await super.forget(digests);
  }

  override close(): void {
    super.close();
    this.redis.disconnect();
  }
}
