// The writers' half of online garbage collection: every operation that makes a blob or manifest referenced (an upload
// committed and linked, a mount, a manifest stored, a tag moved) runs inside guard(), so that a collection running at
// the same time either sees the new reference or the write waits until the collection is done with those digests.
// docs/gc-online.md gives the argument; in short, for each running collection:
//   writer:    write an intent naming the digests, then wait while any of them is tombstoned, then write
//   collector: write the tombstones of what it is about to delete, then read the intents, then delete the rest
// With storage that reads and lists its own writes, at least one side sees the other's first write.
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryError } from '../errcode.js';
import { formatDigest, type Digest } from '../storage/digest.js';
import { isNotFound, type StorageDriver } from '../storage/driver/driver.js';
import { lastPathElement, paths } from '../storage/paths.js';
import { COLLECTION_ID, GRACE_MS, RENEW_MS } from './protocol.js';

/** How long a cached list of running collections is used: most writes then cost no read at all. */
const VIEW_FRESH_MS = 1000;
/** A tombstone lives while its digest is deleted: a few storage operations. */
const TOMBSTONE_POLL_MS = 50;
const TOMBSTONE_MAX_WAIT_MS = 120_000;

interface View {
  /** performance.now() before the listing was read */
  at: number;
  collections: string[];
}

export interface GuardOptions<T> {
  /**
   * What of the write is gone now (a collection swept it while the write was slow): checked only in that rare case.
   * Returns descriptions of what is missing; empty when all is well.
   */
  verify(result: T): Promise<string[]>;
  /** Takes back what a write that failed verification left visible (a tag moved to a swept manifest). */
  undo?(result: T): Promise<void>;
}

export class WriteBarrier {
  private view: View | undefined;
  private seq = 0;

  constructor(
    private readonly driver: StorageDriver,
    /** Names this process's intents: its coordinator id. */
    private readonly writer: string,
  ) {}

  async guard<T>(digests: Digest[], write: () => Promise<T>, options: GuardOptions<T>): Promise<T> {
    const view = await this.running();
    await this.announce(view.collections, digests);
    const result = await write();
    // A collection registered after the view was read marks GRACE_MS after registering: if the write is done
    // within that time of the view, that collection's mark sees it.
    if (performance.now() - view.at < GRACE_MS) return result;
    this.view = undefined;
    await this.announce((await this.running()).collections, digests);
    const missing = await options.verify(result);
    if (missing.length === 0) return result;
    await options.undo?.(result);
    throw new RegistryError(
      'UNAVAILABLE',
      `a garbage collection removed ${missing.join(', ')} while this request stored it: push again (the registry will ask for what is missing)`,
    );
  }

  private async running(): Promise<View> {
    if (this.view && performance.now() - this.view.at < VIEW_FRESH_MS) return this.view;
    const at = performance.now();
    let names: string[] = [];
    try {
      names = (await this.driver.list(paths.collectionsRoot)).map(lastPathElement);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.view = { at, collections: names.filter((name) => COLLECTION_ID.test(name)) };
    return this.view;
  }

  private async announce(collections: string[], digests: Digest[]): Promise<void> {
    if (digests.length === 0) return;
    for (const id of collections) {
      const intent = paths.intent(id, `${this.writer}-${this.seq++}`);
      await this.driver.putContent(intent, Buffer.from(digests.map(formatDigest).join('\n')));
      await Promise.all(digests.map((digest) => this.waitWhileTombstoned(id, digest)));
    }
  }

  /** Waits until the collection is done with the digest, has finished, or has stopped renewing (died). */
  private async waitWhileTombstoned(id: string, digest: Digest): Promise<void> {
    const started = performance.now();
    let registration: number | undefined;
    let renewedSeenAt = started;
    for (;;) {
      if (!(await this.exists(paths.tombstone(id, digest)))) return;
      const modTime = await this.driver.stat(paths.collection(id)).then(
        (info) => info.modTime.getTime(),
        (err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        },
      );
      // Finished, or its registration was removed by a collector that found it dead.
      if (modTime === undefined) return;
      if (modTime !== registration) {
        registration = modTime;
        renewedSeenAt = performance.now();
      } else if (performance.now() - renewedSeenAt > 3 * RENEW_MS) {
        return;
      }
      if (performance.now() - started > TOMBSTONE_MAX_WAIT_MS) {
        throw new RegistryError('UNAVAILABLE', `a garbage collection has been deleting ${formatDigest(digest)} for ${TOMBSTONE_MAX_WAIT_MS / 1000} s; retry later`);
      }
      await sleep(TOMBSTONE_POLL_MS);
    }
  }

  private exists(path: string): Promise<boolean> {
    return this.driver.stat(path).then(
      () => true,
      (err: unknown) => {
        if (isNotFound(err)) return false;
        throw err;
      },
    );
  }
}
