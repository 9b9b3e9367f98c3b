import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readdir, readlink, rm } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { Client, errorOf, sha256 } from '../../helpers/oci.js';

const MiB = 1 << 20;

/** Targets of this process's open file descriptors (the registry under test runs in it). */
async function openFiles(): Promise<string[]> {
  const targets = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter(Boolean);
}

describe('api: blobs', () => {
  let registry: TestRegistry;
  let client: Client;
  const content = Buffer.from('0123456789abcdefghij');
  let digest: string;
  before(async () => {
    registry = await startTestRegistry();
    client = new Client(registry.url);
    digest = await client.pushBlob('blobs/repo', content);
  });
  after(() => registry.stop());

  it('GET streams the blob with Content-Length, Docker-Content-Digest, ETag and Accept-Ranges', async () => {
    const res = await client.request('GET', `/v2/blobs/repo/blobs/${digest}`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-length')).to.equal(String(content.length));
    expect(res.headers.get('docker-content-digest')).to.equal(digest);
    expect(res.headers.get('etag')).to.equal(`"${digest}"`);
    expect(res.headers.get('accept-ranges')).to.equal('bytes');
    expect(Buffer.from(await res.arrayBuffer())).to.deep.equal(content);
  });

  it('HEAD gives the same headers and no body', async () => {
    const res = await client.request('HEAD', `/v2/blobs/repo/blobs/${digest}`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-length')).to.equal(String(content.length));
    expect(await res.text()).to.equal('');
  });

  it('Range requests answer 206 with Content-Range; suffix and open ranges work', async () => {
    const cases: [string, string, string][] = [
      ['bytes=0-3', '0123', 'bytes 0-3/20'],
      ['bytes=10-', 'abcdefghij', 'bytes 10-19/20'],
      ['bytes=-5', 'fghij', 'bytes 15-19/20'],
      ['bytes=5-100', '56789abcdefghij', 'bytes 5-19/20'],
    ];
    for (const [range, body, contentRange] of cases) {
      const res = await client.request('GET', `/v2/blobs/repo/blobs/${digest}`, { headers: { range } });
      expect(res.status, range).to.equal(206);
      expect(res.headers.get('content-range'), range).to.equal(contentRange);
      expect(await res.text(), range).to.equal(body);
    }
  });

  it('an unsatisfiable Range is 416 with Content-Range bytes */size', async () => {
    for (const range of ['bytes=20-', 'bytes=5-2', 'items=0-1', 'bytes=-0']) {
      const res = await client.request('GET', `/v2/blobs/repo/blobs/${digest}`, { headers: { range } });
      expect(res.status, range).to.equal(416);
      expect(res.headers.get('content-range'), range).to.equal('bytes */20');
    }
  });

  it('If-None-Match with the ETag answers 304', async () => {
    const res = await client.request('GET', `/v2/blobs/repo/blobs/${digest}`, { headers: { 'if-none-match': `"${digest}"` } });
    expect(res.status).to.equal(304);
  });

  it('a blob is served only from repositories that link it (404 BLOB_UNKNOWN elsewhere)', async () => {
    const res = await client.request('GET', `/v2/other/repo/blobs/${digest}`);
    expect(res.status).to.equal(404);
    expect((await errorOf(res)).errors[0]?.code).to.equal('BLOB_UNKNOWN');
  });

  it('a malformed digest is 400 DIGEST_INVALID', async () => {
    const res = await client.request('GET', '/v2/blobs/repo/blobs/sha256:1234');
    expect(res.status).to.equal(400);
    expect((await errorOf(res)).errors[0]?.code).to.equal('DIGEST_INVALID');
  });

  it('DELETE unlinks the blob from the repository (202), then it is 404 there', async () => {
    const own = await client.pushBlob('blobs/del', 'to delete');
    const res = await client.request('DELETE', `/v2/blobs/del/blobs/${own}`);
    expect(res.status).to.equal(202);
    expect((await client.request('HEAD', `/v2/blobs/del/blobs/${own}`)).status).to.equal(404);
    expect((await client.request('DELETE', `/v2/blobs/del/blobs/${own}`)).status).to.equal(404);
  });

  it('DELETE is 405 UNSUPPORTED when storage.delete.enabled is false', async () => {
    const locked = await startTestRegistry({ config: { storage: { delete: { enabled: false } } } });
    try {
      const c = new Client(locked.url);
      const d = await c.pushBlob('keep', 'kept');
      const res = await c.request('DELETE', `/v2/keep/blobs/${d}`);
      expect(res.status).to.equal(405);
      const body = await errorOf(res);
      expect(body.errors[0]?.code).to.equal('UNSUPPORTED');
      expect(body.errors[0]?.message).to.contain('storage.delete.enabled');
      expect((await c.request('HEAD', `/v2/keep/blobs/${d}`)).status).to.equal(200);
    } finally {
      await locked.stop();
    }
  });

  it('a blob of several read buffers comes back whole and in any range across their boundaries', async () => {
    const big = randomBytes(5 * MiB + 123);
    const bigDigest = await client.pushBlob('blobs/big', big);
    const whole = await client.request('GET', `/v2/blobs/big/blobs/${bigDigest}`);
    expect(whole.status).to.equal(200);
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).to.equal(bigDigest);
    for (const [start, end] of [[2 * MiB - 1, 2 * MiB], [MiB, 4 * MiB + 7], [big.length - 3, big.length - 1]] as const) {
      const res = await client.request('GET', `/v2/blobs/big/blobs/${bigDigest}`, { headers: { range: `bytes=${start}-${end}` } });
      expect(res.status).to.equal(206);
      expect(Buffer.from(await res.arrayBuffer()).equals(big.subarray(start, end + 1)), `${start}-${end}`).to.equal(true);
    }
  });

  it('an empty blob can be pushed and pulled', async () => {
    const empty = await client.pushBlob('blobs/empty', '');
    expect(empty).to.equal(sha256(''));
    const res = await client.request('GET', `/v2/blobs/empty/blobs/${empty}`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-length')).to.equal('0');
  });

  describe('on local disk', () => {
    let disk: TestRegistry;
    let diskClient: Client;
    before(async () => {
      disk = await startTestRegistry({ storage: 'filesystem' });
      diskClient = new Client(disk.url);
    });
    after(() => disk.stop());

    it('a client that hangs up mid-download leaves no open file behind and the blob still serves', async () => {
      const big = randomBytes(32 * MiB);
      const bigDigest = await diskClient.pushBlob('disk/abandoned', big);
      const before = await openFiles();
      await new Promise<void>((resolve, reject) => {
        const req = httpGet(`${disk.url}/v2/disk/abandoned/blobs/${bigDigest}`, { agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      });
      // The registry notices the closed socket asynchronously; give it a moment, then count its descriptors again.
      let after = await openFiles();
      for (let i = 0; i < 50 && after.length > before.length; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        after = await openFiles();
      }
      expect(after.filter((target) => target.includes('/blobs/sha256/')), 'blob files still open').to.deep.equal([]);
      const res = await diskClient.request('GET', `/v2/disk/abandoned/blobs/${bigDigest}`);
      expect(sha256(Buffer.from(await res.arrayBuffer()))).to.equal(bigDigest);
    });

    it('a blob whose file vanished after it was stat\'ed is 404 BLOB_UNKNOWN, without the blob\'s caching headers', async () => {
      const gone = await diskClient.pushBlob('disk/vanished', 'soon gone');
      expect((await diskClient.request('GET', `/v2/disk/vanished/blobs/${gone}`)).status).to.equal(200);
      const hex = gone.slice('sha256:'.length);
      await rm(join(disk.rootDir ?? '', `docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`));
      const res = await diskClient.request('GET', `/v2/disk/vanished/blobs/${gone}`);
      expect(res.status).to.equal(404);
      expect((await errorOf(res)).errors[0]?.code).to.equal('BLOB_UNKNOWN');
      expect(res.headers.get('cache-control')).to.equal(null);
      expect(res.headers.get('etag')).to.equal(null);
    });
  });
});
