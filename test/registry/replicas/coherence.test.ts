// Two replicas (`registry serve` processes sharing one storage and http.secret), their caches warmed through both:
// what is deleted through A, or swept by `registry garbage-collect`, is gone through B at once, without a restart,
// and a re-push through B after the collection uploads what is missing instead of trusting a stale "exists"
// (distribution #4702). Run with Redis (blobdescriptor: redis) and without it (inmemory), on disk and on S3.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { distributionGarbageCollect, makeTempDir, startS3rver, stopAll, writeDistributionConfig, type S3Server } from '../../helpers/processes.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { errorOf, OCI_MANIFEST } from '../../helpers/oci.js';
import { runRegistry } from '../../helpers/registry-cli.js';
import type { RegistryProcess } from '../../helpers/registry-serve.js';
import { s3Storage } from '../../helpers/s3-registry.js';
import { blobsOf, expectGone, expectPulls, imageOf, push } from './images.js';
import { BLOB_GONE_TOPIC } from '../../../registry/src/storage/descriptor-cache.js';
import { fleetOf } from '../coord/fleet.js';
import { sharedStorage, startReplica, startReplicas, type ReplicaSetup } from './replicas.js';

interface Variant {
  label: string;
  redis: boolean;
  s3: boolean;
}

const VARIANTS: Variant[] = [
  { label: 'on disk, with Redis', redis: true, s3: false },
  { label: 'on disk, without Redis', redis: false, s3: false },
  { label: 'on S3, without Redis', redis: false, s3: true },
];

async function eventually(check: () => boolean, what: () => string): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i === 100) throw new Error(`not within 5 s: ${what()}`);
    await sleep(50);
  }
}

/** The swept digests Redis still holds a size for. */
async function cachedSizes(redis: RedisServer, digests: string[]): Promise<string[]> {
  const client = new Redis(redis.port, '127.0.0.1');
  try {
    const sizes = await client.mget(...digests.map((d) => `registry:blobs:${d}`));
    return digests.filter((_, i) => sizes[i] !== null);
  } finally {
    client.disconnect();
  }
}

for (const variant of VARIANTS) {
  describe(`replicas: coherence across two replicas ${variant.label}`, function () {
    this.timeout(120_000);
    let tmp: string;
    let redis: RedisServer | undefined;
    let s3: S3Server | undefined;
    let a: RegistryProcess;
    let b: RegistryProcess;
    let setup: ReplicaSetup;

    before(async () => {
      tmp = await makeTempDir('replicas-coherence');
      if (variant.redis) redis = await startRedis();
      if (variant.s3) s3 = await startS3rver();
      setup = {
        storage: s3 ? { s3: s3Storage(s3, false).s3 } : 'filesystem',
        blobdescriptor: redis ? 'redis' : 'inmemory',
        ...(redis && { redis: redis.addr }),
      };
      [a, b] = await startReplicas(tmp, setup);
    });
    after(async () => {
      await a?.proc.stop();
      await b?.proc.stop();
      await redis?.stop();
      await s3?.stop();
      await stopAll();
      await rm(tmp, { recursive: true, force: true });
    });

    it('a manifest and a blob deleted through A answer 404 through B at once', async () => {
      const image = imageOf('coherence/deleted', 'v1');
      await push(a.url, image);
      for (const r of [a, b]) await expectPulls(r.url, image);

      expect((await fetch(`${a.url}/v2/${image.name}/manifests/${image.digest}`, { method: 'DELETE' })).status).to.equal(202);
      expect((await fetch(`${a.url}/v2/${image.name}/blobs/${image.layers[0].digest}`, { method: 'DELETE' })).status).to.equal(202);
      for (const r of [b, a]) {
        for (const reference of [image.digest, image.tag]) {
          for (const method of ['HEAD', 'GET']) {
            expect((await fetch(`${r.url}/v2/${image.name}/manifests/${reference}`, { method })).status, `${method} ${reference} via ${r.url}`).to.equal(404);
          }
        }
        for (const method of ['HEAD', 'GET']) {
          expect((await fetch(`${r.url}/v2/${image.name}/blobs/${image.layers[0].digest}`, { method })).status, `${method} via ${r.url}`).to.equal(404);
        }
      }
    });

    it('after registry garbage-collect swept a deleted image and told the fleet, neither replica serves it; a re-push through B uploads every blob and pulls through both', async () => {
      const image = imageOf('coherence/collected', 'v1');
      await push(a.url, image);
      for (const r of [a, b]) await expectPulls(r.url, image);
      expect((await fetch(`${a.url}/v2/${image.name}/manifests/${image.digest}`, { method: 'DELETE' })).status).to.equal(202);

      // A process of the fleet listening on blob-gone, as every replica's descriptor cache does.
      const fleet = fleetOf({ storage: sharedStorage(tmp, setup), ...(redis && { redis: { addr: redis.addr } }) });
      const heard = new Set<string>();
      (await fleet.join()).coord.subscribe(BLOB_GONE_TOPIC, { keys: (digests) => digests.forEach((d) => heard.add(d)), reset: () => undefined });
      const swept = [image.digest, ...blobsOf(image).map((blob) => blob.digest)];
      try {
        const gc = await runRegistry(['garbage-collect', '--min-age', '0s', a.configPath]);
        expect(gc.code, gc.stderr).to.equal(0);
        for (const digest of swept) expect(gc.stdout).to.include(`deleting blob ${digest}`);
        await eventually(() => swept.every((d) => heard.has(d)), () => `blob-gone for ${swept.filter((d) => !heard.has(d)).join(', ')}`);
      } finally {
        await fleet.close();
      }
      if (redis) expect(await cachedSizes(redis, swept)).to.deep.equal([]);
      for (const r of [b, a]) await expectGone(r.url, image, 'coherence/elsewhere');

      expect(await push(b.url, image)).to.deep.equal({ skipped: [] });
      for (const r of [a, b]) await expectPulls(r.url, image);
      // Replicas keep small manifests in memory: one started now proves the storage holds the whole image again.
      const fresh = await startReplica(tmp, 'replica-c', setup);
      try {
        await expectPulls(fresh.url, image);
      } finally {
        await fresh.proc.stop();
      }
    });

    if (!variant.s3) {
      // distribution 2.8's S3 driver cannot write to s3rver (FIELD-NOTES), so its collector runs on disk only.
      it("after distribution 2.8's garbage-collect (which leaves _layers links behind) swept an image, no answer says its blobs exist, and a re-push through B uploads them", async () => {
        const image = imageOf('coherence/distribution', 'v1', 3);
        await push(a.url, image);
        for (const r of [a, b]) await expectPulls(r.url, image);
        expect((await fetch(`${a.url}/v2/${image.name}/manifests/${image.digest}`, { method: 'DELETE' })).status).to.equal(202);
        const configDir = await makeTempDir('distribution-gc');
        try {
          await distributionGarbageCollect(await writeDistributionConfig(configDir, { rootDir: join(tmp, 'data') }));
        } finally {
          await rm(configDir, { recursive: true, force: true });
        }

        // Each check asks about blobs no earlier one did: a replica that finds a blob gone drops it from every cache.
        const [l0, l1, l2] = image.layers;
        const mount = await fetch(`${b.url}/v2/coherence/elsewhere/blobs/uploads/?mount=${l2.digest}&from=${image.name}`, { method: 'POST' });
        expect(mount.status, 'mount').to.equal(202);
        expect((await fetch(`${b.url}/v2/${image.name}/blobs/${l1.digest}`, { method: 'HEAD' })).status, 'HEAD').to.equal(404);
        const partial = JSON.stringify({ ...(JSON.parse(image.manifest) as object), layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l0.digest, size: l0.content.length }] });
        const early = await fetch(`${b.url}/v2/${image.name}/manifests/partial`, { method: 'PUT', body: partial, headers: { 'content-type': OCI_MANIFEST } });
        expect(early.status, 'manifest PUT').to.equal(400);
        expect((await errorOf(early)).errors[0].detail).to.deep.equal({ missing: [image.config.digest, l0.digest].sort() });
        for (const r of [b, a]) await expectGone(r.url, image, 'coherence/elsewhere');

        expect(await push(b.url, image)).to.deep.equal({ skipped: [] });
        for (const r of [a, b]) await expectPulls(r.url, image);
      });
    }
  });
}
