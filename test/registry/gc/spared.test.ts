// What a collection or a prune keeps when a writer announces, while it runs, a manifest it planned to delete: the
// manifest and everything the plan would have deleted with it (an index's platform manifests and their blobs, its
// referrers), so the image the writer tags again is whole.
import { expect } from 'chai';
import { WriteBarrier } from '../../../registry/src/gc/barrier.js';
import { collectGarbage, type GcEvent } from '../../../registry/src/gc/collect.js';
import { Collection } from '../../../registry/src/gc/collection.js';
import { pruneRegistry, type PruneEvent } from '../../../registry/src/retention/prune.js';
import { parseDigest } from '../../../registry/src/storage/digest.js';
import { Client, OCI_INDEX, OCI_MANIFEST } from '../../helpers/oci.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { quietLogger } from '../coord/fleet.js';
import { pullVerified, pushImage, pushIndex, type PushedIndex } from './fixtures.js';

const logger = quietLogger([]);

/**
 * A write that has announced `digest` to the running collection and is still under way: an intent is written, the
 * write itself waits for finish().
 */
async function writeUnderWay(registry: TestRegistry, digest: string): Promise<{ finish(): Promise<void> }> {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let started: () => void = () => undefined;
  const announced = new Promise<void>((resolve) => (started = resolve));
  const writing = new WriteBarrier(registry.driver, 'writer-1-abcdef').guard(
    [parseDigest(digest)],
    async () => {
      started();
      await gate;
    },
    { verify: async () => [] },
  );
  await announced;
  return {
    async finish() {
      release();
      await writing;
    },
  };
}

/** A tagged index of two platform images, and a signature of it (a referrer). */
async function indexWithReferrer(client: Client, tag: string): Promise<{ index: PushedIndex; signature: string }> {
  const index = await pushIndex(client, 'multi', tag, `base of multi:${tag}`, ['amd64', 'arm64']);
  const signature = await pushImage(client, 'multi', undefined, [`signature of multi:${tag}`], {
    artifactType: 'application/vnd.example.signature',
    subject: { mediaType: OCI_INDEX, digest: index.digest, size: index.size },
  });
  return { index, signature: signature.digest };
}

async function retag(client: Client, name: string, digest: string, tag: string): Promise<void> {
  const body = Buffer.from(await (await client.request('GET', `/v2/${name}/manifests/${digest}`, { headers: { accept: `${OCI_INDEX}, ${OCI_MANIFEST}` } })).arrayBuffer());
  await client.pushManifest(name, tag, body.toString('utf8'), OCI_INDEX);
}

describe('gc: what a running collection keeps when a writer announces a manifest it planned to delete', function () {
  this.timeout(60_000);
  let registry: TestRegistry;
  let client: Client;
  beforeEach(async () => {
    registry = await startTestRegistry({ storage: 'filesystem' });
    client = new Client(registry.url);
  });
  afterEach(() => registry.stop());

  it('collect --delete-untagged keeps an untagged index a writer tags again meanwhile, with its platform images, their blobs and its referrer', async () => {
    const { index, signature } = await indexWithReferrer(client, 'v1');
    expect((await client.request('DELETE', '/v2/multi/manifests/v1')).status).to.equal(202);
    const collection = await Collection.start(registry.driver, 'collector-1-aaaaaa', logger);
    await collection.grace();
    const write = await writeUnderWay(registry, index.digest);
    const events: GcEvent[] = [];
    const summary = await collectGarbage(registry.driver, { dryRun: false, deleteUntagged: true, minAgeMs: 0 }, (e) => events.push(e), collection);
    await write.finish();
    await collection.finish();
    expect(summary.manifestsDeleted).to.equal(0);
    expect(summary.blobsDeleted).to.equal(0);
    expect(summary.manifestsSpared).to.equal(4);
    const spared = events.flatMap((e) => (e.kind === 'spared' && e.repository !== undefined ? [`sha256:${e.digest.hex}`] : []));
    expect(spared).to.have.members([index.digest, ...index.children.map((c) => c.digest), signature]);
    await retag(client, 'multi', index.digest, 'again');
    await pullVerified(client, 'multi', 'again');
    await pullVerified(client, 'multi', signature);
  });

  it('prune keeps a dropped tag whose image a writer pushes again meanwhile, with what would have gone with it', async () => {
    const old = await indexWithReferrer(client, 'v1');
    await client.pushImage('multi', 'v2', ['the newest image']);
    const collection = await Collection.start(registry.driver, 'collector-1-bbbbbb', logger);
    await collection.grace();
    const write = await writeUnderWay(registry, old.index.digest);
    const events: PruneEvent[] = [];
    const summary = await pruneRegistry(registry.driver, { keep: 1, repos: [], dryRun: false }, (e) => events.push(e), collection);
    await write.finish();
    await collection.finish();
    expect(summary).to.deep.include({ tagsRemoved: 0, manifestsDeleted: 0 });
    const skipped = events.flatMap((e) => (e.kind === 'skip' ? [e.what] : []));
    expect(skipped[0]).to.equal('tag v1, pushed again since the plan');
    expect(skipped.slice(1)).to.have.length(4);
    await pullVerified(client, 'multi', 'v1');
    await pullVerified(client, 'multi', old.signature);
  });
});
