import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openFilesystemDriver } from '../../../registry/src/storage/driver/filesystem.js';
import { PathNotFoundError } from '../../../registry/src/storage/driver/driver.js';
import { makeTempDir, startDistribution, startNodeProcess, stopAll, type ManagedProcess } from '../../helpers/processes.js';
import { runDriverSuite } from './driver-suite.js';
import { CHUNK, PUT_BYTES, chunkByte } from './fixtures/crash-pattern.js';

const CHILD = fileURLToPath(new URL('./fixtures/crashing-driver-client.js', import.meta.url));

runDriverSuite('filesystem', async () => {
  const dir = await makeTempDir('fs-driver');
  const driver = await openFilesystemDriver({ rootdirectory: dir });
  return { driver, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('filesystem storage driver on disk', function () {
  let dir: string;

  beforeEach(async function () {
    dir = await makeTempDir('fs-layout');
  });

  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("stores a storage path at <rootdirectory><path> byte for byte, where distribution's driver reads it", async function () {
    const driver = await openFilesystemDriver({ rootdirectory: dir });
    const link = '/docker/registry/v2/repositories/library/alpine/_manifests/tags/latest/current/link';
    await driver.putContent(link, Buffer.from('sha256:abc'));
    expect(await readFile(join(dir, link), 'utf8')).to.equal('sha256:abc');

    const upload = '/docker/registry/v2/repositories/library/alpine/_uploads/0b5c/data';
    const blob = '/docker/registry/v2/blobs/sha256/ab/abcdef/data';
    const writer = await driver.writer(upload, false);
    await writer.write(Buffer.from('layer '));
    await writer.close();
    // distribution appends to the same file between requests, so the bytes are there before commit.
    expect(await readFile(join(dir, upload), 'utf8')).to.equal('layer ');
    const resumed = await driver.writer(upload, true);
    await resumed.write(Buffer.from('bytes'));
    await resumed.commit();
    await driver.move(upload, blob);
    expect(await readFile(join(dir, blob), 'utf8')).to.equal('layer bytes');
    expect(await readdir(join(dir, dirname(upload)))).to.deep.equal([]);
  });

  it('reads what another process wrote under <rootdirectory> the way distribution lays it out', async function () {
    const file = join(dir, 'docker/registry/v2/repositories/a/b/_layers/sha256/cd/link');
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, 'sha256:cd');
    const driver = await openFilesystemDriver({ rootdirectory: dir });
    expect(await driver.list('/docker/registry/v2/repositories/a')).to.deep.equal(['/docker/registry/v2/repositories/a/b']);
    expect((await driver.getContent('/docker/registry/v2/repositories/a/b/_layers/sha256/cd/link')).toString()).to.equal('sha256:cd');
  });

  it('treats a rootdirectory that does not exist yet as an empty store and creates it on the first write', async function () {
    const root = join(dir, 'not', 'yet');
    const driver = await openFilesystemDriver({ rootdirectory: root });
    expect(await driver.list('/')).to.deep.equal([]);
    const walked: string[] = [];
    await driver.walk('/', (info) => {
      walked.push(info.path);
    });
    expect(walked).to.deep.equal([]);
    const err = await driver.stat('/docker').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PathNotFoundError);
    await driver.putContent('/docker/x', Buffer.from('x'));
    expect(await readFile(join(root, 'docker/x'), 'utf8')).to.equal('x');
    expect(await driver.list('/')).to.deep.equal(['/docker']);
  });

  it('refuses a rootdirectory that is a file, naming it', async function () {
    const file = join(dir, 'file');
    await writeFile(file, '');
    const err = await openFilesystemDriver({ rootdirectory: file }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.include(file).and.include('not a directory');
  });

  it('resolves a relative rootdirectory against the working directory', async function () {
    const driver = await openFilesystemDriver({ rootdirectory: 'relative/root' });
    expect(driver.root).to.equal(join(process.cwd(), 'relative/root'));
  });

  it('deletes a directory tree while another writer adds files to it, as a late gc intent does, without ENOTEMPTY', async function () {
    // Before the driver retried its rm, 148-163 of 200 such deletes failed with ENOTEMPTY here.
    const driver = await openFilesystemDriver({ rootdirectory: dir });
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 50; i++) await driver.putContent(`/work/${round}/intents/a${i}`, Buffer.from('x'));
      const late = (async () => {
        for (let i = 0; i < 20; i++) await driver.putContent(`/work/${round}/intents/late${i}`, Buffer.from('x')).catch(() => undefined);
      })();
      try {
        await driver.delete(`/work/${round}`);
      } finally {
        await late;
      }
    }
  });

  describe('sharing rootdirectory with distribution 2.8.2', function () {
    after(async function () {
      await stopAll();
    });

    it('distribution serves a blob this driver stored, and this driver reads a blob distribution stored', async function () {
      const driver = await openFilesystemDriver({ rootdirectory: dir });
      const ours = randomBytes(3 * CHUNK + 5);
      const hex = createHash('sha256').update(ours).digest('hex');
      const upload = '/docker/registry/v2/repositories/lib/app/_uploads/4a1c/data';
      const writer = await driver.writer(upload, false);
      await writer.write(ours);
      await writer.commit();
      await driver.move(upload, `/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`);
      await driver.putContent(`/docker/registry/v2/repositories/lib/app/_layers/sha256/${hex}/link`, Buffer.from(`sha256:${hex}`));

      const registry = await startDistribution({ rootDir: dir });
      try {
        const served = await fetch(`${registry.url}/v2/lib/app/blobs/sha256:${hex}`);
        expect(served.status).to.equal(200);
        expect(Buffer.from(await served.arrayBuffer()).equals(ours)).to.equal(true);

        const theirs = randomBytes(CHUNK + 7);
        const theirHex = createHash('sha256').update(theirs).digest('hex');
        const started = await fetch(`${registry.url}/v2/lib/app/blobs/uploads/`, { method: 'POST' });
        expect(started.status).to.equal(202);
        const location = new URL(started.headers.get('location') as string, registry.url);
        location.searchParams.set('digest', `sha256:${theirHex}`);
        const put = await fetch(location, { method: 'PUT', body: theirs, headers: { 'content-type': 'application/octet-stream' } });
        expect(put.status).to.equal(201);
        const blob = await driver.getContent(`/docker/registry/v2/blobs/sha256/${theirHex.slice(0, 2)}/${theirHex}/data`);
        expect(blob.equals(theirs)).to.equal(true);
      } finally {
        await registry.stop();
      }
    });
  });

  describe('killed mid-operation', function () {
    let child: ManagedProcess | undefined;

    afterEach(async function () {
      await child?.stop();
      child = undefined;
    });

    after(async function () {
      await stopAll();
    });

    async function killWhen(mode: 'put' | 'write', path: string, line: string): Promise<void> {
      child = await startNodeProcess(CHILD, [mode, dir, path], {}, async (proc) => (await proc.readLog()).includes(line), {
        name: `driver-${mode}`,
      });
      process.kill(child.pid, 'SIGKILL');
      const exit = await child.exited;
      expect(exit.signal).to.equal('SIGKILL');
    }

    it('a putContent killed at any point leaves one whole value at the path, never a part', async function () {
      const path = '/docker/registry/v2/repositories/app/_manifests/tags/v1/current/link';
      const driver = await openFilesystemDriver({ rootdirectory: dir });
      await driver.putContent(path, Buffer.alloc(8 * CHUNK, PUT_BYTES[0]));
      await killWhen('put', path, 'looping');
      const stored = await driver.getContent(path);
      expect(stored.length).to.equal(8 * CHUNK);
      expect(PUT_BYTES).to.include(stored[0]);
      expect(stored.equals(Buffer.alloc(8 * CHUNK, stored[0])), 'one value throughout').to.equal(true);
      // At most the temp file of the interrupted put is left, named as distribution names its own.
      const others = (await driver.list(dirname(path))).filter((entry) => entry !== path);
      expect(others.length).to.be.at.most(1);
      for (const other of others) expect(other).to.match(/\/link\.[0-9a-f-]{36}\.tmp$/);
    });

    it('a writer killed mid-stream leaves a clean prefix that an appending writer resumes', async function () {
      const path = '/docker/registry/v2/repositories/app/_uploads/6f1e/data';
      await killWhen('write', path, 'writing');
      const driver = await openFilesystemDriver({ rootdirectory: dir });
      const kept = await driver.getContent(path);
      expect(kept.length).to.be.at.least(4 * CHUNK);
      for (let offset = 0; offset < kept.length; offset += 4096) {
        expect(kept[offset], `byte ${offset}`).to.equal(chunkByte(Math.floor(offset / CHUNK)));
      }
      expect(kept[kept.length - 1]).to.equal(chunkByte(Math.floor((kept.length - 1) / CHUNK)));
      const writer = await driver.writer(path, true);
      expect(writer.size).to.equal(kept.length);
      await writer.write(Buffer.from('next'));
      await writer.commit();
      expect((await driver.stat(path)).size).to.equal(kept.length + 4);
    });
  });
});
