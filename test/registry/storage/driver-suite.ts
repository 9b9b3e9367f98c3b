// The behaviour every StorageDriver must show, after distribution's registry/storage/driver/testsuites. It uses only
// the StorageDriver interface, so every backend (filesystem, inmemory, s3, oss) runs it unchanged.
//
// Each test works under its own prefix and deletes the files it created; afterEach then checks that no file is left
// under the prefix (a leftover temp file, part or cancelled write would show up there), removes the prefix and checks
// the root no longer lists it.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { Writable, type Readable } from 'node:stream';
import {
  InvalidOffsetError,
  InvalidPathError,
  PathNotFoundError,
  type FileInfo,
  type StorageDriver,
} from '../../../registry/src/storage/driver/driver.js';
import { copyOut } from '../../../registry/src/storage/driver/copy-out.js';
import { failureOf } from '../../helpers/failure.js';

export interface DriverUnderTest {
  driver: StorageDriver;
  /** Closes the driver and removes whatever the factory created (temp dir, bucket). */
  cleanup(): Promise<void>;
}

const MiB = 1 << 20;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function sha256(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

async function filesUnder(driver: StorageDriver, path: string): Promise<string[]> {
  const files: string[] = [];
  try {
    await driver.walk(path, (info) => {
      if (!info.isDir) files.push(info.path);
    });
  } catch (err) {
    if (!(err instanceof PathNotFoundError)) throw err;
  }
  return files;
}

export function runDriverSuite(name: string, factory: () => Promise<DriverUnderTest>): void {
  describe(`storage driver contract: ${name}`, function () {
    let subject: DriverUnderTest;
    let driver: StorageDriver;
    /** This test's own directory, e.g. /suite-7-1a2b3c4d. */
    let root: string;
    let counter = 0;

    before(async function () {
      subject = await factory();
      driver = subject.driver;
    });

    after(async function () {
      await subject?.cleanup();
    });

    beforeEach(function () {
      counter += 1;
      root = `/suite-${counter}-${randomBytes(4).toString('hex')}`;
    });

    afterEach(async function () {
      const passed = this.currentTest?.state === 'passed';
      const leftovers = await filesUnder(driver, root);
      try {
        await driver.delete(root);
      } catch (err) {
        if (!(err instanceof PathNotFoundError)) throw err;
      }
      if (passed) expect(leftovers, 'files the test did not delete or the driver left behind').to.deep.equal([]);
      expect(await driver.list('/')).to.not.include(root);
    });

    async function expectNotFound(run: () => Promise<unknown>, path: string): Promise<void> {
      const err = await failureOf(Error, run);
      expect(err, err.message).to.be.instanceOf(PathNotFoundError);
      expect((err as PathNotFoundError).path).to.equal(path);
      expect(err.message).to.include(driver.name);
    }

    async function put(path: string, content: Buffer | string): Promise<Buffer> {
      const bytes = Buffer.from(content);
      await driver.putContent(path, bytes);
      return bytes;
    }

    async function deleteAll(paths: string[]): Promise<void> {
      for (const path of paths) await driver.delete(path);
    }

    describe('root', function () {
      it('lists "/" without error, every entry an absolute path', async function () {
        const entries = await driver.list('/');
        for (const entry of entries) expect(entry).to.match(/^\/[^/]+$/);
      });
    });

    describe('paths', function () {
      it('accepts every character of the path grammar: letters, digits, ".", "_", "-" and leading dots', async function () {
        const names = ['a', '2', 'aa', 'a.a', '0-9/abcdefg', 'abcdefg/z.75', 'abc/1.2.3.4.5-6_zyx/123.z/4', '.abc',
          'abc./abc', 'a--b', 'a-.b', '_.abc', 'Docker/docker-registry', 'Abc/Cba'];
        const content = randomBytes(64);
        for (const name of names) {
          await driver.putContent(`${root}/${name}`, content);
          expect(await driver.getContent(`${root}/${name}`)).to.deep.equal(content);
        }
        await deleteAll(names.map((name) => `${root}/${name}`));
      });

      it('rejects relative, empty, "." and "..", trailing-slash and out-of-grammar paths in every method, creating nothing', async function () {
        const invalid = ['', 'abc', 'abc/def', `${root}/`, `${root}//x`, `${root}/../x`, `${root}/./x`, `${root}/..`,
          `${root}/.`, `${root}/a b`, `${root}/a%20b`, `${root}/\u00e4`, `${root}/a\\b`, `${root}/a:b`, `${root}/a*`,
          `${root}/a\n`, `${root}/a?b`, `${root}/a#b`];
        const valid = `${root}/valid`;
        const calls: Array<[string, (path: string) => Promise<unknown>]> = [
          ['getContent', (path) => driver.getContent(path)],
          ['putContent', (path) => driver.putContent(path, Buffer.from('x'))],
          ['reader', (path) => driver.reader(path, 0)],
          ['writer', (path) => driver.writer(path, false)],
          ['stat', (path) => driver.stat(path)],
          ['list', (path) => driver.list(path)],
          ['listPage', (path) => driver.listPage(path, '', 10)],
          ['move from', (path) => driver.move(path, valid)],
          ['move to', (path) => driver.move(valid, path)],
          ['delete', (path) => driver.delete(path)],
          ['redirectURL', (path) => driver.redirectURL(path, 'GET')],
          ['walk', (path) => driver.walk(path, () => undefined)],
        ];
        await driver.putContent(valid, Buffer.from('keep'));
        for (const path of invalid) {
          for (const [method, call] of calls) {
            const err = await failureOf(Error, () => call(path));
            expect(err, `${method}(${JSON.stringify(path)}): ${err.message}`).to.be.instanceOf(InvalidPathError);
            expect(err.message).to.include(driver.name);
          }
        }
        expect(await driver.getContent(valid)).to.deep.equal(Buffer.from('keep'));
        expect(await driver.list(root)).to.deep.equal([valid]);
        await driver.delete(valid);
      });

      it('rejects the root "/" for file operations', async function () {
        const calls: Array<() => Promise<unknown>> = [
          () => driver.getContent('/'),
          () => driver.putContent('/', Buffer.from('x')),
          () => driver.reader('/', 0),
          () => driver.writer('/', false),
          () => driver.move('/', `${root}/x`),
          () => driver.move(`${root}/x`, '/'),
          () => driver.delete('/'),
          () => driver.redirectURL('/', 'GET'),
        ];
        for (const call of calls) expect(await failureOf(Error, call)).to.be.instanceOf(InvalidPathError);
      });
    });

    describe('getContent and putContent', function () {
      it('return the same bytes for 0 bytes, 1 byte, non-UTF-8 bytes, 32 bytes and 1 MiB', async function () {
        const contents = [Buffer.alloc(0), Buffer.from('a'), Buffer.from([0x80, 0x80, 0xc3, 0x28]), randomBytes(32),
          randomBytes(MiB)];
        const paths = contents.map((_, i) => `${root}/sizes/s${i}`);
        for (const [i, content] of contents.entries()) {
          await driver.putContent(paths[i], content);
          expect(await driver.getContent(paths[i])).to.deep.equal(content);
          const info = await driver.stat(paths[i]);
          expect(info.size).to.equal(content.length);
          expect(info.isDir).to.equal(false);
        }
        await deleteAll(paths);
      });

      it('replace a larger file entirely with a smaller one', async function () {
        const path = `${root}/overwrite/file`;
        await put(path, randomBytes(MiB));
        const smaller = await put(path, randomBytes(1024));
        expect(await driver.getContent(path)).to.deep.equal(smaller);
        expect((await driver.stat(path)).size).to.equal(1024);
        await driver.delete(path);
      });

      it('getContent of a missing path or of a directory is PathNotFoundError naming the path', async function () {
        await expectNotFound(() => driver.getContent(`${root}/missing`), `${root}/missing`);
        await put(`${root}/dir/file`, 'x');
        await expectNotFound(() => driver.getContent(`${root}/dir`), `${root}/dir`);
        await expectNotFound(() => driver.getContent(`${root}/dir/file/below`), `${root}/dir/file/below`);
        await driver.delete(`${root}/dir/file`);
      });

      it('concurrent putContent to one path ends with one complete value', async function () {
        const path = `${root}/race/link`;
        const values = Array.from({ length: 16 }, (_, i) => Buffer.alloc(64 * 1024 + i, i + 1));
        await Promise.all(values.map((value) => driver.putContent(path, value)));
        const stored = await driver.getContent(path);
        expect(values.some((value) => value.equals(stored)), 'stored value is one of those written').to.equal(true);
        await driver.delete(path);
      });
    });

    describe('reader', function () {
      it('streams from offsets 0, 1, mid-chunk, size-1 and size (empty)', async function () {
        const path = `${root}/reader/blob`;
        const content = await put(path, randomBytes(3 * MiB + 17));
        for (const offset of [0, 1, MiB + 3, content.length - 1, content.length]) {
          const read = await readAll(await driver.reader(path, offset));
          expect(read.equals(content.subarray(offset)), `offset ${offset}`).to.equal(true);
        }
        await driver.delete(path);
      });

      it('rejects offsets past the end and negative offsets with InvalidOffsetError', async function () {
        const path = `${root}/reader/short`;
        const content = await put(path, randomBytes(96));
        for (const offset of [content.length + 1, 10 * MiB, -1]) {
          const err = await failureOf(Error, () => driver.reader(path, offset));
          expect(err, err.message).to.be.instanceOf(InvalidOffsetError);
          expect((err as InvalidOffsetError).offset).to.equal(offset);
          expect((err as InvalidOffsetError).path).to.equal(path);
          expect(err.message).to.include(driver.name);
        }
        await driver.delete(path);
      });

      it('reader of a missing path is PathNotFoundError at any offset', async function () {
        await expectNotFound(() => driver.reader(`${root}/missing`, 0), `${root}/missing`);
        await expectNotFound(() => driver.reader(`${root}/missing`, 64), `${root}/missing`);
      });

      it('concurrent readers at different offsets each get the right bytes', async function () {
        const path = `${root}/reader/shared`;
        const content = await put(path, randomBytes(4 * MiB));
        const offsets = Array.from({ length: 10 }, (_, i) => Math.floor((content.length * i) / 10) + i);
        const reads = await Promise.all(offsets.map(async (offset) => readAll(await driver.reader(path, offset))));
        for (const [i, read] of reads.entries()) {
          expect(read.equals(content.subarray(offsets[i])), `offset ${offsets[i]}`).to.equal(true);
        }
        await driver.delete(path);
      });
    });

    describe(`copyOut (how blobs are served: the driver's copyTo where it has one, its reader otherwise)`, function () {
      it('copies each range exactly, across read-buffer boundaries, to a slow writer that holds every chunk until it takes it', async function () {
        const path = `${root}/copy/blob`;
        const content = await put(path, randomBytes(5 * MiB + 123));
        const ranges: [number, number][] = [[0, content.length], [1, 5], [2 * MiB - 1, 3], [MiB + 3, content.length - MiB - 3], [content.length - 1, 1], [7, 0]];
        for (const [offset, length] of ranges) {
          // Copies a chunk only after a delay: a driver that refilled a buffer before this callback would show here.
          const received: Buffer[] = [];
          const out = new Writable({
            write(chunk: Buffer, _encoding, callback) {
              setTimeout(() => {
                received.push(Buffer.from(chunk));
                callback();
              }, 5);
            },
          });
          await copyOut(driver, path, offset, length, out);
          expect(Buffer.concat(received).equals(content.subarray(offset, offset + length)), `range ${offset}+${length}`).to.equal(true);
          expect(out.writableEnded, 'copyOut leaves out open').to.equal(false);
        }
        await driver.delete(path);
      });

      it('returns without error when the writer is destroyed mid-copy, and the file stays readable and deletable', async function () {
        const path = `${root}/copy/abandoned`;
        const content = await put(path, randomBytes(8 * MiB));
        let chunks = 0;
        const out = new Writable({
          write(_chunk: Buffer, _encoding, callback) {
            chunks += 1;
            if (chunks === 1) setImmediate(() => out.destroy());
            else callback();
          },
        });
        await copyOut(driver, path, 0, content.length, out);
        expect(chunks).to.equal(1);
        expect((await readAll(await driver.reader(path))).equals(content)).to.equal(true);
        await driver.delete(path);
      });

      it('of a missing path is PathNotFoundError, with nothing written', async function () {
        let written = 0;
        const out = new Writable({
          write(chunk: Buffer, _encoding, callback) {
            written += chunk.length;
            callback();
          },
        });
        await expectNotFound(() => copyOut(driver, `${root}/missing`, 0, 10, out), `${root}/missing`);
        expect(written).to.equal(0);
      });
    });

    describe('writer', function () {
      it('streams 32 MiB in uneven chunks and reads back the same sha256', async function () {
        const path = `${root}/writer/large`;
        const total = 32 * MiB;
        const sizes = [1, 7, 4096, 65535, MiB + 1, 333_333, 2 * MiB + 5, 17];
        const expected = createHash('sha256');
        const writer = await driver.writer(path, false);
        expect(writer.size).to.equal(0);
        let written = 0;
        for (let i = 0; written < total; i++) {
          const chunk = randomBytes(Math.min(sizes[i % sizes.length], total - written));
          await writer.write(chunk);
          expected.update(chunk);
          written += chunk.length;
          expect(writer.size).to.equal(written);
        }
        await writer.commit();
        expect((await driver.stat(path)).size).to.equal(total);
        expect(await sha256(await driver.reader(path, 0))).to.equal(expected.digest('hex'));
        await driver.delete(path);
      });

      for (const chunkSize of [32, 6 * MiB + 1]) {
        it(`close keeps ${chunkSize}-byte sessions and writer(path, true) resumes at the same size until commit`, async function () {
          const path = `${root}/writer/resumed`;
          const parts = [randomBytes(chunkSize), randomBytes(chunkSize), randomBytes(chunkSize)];
          // The upload store's first session writes nothing: it only creates the file.
          const empty = await driver.writer(path, false);
          await empty.close();
          expect(empty.size).to.equal(0);
          let expectedSize = 0;
          for (const [i, part] of parts.entries()) {
            const writer = await driver.writer(path, true);
            expect(writer.size).to.equal(expectedSize);
            await writer.write(part);
            expectedSize += part.length;
            expect(writer.size).to.equal(expectedSize);
            if (i < parts.length - 1) await writer.close();
            else await writer.commit();
            expect(writer.size).to.equal(expectedSize);
          }
          expect((await driver.stat(path)).size).to.equal(expectedSize);
          expect((await driver.getContent(path)).equals(Buffer.concat(parts))).to.equal(true);
          await driver.delete(path);
        });
      }

      it('writer without append replaces an existing file', async function () {
        const path = `${root}/writer/replaced`;
        await put(path, randomBytes(MiB));
        const writer = await driver.writer(path, false);
        expect(writer.size).to.equal(0);
        await writer.write(Buffer.from('short'));
        await writer.commit();
        expect(await driver.getContent(path)).to.deep.equal(Buffer.from('short'));
        await driver.delete(path);
      });

      it('commits an empty file', async function () {
        const path = `${root}/writer/empty`;
        const writer = await driver.writer(path, false);
        await writer.commit();
        expect((await driver.stat(path)).size).to.equal(0);
        expect((await driver.getContent(path)).length).to.equal(0);
        await driver.delete(path);
      });

      it('cancel discards the bytes of this and earlier sessions, leaving nothing at the path', async function () {
        const fresh = `${root}/writer/cancelled`;
        const writer = await driver.writer(fresh, false);
        await writer.write(randomBytes(1000));
        await writer.cancel();
        await expectNotFound(() => driver.stat(fresh), fresh);

        const resumed = `${root}/writer/cancelled-after-close`;
        const first = await driver.writer(resumed, false);
        await first.write(randomBytes(1000));
        await first.close();
        const second = await driver.writer(resumed, true);
        expect(second.size).to.equal(1000);
        await second.write(randomBytes(1000));
        await second.cancel();
        await expectNotFound(() => driver.stat(resumed), resumed);
        await expectNotFound(() => driver.getContent(resumed), resumed);
      });

      it('refuses writes after close, commit or cancel', async function () {
        const path = `${root}/writer/finished`;
        for (const finish of ['close', 'commit', 'cancel'] as const) {
          const writer = await driver.writer(path, false);
          await writer.write(Buffer.from('abc'));
          await writer[finish]();
          await failureOf(Error, () => writer.write(Buffer.from('more')));
        }
        await expectNotFound(() => driver.stat(path), path);
      });

      it('concurrent writers to different paths each keep their own bytes', async function () {
        const count = 8;
        const paths = Array.from({ length: count }, (_, i) => `${root}/concurrent/w${i}/data`);
        const writers = await Promise.all(paths.map((path) => driver.writer(path, false)));
        const expected = paths.map(() => createHash('sha256'));
        for (let round = 0; round < 6; round++) {
          await Promise.all(
            writers.map(async (writer, i) => {
              const chunk = randomBytes(1000 + round * 70_000 + i * 13);
              expected[i].update(chunk);
              await writer.write(chunk);
            }),
          );
        }
        await Promise.all(writers.map((writer) => writer.commit()));
        for (const [i, path] of paths.entries()) {
          expect(await sha256(await driver.reader(path, 0)), path).to.equal(expected[i].digest('hex'));
        }
        await deleteAll(paths);
      });
    });

    describe('stat', function () {
      it('reports path, size and modification time of a file, and isDir with size 0 for a directory', async function () {
        const dir = `${root}/stat/dir`;
        const file = `${dir}/file`;
        await expectNotFound(() => driver.stat(dir), dir);
        await expectNotFound(() => driver.stat(file), file);
        await put(file, randomBytes(4096));
        const info = await driver.stat(file);
        expect(info.path).to.equal(file);
        expect(info.size).to.equal(4096);
        expect(info.isDir).to.equal(false);
        expect(info.modTime).to.be.instanceOf(Date);
        expect(Number.isNaN(info.modTime.getTime())).to.equal(false);
        const dirInfo = await driver.stat(dir);
        expect(dirInfo.path).to.equal(dir);
        expect(dirInfo.isDir).to.equal(true);
        expect(dirInfo.size).to.equal(0);
        await driver.delete(file);
      });
    });

    describe('list', function () {
      it('returns the full paths of the direct children, files and directories alike, in byte order', async function () {
        const dir = `${root}/list`;
        for (const name of ['b', 'a/x', 'c', 'a-b', 'B', 'a/y/z', '_u', '.dot']) await put(`${dir}/${name}`, name);
        expect(await driver.list(dir)).to.deep.equal(['.dot', 'B', '_u', 'a', 'a-b', 'b', 'c'].map((n) => `${dir}/${n}`));
        expect(await driver.list(`${dir}/a`)).to.deep.equal([`${dir}/a/x`, `${dir}/a/y`]);
        expect(await driver.list(root)).to.deep.equal([dir]);
        expect(await driver.list('/')).to.include(root);
        await deleteAll(['b', 'a/x', 'c', 'a-b', 'B', 'a/y/z', '_u', '.dot'].map((n) => `${dir}/${n}`));
      });

      it('sorts 50 random names', async function () {
        const dir = `${root}/many`;
        const paths = Array.from({ length: 50 }, () => `${dir}/${randomBytes(6).toString('base64url')}`);
        await Promise.all(paths.map((path) => put(path, 'x')));
        expect(await driver.list(dir)).to.deep.equal([...new Set(paths)].sort());
        await deleteAll([...new Set(paths)]);
      });

      it('list of a missing directory is PathNotFoundError', async function () {
        await expectNotFound(() => driver.list(`${root}/nonexistent`), `${root}/nonexistent`);
      });
    });

    describe('listPage', function () {
      it('pages through the names after a marker, at most limit at a time, in order', async function () {
        const dir = `${root}/tags`;
        const names = Array.from({ length: 10 }, (_, i) => `n${String(i).padStart(2, '0')}`);
        // Tags are directories, so mix files and directories.
        const files = names.map((name, i) => (i % 2 ? `${dir}/${name}/current/link` : `${dir}/${name}`));
        for (const file of [...files].reverse()) await put(file, 'x');
        const pages: string[][] = [];
        let after = '';
        for (;;) {
          const page = await driver.listPage(dir, after, 3);
          if (page.length === 0) break;
          expect(page.length).to.be.at.most(3);
          pages.push(page);
          after = page[page.length - 1];
        }
        expect(pages.flat()).to.deep.equal(names);
        expect(pages.map((page) => page.length)).to.deep.equal([3, 3, 3, 1]);
        expect(await driver.listPage(dir, 'n045', 2)).to.deep.equal(['n05', 'n06']);
        expect(await driver.listPage(dir, 'n07', 100)).to.deep.equal(['n08', 'n09']);
        expect(await driver.listPage(dir, 'n09', 100)).to.deep.equal([]);
        expect(await driver.listPage(dir, '', 100)).to.deep.equal(names);
        await deleteAll(files);
      });

      it('listPage of a missing directory is PathNotFoundError', async function () {
        await expectNotFound(() => driver.listPage(`${root}/nonexistent`, '', 10), `${root}/nonexistent`);
      });
    });

    describe('move', function () {
      it('puts the content at a destination in a new directory and removes the source', async function () {
        const source = `${root}/move/source`;
        const dest = `${root}/move/new/deep/dir/dest`;
        const content = await put(source, randomBytes(32));
        await driver.move(source, dest);
        expect(await driver.getContent(dest)).to.deep.equal(content);
        await expectNotFound(() => driver.getContent(source), source);
        await driver.delete(dest);
      });

      it('replaces an existing destination', async function () {
        const source = `${root}/move/source`;
        const dest = `${root}/move/dest`;
        const content = await put(source, randomBytes(32));
        await put(dest, randomBytes(64));
        await driver.move(source, dest);
        expect(await driver.getContent(dest)).to.deep.equal(content);
        await expectNotFound(() => driver.stat(source), source);
        await driver.delete(dest);
      });

      it('keeps every byte of a 6 MiB file written by a writer', async function () {
        const source = `${root}/move/_uploads/u/data`;
        const dest = `${root}/move/blobs/ab/abcdef/data`;
        const content = randomBytes(6 * MiB + 3);
        const writer = await driver.writer(source, false);
        await writer.write(content.subarray(0, MiB));
        await writer.write(content.subarray(MiB));
        await writer.commit();
        await driver.move(source, dest);
        expect((await driver.getContent(dest)).equals(content)).to.equal(true);
        await driver.delete(dest);
      });

      it('of a missing source is PathNotFoundError and leaves the destination intact', async function () {
        const source = `${root}/move/missing`;
        const dest = `${root}/move/dest`;
        const content = await put(dest, randomBytes(32));
        await expectNotFound(() => driver.move(source, dest), source);
        expect(await driver.getContent(dest)).to.deep.equal(content);
        await driver.delete(dest);
      });

      it('from below a file fails', async function () {
        const file = `${root}/notadir`;
        await put(file, 'x');
        await failureOf(Error, () => driver.move(`${file}/foo`, `${file}/bar`));
        expect(await driver.getContent(file)).to.deep.equal(Buffer.from('x'));
        await driver.delete(file);
      });
    });

    describe('delete', function () {
      it('removes a file and leaves its siblings', async function () {
        const dir = `${root}/delete`;
        await Promise.all(['f1', 'f2', 'f3'].map((name) => put(`${dir}/${name}`, name)));
        await driver.delete(`${dir}/f1`);
        await expectNotFound(() => driver.getContent(`${dir}/f1`), `${dir}/f1`);
        expect(await driver.getContent(`${dir}/f2`)).to.deep.equal(Buffer.from('f2'));
        expect(await driver.list(dir)).to.deep.equal([`${dir}/f2`, `${dir}/f3`]);
        await deleteAll([`${dir}/f2`, `${dir}/f3`]);
      });

      it('removes a whole tree', async function () {
        const tree = `${root}/delete/tree`;
        const files = ['a', 'b/c', 'b/d/e', 'b/d/f'].map((name) => `${tree}/${name}`);
        await Promise.all(files.map((file) => put(file, 'x')));
        await driver.delete(tree);
        for (const file of files) await expectNotFound(() => driver.getContent(file), file);
        await expectNotFound(() => driver.stat(tree), tree);
        await expectNotFound(() => driver.list(tree), tree);
      });

      it('of /a touches neither /ab nor /a-b nor /a.b', async function () {
        const dir = `${root}/prefix`;
        const kept = [`${dir}/ab`, `${dir}/a-b/x`, `${dir}/a.b`, `${dir}/abc/x`];
        await Promise.all([...kept, `${dir}/a/x`, `${dir}/a/y/z`].map((path) => put(path, 'x')));
        await driver.delete(`${dir}/a`);
        await expectNotFound(() => driver.stat(`${dir}/a`), `${dir}/a`);
        for (const path of kept) expect(await driver.getContent(path)).to.deep.equal(Buffer.from('x'));
        await deleteAll(kept);
      });

      it('of a missing path is PathNotFoundError', async function () {
        await expectNotFound(() => driver.delete(`${root}/missing`), `${root}/missing`);
      });
    });

    describe('walk', function () {
      const layout = ['a/x', 'a/y/z', 'a-b', 'a.c/w', 'b', 'B'];

      async function visited(start: string, skip?: string): Promise<FileInfo[]> {
        const infos: FileInfo[] = [];
        await driver.walk(start, (info) => {
          infos.push(info);
          return info.path === skip ? 'skip' : undefined;
        });
        return infos;
      }

      it('visits every file and directory depth first in byte order, each directory before its children', async function () {
        const tree = `${root}/walk`;
        for (const name of layout) await put(`${tree}/${name}`, name);
        const infos = await visited(tree);
        expect(infos.map((info) => [info.path.slice(tree.length + 1), info.isDir])).to.deep.equal([
          ['B', false], ['a', true], ['a/x', false], ['a/y', true], ['a/y/z', false], ['a-b', false], ['a.c', true],
          ['a.c/w', false], ['b', false],
        ]);
        for (const info of infos.filter((i) => !i.isDir)) expect(info.size).to.equal(info.path.length - tree.length - 1);
        await deleteAll(layout.map((name) => `${tree}/${name}`));
      });

      it('does not descend into a directory whose visit returns skip', async function () {
        const tree = `${root}/walk`;
        for (const name of layout) await put(`${tree}/${name}`, name);
        const infos = await visited(tree, `${tree}/a`);
        expect(infos.map((info) => info.path.slice(tree.length + 1))).to.deep.equal(['B', 'a', 'a-b', 'a.c', 'a.c/w', 'b']);
        await deleteAll(layout.map((name) => `${tree}/${name}`));
      });

      it('stops with the error a visit throws', async function () {
        const tree = `${root}/walk`;
        for (const name of layout) await put(`${tree}/${name}`, name);
        let visits = 0;
        const err = await failureOf(Error, () =>
          driver.walk(tree, () => {
            visits += 1;
            if (visits === 2) throw new Error('visit failed');
          }),
        );
        expect(err.message).to.equal('visit failed');
        expect(visits).to.equal(2);
        await deleteAll(layout.map((name) => `${tree}/${name}`));
      });

      it('of a missing path is PathNotFoundError', async function () {
        await expectNotFound(() => driver.walk(`${root}/missing`, () => undefined), `${root}/missing`);
      });
    });

    describe('redirectURL', function () {
      it('is undefined or an http(s) URL', async function () {
        const path = `${root}/redirect`;
        await put(path, 'x');
        for (const method of ['GET', 'HEAD'] as const) {
          const url = await driver.redirectURL(path, method);
          if (url !== undefined) expect(url).to.match(/^https?:\/\//);
        }
        await driver.delete(path);
      });
    });
  });
}
