// Blob copies read on the event loop while reads come from the page cache, and in the thread pool for a minute after
// one had to wait for storage; either way the bytes are the file's.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { copyFileRange } from '../../../registry/src/storage/driver/copy-out.js';
import { ReadPacer, SLOW_READ_BACKOFF_MS, SLOW_READ_MS, STORAGE_READ_BYTES, storageReadBytes } from '../../../registry/src/storage/driver/read-pacer.js';
import { makeTempDir } from '../../helpers/processes.js';

/** A clock the test moves; a read "takes" the time it adds. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

async function copied(path: string, offset: number, length: number, pacer: ReadPacer): Promise<Buffer> {
  const handle = await open(path, 'r');
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
  try {
    await copyFileRange(handle, offset, length, out, pacer);
  } finally {
    await handle.close();
  }
  return Buffer.concat(chunks);
}

describe('storage read pacer', () => {
  it('reads inline until a slow read made the process fetch from storage, then in the thread pool for the back-off', () => {
    const clock = fakeClock();
    let storage = 4096;
    const pacer = new ReadPacer(clock.now, () => storage);
    expect(pacer.inline()).to.equal(true);
    expect(pacer.timed(() => (clock.advance(SLOW_READ_MS / 2), 7))).to.equal(7);
    expect(pacer.inline()).to.equal(true);
    pacer.timed(() => {
      clock.advance(SLOW_READ_MS + 1);
      storage += 512 * 1024;
    });
    expect(pacer.inline()).to.equal(false);
    clock.advance(SLOW_READ_BACKOFF_MS - 1);
    expect(pacer.inline()).to.equal(false);
    clock.advance(1);
    expect(pacer.inline()).to.equal(true);
  });

  it('stays inline after slow reads that fetched less than a readahead from storage: the thread only waited for a busy core', () => {
    const clock = fakeClock();
    let storage = 0;
    const pacer = new ReadPacer(clock.now, () => storage);
    for (let i = 0; i < 5; i++) {
      pacer.timed(() => clock.advance(SLOW_READ_MS * 10));
      storage += STORAGE_READ_BYTES - 4096;
    }
    expect(pacer.inline()).to.equal(true);
  });

  it('takes every slow read for a storage read where the kernel does not count them', () => {
    const clock = fakeClock();
    const pacer = new ReadPacer(clock.now, () => undefined);
    pacer.timed(() => clock.advance(SLOW_READ_MS + 1));
    expect(pacer.inline()).to.equal(false);
  });

  it('counts a read that failed by the time it took, and passes its error on', () => {
    const clock = fakeClock();
    let storage = 0;
    const pacer = new ReadPacer(clock.now, () => storage);
    expect(() =>
      pacer.timed(() => {
        clock.advance(SLOW_READ_MS * 10);
        storage += STORAGE_READ_BYTES;
        throw new Error('EIO');
      }),
    ).to.throw('EIO');
    expect(pacer.inline()).to.equal(false);
  });

  it("reads this process's storage bytes from /proc/self/io on Linux", () => {
    expect(storageReadBytes()).to.be.a('number');
  });

  it('copies the same bytes of a range inline, in the thread pool, and switching between them mid-copy', async () => {
    const dir = await makeTempDir('read-pacer');
    try {
      const content = randomBytes(3 * 1024 * 1024 + 12345);
      const path = join(dir, 'data');
      await writeFile(path, content);
      const [offset, length] = [777, content.length - 1000];
      const want = content.subarray(offset, offset + length);

      expect((await copied(path, offset, length, new ReadPacer())).equals(want)).to.equal(true);

      const slow = fakeClock();
      const threadPool = new ReadPacer(slow.now, () => undefined);
      threadPool.timed(() => slow.advance(SLOW_READ_MS + 1));
      expect((await copied(path, offset, length, threadPool)).equals(want)).to.equal(true);
      expect(threadPool.inline()).to.equal(false);

      // Every inline read takes "long": the first turns the rest of the copy over to the thread pool.
      const clock = fakeClock();
      const switching = new ReadPacer(() => (clock.advance(SLOW_READ_MS + 1), clock.now()), () => undefined);
      expect((await copied(path, offset, length, switching)).equals(want)).to.equal(true);
      expect(switching.inline()).to.equal(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
