// Issue 16's fetch guarantees, counted where they happen: concurrent cold pulls across two replicas cause one upstream
// GET; the first client gets bytes long before the upstream sent the blob (measured in bytes passed on, not time);
// a blob whose bytes do not match its digest is never stored, and no client receives it whole.
import { expect } from 'chai';
import { access, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pseudoRandomBytes } from '../../helpers/content.js';
import { Client, sha256 } from '../../helpers/oci.js';
import type { TestRegistry } from '../../helpers/registry.js';
import { makeTempDir } from '../../helpers/spawn.js';
import { pushBlob } from '../gc/fixtures.js';
import { getBlob, type Received } from './blob-client.js';
import { startMirror, startUpstream, storedBlob, upstreamGets, type Upstream } from './fixtures.js';

const MiB = 1024 * 1024;

const exists = (path: string) => access(path).then(() => true, () => false);

describe('proxy: one upstream fetch per blob, streamed to the first client, verified before it is stored', function () {
  this.timeout(180_000);
  let upstream: Upstream;
  let upstreamClient: Client;
  const mirrors: TestRegistry[] = [];

  const startMirrorOn = async (rootDir: string) => {
    const mirror = await startMirror({ upstreams: [{ namespace: 'docker.io', remoteurl: upstream.proxy.url }] }, { rootDir });
    mirrors.push(mirror);
    return mirror;
  };

  before(async () => {
    upstream = await startUpstream();
    upstreamClient = new Client(upstream.distribution.url);
  });
  afterEach(async () => {
    upstream.proxy.throttle(undefined);
    await Promise.all(mirrors.splice(0).map((m) => m.stop()));
  });
  after(() => upstream?.stop());

  it('8 concurrent cold pulls of a 64 MiB blob, 4 on each of two replicas, cause exactly one upstream GET, and all 8 get the blob', async () => {
    const content = pseudoRandomBytes('proxy-64', 64 * MiB);
    const digest = await pushBlob(upstreamClient, 'library/big', content);
    const dir = await makeTempDir('mirror-replicas');
    try {
      const [a, b] = [await startMirrorOn(dir), await startMirrorOn(dir)];
      // Slow enough that every request arrives while the fetch is running.
      upstream.proxy.throttle(64 * MiB);
      const pulls = [a, b, a, b, a, b, a, b].map((m) => getBlob(`${m.url}/v2/docker.io/library/big/blobs/${digest}`));
      const received = await Promise.all(pulls);
      expect(upstreamGets(upstream.proxy, 'blobs', digest)).to.equal(1);
      for (const r of received) {
        expect(r.status).to.equal(200);
        expect(r.complete).to.equal(true);
        expect(r.digest).to.equal(digest);
      }
    } finally {
      await Promise.all(mirrors.splice(0).map((m) => m.stop()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the first client gets its first byte after a small part of the blob left the upstream; a second one waits for the commit', async () => {
    const size = 16 * MiB;
    const digest = await pushBlob(upstreamClient, 'library/slow', pseudoRandomBytes('proxy-slow', size));
    const mirror = await startMirrorOn(await makeTempDir('mirror-slow'));
    upstream.proxy.throttle(4 * MiB);
    const path = new RegExp(`/blobs/${digest}`);
    let upstreamAtFirstByte = -1;
    let upstreamAtFollowerByte = -1;
    let follower: Promise<Received> | undefined;
    const first = getBlob(`${mirror.url}/v2/docker.io/library/slow/blobs/${digest}`, () => {
      upstreamAtFirstByte = upstream.proxy.bytesSent(path);
      follower = getBlob(`${mirror.url}/v2/docker.io/library/slow/blobs/${digest}`, () => {
        upstreamAtFollowerByte = upstream.proxy.bytesSent(path);
      });
    });
    const leader = await first;
    const second = await (follower as Promise<Received>);
    expect(leader.digest).to.equal(digest);
    expect(upstreamAtFirstByte).to.be.greaterThan(0);
    expect(upstreamAtFirstByte, 'upstream bytes sent when the first client got its first byte').to.be.below(size / 16);
    expect(second.digest).to.equal(digest);
    expect(upstreamAtFollowerByte, 'a follower reads the committed blob').to.equal(size);
    expect(upstreamGets(upstream.proxy, 'blobs', digest)).to.equal(1);
    expect(leader.headers['x-registry-mirror']).to.equal('miss');
    await rm(mirror.rootDir as string, { recursive: true, force: true });
  });

  it('a blob whose upstream bytes do not match its digest is neither stored nor received whole, however often it is asked for', async () => {
    const size = 4 * MiB;
    const content = pseudoRandomBytes('proxy-corrupt', size);
    const digest = await pushBlob(upstreamClient, 'library/corrupt', content);
    // Flip one byte near the end, where it lies in distribution's storage: it serves the file as it is.
    const file = await open(storedBlob(upstream.rootDir, digest), 'r+');
    await file.write(Buffer.from([content[size - 10] ^ 0xff]), 0, 1, size - 10);
    await file.close();
    const mirror = await startMirrorOn(await makeTempDir('mirror-corrupt'));
    for (let attempt = 0; attempt < 2; attempt++) {
      const received = await getBlob(`${mirror.url}/v2/docker.io/library/corrupt/blobs/${digest}`);
      expect(received.status).to.equal(200);
      expect(received.complete, 'the connection is cut').to.equal(false);
      expect(received.bytes).to.be.below(size);
    }
    expect(await exists(storedBlob(mirror.rootDir as string, digest))).to.equal(false);
    expect(await exists(join(mirror.rootDir as string, 'docker/registry/v2/repositories/docker.io/library/corrupt/_layers'))).to.equal(false);
    const uploads = join(mirror.rootDir as string, 'docker/registry/v2/repositories/docker.io/library/corrupt/_uploads');
    expect(await readdir(uploads).catch(() => [])).to.deep.equal([]);
    expect(mirror.logs.some((line) => line.msg === 'mirror fetch failed mid-response; connection cut')).to.equal(true);
    expect(sha256(content)).to.equal(digest);
    await rm(mirror.rootDir as string, { recursive: true, force: true });
  });
});
