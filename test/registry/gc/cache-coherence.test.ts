// After a sweep by the background collector of one replica, another replica that had the image's blobs in its
// descriptor cache drops them, without a restart: even behind a link left pointing at the swept blob (as distribution
// 2.8's collector leaves them) it answers 404, and the image pushed again through it pulls intact through both.
import { expect } from 'chai';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseDigest } from '../../../registry/src/storage/digest.js';
import { paths } from '../../../registry/src/storage/paths.js';
import { Client } from '../../helpers/oci.js';
import { makeTempDir } from '../../helpers/processes.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { pullVerified, stored } from './fixtures.js';
import { eventually } from './race.js';

describe('gc online: descriptor caches after a sweep on another replica', function () {
  this.timeout(120_000);
  let root: string;
  const replicas: TestRegistry[] = [];

  before(async () => {
    root = await makeTempDir('gc-coherence');
    const gc = { gc: { enabled: true, interval: '1s', minage: '0s' }, uploadpurging: { enabled: false } };
    // A collects every second; B only serves, and caches blob sizes (storage.cache.blobdescriptor: inmemory).
    replicas.push(await startTestRegistry({ rootDir: root, config: { storage: { maintenance: gc } } }));
    replicas.push(await startTestRegistry({ rootDir: root, config: { storage: { maintenance: { uploadpurging: { enabled: false } } } } }));
  });
  after(async () => {
    for (const replica of replicas) await replica.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('the other replica forgets the swept blobs without a restart: 404 even for a link left behind, and a push through it stores them again', async () => {
    const [a, b] = replicas.map((r) => new Client(r.url)) as [Client, Client];
    const image = await a.pushImage('app', 'v1', ['a layer only this image has']);
    const layer = image.layers[0]?.digest as string;
    await pullVerified(b, 'app', 'v1');
    expect((await b.request('HEAD', `/v2/app/blobs/${layer}`)).status).to.equal(200);
    expect((await a.request('DELETE', `/v2/app/manifests/${image.digest}`)).status).to.equal(202);
    const digest = parseDigest(layer);
    await eventually('the background collector of A sweeps the layer', async () => !(await stored(replicas[1]!.driver, layer)));
    // The link distribution 2.8's collector would have left: only B's cache could still say the blob is there.
    const link = join(root, paths.layerLink('app', digest));
    await mkdir(dirname(link), { recursive: true });
    await writeFile(link, layer);
    await eventually('B answers 404 for the swept layer', async () => (await b.request('HEAD', `/v2/app/blobs/${layer}`)).status === 404, 10_000);
    expect((await b.request('GET', `/v2/app/blobs/${layer}`)).status).to.equal(404);
    await b.pushImage('app', 'v1', ['a layer only this image has']);
    await pullVerified(a, 'app', 'v1');
    await pullVerified(b, 'app', 'v1');
  });
});
