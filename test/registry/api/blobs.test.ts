import { expect } from 'chai';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { Client, errorOf, sha256 } from '../../helpers/oci.js';

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

  it('an empty blob can be pushed and pulled', async () => {
    const empty = await client.pushBlob('blobs/empty', '');
    expect(empty).to.equal(sha256(''));
    const res = await client.request('GET', `/v2/blobs/empty/blobs/${empty}`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-length')).to.equal('0');
  });
});
