// Our collector against distribution 2.8.2's own (`docker-registry garbage-collect`) on two copies of one data dir
// written by distribution itself. With --min-age 0s they must delete the same files, except where we differ on
// purpose, and each of those differences is asserted here file by file:
// - we also remove the _layers links of the blobs we sweep (distribution 3 does too): 2.8 leaves them pointing at
//   nothing, and a blob pushed again later would reappear in a repository that no longer references it;
// - with --delete-untagged, 2.8 deletes the platform manifests of a tagged index and their layers, so the index no
//   longer pulls (its issue #3178): we keep them;
// - with --delete-untagged, 2.8 deletes a referrer (a signature whose subject is a kept image): we keep it;
// - with --delete-untagged, a repository with no tags directory (manifests pushed by digest only) makes 2.8.2 fail
//   the whole collection ("failed to retrieve tags unknown repository"), deleting nothing; we collect it.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '../../helpers/oci.js';
import { distributionGarbageCollect, startDistribution, stopAll, writeDistributionConfig, type Distribution } from '../../helpers/processes.js';
import { layout, pushTagless, removedFiles, seedTagged, snapshotTree } from './fixtures.js';
import { REGISTRY_CLI } from '../../helpers/registry-cli.js';


async function ourCollector(configPath: string, flags: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [REGISTRY_CLI, 'garbage-collect', '--min-age', '0s', ...flags, configPath]);
  return stdout;
}

describe('gc: same result as distribution 2.8 garbage-collect with --min-age 0s', function () {
  this.timeout(120_000);
  let tmp: string;
  let seeded: Awaited<ReturnType<typeof seedTagged>>;
  let original: Map<string, string>;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'gc-compare-'));
    let distribution: Distribution | undefined;
    try {
      distribution = await startDistribution({ rootDir: join(tmp, 'original') });
      const client = new Client(distribution.url);
      seeded = await seedTagged(client);
      const res = await client.request('DELETE', `/v2/app/manifests/${seeded.v1.digest}`);
      expect(res.status).to.equal(202);
    } finally {
      await distribution?.stop();
    }
    original = await snapshotTree(join(tmp, 'original'));
  });
  after(async () => {
    await stopAll();
    await rm(tmp, { recursive: true, force: true });
  });

  /** A copy of a data dir (the original by default) and a config naming it. */
  async function copy(name: string, from = join(tmp, 'original')): Promise<{ root: string; configPath: string }> {
    const root = join(tmp, name);
    await cp(from, root, { recursive: true, preserveTimestamps: true });
    return { root, configPath: await writeDistributionConfig(await mkdtemp(join(tmp, `${name}-config-`)), { rootDir: root }) };
  }

  /** Runs both collectors with the same flags on two copies; returns the files each removed. */
  async function compare(name: string, flags: string[]) {
    const theirs = await copy(`${name}-theirs`);
    await distributionGarbageCollect(theirs.configPath, flags);
    const ours = await copy(`${name}-ours`);
    await ourCollector(ours.configPath, flags);
    return {
      theirs: removedFiles(original, await snapshotTree(theirs.root)),
      ours: removedFiles(original, await snapshotTree(ours.root)),
    };
  }

  const links = (repo: string, digests: string[]) => digests.map((d) => layout.layerLink(repo, d));

  it('without --delete-untagged: the same blobs; we also drop the _layers links of the swept blobs', async () => {
    const removed = await compare('plain', []);
    const v1Blobs = [seeded.v1.digest, seeded.v1.config, seeded.v1.layers[1] as string];
    expect(removed.theirs).to.have.members(v1Blobs.map(layout.blob));
    expect(removed.ours).to.include.members(removed.theirs);
    expect(removed.ours.filter((f) => !removed.theirs.includes(f))).to.have.members(links('app', [seeded.v1.config, seeded.v1.layers[1] as string]));
  });

  it('with --delete-untagged: the same untagged revisions and blobs, except the children of a tagged index and the referrers of a kept image', async () => {
    const removed = await compare('untagged', ['--delete-untagged']);
    const own = (image: { digest: string; config: string; layers: string[] }) => [image.digest, image.config, ...image.layers.slice(1)];
    const signatureBlobs = [seeded.signature.digest, seeded.signature.config, ...seeded.signature.layers];

    // Deleted by both: the image deleted by digest and the revision a re-pushed tag left behind.
    const both = [
      ...own(seeded.v1).map(layout.blob),
      layout.revision('app', seeded.oldLatest.digest),
      layout.tagHistory('app', 'latest', seeded.oldLatest.digest),
      ...own(seeded.oldLatest).map(layout.blob),
    ];
    expect(removed.theirs).to.include.members(both);
    expect(removed.ours).to.include.members(both);

    // Only 2.8: the platform manifests of the tagged index with their own blobs (the index manifest blobs stay,
    // marked by the index, so 2.8 leaves it naming manifests it can no longer serve), and the signature.
    const childRevisions = seeded.multi.children.map((c) => layout.revision('multi', c.digest));
    const childBlobs = seeded.multi.children.flatMap((c) => [c.config, ...c.layers.slice(1)]);
    expect(removed.theirs.filter((f) => !removed.ours.includes(f))).to.have.members([
      ...childRevisions,
      ...childBlobs.map(layout.blob),
      layout.revision('app', seeded.signature.digest),
      ...signatureBlobs.map(layout.blob),
    ]);

    // Only ours: the _layers links of every blob we swept.
    expect(removed.ours.filter((f) => !removed.theirs.includes(f))).to.have.members(
      links('app', [seeded.v1.config, seeded.v1.layers[1] as string, seeded.oldLatest.config, seeded.oldLatest.layers[1] as string]),
    );
  });

  it('with --delete-untagged and a repository without tags: 2.8.2 fails and deletes nothing, we collect that repository', async () => {
    const data = await copy('tagless');
    const distribution = await startDistribution({ rootDir: data.root });
    let tagless;
    try {
      tagless = await pushTagless(new Client(distribution.url));
    } finally {
      await distribution.stop();
    }
    const withTagless = await snapshotTree(data.root);
    const theirs = await copy('tagless-theirs', data.root);
    let failure = '';
    await distributionGarbageCollect(theirs.configPath, ['--delete-untagged']).catch((err: Error) => (failure = err.message));
    expect(failure).to.include('failed to retrieve tags unknown repository name=bydigest');
    expect(await snapshotTree(theirs.root)).to.deep.equal(withTagless);

    await ourCollector(data.configPath, ['--delete-untagged']);
    const removed = removedFiles(withTagless, await snapshotTree(data.root));
    const own = [tagless.digest, tagless.config, tagless.layers[1] as string];
    expect(removed).to.include.members([layout.revision('bydigest', tagless.digest), ...own.map(layout.blob), ...links('bydigest', own.slice(1))]);
    expect(removed).to.not.include(layout.blob(seeded.base));
  });
});
