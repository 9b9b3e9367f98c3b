// The store's writes that make something referenced (an upload committed and linked, a mount, a manifest stored with
// its tag) each run inside the write barrier: a collection running meanwhile hears of them, a write waits while what it
// names is being deleted, and a write slower than the grace that lost what it stored is taken back.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryError } from '../../../registry/src/errcode.js';
import { Collection } from '../../../registry/src/gc/collection.js';
import { collectGarbage } from '../../../registry/src/gc/collect.js';
import { withCollection } from '../../../registry/src/gc/online.js';
import { parseDigest } from '../../../registry/src/storage/digest.js';
import type { StorageDriver } from '../../../registry/src/storage/driver/driver.js';
import { lastPathElement, paths } from '../../../registry/src/storage/paths.js';
import { RegistryStore } from '../../../registry/src/storage/registry-store.js';
import { Client, OCI_MANIFEST, sha256 } from '../../helpers/oci.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { quietLogger } from '../coord/fleet.js';

const logger = quietLogger([]);

/** Every digest each intent written to the collection names, one set per intent. */
async function intents(driver: StorageDriver, collection: Collection): Promise<string[][]> {
  const names = await driver.list(paths.intentsRoot(collection.id)).catch(() => []);
  return Promise.all(names.map(async (path) => (await driver.getContent(paths.intent(collection.id, lastPathElement(path)))).toString('utf8').split('\n').sort()));
}

function manifestOf(config: Buffer, layers: Buffer[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(l), size: l.length })),
  });
}

describe('storage: writes guarded against a running garbage collection', function () {
  this.timeout(60_000);
  let registry: TestRegistry;
  let client: Client;

  beforeEach(async () => {
    registry = await startTestRegistry({ storage: 'filesystem' });
    client = new Client(registry.url);
  });
  afterEach(() => registry.stop());

  it('announces to a running collection the blob of each upload, each mount, and a manifest PUT with everything it references', async () => {
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const layer = Buffer.from('a layer');
    await client.pushBlob('a', config);
    const collection = await Collection.start(registry.driver, 'collector-1-aaaaaa', logger);
    await collection.grace();
    try {
      await client.pushBlob('a', layer);
      const mounted = await client.request('POST', `/v2/b/blobs/uploads/?mount=${sha256(layer)}&from=a`);
      expect(mounted.status).to.equal(201);
      const body = manifestOf(config, [layer]);
      await client.pushManifest('a', 'v1', body);
      await client.pushManifest('a', 'again', body);
      expect(await intents(registry.driver, collection)).to.have.deep.members([
        [sha256(layer)],
        [sha256(layer)],
        [sha256(body), sha256(config), sha256(layer)].sort(),
        [sha256(body), sha256(config), sha256(layer)].sort(),
      ]);
    } finally {
      await collection.finish();
    }
  });

  it('makes a manifest PUT wait while a layer it names is tombstoned; the layer swept, the PUT is refused and the client uploads it again', async () => {
    const config = Buffer.from('{"architecture":"arm64","os":"linux"}');
    const layer = Buffer.from('a layer about to be swept');
    await client.pushBlob('a', config);
    await client.pushBlob('a', layer);
    const collection = await Collection.start(registry.driver, 'collector-1-bbbbbb', logger);
    await collection.grace();
    const digest = parseDigest(sha256(layer));
    expect(await collection.protect([digest])).to.deep.equal(new Set());
    let answered = false;
    const body = manifestOf(config, [layer]);
    const put = client.request('PUT', '/v2/a/manifests/v1', { headers: { 'content-type': OCI_MANIFEST }, body }).then((res) => ((answered = true), res));
    await sleep(500);
    expect(answered, 'the PUT went on while its layer was tombstoned').to.equal(false);
    // The collector sweeps it (its links first), then lifts the tombstone.
    await registry.driver.delete(paths.layerDir('a', digest));
    await registry.driver.delete(paths.blobDir(digest));
    await collection.release([digest]);
    const refused = await put;
    expect(refused.status).to.equal(400);
    expect(((await refused.json()) as { errors: { code: string }[] }).errors[0]?.code).to.equal('MANIFEST_BLOB_UNKNOWN');
    await collection.finish();
    const head = await client.request('HEAD', `/v2/a/blobs/${sha256(layer)}`);
    expect(head.status).to.equal(404);
    await client.pushBlob('a', layer);
    await client.pushManifest('a', 'v1', body);
  });

  it('takes back a tag moved by a write that outlasted the grace while a collection swept its manifest, and answers 503', async () => {
    const gated = paths.tagCurrentLink('a', 'latest');
    let opened: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (opened = resolve));
    let reached: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (reached = resolve));
    let armed = false;
    // The registry's storage, with the write of the tag's link held while the test collects: a stalled storage.
    const stalling = new Proxy(registry.driver, {
      get(target, property, receiver) {
        if (property === 'putContent') {
          return async (path: string, content: Buffer) => {
            if (armed && path === gated) {
              reached();
              await gate;
            }
            return target.putContent(path, content);
          };
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const store = new RegistryStore(stalling, { writer: 'writer-1-cccccc', manifests: { urls: { allow: [], deny: [] }, skipBlobChecks: false } });
    const first = await client.pushImage('a', 'latest', ['first layer']);
    const config = Buffer.from('{"architecture":"s390x","os":"linux"}');
    const layer = Buffer.from('second layer');
    await client.pushBlob('a', config);
    await client.pushBlob('a', layer);
    armed = true;
    const put = store.manifests.put('a', Buffer.from(manifestOf(config, [layer])), OCI_MANIFEST, undefined, { tag: 'latest' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    await blocked;
    // While the tag's write hangs, a whole collection: the new manifest is untagged, so --delete-untagged sweeps it.
    await withCollection(registry.driver, 'collector-1-dddddd', logger, undefined, (collection) =>
      collectGarbage(registry.driver, { dryRun: false, deleteUntagged: true, minAgeMs: 0 }, () => undefined, collection),
    );
    opened();
    const failure = await put;
    expect(failure).to.be.instanceOf(RegistryError);
    expect((failure as RegistryError).descriptor.code).to.equal('UNAVAILABLE');
    expect((failure as Error).message).to.match(/a garbage collection removed .* while this request stored it: push again/);
    const now = await client.request('HEAD', '/v2/a/manifests/latest', { headers: { accept: OCI_MANIFEST } });
    expect(now.headers.get('docker-content-digest'), 'the tag points where it did before').to.equal(first.digest);
  });

  it('moves a tag to a manifest the repository holds through the same guarded write, and refuses one it does not hold', async () => {
    const v1 = await client.pushImage('a', 'v1', ['one']);
    const store = new RegistryStore(registry.driver, { writer: 'writer-1-eeeeee', manifests: { urls: { allow: [], deny: [] }, skipBlobChecks: false } });
    await store.manifests.tag('a', 'stable', parseDigest(v1.digest));
    expect((await client.request('HEAD', '/v2/a/manifests/stable', { headers: { accept: OCI_MANIFEST } })).headers.get('docker-content-digest')).to.equal(v1.digest);
    const unknown = await store.manifests.tag('a', 'stable', parseDigest(sha256('nothing'))).catch((err: unknown) => err);
    expect((unknown as RegistryError).descriptor.code).to.equal('MANIFEST_UNKNOWN');
  });
});
