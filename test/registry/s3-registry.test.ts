// Issue 7: the registry on a real S3 server (s3rver on loopback), driven by real clients and real registry processes.
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { pseudoRandomBytes } from '../helpers/content.js';
import { buildOciImage, skopeo } from '../helpers/images.js';
import { Client, sha256, type ErrorBody } from '../helpers/oci.js';
import { makeTempDir, startS3rver, stopAll, type S3Server } from '../helpers/processes.js';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.js';
import { s3Storage, startS3RegistryProcess } from '../helpers/s3-registry.js';

const MiB = 1024 * 1024;

/** The upload URL a registry answered, as a path, so another replica can take the next request. */
function uploadPath(res: Response): string {
  const location = res.headers.get('location');
  if (location === null) throw new Error(`no Location on ${res.status}`);
  const url = new URL(location, 'http://placeholder');
  return `${url.pathname}${url.search}`;
}

function withDigest(path: string, digest: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}digest=${digest}`;
}

async function patchChunk(base: string, path: string, chunk: Buffer, offset: number, signal?: AbortSignal): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
    body: chunk,
    redirect: 'manual',
    ...(signal && { signal }),
  });
}

async function startUpload(base: string, name: string): Promise<string> {
  const res = await fetch(`${base}/v2/${name}/blobs/uploads/`, { method: 'POST', redirect: 'manual' });
  expect(res.status, await res.clone().text()).to.equal(202);
  return uploadPath(res);
}

async function blobDigest(res: Response): Promise<string> {
  expect(res.status).to.equal(200);
  return sha256(Buffer.from(await res.arrayBuffer()));
}

function vmRssKiB(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((status) => Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0));
}

describe('registry on S3 (s3rver)', function () {
  this.timeout(60_000);
  const dirs: string[] = [];

  after(async () => {
    await stopAll();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function tempDir(name: string): Promise<string> {
    const dir = await makeTempDir(name);
    dirs.push(dir);
    return dir;
  }

  for (const redirect of [true, false]) {
    it(`skopeo pushes a 3-layer image and copies it back with the same digest, blobs ${redirect ? 'redirected (307) to presigned s3rver URLs' : 'served by the registry (200)'}`, async () => {
      const registry: TestRegistry = await startTestRegistry({ storage: 's3', config: { storage: { redirect: { disable: !redirect } } } });
      try {
        const dir = await tempDir('s3-skopeo');
        const image = await buildOciImage(join(dir, 'src'), { tag: 'v1', layers: 3, layerSize: 256 * 1024 });
        const host = new URL(registry.url).host;
        await skopeo(['copy', '--dest-tls-verify=false', image.ref, `docker://${host}/team/app:v1`]);
        await skopeo(['copy', '--src-tls-verify=false', `docker://${host}/team/app:v1`, `oci:${join(dir, 'out')}:v1`]);
        const index = JSON.parse(await readFile(join(dir, 'out', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
        expect(index.manifests.map((m) => m.digest)).to.deep.equal([image.digest]);

        const layer = image.manifest.layers[0];
        const res = await new Client(registry.url).request('GET', `/v2/team/app/blobs/${layer.digest}`);
        if (redirect) {
          expect(res.status).to.equal(307);
          const driver = registry.config.storage.driver;
          if (driver.type !== 's3') throw new Error('expected the s3 driver');
          const location = new URL(res.headers.get('location') ?? '');
          expect(location.host).to.equal(new URL(driver.s3.regionendpoint ?? '').host);
          expect(await blobDigest(await fetch(location))).to.equal(layer.digest);
        } else {
          expect(await blobDigest(res)).to.equal(layer.digest);
        }
      } finally {
        await registry.stop();
      }
    });
  }

  it('two registry processes on one bucket take alternate chunks of one upload (POST A, PATCH B, PATCH A, PUT B) and both serve the blob intact', async () => {
    const s3: S3Server = await startS3rver();
    const dir = await tempDir('s3-replicas');
    const storage = s3Storage(s3, false);
    const [a, b] = await Promise.all([
      startS3RegistryProcess(dir, 'registry-a', storage, 'shared-secret'),
      startS3RegistryProcess(dir, 'registry-b', storage, 'shared-secret'),
    ]);
    try {
      const chunks = [pseudoRandomBytes('replica/0', 6 * MiB), pseudoRandomBytes('replica/1', 5 * MiB + 17), pseudoRandomBytes('replica/2', 1000)];
      const digest = sha256(Buffer.concat(chunks));
      let path = await startUpload(a.url, 'team/shared');
      let offset = 0;
      for (const [i, base] of [b.url, a.url].entries()) {
        const res = await patchChunk(base, path, chunks[i], offset);
        expect(res.status, await res.clone().text()).to.equal(202);
        offset += chunks[i].length;
        expect(res.headers.get('range')).to.equal(`0-${offset - 1}`);
        path = uploadPath(res);
      }
      const put = await fetch(`${b.url}${withDigest(path, digest)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunks[2].length - 1}` },
        body: chunks[2],
      });
      expect(put.status, await put.clone().text()).to.equal(201);
      expect(put.headers.get('docker-content-digest')).to.equal(digest);
      for (const base of [a.url, b.url]) expect(await blobDigest(await fetch(`${base}/v2/team/shared/blobs/${digest}`))).to.equal(digest);
    } finally {
      await Promise.all([a.proc.stop(), b.proc.stop()]);
      await s3.stop();
    }
  });

  it('a 100 MiB blob pushed in 10 MiB chunks to a registry process on S3 keeps its RSS under 300 MiB', async () => {
    const s3: S3Server = await startS3rver();
    const dir = await tempDir('s3-rss');
    const registry = await startS3RegistryProcess(dir, 'registry-rss', s3Storage(s3, false), 'rss-secret');
    let peakKiB = await vmRssKiB(registry.proc.pid);
    const startKiB = peakKiB;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakKiB = Math.max(peakKiB, await vmRssKiB(registry.proc.pid));
        await sleep(100);
      }
    })();
    try {
      const hash = createHash('sha256');
      let path = await startUpload(registry.url, 'team/big');
      let offset = 0;
      for (let i = 0; i < 10; i++) {
        const chunk = pseudoRandomBytes(`big/${i}`, 10 * MiB);
        hash.update(chunk);
        const res = await patchChunk(registry.url, path, chunk, offset);
        expect(res.status, await res.clone().text()).to.equal(202);
        offset += chunk.length;
        path = uploadPath(res);
      }
      const digest = `sha256:${hash.digest('hex')}`;
      const put = await fetch(`${registry.url}${withDigest(path, digest)}`, { method: 'PUT' });
      expect(put.status, await put.clone().text()).to.equal(201);
      const head = await fetch(`${registry.url}/v2/team/big/blobs/${digest}`, { method: 'HEAD' });
      expect(head.headers.get('content-length')).to.equal(String(100 * MiB));
    } finally {
      sampling = false;
      await sampler;
      await registry.proc.stop();
      await s3.stop();
    }
    console.log(`      registry RSS: ${(startKiB / 1024).toFixed(1)} MiB at start, peak ${(peakKiB / 1024).toFixed(1)} MiB during a 100 MiB push in 10 MiB chunks`);
    expect(peakKiB).to.be.below(300 * 1024);
  });

  it('the S3 server stopping mid-upload turns the next PATCH into a 5xx with an OCI error body; after it restarts the blob is unknown and the registry serves pushes again', async () => {
    const dir = await tempDir('s3-outage');
    const dataDir = join(dir, 's3-data');
    let s3 = await startS3rver({ dataDir });
    const registry = await startS3RegistryProcess(dir, 'registry-outage', s3Storage(s3, false), 'outage-secret');
    try {
      const chunks = [pseudoRandomBytes('outage/0', 6 * MiB), pseudoRandomBytes('outage/1', 6 * MiB)];
      const digest = sha256(Buffer.concat(chunks));
      let path = await startUpload(registry.url, 'team/outage');
      const first = await patchChunk(registry.url, path, chunks[0], 0);
      expect(first.status, await first.clone().text()).to.equal(202);
      path = uploadPath(first);

      const port = s3.port;
      await s3.stop();
      const failed = await patchChunk(registry.url, path, chunks[1], chunks[0].length, AbortSignal.timeout(30_000));
      const text = await failed.text();
      expect(failed.status, text).to.equal(503);
      const body = JSON.parse(text) as ErrorBody;
      expect(body.errors[0].code).to.equal('UNAVAILABLE');
      expect(body.errors[0].message).to.contain('storage (s3) is failing');

      s3 = await startS3rver({ dataDir, port });
      const client = new Client(registry.url);
      const head = await client.request('HEAD', `/v2/team/outage/blobs/${digest}`);
      expect(head.status).to.equal(404);
      expect((await client.request('GET', '/v2/')).status).to.equal(200);
      const pushed = await client.pushImage('team/outage', 'after', ['layer pushed after the outage']);
      const manifest = await client.request('GET', `/v2/team/outage/manifests/after`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      expect(manifest.headers.get('docker-content-digest')).to.equal(pushed.digest);
    } finally {
      await registry.proc.stop();
      await s3.stop();
    }
  });
});
