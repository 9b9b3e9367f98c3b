// storage.cache.blobdescriptor: redis, with Redis killed (or frozen) in the middle of a pull: every request still
// gets the right answer from storage, and once Redis is back the registry fills it again. The pulls go to a replica
// started with nothing in its own memory, so every blob size it needs is asked of Redis first.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { pseudoRandomBytes } from '../../helpers/content.js';
import { Client, OCI_MANIFEST, sha256 } from '../../helpers/oci.js';
import { stopAll } from '../../helpers/processes.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';

const IMAGES = 12;
const BIG = 24 * 1024 * 1024;

interface Pushed {
  name: string;
  digest: string;
  body: string;
  blobs: { digest: string; content: Buffer }[];
}

/** Runs the checks with a few requests in flight at a time, as a pulling node does. */
async function inParallel(checks: (() => Promise<void>)[], width = 16): Promise<void> {
  const queue = [...checks];
  await Promise.all(Array.from({ length: width }, async () => {
    for (let check = queue.shift(); check; check = queue.shift()) await check();
  }));
}

/** Every way a client reads an image, each answer checked against what was pushed. */
function pullChecks(base: string, images: Pushed[]): (() => Promise<void>)[] {
  const checks: (() => Promise<void>)[] = [];
  for (const image of images) {
    for (const blob of image.blobs) {
      const url = `${base}/v2/${image.name}/blobs/${blob.digest}`;
      checks.push(async () => {
        const head = await fetch(url, { method: 'HEAD' });
        expect(head.status, `HEAD ${url}`).to.equal(200);
        expect(head.headers.get('content-length'), `HEAD ${url}`).to.equal(String(blob.content.length));
      });
      checks.push(async () => {
        const res = await fetch(url);
        expect(res.status, `GET ${url}`).to.equal(200);
        expect(sha256(Buffer.from(await res.arrayBuffer())), `GET ${url}`).to.equal(blob.digest);
      });
    }
    for (const reference of ['v1', image.digest]) {
      const url = `${base}/v2/${image.name}/manifests/${reference}`;
      checks.push(async () => {
        const res = await fetch(url, { headers: { accept: OCI_MANIFEST } });
        expect(res.status, `GET ${url}`).to.equal(200);
        expect(await res.text(), `GET ${url}`).to.equal(image.body);
      });
    }
    const missing = `${base}/v2/${image.name}/blobs/${sha256(`never pushed to ${image.name}`)}`;
    checks.push(async () => {
      expect((await fetch(missing, { method: 'HEAD' })).status, `HEAD ${missing}`).to.equal(404);
    });
  }
  return checks;
}

describe('replicas: Redis killed in the middle of a pull (storage.cache.blobdescriptor: redis)', function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let origin: TestRegistry;
  const replicas: TestRegistry[] = [];
  let client: Client;
  let images: Pushed[];
  let big: { digest: string; content: Buffer };

  const cachedKeys = async () => {
    const admin = new Redis(redis.port, '127.0.0.1', { lazyConnect: true });
    try {
      await admin.connect();
      return await admin.keys('registry:blobs:*');
    } finally {
      admin.disconnect();
    }
  };

  // A failed check can leave the big pull open: the drain on stop must not wait for it.
  const config = () => ({ storage: { cache: { blobdescriptor: 'redis' } }, redis: { addr: redis.addr }, http: { draintimeout: '1s' } });

  /** Another replica on the same directory and Redis, its own memory empty. */
  async function replica(): Promise<TestRegistry> {
    const started = await startTestRegistry({ rootDir: origin.rootDir, config: config() });
    replicas.push(started);
    return started;
  }

  /** GET of the big blob, read up to its first megabyte and left waiting there. */
  async function startBigPull(registry: TestRegistry): Promise<{ finish(): Promise<string> }> {
    const res = await fetch(`${registry.url}/v2/outage/big/blobs/${big.digest}`);
    expect(res.status).to.equal(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    let received = 0;
    while (received < 1024 * 1024) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
    }
    return {
      async finish() {
        for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
        return sha256(Buffer.concat(chunks));
      },
    };
  }

  before(async () => {
    redis = await startRedis();
    origin = await startTestRegistry({ storage: 'filesystem', config: config() });
    client = new Client(origin.url);
    big = { content: pseudoRandomBytes('outage-big', BIG), digest: '' };
    big.digest = await client.pushBlob('outage/big', big.content);
    images = [];
    for (let i = 0; i < IMAGES; i++) {
      const name = `outage/app${i}`;
      const layer = pseudoRandomBytes(`outage-${i}`, 64 * 1024 + i);
      const pushed = await client.pushImage(name, 'v1', [layer]);
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag: 'v1' }));
      images.push({ name, digest: pushed.digest, body: pushed.body, blobs: [{ digest: sha256(config), content: config }, { digest: sha256(layer), content: layer }] });
    }
  });
  after(async () => {
    for (const r of replicas) await r.stop();
    await origin?.stop();
    await redis?.stop();
    await stopAll();
  });

  it('answers every blob and manifest request correctly when Redis is killed in the middle of them, and fills Redis again once it is back', async () => {
    await inParallel(pullChecks(origin.url, images));
    expect(await cachedKeys()).to.include(`registry:blobs:${images[0].blobs[1].digest}`);
    // Both connected to Redis, neither holding a size of its own: one is pulling when Redis dies, one only after.
    const [during, after] = [await replica(), await replica()];

    const pull = await startBigPull(during);
    let answered = 0;
    let killed: Promise<unknown> | undefined;
    const kill = () => {
      process.kill(redis.process.pid, 'SIGKILL');
      return redis.process.exited;
    };
    await inParallel(
      pullChecks(during.url, images).map((check) => async () => {
        await check();
        if (++answered === 10) killed = kill();
      }),
    );
    await killed;
    await inParallel([...pullChecks(after.url, images), ...pullChecks(origin.url, images)]);
    const late = await new Client(after.url).pushImage('outage/late', 'v1', ['pushed while redis was dead']);
    expect((await fetch(`${during.url}/v2/outage/late/manifests/${late.digest}`, { method: 'HEAD' })).status).to.equal(200);
    expect(await pull.finish()).to.equal(big.digest);

    await redis.stop();
    await redis.restart();
    const probe = images[0].blobs[1].digest;
    for (let i = 0; !(await cachedKeys()).includes(`registry:blobs:${probe}`); i++) {
      if (i === 100) throw new Error('the registry never wrote to the restarted Redis');
      expect((await fetch(`${after.url}/v2/${images[0].name}/blobs/${probe}`)).status).to.equal(200);
      await sleep(100);
    }
    await inParallel(pullChecks(during.url, images));
  });

  it('answers every request correctly while Redis is frozen (SIGSTOP) and its commands time out', async () => {
    const frozen = await replica();
    const pull = await startBigPull(frozen);
    process.kill(redis.process.pid, 'SIGSTOP');
    try {
      await inParallel(pullChecks(frozen.url, images));
      expect(await pull.finish()).to.equal(big.digest);
    } finally {
      process.kill(redis.process.pid, 'SIGCONT');
    }
  });
});
