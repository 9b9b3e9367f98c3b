import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { S3Storage } from '../../../registry/src/config/types.js';
import { createLogger } from '../../../registry/src/log.js';
import { BufferBudget } from '../../../registry/src/storage/driver/buffer-budget.js';
import type { StorageDriver } from '../../../registry/src/storage/driver/driver.js';
import { createS3Driver, S3Driver, s3Settings, StorageStartError } from '../../../registry/src/storage/driver/s3.js';
import { freePort, s3Client, startS3rver, type S3Server } from '../../helpers/processes.js';
import { runDriverSuite } from './driver-suite.js';
import { startRecordingProxy, type RecordingProxy } from './s3-recording-proxy.js';
import { failureOf } from '../../helpers/failure.js';

const MiB = 1 << 20;
const logger = createLogger({ level: 'error', formatter: 'json', fields: {} });

function configFor(s3: S3Server, extra: Partial<S3Storage> = {}): S3Storage {
  return {
    accesskey: s3.accessKey,
    secretkey: s3.secretKey,
    region: s3.region,
    regionendpoint: s3.endpoint,
    bucket: s3.bucket,
    chunksize: 5 * MiB,
    ...extra,
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Every key in the bucket below prefix, as s3rver stores them. */
async function bucketKeys(s3: S3Server, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of s3Client(s3).listObjectsV2(s3.bucket, prefix, true)) if (item.name) keys.push(item.name);
  return keys.sort();
}

/**
 * s3rver signs ListObjectsV2 continuation tokens with DES, which Node 20's OpenSSL 3 refuses unless the legacy
 * provider is on: without it every listing longer than a page is a 500. The child copies the environment when it
 * spawns, so the variable is set only for that moment. (test/helpers/s3rver.ts should pass the flag itself.)
 */
async function startS3rverWithListPaging(): Promise<S3Server> {
  const previous = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${previous ?? ''} --openssl-legacy-provider`.trim();
  try {
    return await startS3rver();
  } finally {
    if (previous === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = previous;
  }
}

runDriverSuite('s3 on s3rver (5 MiB parts)', async () => {
  const s3 = await startS3rver();
  const driver = await createS3Driver(configFor(s3, { rootdirectory: '/registry' }), logger);
  return {
    driver,
    cleanup: async () => {
      await driver.close?.();
      await s3.stop();
    },
  };
});

describe('s3 storage driver', function () {
  let s3: S3Server;
  const opened: StorageDriver[] = [];

  async function open(extra: Partial<S3Storage> = {}, budget?: BufferBudget): Promise<StorageDriver> {
    const driver = await createS3Driver(configFor(s3, extra), logger, budget ? { budget } : {});
    opened.push(driver);
    return driver;
  }

  before(async function () {
    s3 = await startS3rverWithListPaging();
  });

  after(async function () {
    for (const driver of opened) await driver.close?.();
    await s3?.stop();
  });

  describe('configuration', function () {
    it('builds the seed README example (regionendpoint http://s3.domain.svc) without touching the network', async function () {
      const settings = s3Settings({
        accesskey: 'ABCDEFGHIJ0123456789',
        secretkey: 'AB12C3dE4fGhIvmMB4TZrpypR0rOJ2G5WhGUPn9L',
        region: 'us-west-1',
        regionendpoint: 'http://s3.domain.svc',
        bucket: 'test',
        secure: true,
        v4auth: true,
        chunksize: 5242880,
        rootdirectory: '/registry',
      });
      expect(settings).to.include({ host: 's3.domain.svc', useSSL: false, pathStyle: true, region: 'us-west-1', bucket: 'test', chunkSize: 5242880 });
      expect(settings.port).to.equal(undefined);
      const driver = new S3Driver(settings, logger);
      expect(driver.name).to.equal('s3');
      await driver.close();
    });

    it('maps secure, forcepathstyle, encryption, storage class and the AWS default endpoint', function () {
      const aws = s3Settings({ accesskey: 'a', secretkey: 'b', region: 'eu-west-1', bucket: 'b', encrypt: true, keyid: 'k1', storageclass: 'reduced_redundancy' });
      expect(aws).to.include({ host: 's3.amazonaws.com', useSSL: true, pathStyle: false, chunkSize: 10 * MiB });
      expect(aws.objectHeaders).to.deep.include({
        'x-amz-server-side-encryption': 'aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id': 'k1',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      });
      expect(aws.copy).to.deep.equal({ chunkSize: 32 * MiB, thresholdSize: 32 * MiB, maxConcurrency: 100 });
      const custom = s3Settings({ accesskey: 'a', secretkey: 'b', region: 'r', bucket: 'b', regionendpoint: 'minio.local:9000', secure: false, forcepathstyle: false, storageclass: 'NONE' });
      expect(custom).to.include({ host: 'minio.local', port: 9000, useSSL: false, pathStyle: false });
      expect(custom.objectHeaders).to.not.have.property('x-amz-storage-class');
    });

    it('falls back to AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and names the keys when there are no credentials', function () {
      const base = { region: 'us-east-1', bucket: 'b' };
      const fromEnv = s3Settings(base, { AWS_ACCESS_KEY_ID: 'env-key', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_SESSION_TOKEN: 'tok' });
      expect(fromEnv).to.include({ accessKey: 'env-key', secretKey: 'env-secret', sessionToken: 'tok' });
      expect(() => s3Settings(base, {})).to.throw(StorageStartError, /storage\.s3\.accesskey.*AWS_ACCESS_KEY_ID/);
    });

    it('refuses a chunksize under 5 MiB, naming storage.s3.chunksize', function () {
      expect(() => s3Settings({ accesskey: 'a', secretkey: 'b', region: 'r', bucket: 'b', chunksize: MiB })).to.throw(
        StorageStartError,
        /^storage\.s3\.chunksize: 1048576 is out of range/,
      );
    });
  });

  describe('start check', function () {
    it('a missing bucket fails createS3Driver naming storage.s3.bucket', async function () {
      const err = await failureOf(StorageStartError, () => createS3Driver(configFor(s3, { bucket: 'no-such-bucket' }), logger));
      expect(err.configKey).to.equal('storage.s3.bucket');
      expect(err.message).to.match(/^storage\.s3\.bucket: bucket "no-such-bucket" does not exist at http:\/\/127\.0\.0\.1:\d+/);
    });

    it('an unknown access key fails createS3Driver naming storage.s3.accesskey', async function () {
      const err = await failureOf(StorageStartError, () => createS3Driver(configFor(s3, { accesskey: 'WRONGKEY' }), logger));
      expect(err.configKey).to.equal('storage.s3.accesskey');
      expect(err.message).to.include('InvalidAccessKeyId').and.include('storage.s3.secretkey');
    });

    it('an endpoint nobody listens on fails createS3Driver naming storage.s3.regionendpoint', async function () {
      const port = await freePort();
      const err = await failureOf(StorageStartError, () => createS3Driver(configFor(s3, { regionendpoint: `http://127.0.0.1:${port}` }), logger));
      expect(err.configKey).to.equal('storage.s3.regionendpoint');
      expect(err.message).to.include(`cannot reach http://127.0.0.1:${port}`).and.include('ECONNREFUSED');
    });
  });

  describe('layout', function () {
    it('stores /docker/registry/v2/... under <rootdirectory>/ without a leading slash, as distribution does', async function () {
      const driver = await open({ rootdirectory: '/layout-root/' });
      await driver.putContent('/docker/registry/v2/repositories/app/_layers/link', Buffer.from('x'));
      expect(await bucketKeys(s3, 'layout-root/')).to.deep.equal(['layout-root/docker/registry/v2/repositories/app/_layers/link']);
      await driver.delete('/docker');
      expect(await bucketKeys(s3, 'layout-root/')).to.deep.equal([]);
    });

    it('hides writer state from list, listPage, walk and stat while an upload is open', async function () {
      const driver = await open({ rootdirectory: '/hidden' });
      await driver.putContent('/up/startedat', Buffer.from('now'));
      const writer = await driver.writer('/up/data', false);
      await writer.write(randomBytes(1000));
      await writer.close();
      expect((await bucketKeys(s3, 'hidden/')).some((key) => key.includes('~'))).to.equal(true);
      expect(await driver.list('/up')).to.deep.equal(['/up/startedat']);
      expect(await driver.listPage('/up', '', 10)).to.deep.equal(['startedat']);
      const walked: string[] = [];
      await driver.walk('/up', (info) => {
        walked.push(info.path);
      });
      expect(walked).to.deep.equal(['/up/startedat']);
      await driver.delete('/up');
      expect(await bucketKeys(s3, 'hidden/')).to.deep.equal([]);
    });

    it('pages names in byte order when a directory is a prefix of its siblings ("v1" before "v1-rc" and "v1.2")', async function () {
      const driver = await open({ rootdirectory: '/order' });
      for (const tag of ['v1.2/current/link', 'v1-rc/current/link', 'v1/current/link', 'v10', 'v1_x']) {
        await driver.putContent(`/tags/${tag}`, Buffer.from('x'));
      }
      const names: string[] = [];
      for (let after = ''; ; ) {
        const page = await driver.listPage('/tags', after, 1);
        if (page.length === 0) break;
        names.push(...page);
        after = page[0] as string;
      }
      expect(names).to.deep.equal(['v1', 'v1-rc', 'v1.2', 'v10', 'v1_x']);
      await driver.delete('/tags');
    });
  });

  describe('writer', function () {
    it('continues a closed upload in a new driver instance, as another registry process would, until commit', async function () {
      const config = { rootdirectory: '/handover' };
      const path = '/docker/registry/v2/repositories/app/_uploads/u1/data';
      const chunks = [randomBytes(7 * MiB + 11), randomBytes(3 * MiB), randomBytes(6 * MiB + 5)];

      const first = await createS3Driver(configFor(s3, config), logger);
      const start = await first.writer(path, false);
      await start.write(chunks[0] as Buffer);
      await start.close();
      await first.close?.();

      for (const [i, chunk] of chunks.slice(1).entries()) {
        const other = await createS3Driver(configFor(s3, config), logger);
        const writer = await other.writer(path, true);
        expect(writer.size).to.equal(chunks.slice(0, i + 1).reduce((sum, c) => sum + c.length, 0));
        await writer.write(chunk);
        if (i === 0) await writer.close();
        else await writer.commit();
        await other.close?.();
      }

      const reader = await open(config);
      expect((await reader.getContent(path)).equals(Buffer.concat(chunks))).to.equal(true);
      expect(await bucketKeys(s3, 'handover/')).to.deep.equal([`handover${path}`]);
      await reader.delete('/docker');
    });

    it('streams 64 MiB in 1 MiB writes holding at most two 5 MiB parts of the budget', async function () {
      const budget = new BufferBudget(10 * MiB);
      const driver = await open({ rootdirectory: '/budget' }, budget);
      const writer = await driver.writer('/big', false);
      const hash = createHash('sha256');
      for (let i = 0; i < 64; i++) {
        const chunk = randomBytes(MiB);
        hash.update(chunk);
        await writer.write(chunk);
        expect(budget.inUse).to.be.at.most(budget.limit);
      }
      await writer.commit();
      expect(budget.peak).to.equal(10 * MiB);
      expect(budget.inUse).to.equal(0);
      expect(createHash('sha256').update(await readAll(await driver.reader('/big', 0))).digest('hex')).to.equal(hash.digest('hex'));
      await driver.delete('/big');
    });

    it('makes concurrent writers wait for the budget instead of exceeding it, and all finish intact', async function () {
      const budget = new BufferBudget(10 * MiB);
      const driver = await open({ rootdirectory: '/queue' }, budget);
      let mostWaiting = 0;
      const contents = [0, 1, 2].map(() => randomBytes(12 * MiB));
      await Promise.all(
        contents.map(async (content, i) => {
          const writer = await driver.writer(`/w${i}`, false);
          for (let offset = 0; offset < content.length; offset += MiB) {
            await writer.write(content.subarray(offset, offset + MiB));
            mostWaiting = Math.max(mostWaiting, budget.waiting);
          }
          await writer.commit();
        }),
      );
      expect(mostWaiting).to.be.greaterThan(0);
      expect(budget.peak).to.be.at.most(budget.limit);
      expect(budget.inUse).to.equal(0);
      for (const [i, content] of contents.entries()) expect((await driver.getContent(`/w${i}`)).equals(content)).to.equal(true);
      for (const i of [0, 1, 2]) await driver.delete(`/w${i}`);
    });
  });

  describe('redirectURL', function () {
    it('presigns GET and HEAD URLs that plain fetch can use for 20 minutes', async function () {
      const driver = await open({ rootdirectory: '/redirect' });
      const content = randomBytes(4096);
      await driver.putContent('/blob/data', content);
      const get = (await driver.redirectURL('/blob/data', 'GET')) as string;
      expect(new URL(get).searchParams.get('X-Amz-Expires')).to.equal('1200');
      const res = await fetch(get);
      expect(res.status).to.equal(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(content)).to.equal(true);
      const head = await fetch((await driver.redirectURL('/blob/data', 'HEAD')) as string, { method: 'HEAD' });
      expect(head.status).to.equal(200);
      expect(head.headers.get('content-length')).to.equal('4096');
      await driver.delete('/blob');
    });
  });

  describe('requests made (through a recording proxy)', function () {
    let proxy: RecordingProxy;

    before(async function () {
      proxy = await startRecordingProxy(s3.endpoint, s3Client(s3));
    });

    after(async function () {
      await proxy?.stop();
    });

    beforeEach(function () {
      proxy.requests.length = 0;
    });

    it('moves above multipartcopythresholdsize with UploadPartCopy ranges of multipartcopychunksize, then deletes the source', async function () {
      const driver = await open({
        regionendpoint: proxy.endpoint,
        rootdirectory: '/copy',
        multipartcopythresholdsize: 5 * MiB,
        multipartcopychunksize: 5 * MiB,
        multipartcopymaxconcurrency: 2,
      });
      const content = randomBytes(12 * MiB);
      await driver.putContent('/source', content);
      proxy.requests.length = 0;
      await driver.move('/source', '/dest');

      const bucketPath = `/${s3.bucket}/copy/dest`;
      const copies = proxy.requests.filter((r) => r.headers['x-amz-copy-source'] !== undefined);
      expect(copies.map((r) => [r.method, r.path, r.query.get('partNumber'), r.headers['x-amz-copy-source'], r.headers['x-amz-copy-source-range']])
        .sort((a, b) => Number(a[2]) - Number(b[2]))).to.deep.equal([
        ['PUT', bucketPath, '1', `/${s3.bucket}/copy/source`, `bytes=0-${5 * MiB - 1}`],
        ['PUT', bucketPath, '2', `/${s3.bucket}/copy/source`, `bytes=${5 * MiB}-${10 * MiB - 1}`],
        ['PUT', bucketPath, '3', `/${s3.bucket}/copy/source`, `bytes=${10 * MiB}-${12 * MiB - 1}`],
      ]);
      const uploadId = copies[0]?.query.get('uploadId');
      expect(copies.every((r) => r.query.get('uploadId') === uploadId)).to.equal(true);
      expect(proxy.requests.some((r) => r.method === 'POST' && r.path === bucketPath && r.query.has('uploads'))).to.equal(true);
      expect(proxy.requests.some((r) => r.method === 'POST' && r.path === bucketPath && r.query.get('uploadId') === uploadId)).to.equal(true);
      expect(proxy.requests.some((r) => r.method === 'DELETE' && r.path === `/${s3.bucket}/copy/source`)).to.equal(true);

      expect((await driver.getContent('/dest')).equals(content)).to.equal(true);
      expect(await bucketKeys(s3, 'copy/')).to.deep.equal(['copy/dest']);
      await driver.delete('/dest');
    });

    it('moves at or below the threshold with one CopyObject', async function () {
      const driver = await open({ regionendpoint: proxy.endpoint, rootdirectory: '/copy-small' });
      await driver.putContent('/source', randomBytes(MiB));
      proxy.requests.length = 0;
      await driver.move('/source', '/dest');
      const copies = proxy.requests.filter((r) => r.headers['x-amz-copy-source'] !== undefined);
      expect(copies.map((r) => [r.method, r.path, [...r.query.keys()]])).to.deep.equal([['PUT', `/${s3.bucket}/copy-small/dest`, []]]);
      await driver.delete('/dest');
    });

    it('writes parts without ListMultipartUploads or ListParts, and delete of an abandoned upload aborts it', async function () {
      const driver = await open({ regionendpoint: proxy.endpoint, rootdirectory: '/purge' });
      await driver.putContent('/_uploads/u/startedat', Buffer.from('now'));
      const writer = await driver.writer('/_uploads/u/data', false);
      await writer.write(randomBytes(6 * MiB));
      await writer.close();
      const resumed = await driver.writer('/_uploads/u/data', true);
      expect(resumed.size).to.equal(6 * MiB);
      await resumed.close();
      const partUpload = proxy.requests.find((r) => r.method === 'PUT' && r.query.has('partNumber'));
      const uploadId = partUpload?.query.get('uploadId');
      expect(uploadId).to.be.a('string');

      await driver.delete('/_uploads/u');
      expect(proxy.requests.some((r) => r.method === 'DELETE' && r.query.get('uploadId') === uploadId)).to.equal(true);
      expect(proxy.requests.some((r) => r.query.has('uploads') && r.method === 'GET')).to.equal(false);
      expect(proxy.requests.some((r) => r.method === 'GET' && r.query.has('uploadId'))).to.equal(false);
      expect(await bucketKeys(s3, 'purge/')).to.deep.equal([]);
    });

    it('listPage reads one page from StartAfter instead of the whole directory; list and walk page through all of it', async function () {
      const driver = await open({ regionendpoint: proxy.endpoint, rootdirectory: '/paging' });
      const names = Array.from({ length: 1100 }, (_, i) => `t${String(i).padStart(4, '0')}`);
      for (let i = 0; i < names.length; i += 50) {
        await Promise.all(names.slice(i, i + 50).map((name) => driver.putContent(`/tags/${name}`, Buffer.from('x'))));
      }
      const lists = () => proxy.requests.filter((r) => r.method === 'GET' && r.query.get('list-type') === '2');

      proxy.requests.length = 0;
      expect(await driver.listPage('/tags', '', 10)).to.deep.equal(names.slice(0, 10));
      expect(lists().map((r) => [r.query.get('start-after'), r.query.get('max-keys')])).to.deep.equal([[null, '1000']]);

      proxy.requests.length = 0;
      expect(await driver.listPage('/tags', 't0500', 10)).to.deep.equal(names.slice(501, 511));
      expect(lists().map((r) => r.query.get('start-after'))).to.deep.equal(['paging/tags/t0500']);

      proxy.requests.length = 0;
      expect(await driver.list('/tags')).to.deep.equal(names.map((name) => `/tags/${name}`));
      expect(lists().length).to.equal(2);

      // Too big for one flat page, so walk lists the directory level by level and still visits all, in order.
      const walked: string[] = [];
      await driver.walk('/tags', (info) => {
        walked.push(info.path);
      });
      expect(walked).to.deep.equal(names.map((name) => `/tags/${name}`));
      await driver.delete('/tags');
    });
  });
});
