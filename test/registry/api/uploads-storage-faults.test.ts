// Uploads when storage fails under them, with the access log on as in the template: a full disk (a real tmpfs that
// fills up) and an S3 server that goes away mid-chunk. One request's failure must never take the process down.
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { expect } from 'chai';
import { pseudoRandomBytes } from '../../helpers/content.js';
import { Client, errorOf, OCI_MANIFEST, sha256 } from '../../helpers/oci.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { startS3rver, type S3Server } from '../../helpers/s3rver.js';
import { mountSmallDisk, type SmallDisk } from '../../helpers/small-disk.js';

const MiB = 1024 * 1024;

/** What the access log says a request was answered, found by the request id the answer carried. */
function loggedStatus(registry: TestRegistry, requestId: unknown): unknown {
  const line = registry.logs.find((l) => l.msg === 'request' && l.reqId === requestId);
  return (line?.res as { status?: number } | undefined)?.status;
}

async function startUpload(client: Client, name: string): Promise<{ path: string; uuid: string }> {
  const res = await client.request('POST', `/v2/${name}/blobs/uploads/`);
  expect(res.status).to.equal(202);
  return { path: new URL(res.headers.get('location') as string).pathname, uuid: res.headers.get('docker-upload-uuid') as string };
}

function patch(client: Client, path: string, body: Buffer): Promise<Response> {
  return client.request('PATCH', path, { headers: { 'content-type': 'application/octet-stream' }, body });
}

describe('api: uploads when the disk fills up (access log on)', () => {
  let disk: SmallDisk;
  let registry: TestRegistry;
  let client: Client;
  before(async () => {
    disk = await mountSmallDisk(8 * MiB);
    registry = await startTestRegistry({ rootDir: disk.dir });
    expect(registry.config.log.accesslog.disabled).to.equal(false);
    client = new Client(registry.url);
  });
  after(async () => {
    await registry?.stop();
    await disk?.unmount();
  });

  const uploadsDir = (name: string) => join(disk.dir, 'docker/registry/v2/repositories', name, '_uploads');

  it("a PATCH that fills the disk is 507 naming the full disk, with Location and Range, and gives the chunk's space back", async () => {
    const { path, uuid } = await startUpload(client, 'full-patch');
    expect((await patch(client, path, pseudoRandomBytes('first', MiB))).headers.get('range')).to.equal(`0-${MiB - 1}`);

    const res = await patch(client, path, pseudoRandomBytes('too big', 16 * MiB));
    expect(res.status).to.equal(507);
    const { errors } = await errorOf(res);
    expect(errors[0]?.code).to.equal('UNAVAILABLE');
    expect(errors[0]?.message).to.match(/storage \(filesystem\) is full/);
    expect(new URL(res.headers.get('location') as string).pathname).to.equal(path);
    expect(res.headers.get('docker-upload-uuid')).to.equal(uuid);
    expect(res.headers.get('range')).to.equal(`0-${MiB - 1}`);
    expect((await stat(join(uploadsDir('full-patch'), uuid, 'data'))).size).to.equal(MiB);

    expect((await client.request('GET', '/v2/')).status).to.equal(200);
    expect(loggedStatus(registry, res.headers.get('x-request-id'))).to.equal(507);
    const failure = registry.logs.find((line) => line.msg === 'storage failure' && line.reqId === res.headers.get('x-request-id'));
    expect(failure?.fault).to.equal('full');

    expect((await client.request('DELETE', path)).status).to.equal(204);
    expect(await readdir(uploadsDir('full-patch'))).to.deep.equal([]);
  });

  it('a PUT whose last chunk fills the disk is 507 with Location and Range, and the upload can still be finished', async () => {
    const { path } = await startUpload(client, 'full-put');
    const first = pseudoRandomBytes('put first', MiB);
    await patch(client, path, first);
    const tooBig = pseudoRandomBytes('put too big', 16 * MiB);
    const refused = await client.request('PUT', `${path}?digest=${sha256(Buffer.concat([first, tooBig]))}`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: tooBig,
    });
    expect(refused.status).to.equal(507);
    expect(new URL(refused.headers.get('location') as string).pathname).to.equal(path);
    expect(refused.headers.get('range')).to.equal(`0-${MiB - 1}`);

    const last = Buffer.from('a last chunk that fits');
    const finished = await client.request('PUT', `${path}?digest=${sha256(Buffer.concat([first, last]))}`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: last,
    });
    expect(finished.status).to.equal(201);
    expect(loggedStatus(registry, refused.headers.get('x-request-id'))).to.equal(507);
  });

  it('a monolithic POST that fills the disk is 507 and leaves nothing in _uploads', async () => {
    const content = pseudoRandomBytes('monolithic too big', 16 * MiB);
    const usedBefore = await disk.used();
    const res = await client.request('POST', `/v2/full-post/blobs/uploads/?digest=${sha256(content)}`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: content,
    });
    expect(res.status).to.equal(507);
    expect(res.headers.get('location')).to.equal(null);
    expect(await readdir(uploadsDir('full-post'))).to.deep.equal([]);
    expect(await disk.used()).to.be.at.most(usedBefore + 64 * 1024);
    expect((await client.request('GET', '/v2/')).status).to.equal(200);
  });

  it('a manifest PUT on a full disk is 507 and leaves no temp file behind', async () => {
    const config = await client.pushBlob('full-manifest', '{"architecture":"amd64","os":"linux"}');
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 37 },
      layers: [],
    });
    const filler = join(disk.dir, 'filler');
    await writeFile(filler, Buffer.alloc(8 * MiB)).catch((err: NodeJS.ErrnoException) => expect(err.code).to.equal('ENOSPC'));
    try {
      const res = await client.request('PUT', '/v2/full-manifest/manifests/v1', { headers: { 'content-type': OCI_MANIFEST }, body: manifest });
      expect(res.status).to.equal(507);
      expect(loggedStatus(registry, res.headers.get('x-request-id'))).to.equal(507);
      expect((await client.request('GET', '/v2/')).status).to.equal(200);
    } finally {
      await rm(filler);
    }
    expect((await readdir(disk.dir, { recursive: true })).filter((path) => path.endsWith('.tmp'))).to.deep.equal([]);
    expect((await client.request('PUT', '/v2/full-manifest/manifests/v1', { headers: { 'content-type': OCI_MANIFEST }, body: manifest })).status).to.equal(201);
  });
});

describe('api: uploads when S3 goes away mid-chunk (access log on)', () => {
  let s3: S3Server;
  let registry: TestRegistry;
  let client: Client;
  before(async () => {
    s3 = await startS3rver();
    registry = await startTestRegistry({ storage: 's3', objectStore: s3 });
    client = new Client(registry.url);
  });
  after(async () => {
    await registry?.stop();
    await s3?.stop();
  });

  it('the chunk is 503 UNAVAILABLE with Location, and the registry keeps answering', async () => {
    const { path, uuid } = await startUpload(client, 's3-lost');
    const answer = new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = request(`${registry.url}${path}`, { method: 'PATCH', headers: { 'content-length': String(16 * MiB) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      // Less than a part (10 MiB): nothing has reached S3 yet when it goes away.
      req.write(pseudoRandomBytes('s3 head', 4 * MiB), () => {
        void s3.stop().then(() => req.end(pseudoRandomBytes('s3 tail', 12 * MiB)));
      });
    });
    const res = await answer;
    expect(res.status).to.equal(503);
    expect(JSON.parse(res.body).errors[0]).to.include({ code: 'UNAVAILABLE' });
    expect(new URL(res.headers.location as string).pathname).to.equal(path);
    expect(res.headers['docker-upload-uuid']).to.equal(uuid);

    expect((await client.request('GET', '/v2/')).status).to.equal(200);
    expect(loggedStatus(registry, res.headers['x-request-id'])).to.equal(503);
  });
});
