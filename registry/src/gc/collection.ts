// The collector's half of online garbage collection (barrier.ts is the writers' half; docs/gc-online.md the
// argument). A collection registers itself where writers look (_gc/active/<id>), waits GRACE_MS so that every write
// begun before it registered is either finished or announces itself, and then, for each batch it is about to delete,
// writes tombstones, reads the writers' intents and spares whatever a writer announced.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import { formatDigest, parseDigest, type Digest } from '../storage/digest.js';
import { isNotFound, type StorageDriver } from '../storage/driver/driver.js';
import { deleteIfExists } from '../storage/links.js';
import { lastPathElement, paths } from '../storage/paths.js';
import { forEachLimit, STORAGE_CONCURRENCY } from './parallel.js';
import { COLLECTION_ID, DEAD_AFTER_MS, GRACE_MS, RENEW_MS } from './protocol.js';

export class CollectionLostError extends Error {
  constructor(reason: string) {
    super(`the collection stopped before deleting more: ${reason}`);
    this.name = 'CollectionLostError';
  }
}

export class Collection {
  /** Digests writers announced since this collection registered: never deleted by it. */
  private readonly announced = new Set<string>();
  private readonly intentsRead = new Set<string>();
  private renewedAt: number;
  private timer: NodeJS.Timeout | undefined;
  private lost: string | undefined;

  private constructor(
    private readonly driver: StorageDriver,
    readonly id: string,
    private readonly logger: Logger,
  ) {
    this.renewedAt = performance.now();
  }

  /** Registers a collection run by `holder` (a coordinator id) and removes what dead collections left behind. */
  static async start(driver: StorageDriver, holder: string, logger: Logger): Promise<Collection> {
    const id = `${String(Date.now()).padStart(15, '0')}-${holder}`;
    const collection = new Collection(driver, id, logger.child({ collection: id }));
    await collection.register();
    collection.schedule();
    await collection.removeDead();
    return collection;
  }

  /** Waits until every write begun before registering is finished or announces itself to this collection. */
  async grace(signal?: AbortSignal): Promise<void> {
    await sleep(GRACE_MS, undefined, signal ? { signal } : {});
  }

  /**
   * Tombstones the digests about to be deleted, then reads the writers' intents: returns the digests a writer has
   * announced, which must be spared. The rest may be deleted until release().
   */
  async protect(digests: Digest[]): Promise<Set<string>> {
    this.assertAlive();
    await Promise.all(digests.map((digest) => this.driver.putContent(paths.tombstone(this.id, digest), Buffer.alloc(0))));
    await this.readIntents();
    this.assertAlive();
    return new Set(digests.map(formatDigest).filter((key) => this.announced.has(key)));
  }

  /** Lifts the tombstones of a batch once its deletions are done (writers waiting on them go on). */
  async release(digests: Digest[]): Promise<void> {
    await Promise.all(digests.map((digest) => deleteIfExists(this.driver, paths.tombstone(this.id, digest))));
  }

  /** Stops renewing and removes the registration and everything under the collection's work directory. */
  async finish(): Promise<void> {
    clearTimeout(this.timer);
    this.lost ??= 'finished';
    await deleteIfExists(this.driver, paths.collectionWork(this.id));
    await deleteIfExists(this.driver, paths.collection(this.id));
  }

  /** Throws once the collection can no longer be sure writers see it: it must not delete anything more. */
  assertAlive(): void {
    if (this.lost) throw new CollectionLostError(this.lost);
    if (performance.now() - this.renewedAt > DEAD_AFTER_MS / 2) {
      this.lost = `its registration was not renewed for ${Math.round((performance.now() - this.renewedAt) / 1000)} s`;
      throw new CollectionLostError(this.lost);
    }
  }

  private async register(): Promise<void> {
    await this.driver.putContent(paths.collection(this.id), Buffer.from(JSON.stringify({ startedAt: new Date().toISOString() })));
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.renew(), RENEW_MS);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    const attempt = performance.now();
    try {
      // Removed by another collector that found it dead: writers may have stopped announcing to it.
      await this.driver.stat(paths.collection(this.id));
      await this.register();
      this.renewedAt = attempt;
    } catch (err) {
      if (isNotFound(err)) {
        this.lost = 'its registration was removed by another collector that took it for dead';
        this.logger.error(this.lost);
        return;
      }
      this.logger.warn({ err: { message: (err as Error).message } }, 'renewing the collection registration failed; retrying');
    }
    if (!this.lost) this.schedule();
  }

  private async readIntents(): Promise<void> {
    let names: string[];
    try {
      names = (await this.driver.list(paths.intentsRoot(this.id))).map(lastPathElement);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const fresh = names.filter((name) => !this.intentsRead.has(name));
    // Bounded: pushes during a long mark leave thousands of intents for the first batch to read.
    await forEachLimit(fresh, STORAGE_CONCURRENCY, async (name) => {
      let text: string;
      try {
        text = (await this.driver.getContent(paths.intent(this.id, name))).toString('utf8');
      } catch (err) {
        // A driver's temp file listed mid-write; the intent itself is read at the next listing.
        if (isNotFound(err)) return;
        throw err;
      }
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          this.announced.add(formatDigest(parseDigest(line)));
        } catch {
          this.logger.warn({ intent: name }, 'an intent names something that is not a digest; ignoring that line');
        }
      }
      this.intentsRead.add(name);
    });
  }

  /**
   * Registrations not rewritten for DEAD_AFTER_MS before ours (both times by the storage's clock) belong to dead
   * collectors; work directories without a registration belong to finished ones (an intent written late recreates
   * one). Work directories are listed before registrations: a collection registers before its first work file, so
   * a live one is never taken for finished.
   */
  private async removeDead(): Promise<void> {
    const work = await this.names(paths.collectionsWorkRoot);
    const registrations = new Map<string, number>();
    try {
      await this.driver.walk(paths.collectionsRoot, (info) => {
        if (!info.isDir) registrations.set(lastPathElement(info.path), info.modTime.getTime());
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const mine = registrations.get(this.id);
    if (mine === undefined) throw new Error(`collection ${this.id}: its registration is not listed`);
    for (const [id, modTime] of registrations) {
      if (id === this.id || !COLLECTION_ID.test(id) || modTime + DEAD_AFTER_MS > mine) continue;
      this.logger.warn({ dead: id }, 'removing the registration of a collection that stopped renewing it (killed?)');
      await deleteIfExists(this.driver, paths.collection(id));
      registrations.delete(id);
    }
    for (const id of work) if (!registrations.has(id)) await deleteIfExists(this.driver, paths.collectionWork(id));
  }

  private async names(path: string): Promise<string[]> {
    try {
      return (await this.driver.list(path)).map(lastPathElement);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }
}
