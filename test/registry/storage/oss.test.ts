import { expect } from 'chai';
import type { OSSStorage } from '../../../registry/src/config/types.js';
import { createLogger } from '../../../registry/src/log.js';
import { createOSSDriver, ossHost, ossSettings } from '../../../registry/src/storage/driver/oss.js';
import { S3Driver, StorageStartError } from '../../../registry/src/storage/driver/s3.js';
import { freePort, s3Client, startS3rver, type S3Server } from '../../helpers/processes.js';
import { runDriverSuite } from './driver-suite.js';
import { failureOf } from '../../helpers/failure.js';

const logger = createLogger({ level: 'error', formatter: 'json', fields: {} });

function configFor(s3: S3Server, extra: Partial<OSSStorage> = {}): OSSStorage {
  return {
    accesskeyid: s3.accessKey,
    accesskeysecret: s3.secretKey,
    region: 'oss-cn-beijing',
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    secure: false,
    ...extra,
  };
}

runDriverSuite('oss on s3rver through storage.oss.endpoint', async () => {
  const s3 = await startS3rver();
  const driver = await createOSSDriver(configFor(s3, { rootdirectory: '/registry' }), logger);
  return {
    driver,
    cleanup: async () => {
      await driver.close?.();
      await s3.stop();
    },
  };
});

describe('oss storage driver', function () {
  const base: OSSStorage = { accesskeyid: 'id', accesskeysecret: 'secret', region: 'oss-cn-beijing', bucket: 'images' };

  describe('host mapping', function () {
    it('uses <region>.aliyuncs.com, <region>-internal.aliyuncs.com with internal, and endpoint when set', function () {
      expect(ossHost(base)).to.equal('oss-cn-beijing.aliyuncs.com');
      expect(ossHost({ ...base, internal: true })).to.equal('oss-cn-beijing-internal.aliyuncs.com');
      expect(ossHost({ ...base, internal: true, endpoint: 'oss.example.net' })).to.equal('oss.example.net');
    });

    it('addresses OSS domains virtual-hosted over https by default, and a custom endpoint by path', async function () {
      const publicSettings = ossSettings(base);
      expect(publicSettings).to.include({ host: 'oss-cn-beijing.aliyuncs.com', useSSL: true, pathStyle: false, region: 'oss-cn-beijing' });
      const driver = new S3Driver(ossSettings({ ...base, internal: true, secure: false }), logger);
      // Presigning needs no network: the URL shows the host and scheme every request goes to.
      const url = new URL(await driver.redirectURL('/docker/registry/v2/blobs/sha256/ab/abcd/data', 'GET'));
      expect(url.protocol).to.equal('http:');
      expect(url.host).to.equal('images.oss-cn-beijing-internal.aliyuncs.com');
      expect(url.pathname).to.equal('/docker/registry/v2/blobs/sha256/ab/abcd/data');
      await driver.close();
    });

    it('builds the seed README example (endpoint http://s3.domain.svc, secure false) without touching the network', async function () {
      const settings = ossSettings({
        accesskeyid: 'ABCDEFGHIJ0123456789',
        accesskeysecret: 'AB12C3dE4fGhIvmMB4TZrpypR0rOJ2G5WhGUPn9L',
        region: 'oss-cn-beijing',
        endpoint: 'http://s3.domain.svc',
        bucket: 'test',
        encrypt: false,
        secure: false,
        chunksize: 5242880,
        rootdirectory: '/registry',
      });
      expect(settings).to.include({ name: 'oss', host: 's3.domain.svc', useSSL: false, pathStyle: true, chunkSize: 5242880 });
      const driver = new S3Driver(settings, logger);
      expect(driver.name).to.equal('oss');
      await driver.close();
    });

    it('sends server-side encryption with encrypt and refuses a chunksize under 5 MiB naming storage.oss.chunksize', function () {
      expect(ossSettings({ ...base, encrypt: true }).objectHeaders).to.include({ 'x-amz-server-side-encryption': 'AES256' });
      expect(() => ossSettings({ ...base, chunksize: 1024 })).to.throw(StorageStartError, /^storage\.oss\.chunksize: /);
      expect(() => ossSettings({ ...base, bucket: '' })).to.throw(StorageStartError, /^storage\.oss\.bucket: is required/);
    });
  });

  describe('against s3rver', function () {
    let s3: S3Server;

    before(async function () {
      s3 = await startS3rver();
    });

    after(async function () {
      await s3?.stop();
    });

    it('keeps distribution\'s key layout under rootdirectory', async function () {
      const driver = await createOSSDriver(configFor(s3, { rootdirectory: '/oss-root' }), logger);
      await driver.putContent('/docker/registry/v2/repositories/app/_layers/link', Buffer.from('x'));
      const stat = await s3Client(s3).statObject(s3.bucket, 'oss-root/docker/registry/v2/repositories/app/_layers/link');
      expect(stat.size).to.equal(1);
      await driver.delete('/docker');
      await driver.close?.();
    });

    it('a missing bucket fails createOSSDriver naming storage.oss.bucket', async function () {
      const err = await failureOf(StorageStartError, () => createOSSDriver(configFor(s3, { bucket: 'absent' }), logger));
      expect(err.configKey).to.equal('storage.oss.bucket');
      expect(err.message).to.match(/^storage\.oss\.bucket: bucket "absent" does not exist/);
    });

    it('an unknown access key fails createOSSDriver naming storage.oss.accesskeyid', async function () {
      const err = await failureOf(StorageStartError, () => createOSSDriver(configFor(s3, { accesskeyid: 'NOBODY' }), logger));
      expect(err.configKey).to.equal('storage.oss.accesskeyid');
      expect(err.message).to.include('storage.oss.accesskeysecret');
    });

    it('an endpoint nobody listens on fails createOSSDriver naming storage.oss.endpoint', async function () {
      const port = await freePort();
      const err = await failureOf(StorageStartError, () => createOSSDriver(configFor(s3, { endpoint: `127.0.0.1:${port}` }), logger));
      expect(err.configKey).to.equal('storage.oss.endpoint');
      expect(err.message).to.include(`cannot reach http://127.0.0.1:${port}`);
    });
  });
});
