// S3 unreachable when the registry starts: the registry starts anyway (no crash loop under --restart=always),
// says what is wrong where an operator and a client look, and serves storage as soon as S3 answers.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { Client, errorOf } from '../../helpers/oci.js';
import { freePort } from '../../helpers/ports.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { startS3rver, type S3Server } from '../../helpers/s3rver.js';

describe('storage: an object store unreachable at start', function () {
  this.timeout(60_000);
  let registry: TestRegistry | undefined;
  let s3: S3Server | undefined;
  after(async () => {
    await registry?.stop();
    await s3?.stop();
  });

  it('starts, answers /v2/, refuses storage routes 503 UNAVAILABLE naming s3, reports it on /debug/health, and serves once S3 answers', async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    registry = await startTestRegistry({
      storage: 's3',
      objectStore: { endpoint, bucket: 'registry', accessKey: 'S3RVER', secretKey: 'S3RVER' },
      config: { http: { debug: { addr: '127.0.0.1:0' } } },
      storageRetry: { firstMs: 50, maxMs: 200 },
    });
    const client = new Client(registry.url);
    const health = `${registry.debug?.url}/debug/health`;

    expect((await client.request('GET', '/v2/')).status).to.equal(200);
    for (const [method, path] of [['GET', '/v2/_catalog'], ['POST', '/v2/app/blobs/uploads/'], ['GET', '/v2/app/tags/list']] as const) {
      const res = await client.request(method, path);
      expect(res.status, `${method} ${path}`).to.equal(503);
      const [error] = (await errorOf(res)).errors;
      expect(error?.code).to.equal('UNAVAILABLE');
      expect(error?.message).to.contain("the registry's storage (s3) has not been reachable since the registry started");
    }
    const unhealthy = await fetch(health);
    expect(unhealthy.status).to.equal(503);
    expect(await unhealthy.json()).to.have.property('storagedriver_s3').that.contains(`cannot reach ${endpoint}`);
    const warnings = registry.logs.filter((line) => String(line.msg).startsWith('storage unreachable at start'));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include({ storage: 's3' }).and.not.have.property('err');
    expect(String(warnings[0]?.reason)).to.contain('storage.s3.regionendpoint').and.not.contain('\n    at ');

    s3 = await startS3rver({ port });
    while (!registry.logs.some((line) => line.msg === 'storage reachable: serving storage routes')) await sleep(20);
    await client.pushBlob('app', 'pushed once S3 answered');
    expect(await (await client.request('GET', '/v2/_catalog')).json()).to.deep.equal({ repositories: ['app'] });
    expect((await fetch(health)).status).to.equal(200);
    // One line per change of state, however many retries failed in between.
    expect(registry.logs.filter((line) => String(line.msg).startsWith('storage ')).map((line) => line.msg)).to.deep.equal([
      'storage unreachable at start: serving, with storage routes answering 503 UNAVAILABLE; retrying in the background',
      'storage reachable: serving storage routes',
    ]);
  });
});
