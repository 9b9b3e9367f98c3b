// The offline commands as an SA runs them: `node registry garbage-collect|list|du` processes on a config file.
import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../helpers/oci.js';
import { writeDistributionConfig } from '../../helpers/processes.js';
import { startTestRegistry } from '../../helpers/registry.js';
import type { Usage } from '../../../registry/src/gc/du.js';
import type { RepositoryListing } from '../../../registry/src/gc/list.js';
import { formatBytes } from '../../../registry/src/gc/units.js';
import { layout, removedFiles, seedRegistry, snapshotTree, type PushedImage, type Seeded } from './fixtures.js';
import { runRegistry as registryCommand } from '../../helpers/registry-cli.js';




const bytes = (image: PushedImage, withBase: boolean) =>
  image.size + image.configSize + image.layerSizes.slice(withBase ? 0 : 1).reduce((sum, n) => sum + n, 0);

describe('gc: the garbage-collect, list and du commands', function () {
  this.timeout(60_000);
  let tmp: string;
  let root: string;
  let config: string;
  let seeded: Seeded;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'gc-commands-'));
    root = join(tmp, 'storage');
    const registry = await startTestRegistry({ rootDir: root });
    try {
      const client = new Client(registry.url);
      seeded = await seedRegistry(client);
      expect((await client.request('DELETE', `/v2/app/manifests/${seeded.v1.digest}`)).status).to.equal(202);
    } finally {
      await registry.stop();
    }
    config = await writeDistributionConfig(tmp, { rootDir: root });
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  it('garbage-collect --dry-run prints what it would delete and a summary on stdout, progress on stderr, and changes nothing', async () => {
    const before = await snapshotTree(root);
    const run = await registryCommand(['garbage-collect', '--dry-run', '--delete-untagged', '--min-age', '0s', config]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain(`would delete manifest app@${seeded.oldLatest.digest}`);
    expect(run.stdout).to.contain(`would delete blob ${seeded.v1.layers[1]}`);
    expect(run.stdout).to.contain('garbage-collect: dry run, nothing deleted: 4 repositories');
    expect(run.stdout).to.contain('garbage-collect: would delete 2 manifests, 9 blobs and 6 layer links');
    expect(run.stderr).to.match(/marking: 4 repositories, \d+ manifests read/).and.match(/scanning blobs: \d+ seen/);
    expect(await snapshotTree(root)).to.deep.equal(before);
  });

  it('--quiet prints the summary alone', async () => {
    const run = await registryCommand(['garbage-collect', '--dry-run', '--quiet', config]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.trimEnd().split('\n').every((line) => line.startsWith('garbage-collect: '))).to.equal(true);
    expect(run.stderr).to.not.contain('marking');
  });

  it('usage errors exit 2 and show the usage', async () => {
    for (const args of [['--bogus', config], ['--min-age', 'soon', config], [], [config, config]]) {
      const run = await registryCommand(['garbage-collect', ...args]);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr, args.join(' ')).to.contain('registry garbage-collect [--dry-run]');
    }
  });

  it('a manifest in use that cannot be read stops the collection before any deletion, with exit 1 and what to do', async () => {
    const manifestFile = join(root, layout.blob(seeded.v2.digest));
    const original = await readFile(manifestFile);
    await writeFile(manifestFile, 'not a manifest');
    try {
      const before = await snapshotTree(root);
      const run = await registryCommand(['garbage-collect', '--min-age', '0s', config]);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.contain('failed while marking; nothing was deleted');
      expect(run.stderr).to.contain(`manifest app@${seeded.v2.digest} is in use but its content is unreadable`);
      expect(run.stderr).to.contain(`DELETE /v2/app/manifests/${seeded.v2.digest}`);
      expect(await snapshotTree(root)).to.deep.equal(before);
    } finally {
      await writeFile(manifestFile, original);
    }
  });

  it("list shows each tag's digest, media type, platforms and total size, as a table or JSON", async () => {
    const json = await registryCommand(['list', '--json', config]);
    expect(json.code, json.stderr).to.equal(0);
    const listings = JSON.parse(json.stdout) as RepositoryListing[];
    expect(listings.map((l) => l.repository)).to.deep.equal(['app', 'bydigest', 'multi', 'other']);
    const app = listings.find((l) => l.repository === 'app');
    expect(app?.tags.map((t) => t.tag)).to.deep.equal(['latest', 'v2']);
    expect(app?.tags[1]).to.deep.equal({ tag: 'v2', digest: seeded.v2.digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: bytes(seeded.v2, true) });
    const multi = listings.find((l) => l.repository === 'multi')?.tags[0];
    const [amd64, arm64] = seeded.multi.children as [PushedImage, PushedImage];
    expect(multi).to.deep.equal({
      tag: 'v1',
      digest: seeded.multi.digest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      platforms: ['linux/amd64', 'linux/arm64'],
      size: seeded.multi.size + bytes(amd64, true) + bytes(arm64, false),
    });
    expect(listings.find((l) => l.repository === 'bydigest')?.tags).to.deep.equal([]);

    const table = await registryCommand(['list', 'multi', config]);
    expect(table.code, table.stderr).to.equal(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).to.match(/^REPOSITORY\s+TAG\s+DIGEST\s+TYPE\s+SIZE\s+PLATFORMS$/);
    expect(lines.slice(1)).to.have.length(1);
    expect(lines[1]).to.match(new RegExp(`^multi\\s+v1\\s+${seeded.multi.digest}\\s+oci-index\\s+\\S+ \\S+\\s+linux/amd64,linux/arm64$`));

    const unknown = await registryCommand(['list', 'nosuch', config]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.contain('repository nosuch is not in this registry');
  });

  it('du splits each repository into exclusive and shared bytes, and garbage-collect frees exactly what it predicted', async () => {
    const run = await registryCommand(['du', '--json', config]);
    expect(run.code, run.stderr).to.equal(0);
    const usage = JSON.parse(run.stdout) as Usage;
    const other = usage.repositories.find((r) => r.repository === 'other');
    expect(other).to.deep.equal({
      repository: 'other',
      tags: 1,
      manifests: 1,
      exclusiveBytes: bytes(seeded.other, false),
      sharedBytes: seeded.other.layerSizes[0],
    });
    expect(usage.unreferenced).to.deep.equal({ blobs: 3, bytes: bytes(seeded.v1, false) });
    expect(usage.untagged).to.deep.include({ manifests: 2, blobs: 6, bytes: bytes(seeded.oldLatest, false) + bytes(seeded.byDigest, false) });

    const before = await snapshotTree(root);
    const plain = await registryCommand(['garbage-collect', '--min-age', '0s', config]);
    expect(plain.stdout).to.contain(`deleted 0 manifests, 3 blobs and 2 layer links: ${formatBytes(usage.unreferenced.bytes)} freed`);
    const untagged = await registryCommand(['garbage-collect', '--delete-untagged', '--min-age', '0s', config]);
    expect(untagged.stdout).to.contain(`deleted 2 manifests, 6 blobs and 4 layer links: ${formatBytes(usage.untagged.bytes)} freed`);
    expect(removedFiles(before, await snapshotTree(root)).filter((f) => f.includes('/blobs/'))).to.have.length(9);
  });
});
