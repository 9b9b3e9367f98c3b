import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlobStore } from '../../../registry/src/storage/blobs.js';
import { parseDigest } from '../../../registry/src/storage/digest.js';
import { MemoryDescriptorCache, RedisDescriptorCache } from '../../../registry/src/storage/descriptor-cache.js';
import { connectRedis } from '../../../registry/src/coord/redis-client.js';
import { paths } from '../../../registry/src/storage/paths.js';
import { makeTempDir, stopAll } from '../../helpers/processes.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { fleetOf, type Fleet } from '../coord/fleet.js';

const digest = parseDigest(`sha256:${'ab'.repeat(32)}`);
const key = `sha256:${'ab'.repeat(32)}`;

async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await sleep(30);
  }
  throw new Error('condition not met within 3 s');
}

describe('blob descriptor cache', function () {
  let dir: string;
  let redis: RedisServer;
  let fleet: Fleet | undefined;

  before(async function () {
    redis = await startRedis();
  });

  beforeEach(async function () {
    dir = await makeTempDir('descriptors');
  });

  afterEach(async function () {
    await fleet?.close();
    fleet = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  after(async function () {
    await redis.stop();
    await stopAll();
  });

  it('writes a manifest blob again when the cache remembers it but storage lost it (distribution #4702)', async function () {
    fleet = fleetOf({ storage: { filesystem: { rootdirectory: dir } } });
    const { coord, driver } = await fleet.join();
    const blobs = new BlobStore(driver, new MemoryDescriptorCache(coord));
    const content = Buffer.from('{"schemaVersion":2}');
    await blobs.putSmall(digest, content);
    expect(await blobs.stat(digest)).to.equal(content.length);
    // A collection elsewhere swept it; this process's cache never heard.
    await driver.delete(paths.blobDir(digest));
    await blobs.putSmall(digest, content);
    expect((await driver.getContent(paths.blobData(digest))).equals(content)).to.equal(true);
  });

  for (const backend of ['storage', 'redis'] as const) {
    it(`drops an entry in every process when one process forgets the blob (${backend} backend)`, async function () {
      fleet = fleetOf({ storage: { filesystem: { rootdirectory: dir } }, ...(backend === 'redis' && { redis: { addr: redis.addr } }) });
      const [a, b] = [await fleet.join(), await fleet.join()];
      const [cacheA, cacheB] = [new MemoryDescriptorCache(a.coord), new MemoryDescriptorCache(b.coord)];
      cacheA.set(key, 42);
      cacheB.set(key, 42);
      await sleep(200);
      await cacheA.forget([key]);
      expect(await cacheA.get(key)).to.equal(undefined);
      await eventually(async () => (await cacheB.get(key)) === undefined);
      cacheA.close();
      cacheB.close();
    });
  }

  it('shares sizes between replicas through redis, forgets them there, and misses (not fails) while redis is down', async function () {
    fleet = fleetOf({ storage: { filesystem: { rootdirectory: dir } }, redis: { addr: redis.addr } });
    const [a, b] = [await fleet.join(), await fleet.join()];
    const config = fleet.config.redis as NonNullable<typeof fleet.config.redis>;
    const [clientA, clientB] = [connectRedis(config, fleet.logger, 'test'), connectRedis(config, fleet.logger, 'test')];
    await sleep(200);
    const [cacheA, cacheB] = [new RedisDescriptorCache(a.coord, clientA), new RedisDescriptorCache(b.coord, clientB)];
    cacheA.set(key, 42);
    await eventually(async () => (await cacheB.get(key)) === 42);
    await cacheA.forget([key]);
    await eventually(async () => (await cacheB.get(key)) === undefined);
    await redis.stop();
    try {
      expect(await cacheB.get('sha256:' + 'cd'.repeat(32))).to.equal(undefined);
      cacheB.set(key, 7);
    } finally {
      await redis.restart();
    }
    cacheA.close();
    cacheB.close();
  });
});
