import { expect } from 'chai';
import { collectGarbage, type CollectOptions, type GcEvent } from '../../../registry/src/gc/collect.js';
import type { StorageDriver } from '../../../registry/src/storage/driver/driver.js';
import { openFilesystemDriver } from '../../../registry/src/storage/driver/filesystem.js';
import { Client, sha256 } from '../../helpers/oci.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { layout, pullVerified, pushImage, removedFiles, seedRegistry, snapshotTree, stored, unguarded, type Seeded } from './fixtures.js';

async function collectOn(driver: StorageDriver, options: Partial<CollectOptions> = {}) {
  const events: GcEvent[] = [];
  const summary = await collectGarbage(driver, { dryRun: false, deleteUntagged: false, minAgeMs: 0, uploadAgeMs: 86_400_000, ...options }, (e) => events.push(e), unguarded);
  return { summary, events };
}

/** Collects with a driver of its own on the root, as the offline command does. */
async function collect(root: string, options: Partial<CollectOptions> = {}) {
  return collectOn(await openFilesystemDriver({ rootdirectory: root }), options);
}

async function deleteManifest(client: Client, name: string, digest: string): Promise<void> {
  const res = await client.request('DELETE', `/v2/${name}/manifests/${digest}`);
  expect(res.status, `DELETE ${name}@${digest}`).to.equal(202);
}

describe('gc: mark and sweep over images pushed through the API', () => {
  let registry: TestRegistry;
  let client: Client;
  let root: string;
  let seeded: Seeded;
  before(async () => {
    registry = await startTestRegistry({ storage: 'filesystem' });
    client = new Client(registry.url);
    root = registry.rootDir as string;
    seeded = await seedRegistry(client);
    await deleteManifest(client, 'app', seeded.v1.digest);
  });
  after(() => registry.stop());

  /** A registry restarted on the same root, as the runbook does after a collection (no cached blob descriptors). */
  async function restarted<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const fresh = await startTestRegistry({ storage: 'filesystem', rootDir: root });
    try {
      return await work(new Client(fresh.url));
    } finally {
      await fresh.stop();
    }
  }

  it('--dry-run lists what it would delete and changes no file', async () => {
    const before = await snapshotTree(root);
    const { summary, events } = await collect(root, { dryRun: true, deleteUntagged: true });
    expect(await snapshotTree(root)).to.deep.equal(before);
    expect(summary.dryRun).to.equal(true);
    expect(summary.blobsDeleted).to.be.greaterThan(0);
    expect(summary.manifestsDeleted).to.equal(2);
    const blobs = events.flatMap((e) => (e.kind === 'blob' ? [`sha256:${e.digest.hex}`] : []));
    expect(blobs).to.include.members([seeded.v1.digest, seeded.v1.layers[1], seeded.v1.config]);
    expect(blobs).to.not.include(seeded.base);
  });

  it("deleting an image by digest then collecting removes the image's own blobs and keeps the layers it shared", async () => {
    const before = await snapshotTree(root);
    const { summary } = await collect(root);
    const removed = removedFiles(before, await snapshotTree(root));
    const v1Own = seeded.v1.layers[1] as string;
    expect(removed).to.have.members([
      layout.blob(seeded.v1.digest),
      layout.blob(seeded.v1.config),
      layout.blob(v1Own),
      layout.layerLink('app', seeded.v1.config),
      layout.layerLink('app', v1Own),
    ]);
    expect(summary).to.include({ manifestsDeleted: 0, blobsDeleted: 3, layerLinksDeleted: 2, repositories: 4 });
    expect(summary.bytesFreed).to.equal(seeded.v1.size + seeded.v1.configSize + Buffer.byteLength('app v1 own layer'));
    expect(removed).to.not.include(layout.blob(seeded.base));
  });

  it('every image still referenced pulls intact from the restarted registry; the deleted one is gone', async () => {
    await restarted(async (c) => {
      for (const [name, ref] of [
        ['app', 'v2'],
        ['app', 'latest'],
        ['app', seeded.oldLatest.digest],
        ['app', seeded.signature.digest],
        ['other', 'v1'],
        ['multi', 'v1'],
        ['bydigest', seeded.byDigest.digest],
      ] as const) {
        const fetched = await pullVerified(c, name, ref);
        if (ref !== seeded.signature.digest) expect(fetched, `${name}:${ref}`).to.include(seeded.base);
      }
      expect((await c.request('GET', `/v2/app/manifests/${seeded.v1.digest}`)).status).to.equal(404);
      expect((await c.request('GET', `/v2/app/blobs/${seeded.v1.layers[1]}`)).status).to.equal(404);
    });
  });

  it('--delete-untagged removes untagged revisions but keeps the platform manifests of a tagged index and the referrers of a kept manifest', async () => {
    const before = await snapshotTree(root);
    const { summary } = await collect(root, { deleteUntagged: true });
    const removed = removedFiles(before, await snapshotTree(root));
    const oldOwn = seeded.oldLatest.layers[1] as string;
    const byDigestOwn = seeded.byDigest.layers[1] as string;
    expect(removed).to.have.members([
      layout.revision('app', seeded.oldLatest.digest),
      layout.tagHistory('app', 'latest', seeded.oldLatest.digest),
      layout.blob(seeded.oldLatest.digest),
      layout.blob(seeded.oldLatest.config),
      layout.blob(oldOwn),
      layout.layerLink('app', seeded.oldLatest.config),
      layout.layerLink('app', oldOwn),
      layout.revision('bydigest', seeded.byDigest.digest),
      layout.blob(seeded.byDigest.digest),
      layout.blob(seeded.byDigest.config),
      layout.blob(byDigestOwn),
      layout.layerLink('bydigest', seeded.byDigest.config),
      layout.layerLink('bydigest', byDigestOwn),
      // The base layer is still linked from bydigest: only links to swept blobs go.
    ]);
    expect(summary).to.include({ manifestsDeleted: 2, blobsDeleted: 6 });
    for (const child of seeded.multi.children) expect(removed).to.not.include(layout.revision('multi', child.digest));
    expect(removed).to.not.include(layout.revision('app', seeded.signature.digest));

    await restarted(async (c) => {
      const multi = await pullVerified(c, 'multi', 'v1');
      expect(multi).to.include.members(seeded.multi.children.flatMap((child) => [child.digest, child.config, ...child.layers]));
      await pullVerified(c, 'app', seeded.signature.digest);
      await pullVerified(c, 'app', 'v2');
      const referrers = (await (await c.request('GET', `/v2/app/referrers/${seeded.v2.digest}`)).json()) as { manifests: { digest: string }[] };
      expect(referrers.manifests.map((m) => m.digest)).to.deep.equal([seeded.signature.digest]);
      expect((await c.request('GET', `/v2/app/manifests/${seeded.oldLatest.digest}`)).status).to.equal(404);
    });
  });

  it('a second collection finds nothing left to delete', async () => {
    const before = await snapshotTree(root);
    const { summary } = await collect(root, { deleteUntagged: true });
    expect(summary).to.include({ manifestsDeleted: 0, blobsDeleted: 0, layerLinksDeleted: 0, bytesFreed: 0 });
    expect(await snapshotTree(root)).to.deep.equal(before);
  });
});

describe('gc: --min-age and pushes in flight', () => {
  let registry: TestRegistry;
  let client: Client;
  let root: string;
  before(async () => {
    registry = await startTestRegistry({ storage: 'filesystem' });
    client = new Client(registry.url);
    root = registry.rootDir as string;
    await pushImage(client, 'kept', 'v1', ['kept layer']);
  });
  after(() => registry.stop());

  it('--min-age keeps a blob pushed moments ago that no manifest references yet; --min-age 0s collects it', async () => {
    const fresh = await client.pushBlob('pending', 'a layer whose manifest has not been pushed yet');
    const { summary } = await collect(root, { minAgeMs: 3_600_000, deleteUntagged: true });
    expect(summary).to.include({ blobsProtected: 1, blobsDeleted: 0 });
    expect([...(await snapshotTree(root)).keys()]).to.include.members([layout.blob(fresh), layout.layerLink('pending', fresh)]);
    const zero = await collect(root, { minAgeMs: 0 });
    expect(zero.summary).to.include({ blobsProtected: 0, blobsDeleted: 1, layerLinksDeleted: 1 });
    expect([...(await snapshotTree(root)).keys()]).to.not.include(layout.blob(fresh));
  });

  it('--min-age keeps an untagged manifest pushed moments ago, and the blobs it references', async () => {
    const byDigest = await pushImage(client, 'young', undefined, ['young layer']);
    const { summary } = await collect(root, { minAgeMs: 3_600_000, deleteUntagged: true });
    expect(summary).to.include({ manifestsProtected: 1, manifestsDeleted: 0, blobsDeleted: 0 });
    expect(await pullVerified(client, 'young', byDigest.digest)).to.include(byDigest.layers[0]);
  });

  it('a push in flight while the collector runs completes and pulls intact', async () => {
    const layer = Buffer.from('layer of an image being pushed while the collector runs');
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' }));
    const configDigest = await client.pushBlob('inflight', config);
    // A chunked upload left half way: the collector runs between its chunks.
    const started = await client.request('POST', '/v2/inflight/blobs/uploads/');
    expect(started.status).to.equal(202);
    const upload = new URL(started.headers.get('location') as string, registry.url).pathname;
    const half = layer.length >> 1;
    const first = await client.request('PATCH', upload, { headers: { 'content-range': `0-${half - 1}`, 'content-type': 'application/octet-stream' }, body: layer.subarray(0, half) });
    expect(first.status).to.equal(202);

    const finishPush = async () => {
      const next = new URL(first.headers.get('location') as string, registry.url).pathname;
      const rest = await client.request('PATCH', next, { headers: { 'content-range': `${half}-${layer.length - 1}`, 'content-type': 'application/octet-stream' }, body: layer.subarray(half) });
      expect(rest.status).to.equal(202);
      const done = await client.request('PUT', `${upload}?digest=${sha256(layer)}`);
      expect(done.status).to.equal(201);
    };
    const [{ summary }] = await Promise.all([collect(root, { deleteUntagged: true, minAgeMs: 3_600_000 }), finishPush()]);
    expect(summary.blobsDeleted).to.equal(0);
    // And once more with everything uploaded but the manifest not yet pushed.
    await collect(root, { deleteUntagged: true, minAgeMs: 3_600_000 });

    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
    });
    await client.pushManifest('inflight', 'v1', manifest);
    expect(await pullVerified(client, 'inflight', 'v1')).to.deep.equal([sha256(manifest), configDigest, sha256(layer)]);
    await pullVerified(client, 'kept', 'v1');
  });
});

describe('gc: on the inmemory driver, through the StorageDriver interface alone', () => {
  let registry: TestRegistry;
  let client: Client;
  before(async () => {
    registry = await startTestRegistry({ storage: 'inmemory' });
    client = new Client(registry.url);
  });
  after(() => registry.stop());

  it('collects a deleted image and untagged revisions, keeping index children, referrers and shared layers', async () => {
    const seeded = await seedRegistry(client);
    await deleteManifest(client, 'app', seeded.v1.digest);
    const { summary } = await collectOn(registry.driver, { deleteUntagged: true });
    expect(summary).to.include({ manifestsDeleted: 2, blobsDeleted: 9 });
    for (const gone of [seeded.v1.digest, seeded.v1.layers[1], seeded.oldLatest.digest, seeded.byDigest.digest]) expect(await stored(registry.driver, gone as string), gone).to.equal(false);
    for (const kept of [seeded.base, seeded.signature.digest, ...seeded.multi.children.map((c) => c.digest)]) expect(await stored(registry.driver, kept), kept).to.equal(true);
    await pullVerified(client, 'multi', 'v1');
    await pullVerified(client, 'other', 'v1');
    await pullVerified(client, 'app', seeded.signature.digest);
  });
});
