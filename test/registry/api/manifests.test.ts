import { expect } from 'chai';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { Client, DOCKER_LIST, DOCKER_MANIFEST, errorOf, OCI_INDEX, OCI_MANIFEST, sha256 } from '../../helpers/oci.js';

describe('api: manifests', () => {
  let registry: TestRegistry;
  let client: Client;
  before(async () => {
    registry = await startTestRegistry();
    client = new Client(registry.url);
  });
  after(() => registry.stop());

  it('PUT by tag stores the manifest: 201 with Location and Docker-Content-Digest; GET returns the same bytes', async () => {
    const image = await client.pushImage('m/app', 'v1');
    expect(image.digest).to.equal(sha256(image.body));
    for (const ref of ['v1', image.digest]) {
      const res = await client.request('GET', `/v2/m/app/manifests/${ref}`, { headers: { accept: OCI_MANIFEST } });
      expect(res.status, ref).to.equal(200);
      expect(res.headers.get('content-type')).to.equal(OCI_MANIFEST);
      expect(res.headers.get('docker-content-digest')).to.equal(image.digest);
      expect(await res.text()).to.equal(image.body);
    }
    const head = await client.request('HEAD', '/v2/m/app/manifests/v1', { headers: { accept: OCI_MANIFEST } });
    expect(head.status).to.equal(200);
    expect(head.headers.get('content-length')).to.equal(String(image.size));
  });

  it('PUT by digest checks the digest of the body (400 DIGEST_INVALID on mismatch)', async () => {
    const image = await client.pushImage('m/bydigest', 'tmp');
    const res = await client.request('PUT', `/v2/m/bydigest/manifests/${image.digest}`, { headers: { 'content-type': OCI_MANIFEST }, body: image.body });
    expect(res.status).to.equal(201);
    const wrong = await client.request('PUT', `/v2/m/bydigest/manifests/${sha256('other')}`, { headers: { 'content-type': OCI_MANIFEST }, body: image.body });
    expect(wrong.status).to.equal(400);
    expect((await errorOf(wrong)).errors[0]?.code).to.equal('DIGEST_INVALID');
  });

  it('a manifest referencing a blob not in the repository is 400 MANIFEST_BLOB_UNKNOWN naming the digest', async () => {
    const image = await client.pushImage('m/source', 'v1');
    const res = await client.request('PUT', '/v2/m/elsewhere/manifests/v1', { headers: { 'content-type': OCI_MANIFEST }, body: image.body });
    expect(res.status).to.equal(400);
    const body = await errorOf(res);
    expect(body.errors[0]?.code).to.equal('MANIFEST_BLOB_UNKNOWN');
    expect(body.errors[0]?.message).to.contain(image.manifest.config.digest);
    expect((await client.request('GET', '/v2/m/elsewhere/manifests/v1')).status).to.equal(404);
  });

  it('malformed manifests are 400 MANIFEST_INVALID, never a 500', async () => {
    const bodies: [string, string][] = [
      ['not json', OCI_MANIFEST],
      ['[]', OCI_MANIFEST],
      ['{"schemaVersion":1}', OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'x', digest: 'nope', size: 1 }, layers: [] }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'x', digest: sha256('a'), size: -1 }, layers: [] }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: {} }), OCI_INDEX],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: 'application/x-unknown' }), 'application/x-unknown'],
      [JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: { mediaType: 'x', digest: sha256('a'), size: 1 }, layers: [] }), DOCKER_MANIFEST],
    ];
    for (const [body, type] of bodies) {
      const res = await client.request('PUT', '/v2/m/bad/manifests/t', { headers: { 'content-type': type }, body });
      expect(res.status, body).to.equal(400);
      expect((await errorOf(res)).errors[0]?.code, body).to.equal('MANIFEST_INVALID');
    }
  });

  it('a manifest over 4 MiB is refused with 413 before it is stored', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [], annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } });
    const res = await client.request('PUT', '/v2/m/big/manifests/t', { headers: { 'content-type': OCI_INDEX }, body });
    expect(res.status).to.equal(413);
    expect((await client.request('GET', '/v2/m/big/manifests/t')).status).to.equal(404);
  });

  it('a client that sends an oversized manifest on a closing connection still reads the 413', async () => {
    const { request } = await import('node:http');
    const body = Buffer.alloc(5 * 1024 * 1024, 'x');
    for (let i = 0; i < 5; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${registry.url}/v2/m/big/manifests/closing`, {
          method: 'PUT',
          agent: false,
          headers: { 'content-type': OCI_INDEX, connection: 'close', 'content-length': body.length },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(status).to.equal(413);
    }
  });

  it('an invalid tag is 400 TAG_INVALID', async () => {
    const res = await client.request('PUT', `/v2/m/app/manifests/${'-bad'}`, { headers: { 'content-type': OCI_MANIFEST }, body: '{}' });
    expect(res.status).to.equal(400);
    expect((await errorOf(res)).errors[0]?.code).to.equal('TAG_INVALID');
  });

  it('GET, HEAD and DELETE of a reference that is neither a tag nor a digest are 404 MANIFEST_UNKNOWN saying why (OCI conformance)', async () => {
    await client.pushImage('m/app', 'v1');
    // The first is the conformance suite's "nonexistent manifest"; the others are malformed or unsupported digests.
    const references = ['.INVALID_MANIFEST_NAME', '-bad', 'sha256:totallywrong', `sha384:${'a'.repeat(96)}`, 'x'.repeat(129)];
    for (const reference of references) {
      for (const method of ['GET', 'DELETE']) {
        const res = await client.request(method, `/v2/m/app/manifests/${reference}`);
        expect(res.status, `${method} ${reference}`).to.equal(404);
        const error = (await errorOf(res)).errors[0];
        expect(error?.code, `${method} ${reference}`).to.equal('MANIFEST_UNKNOWN');
        expect(error?.message, `${method} ${reference}`).to.match(/neither a valid tag nor a digest/);
      }
      expect((await client.request('HEAD', `/v2/m/app/manifests/${reference}`)).status, `HEAD ${reference}`).to.equal(404);
    }
    expect((await client.request('GET', '/v2/m/app/manifests/v1')).status).to.equal(200);
  });

  it('PUT of an invalid reference stays 400: TAG_INVALID for a tag, DIGEST_INVALID for a digest', async () => {
    const put = (reference: string) => client.request('PUT', `/v2/m/app/manifests/${reference}`, { headers: { 'content-type': OCI_MANIFEST }, body: '{}' });
    const tag = await put('.INVALID_MANIFEST_NAME');
    expect(tag.status).to.equal(400);
    expect((await errorOf(tag)).errors[0]?.code).to.equal('TAG_INVALID');
    const digest = await put('sha256:totallywrong');
    expect(digest.status).to.equal(400);
    expect((await errorOf(digest)).errors[0]?.code).to.equal('DIGEST_INVALID');
  });

  it('an index whose children are all in the repository is accepted; a missing child is MANIFEST_BLOB_UNKNOWN', async () => {
    const amd = await client.pushImage('m/multi', 'amd');
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: amd.digest, size: amd.size, platform: { architecture: 'amd64', os: 'linux' } }],
    };
    const { digest } = await client.pushManifest('m/multi', 'latest', index, OCI_INDEX);
    const res = await client.request('GET', '/v2/m/multi/manifests/latest', { headers: { accept: `${OCI_INDEX}, ${OCI_MANIFEST}` } });
    expect(res.headers.get('docker-content-digest')).to.equal(digest);
    const missing = { ...index, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('absent'), size: 2 }] };
    const bad = await client.request('PUT', '/v2/m/multi/manifests/broken', { headers: { 'content-type': OCI_INDEX }, body: JSON.stringify(missing) });
    expect(bad.status).to.equal(400);
    expect((await errorOf(bad)).errors[0]?.code).to.equal('MANIFEST_BLOB_UNKNOWN');
  });

  it('a Docker manifest list fetched by tag by a client that accepts no list type gets the linux/amd64 image', async () => {
    const amd = await client.pushImage('m/list', 'amd');
    const list = {
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: [{ mediaType: OCI_MANIFEST, digest: amd.digest, size: amd.size, platform: { architecture: 'amd64', os: 'linux' } }],
    };
    await client.pushManifest('m/list', 'latest', list, DOCKER_LIST);
    const res = await client.request('GET', '/v2/m/list/manifests/latest', { headers: { accept: OCI_MANIFEST } });
    expect(res.headers.get('docker-content-digest')).to.equal(amd.digest);
  });

  it('an OCI manifest asked for with an Accept that excludes OCI is 404 MANIFEST_UNKNOWN, as distribution answers', async () => {
    await client.pushImage('m/accept', 'v1');
    const res = await client.request('GET', '/v2/m/accept/manifests/v1', { headers: { accept: DOCKER_MANIFEST } });
    expect(res.status).to.equal(404);
    expect((await errorOf(res)).errors[0]?.message).to.contain('Accept');
  });

  it('OCI-Subject is returned when the manifest has a subject', async () => {
    const subject = await client.pushImage('m/subj', 'v1');
    const res = await client.pushImage('m/subj', 'sig', ['signature'], {
      artifactType: 'application/vnd.example.sig',
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
    });
    const head = await client.request('HEAD', `/v2/m/subj/manifests/${res.digest}`);
    expect(head.status).to.equal(200);
    const put = await client.request('PUT', `/v2/m/subj/manifests/${res.digest}`, { headers: { 'content-type': OCI_MANIFEST }, body: res.body });
    expect(put.headers.get('oci-subject')).to.equal(subject.digest);
  });

  it('DELETE by digest removes the manifest and every tag pointing at it (202)', async () => {
    const image = await client.pushImage('m/del', 'one');
    await client.pushManifest('m/del', 'two', image.body);
    const res = await client.request('DELETE', `/v2/m/del/manifests/${image.digest}`);
    expect(res.status).to.equal(202);
    for (const ref of ['one', 'two', image.digest]) {
      expect((await client.request('GET', `/v2/m/del/manifests/${ref}`)).status, ref).to.equal(404);
    }
    const tags = await client.request('GET', '/v2/m/del/tags/list');
    expect(((await tags.json()) as { tags: string[] }).tags).to.deep.equal([]);
  });

  it('DELETE of a tag removes only the tag (202); the manifest stays by digest', async () => {
    const image = await client.pushImage('m/deltag', 'one');
    await client.pushManifest('m/deltag', 'two', image.body);
    expect((await client.request('DELETE', '/v2/m/deltag/manifests/one')).status).to.equal(202);
    expect((await client.request('GET', '/v2/m/deltag/manifests/one')).status).to.equal(404);
    expect((await client.request('GET', '/v2/m/deltag/manifests/two')).status).to.equal(200);
    expect((await client.request('GET', `/v2/m/deltag/manifests/${image.digest}`)).status).to.equal(200);
  });

  it('DELETE of an unknown manifest is 404 MANIFEST_UNKNOWN', async () => {
    const res = await client.request('DELETE', `/v2/m/app/manifests/${sha256('none')}`);
    expect(res.status).to.equal(404);
    expect((await errorOf(res)).errors[0]?.code).to.equal('MANIFEST_UNKNOWN');
  });

  it('concurrent pushes of the same manifest end with one intact copy', async () => {
    const image = await client.pushImage('m/race', 'base');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        client.request('PUT', `/v2/m/race/manifests/t${i % 3}`, { headers: { 'content-type': OCI_MANIFEST }, body: image.body }),
      ),
    );
    expect(results.map((r) => r.status)).to.deep.equal(Array(10).fill(201));
    for (const tag of ['t0', 't1', 't2']) {
      const res = await client.request('GET', `/v2/m/race/manifests/${tag}`);
      expect(await res.text()).to.equal(image.body);
    }
  });
});
