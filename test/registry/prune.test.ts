// `registry prune` as an SA runs it (a process on a config file) over images pushed through the API: shared layers,
// multi-arch indexes (one sharing a platform manifest with a kept index), referrers, and tags aliasing kept
// manifests. Tag ages are set on the tags' current/link files, which is what prune reads as push times.
import { expect } from 'chai';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, OCI_INDEX, OCI_MANIFEST } from '../helpers/oci.js';
import { writeDistributionConfig } from '../helpers/processes.js';
import { startTestRegistry } from '../helpers/registry.js';
import { layout, pullVerified, pushImage, pushIndex, snapshotTree, type PushedImage, type PushedIndex } from './gc/fixtures.js';
import { runRegistry as registryCommand } from '../helpers/registry-cli.js';

const DAY = 24 * 3600 * 1000;
const BASE = 'base layer shared by every image';



/** Sets the mtime of every file under dir (blobs old enough for the collector's --min-age). */
async function age(dir: string, when: Date): Promise<void> {
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) await utimes(join(entry.parentPath, entry.name), when, when);
  }
}

describe('registry prune --keep N', function () {
  this.timeout(60_000);
  let tmp: string;
  let root: string;
  let config: string;
  let v1: PushedImage;
  let v1Signature: PushedImage;
  let v3: PushedImage;
  let v3Signature: PushedImage;
  let v4: PushedIndex;
  let v2: { digest: string; ownChild: PushedImage };
  let world: PushedImage[];

  const withRegistry = async <T>(work: (client: Client) => Promise<T>): Promise<T> => {
    const registry = await startTestRegistry({ rootDir: root });
    try {
      return await work(new Client(registry.url));
    } finally {
      await registry.stop();
    }
  };
  const tagLink = (repo: string, tag: string) => join(root, 'docker/registry/v2/repositories', repo, '_manifests/tags', tag, 'current/link');
  const pushedDaysAgo = async (repo: string, tag: string, days: number) => {
    const when = new Date(Date.now() - days * DAY);
    await utimes(tagLink(repo, tag), when, when);
  };

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'prune-'));
    root = join(tmp, 'storage');
    await withRegistry(async (client) => {
      v1 = await pushImage(client, 'hello', 'v1', [BASE, 'hello v1 own layer']);
      v1Signature = await pushImage(client, 'hello', undefined, ['signature of hello v1'], {
        artifactType: 'application/vnd.example.signature',
        subject: { mediaType: OCI_MANIFEST, digest: v1.digest, size: v1.size },
      });
      v4 = await pushIndex(client, 'hello', 'v4', BASE, ['amd64', 'arm64']);
      // An older index sharing v4's amd64 manifest: pruning it must leave that manifest to v4.
      const ownChild = await pushImage(client, 'hello', undefined, [BASE, 'hello v2 arm64 layer'], {}, 'arm64');
      const shared = v4.children[0]!;
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, digest: shared.digest, size: shared.size, platform: { architecture: 'amd64', os: 'linux' } },
          { mediaType: OCI_MANIFEST, digest: ownChild.digest, size: ownChild.size, platform: { architecture: 'arm64', os: 'linux' } },
        ],
      });
      v2 = { digest: (await client.pushManifest('hello', 'v2', index, OCI_INDEX)).digest, ownChild };
      v3 = await pushImage(client, 'hello', 'v3', [BASE, 'hello v3 own layer']);
      v3Signature = await pushImage(client, 'hello', undefined, ['signature of hello v3'], {
        artifactType: 'application/vnd.example.signature',
        subject: { mediaType: OCI_MANIFEST, digest: v3.digest, size: v3.size },
      });
      // Tags aliasing manifests that kept tags need: pushed again, byte for byte, under another tag.
      await client.pushManifest('hello', 'alias', await (await client.request('GET', `/v2/hello/manifests/${v3.digest}`)).text());
      await client.pushManifest('hello', 'old-amd64', await (await client.request('GET', `/v2/hello/manifests/${shared.digest}`)).text());
      world = [];
      for (const tag of ['w1', 'w2', 'w3']) world.push(await pushImage(client, 'world', tag, [BASE, `world ${tag} own layer`]));
    });
    await age(root, new Date(Date.now() - 30 * DAY));
    // Newest first: v4, v3, old-amd64, alias, v2, v1; world: w3, w2, w1.
    for (const [tag, days] of [['v4', 1], ['v3', 2], ['old-amd64', 3], ['alias', 4], ['v2', 5], ['v1', 6]] as const) await pushedDaysAgo('hello', tag, days);
    for (const [tag, days] of [['w3', 1], ['w2', 2], ['w1', 3]] as const) await pushedDaysAgo('world', tag, days);
    config = await writeDistributionConfig(tmp, { rootDir: root });
  });

  after(() => rm(tmp, { recursive: true, force: true }));

  it('--dry-run prints what it would delete and the next command, and changes nothing', async () => {
    const before = await snapshotTree(root);
    const run = await registryCommand(['prune', '--keep', '2', '--dry-run', config]);
    expect(run.code, run.stderr).to.equal(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).to.include('hello: keeping 2 of 6 tags: v4, v3');
    expect(lines).to.include('world: keeping 2 of 3 tags: w3, w2');
    expect(lines).to.include(`would delete hello@${v1.digest} (tagged v1)`);
    expect(lines).to.include(`would delete hello@${v1Signature.digest} (referrer of ${v1.digest})`);
    expect(lines).to.include(`would delete hello@${v2.digest} (tagged v2)`);
    expect(lines).to.include(`would delete hello@${v2.ownChild.digest} (child of index ${v2.digest})`);
    expect(lines).to.include(`would untag hello:alias (its manifest ${v3.digest} stays: something kept needs it)`);
    expect(lines).to.include(`would untag hello:old-amd64 (its manifest ${v4.children[0]!.digest} stays: something kept needs it)`);
    expect(lines).to.include(`would delete world@${world[0]!.digest} (tagged w1)`);
    expect(lines.filter((line) => line.startsWith('would delete'))).to.have.length(5);
    expect(lines).to.include('prune: dry run, nothing deleted: 2 repositories, 4 tags kept, would remove 5 tags and delete 5 manifests');
    expect(lines.at(-1)).to.equal(`next: registry garbage-collect ${config} (frees the blobs only the pruned manifests used)`);
    expect(await snapshotTree(root)).to.deep.equal(before);
  });

  it('deletes only in repositories matching --repo, and the kept tags pull intact with their children and referrers', async () => {
    const worldBefore = [...(await snapshotTree(root))].filter(([path]) => path.includes('/repositories/world/'));
    const run = await registryCommand(['prune', '--keep', '2', '--repo', 'hel*', '--no-gc', config]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain(`deleting hello@${v2.digest} (tagged v2)`);
    expect(run.stdout).to.contain('prune: 1 repository, 2 tags kept, removed 4 tags, deleted 4 manifests');
    expect(run.stdout.trimEnd().split('\n').at(-1)).to.equal(`next: registry garbage-collect ${config} (frees the blobs only the deleted manifests used)`);
    const after = await snapshotTree(root);
    expect([...after].filter(([path]) => path.includes('/repositories/world/'))).to.deep.equal(worldBefore);
    for (const digest of [v1.digest, v1Signature.digest, v2.digest, v2.ownChild.digest]) expect(after.has(layout.revision('hello', digest)), digest).to.equal(false);
    await withRegistry(async (client) => {
      const tags = (await (await client.request('GET', '/v2/hello/tags/list')).json()) as { tags: string[] };
      expect(tags.tags.sort()).to.deep.equal(['v3', 'v4']);
      const v4Pulled = await pullVerified(client, 'hello', 'v4');
      expect(v4Pulled).to.include.members(v4.children.map((c) => c.digest));
      await pullVerified(client, 'hello', 'v3');
      await pullVerified(client, 'hello', v3Signature.digest);
      const referrers = (await (await client.request('GET', `/v2/hello/referrers/${v3.digest}`)).json()) as { manifests: { digest: string }[] };
      expect(referrers.manifests.map((m) => m.digest)).to.deep.equal([v3Signature.digest]);
      for (const digest of [v1.digest, v2.digest, v2.ownChild.digest, v1Signature.digest]) {
        expect((await client.request('GET', `/v2/hello/manifests/${digest}`)).status, digest).to.equal(404);
      }
    });
  });

  it('then runs the collector, which frees the blobs only pruned manifests used and keeps shared layers', async () => {
    const run = await registryCommand(['prune', '--keep', '2', config]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain(`deleting world@${world[0]!.digest} (tagged w1)`);
    expect(run.stdout).to.contain(`prune: running registry garbage-collect ${config}`);
    expect(run.stdout).to.match(/garbage-collect: deleted \d+ manifests?, \d+ blobs?/);
    const after = await snapshotTree(root);
    for (const layer of [v1.layers[1]!, v2.ownChild.layers[1]!, world[0]!.layers[1]!]) expect(after.has(layout.blob(layer)), layer).to.equal(false);
    expect(after.has(layout.blob(v1.layers[0]!))).to.equal(true);
    await withRegistry(async (client) => {
      for (const [repo, tag] of [['hello', 'v4'], ['hello', 'v3'], ['world', 'w3'], ['world', 'w2']] as const) await pullVerified(client, repo, tag);
    });
  });

  it('refuses a missing or bad --keep with the usage', async () => {
    for (const args of [[config], ['--keep', '0', config], ['--keep', 'ten', config], ['--keep', '2']]) {
      const run = await registryCommand(['prune', ...args]);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr, args.join(' ')).to.contain('registry prune --keep N');
    }
  });
});
