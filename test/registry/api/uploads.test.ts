import { expect } from 'chai';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { Client, errorOf, sha256 } from '../../helpers/oci.js';

describe('api: blob uploads', () => {
  let registry: TestRegistry;
  let client: Client;
  before(async () => {
    registry = await startTestRegistry();
    client = new Client(registry.url);
  });
  after(() => registry.stop());

  async function start(name: string): Promise<string> {
    const res = await client.request('POST', `/v2/${name}/blobs/uploads/`);
    expect(res.status).to.equal(202);
    expect(res.headers.get('range')).to.equal('0-0');
    expect(res.headers.get('docker-upload-uuid')).to.match(/^[0-9a-f-]{36}$/);
    const location = res.headers.get('location') as string;
    expect(location).to.match(new RegExp(`/v2/${name}/blobs/uploads/`));
    return new URL(location, registry.url).pathname;
  }

  async function patch(path: string, body: string, range?: string): Promise<Response> {
    return client.request('PATCH', path, {
      headers: { 'content-type': 'application/octet-stream', ...(range && { 'content-range': range }) },
      body,
    });
  }

  it('POST ?digest= stores a blob in one request: 201, Location, Docker-Content-Digest', async () => {
    const digest = sha256('monolithic');
    const res = await client.request('POST', `/v2/mono/blobs/uploads/?digest=${digest}`, { body: 'monolithic' });
    expect(res.status).to.equal(201);
    expect(res.headers.get('docker-content-digest')).to.equal(digest);
    expect(res.headers.get('location')).to.match(new RegExp(`/v2/mono/blobs/${digest}$`));
    const get = await client.request('GET', `/v2/mono/blobs/${digest}`);
    expect(await get.text()).to.equal('monolithic');
  });

  it('POST, PATCH chunks in order with Content-Range, then PUT ?digest= completes the blob', async () => {
    const path = await start('chunked');
    let res = await patch(path, 'hello ', '0-5');
    expect(res.status).to.equal(202);
    expect(res.headers.get('range')).to.equal('0-5');
    res = await patch(new URL(res.headers.get('location') as string).pathname, 'world', '6-10');
    expect(res.headers.get('range')).to.equal('0-10');
    const digest = sha256('hello world');
    res = await client.request('PUT', `${path}?digest=${digest}`);
    expect(res.status).to.equal(201);
    expect(res.headers.get('docker-content-digest')).to.equal(digest);
    expect(await (await client.request('GET', `/v2/chunked/blobs/${digest}`)).text()).to.equal('hello world');
  });

  it('PUT with the last chunk in its body completes the upload', async () => {
    const path = await start('lastchunk');
    await patch(path, 'first-');
    const digest = sha256('first-last');
    const res = await client.request('PUT', `${path}?digest=${digest}`, { headers: { 'content-type': 'application/octet-stream' }, body: 'last' });
    expect(res.status).to.equal(201);
    expect(await (await client.request('GET', `/v2/lastchunk/blobs/${digest}`)).text()).to.equal('first-last');
  });

  it('an out-of-order chunk is 416 and the upload keeps its bytes; GET then says 204 with Range and Location', async () => {
    const path = await start('ooo');
    await patch(path, 'abc', '0-2');
    const res = await patch(path, 'xyz', '10-12');
    expect(res.status).to.equal(416);
    expect((await errorOf(res)).errors[0]?.code).to.equal('RANGE_INVALID');
    expect(res.headers.get('range')).to.equal('0-2');
    const status = await client.request('GET', path);
    expect(status.status).to.equal(204);
    expect(status.headers.get('range')).to.equal('0-2');
    expect(status.headers.get('location')).to.contain(path);
    const digest = sha256('abcdef');
    await patch(path, 'def', '3-5');
    expect((await client.request('PUT', `${path}?digest=${digest}`)).status).to.equal(201);
  });

  it('a retried chunk (same range again) is 416 and does not duplicate bytes', async () => {
    const path = await start('retry');
    expect((await patch(path, 'abc', '0-2')).status).to.equal(202);
    expect((await patch(path, 'abc', '0-2')).status).to.equal(416);
    expect((await client.request('GET', path)).headers.get('range')).to.equal('0-2');
  });

  it('a Content-Range that disagrees with Content-Length is 416', async () => {
    const path = await start('badrange');
    const res = await patch(path, 'abcd', '0-9');
    expect(res.status).to.equal(416);
  });

  it('a malformed Content-Range is 416 RANGE_INVALID, not a 500', async () => {
    const path = await start('garbagerange');
    for (const range of ['abc', '5-2', '-1-3', 'bytes=0-', '0-99999999999999999999']) {
      const res = await patch(path, 'x', range);
      expect(res.status, range).to.equal(416);
    }
  });

  it('a digest mismatch is 400 DIGEST_INVALID, discards the upload and stores no blob', async () => {
    const path = await start('mismatch');
    await patch(path, 'actual content');
    const claimed = sha256('other content');
    const res = await client.request('PUT', `${path}?digest=${claimed}`);
    expect(res.status).to.equal(400);
    expect((await errorOf(res)).errors[0]?.code).to.equal('DIGEST_INVALID');
    expect((await client.request('HEAD', `/v2/mismatch/blobs/${claimed}`)).status).to.equal(404);
    expect((await client.request('HEAD', `/v2/mismatch/blobs/${sha256('actual content')}`)).status).to.equal(404);
    expect((await client.request('GET', path)).status).to.equal(404);
  });

  it('PUT without a digest, or with a malformed one, is 400 DIGEST_INVALID', async () => {
    const path = await start('nodigest');
    expect((await errorOf(await client.request('PUT', path))).errors[0]?.code).to.equal('DIGEST_INVALID');
    for (const bad of ['sha256:abc', 'md5:' + 'a'.repeat(32), 'sha256:' + 'G'.repeat(64), 'nocolon']) {
      const res = await client.request('PUT', `${path}?digest=${bad}`);
      expect(res.status, bad).to.equal(400);
      expect((await errorOf(res)).errors[0]?.code).to.equal('DIGEST_INVALID');
    }
  });

  it('sha512 digests are verified too', async () => {
    const { createHash } = await import('node:crypto');
    const digest = `sha512:${createHash('sha512').update('sha512 content').digest('hex')}`;
    const res = await client.request('POST', `/v2/s512/blobs/uploads/?digest=${digest}`, { body: 'sha512 content' });
    expect(res.status).to.equal(201);
    expect(await (await client.request('GET', `/v2/s512/blobs/${digest}`)).text()).to.equal('sha512 content');
  });

  it('DELETE cancels an upload (204); the upload is then unknown (404 BLOB_UPLOAD_UNKNOWN)', async () => {
    const path = await start('cancel');
    await patch(path, 'partial');
    expect((await client.request('DELETE', path)).status).to.equal(204);
    const res = await client.request('GET', path);
    expect(res.status).to.equal(404);
    expect((await errorOf(res)).errors[0]?.code).to.equal('BLOB_UPLOAD_UNKNOWN');
  });

  it('an unknown or malformed upload id is 404 BLOB_UPLOAD_UNKNOWN on every method', async () => {
    for (const id of ['00000000-0000-0000-0000-000000000000', 'not-a-uuid', '..']) {
      for (const method of ['GET', 'PATCH', 'PUT', 'DELETE']) {
        const res = await client.request(method, `/v2/nope/blobs/uploads/${id}${method === 'PUT' ? `?digest=${sha256('')}` : ''}`);
        expect(res.status, `${method} ${id}`).to.be.oneOf([404]);
      }
    }
  });

  it('cross-repository mount links an existing blob: 201 with the digest', async () => {
    const digest = await client.pushBlob('source', 'shared layer');
    const res = await client.request('POST', `/v2/target/blobs/uploads/?mount=${digest}&from=source`);
    expect(res.status).to.equal(201);
    expect(res.headers.get('docker-content-digest')).to.equal(digest);
    expect(await (await client.request('GET', `/v2/target/blobs/${digest}`)).text()).to.equal('shared layer');
  });

  it('a mount of a blob the source does not have falls back to a new upload (202)', async () => {
    const digest = sha256('never pushed');
    const res = await client.request('POST', `/v2/target2/blobs/uploads/?mount=${digest}&from=source`);
    expect(res.status).to.equal(202);
    expect(res.headers.get('location')).to.match(/\/blobs\/uploads\//);
  });

  it('concurrent pushes of the same blob to one repository end with one intact copy', async () => {
    const disk = await startTestRegistry({ storage: 'filesystem' });
    try {
      const c = new Client(disk.url);
      const content = Buffer.alloc(3 * 1024 * 1024, 'z');
      const digests = await Promise.all(Array.from({ length: 6 }, () => c.pushBlob('race/blob', content)));
      expect(new Set(digests).size).to.equal(1);
      const res = await c.request('GET', `/v2/race/blob/blobs/${digests[0]}`);
      expect(sha256(Buffer.from(await res.arrayBuffer()))).to.equal(digests[0]);
    } finally {
      await disk.stop();
    }
  });

  it('an upload survives a restart of the registry on the same storage and continues', async () => {
    const disk = await startTestRegistry({ storage: 'filesystem' });
    const first = new Client(disk.url);
    const res = await first.request('POST', '/v2/restart/blobs/uploads/');
    const path = new URL(res.headers.get('location') as string).pathname;
    await first.request('PATCH', path, { headers: { 'content-range': '0-4' }, body: 'part1' });
    await disk.close();
    const again = await startTestRegistry({ rootDir: disk.rootDir as string });
    try {
      const second = new Client(again.url);
      expect((await second.request('GET', path)).headers.get('range')).to.equal('0-4');
      await second.request('PATCH', path, { headers: { 'content-range': '5-9' }, body: 'part2' });
      const digest = sha256('part1part2');
      expect((await second.request('PUT', `${path}?digest=${digest}`)).status).to.equal(201);
      expect(await (await second.request('GET', `/v2/restart/blobs/${digest}`)).text()).to.equal('part1part2');
    } finally {
      await again.stop();
      await disk.stop();
    }
  });
});
