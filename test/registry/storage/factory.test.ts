import { expect } from 'chai';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfigFile } from '../../../registry/src/config/load.js';
import { createDriver } from '../../../registry/src/storage/driver/factory.js';
import { FilesystemDriver } from '../../../registry/src/storage/driver/filesystem.js';
import { InMemoryDriver } from '../../../registry/src/storage/driver/inmemory.js';
import { createLogger } from '../../../registry/src/log.js';
import { makeTempDir, s3Client, startS3rver, type S3Server } from '../../helpers/processes.js';

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

  describe('from config.yml as serve loads it, against s3rver', function () {
    let s3: S3Server;
    before(async function () {
      s3 = await startS3rver();
    });
    after(() => s3?.stop());

    /** Writes config.yml, loads it the way `registry serve` does and opens its driver. */
    async function driverFrom(storage: string): Promise<Awaited<ReturnType<typeof createDriver>>> {
      const path = join(dir, 'config.yml');
      await writeFile(path, `version: 0.1\nstorage:\n${storage}`);
      const { config } = await loadConfigFile(path, {});
      return createDriver(config.storage.driver, capturingLogger().logger);
    }

    async function roundTrip(driver: Awaited<ReturnType<typeof createDriver>>, key: string): Promise<void> {
      try {
        await driver.putContent(`/${key}`, Buffer.from(key));
        expect((await driver.getContent(`/${key}`)).toString()).to.equal(key);
        // The object is in the configured bucket, under rootdirectory: requests went to host/bucket/key.
        const stored = await s3Client(s3).statObject(s3.bucket, `registry/${key}`);
        expect(stored.size).to.equal(key.length);
      } finally {
        await driver.close?.();
      }
    }

    it('the LAIN guide\'s S3 example (regionendpoint, no forcepathstyle) addresses the bucket by path, as distribution does', async function () {
      const driver = await driverFrom(
        [
          '  s3:',
          `    accesskey: ${s3.accessKey}`,
          `    secretkey: ${s3.secretKey}`,
          '    region: us-west-1',
          `    regionendpoint: ${s3.endpoint}`,
          `    bucket: ${s3.bucket}`,
          '    secure: true',
          '    v4auth: true',
          '    chunksize: 5242880',
          '    rootdirectory: /registry',
        ].join('\n'),
      );
      await roundTrip(driver, 's3-path-style');
    });

    it('storage.oss with an endpoint that is not an OSS domain addresses the bucket by path', async function () {
      const driver = await driverFrom(
        [
          '  oss:',
          `    accesskeyid: ${s3.accessKey}`,
          `    accesskeysecret: ${s3.secretKey}`,
          '    region: oss-cn-beijing',
          `    endpoint: ${s3.endpoint}`,
          `    bucket: ${s3.bucket}`,
          '    secure: false',
          '    rootdirectory: /registry',
        ].join('\n'),
      );
      await roundTrip(driver, 'oss-path-style');
    });
  });
});
