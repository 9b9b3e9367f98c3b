// The online-collection protocol on its own (gc/barrier.ts for writers, gc/collection.ts for collectors), over real
// storage: whatever interleaving of writers and a sweeping collection, a reference a writer made (its guarded write
// succeeded) never points at something the collection deleted.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryError } from '../../../registry/src/errcode.js';
import { WriteBarrier } from '../../../registry/src/gc/barrier.js';
import { Collection, CollectionLostError } from '../../../registry/src/gc/collection.js';
import { GRACE_MS, RENEW_MS } from '../../../registry/src/gc/protocol.js';
import { parseDigest, formatDigest, type Digest } from '../../../registry/src/storage/digest.js';
import { isNotFound, type StorageDriver } from '../../../registry/src/storage/driver/driver.js';
import { openFilesystemDriver } from '../../../registry/src/storage/driver/filesystem.js';
import { paths } from '../../../registry/src/storage/paths.js';
import { makeTempDir } from '../../helpers/processes.js';
import { quietLogger } from '../coord/fleet.js';

const logger = quietLogger([]);
const digestOf = (i: number): Digest => parseDigest(`sha256:${i.toString(16).padStart(64, '0')}`);
const blob = (d: Digest): string => paths.blobData(d);
const reference = (d: Digest, writer: string): string => `${paths.repository('refs')}/${writer}/${d.hex}`;

async function exists(driver: StorageDriver, path: string): Promise<boolean> {
  return driver.stat(path).then(
    () => true,
    (err: unknown) => {
      if (isNotFound(err)) return false;
      throw err;
    },
  );
}

describe('gc: the write barrier and the collection protocol', function () {
  this.timeout(120_000);
  let dir: string;
  let driver: StorageDriver;

  beforeEach(async function () {
    dir = await makeTempDir('gc-barrier');
    driver = await openFilesystemDriver({ rootdirectory: dir });
  });

  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  /** A writer's guarded write: it references the blob only if the blob is there, like a manifest PUT. */
  function referencing(barrier: WriteBarrier, writer: string, d: Digest) {
    return barrier.guard(
      [d],
      async () => {
        if (!(await exists(driver, blob(d)))) return false;
        await driver.putContent(reference(d, writer), Buffer.from(formatDigest(d)));
        return true;
      },
      { verify: async (made) => (made && !(await exists(driver, blob(d))) ? [formatDigest(d)] : []) },
    );
  }

  it('costs a writer no storage write while no collection runs', async function () {
    const barrier = new WriteBarrier(driver, 'writer-1-aaaaaa');
    await driver.putContent(blob(digestOf(1)), Buffer.from('x'));
    expect(await referencing(barrier, 'w1', digestOf(1))).to.equal(true);
    expect(await exists(driver, `${paths.root}/_gc`)).to.equal(false);
  });

  it('spares what writers announced, deletes the rest, and no reference made during the sweep points at a deleted blob', async function () {
    const count = 200;
    for (let i = 0; i < count; i++) await driver.putContent(blob(digestOf(i)), randomBytes(8));
    const collection = await Collection.start(driver, 'collector-1-bbbbbb', logger);
    await collection.grace();
    const deleted = new Set<string>();
    let spared = 0;
    // The collector sweeps every blob in batches while eight writers reference random ones.
    const sweeping = (async () => {
      for (let start = 0; start < count; start += 10) {
        const batch = Array.from({ length: 10 }, (_, k) => digestOf(start + k));
        const keep = await collection.protect(batch);
        for (const d of batch) {
          if (keep.has(formatDigest(d))) spared++;
          else {
            await driver.delete(paths.blobDir(d));
            deleted.add(formatDigest(d));
          }
        }
        await collection.release(batch);
        await sleep(Math.random() * 5);
      }
    })();
    const made: string[] = [];
    const writers = Array.from({ length: 8 }, async (_, w) => {
      const barrier = new WriteBarrier(driver, `writer${w}-1-cccccc`);
      for (let n = 0; n < 30; n++) {
        const d = digestOf(Math.floor(Math.random() * count));
        if (await referencing(barrier, `w${w}`, d)) made.push(formatDigest(d));
        await sleep(Math.random() * 5);
      }
    });
    await Promise.all([sweeping, ...writers]);
    await collection.finish();
    expect(spared, 'nothing was announced: the test raced nothing').to.be.greaterThan(0);
    expect(deleted.size).to.be.greaterThan(0);
    for (const key of made) expect(deleted.has(key), `${key} referenced, then deleted`).to.equal(false);
    expect(await exists(driver, paths.collectionWork(collection.id))).to.equal(false);
  });

  it('makes a writer wait while its digest is tombstoned, and go on once the collection is done with it', async function () {
    const d = digestOf(7);
    await driver.putContent(blob(d), Buffer.from('x'));
    const collection = await Collection.start(driver, 'collector-1-dddddd', logger);
    const barrier = new WriteBarrier(driver, 'writer-1-eeeeee');
    expect(await collection.protect([d])).to.deep.equal(new Set());
    let done = false;
    const writing = referencing(barrier, 'w', d).then((made) => ((done = true), made));
    await sleep(300);
    expect(done, 'the write went on under a tombstone').to.equal(false);
    await driver.delete(paths.blobDir(d));
    await collection.release([d]);
    // The blob is gone: the write sees it and references nothing.
    expect(await writing).to.equal(false);
    await collection.finish();
  });

  it('tells a writer whose write outlasted the grace that a collection took its blob meanwhile, and undoes it', async function () {
    const d = digestOf(9);
    await driver.putContent(blob(d), Buffer.from('x'));
    const barrier = new WriteBarrier(driver, 'writer-1-ffffff');
    let undone = false;
    const slow = barrier.guard(
      [d],
      async () => {
        // A collection starts, marks and sweeps while this write is slow (a stalled storage).
        const collection = await Collection.start(driver, 'collector-1-999999', logger);
        await collection.grace();
        await collection.protect([d]);
        await driver.delete(paths.blobDir(d));
        await collection.release([d]);
        await collection.finish();
        return true;
      },
      { verify: async () => ((await exists(driver, blob(d))) ? [] : [formatDigest(d)]), undo: async () => void (undone = true) },
    );
    const failure = await slow.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).to.be.instanceOf(RegistryError);
    expect((failure as RegistryError).descriptor.code).to.equal('UNAVAILABLE');
    expect((failure as Error).message).to.match(/removed sha256:0+9 while this request stored it: push again/);
    expect(undone).to.equal(true);
    expect(GRACE_MS).to.be.at.most(10_000);
  });

  it('reads the intents piled up during a long mark a few at a time: thousands at once ran a collector out of file descriptors', async function () {
    let reading = 0;
    let most = 0;
    // The collection's storage, counting the reads in flight.
    const counting = new Proxy(driver, {
      get(target, property, receiver) {
        if (property !== 'getContent') return (Reflect.get(target, property, receiver) as (...args: unknown[]) => unknown).bind(target);
        return async (path: string) => {
          most = Math.max(most, ++reading);
          try {
            return await target.getContent(path);
          } finally {
            reading--;
          }
        };
      },
    });
    const bounded = await Collection.start(counting, 'collector-2-cdecde', logger);
    for (let i = 0; i < 200; i++) await driver.putContent(paths.intent(bounded.id, `writer-1-eeeeee-${i}`), Buffer.from(formatDigest(digestOf(i))));
    expect(await bounded.protect([digestOf(7), digestOf(1000)])).to.deep.equal(new Set([formatDigest(digestOf(7))]));
    expect(most).to.be.at.most(16);
    await bounded.finish();
  });

  it('removes the registration and work of a collector that stopped renewing, and that collector stops deleting', async function () {
    const dead = await Collection.start(driver, 'collector-1-abcabc', logger);
    await dead.protect([digestOf(1)]);
    // Its last renewal a minute and a half ago, as if it was killed then.
    const old = new Date(Date.now() - 90_000);
    await utimes(join(dir, paths.collection(dead.id)), old, old);
    const next = await Collection.start(driver, 'collector-2-abcabc', logger);
    expect(await exists(driver, paths.collection(dead.id))).to.equal(false);
    expect(await exists(driver, paths.collectionWork(dead.id))).to.equal(false);
    expect(await exists(driver, paths.collection(next.id))).to.equal(true);
    await next.finish();
    // The frozen collector, resumed, learns at its next renewal that it was removed and deletes nothing more.
    await sleep(RENEW_MS + 1000);
    expect(() => dead.assertAlive()).to.throw(CollectionLostError, /removed by another collector/);
  });
});
