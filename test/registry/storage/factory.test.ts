import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { createDriver } from '../../../registry/src/storage/driver/factory.js';
import { FilesystemDriver } from '../../../registry/src/storage/driver/filesystem.js';
import { InMemoryDriver } from '../../../registry/src/storage/driver/inmemory.js';
import { createLogger } from '../../../registry/src/log.js';
import { makeTempDir } from '../../helpers/processes.js';

function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  return { logger: createLogger({ level: 'info', formatter: 'json', fields: {} }, destination), lines };
}

describe('storage driver factory', function () {
  let dir: string;

  before(async function () {
    dir = await makeTempDir('factory');
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a filesystem driver rooted at storage.filesystem.rootdirectory and logs it', async function () {
    const { logger, lines } = capturingLogger();
    const driver = await createDriver({ type: 'filesystem', filesystem: { rootdirectory: dir } }, logger);
    expect(driver).to.be.instanceOf(FilesystemDriver);
    expect((driver as FilesystemDriver).root).to.equal(dir);
    expect(lines.join('')).to.include('"storage":"filesystem"').and.include(dir);
  });

  it('creates an inmemory driver', async function () {
    const driver = await createDriver({ type: 'inmemory' }, capturingLogger().logger);
    expect(driver).to.be.instanceOf(InMemoryDriver);
    expect(driver.name).to.equal('inmemory');
  });

  it('creates an s3 driver that checks its bucket at start, naming the key to fix', async function () {
    const config = {
      type: 's3' as const,
      s3: { region: 'us-east-1', bucket: 'registry', regionendpoint: 'http://127.0.0.1:1', accesskey: 'k', secretkey: 's', secure: false },
    };
    const err = await createDriver(config, capturingLogger().logger).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.include('storage.s3.regionendpoint');
  });
});
