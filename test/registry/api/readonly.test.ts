import { expect } from 'chai';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { Client, errorOf, OCI_MANIFEST, sha256 } from '../../helpers/oci.js';

describe('api: read-only maintenance mode', () => {
  let writableRegistry: TestRegistry;
  let readonlyRegistry: TestRegistry;
  let image: { digest: string; body: string };
  before(async () => {
    writableRegistry = await startTestRegistry({ storage: 'filesystem' });
    image = await new Client(writableRegistry.url).pushImage('ro/app', 'v1');
    await writableRegistry.close();
    readonlyRegistry = await startTestRegistry({
      rootDir: writableRegistry.rootDir as string,
      config: { storage: { maintenance: { readonly: { enabled: true } } } },
    });
  });
  after(async () => {
    await readonlyRegistry.stop();
    await writableRegistry.stop();
  });

  it('every write answers 405 UNSUPPORTED saying the registry is read-only', async () => {
    const client = new Client(readonlyRegistry.url);
    const writes: [string, string, string?][] = [
      ['POST', '/v2/ro/app/blobs/uploads/'],
      ['POST', `/v2/ro/app/blobs/uploads/?digest=${sha256('x')}`, 'x'],
      ['PUT', '/v2/ro/app/manifests/v2', image.body],
      ['DELETE', `/v2/ro/app/manifests/${image.digest}`],
      ['DELETE', '/v2/ro/app/manifests/v1'],
      ['PATCH', '/v2/ro/app/blobs/uploads/00000000-0000-0000-0000-000000000000', 'x'],
    ];
    for (const [method, path, body] of writes) {
      const res = await client.request(method, path, { headers: { 'content-type': OCI_MANIFEST }, ...(body !== undefined && { body }) });
      expect(res.status, `${method} ${path}`).to.equal(405);
      const error = (await errorOf(res)).errors[0];
      expect(error?.code).to.equal('UNSUPPORTED');
      expect(error?.message).to.contain('read-only');
    }
  });

  it('reads keep working', async () => {
    const client = new Client(readonlyRegistry.url);
    const res = await client.request('GET', '/v2/ro/app/manifests/v1', { headers: { accept: OCI_MANIFEST } });
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal(image.body);
    expect((await client.request('GET', '/v2/_catalog')).status).to.equal(200);
  });
});
