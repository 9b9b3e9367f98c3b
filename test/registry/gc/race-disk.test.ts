// The race of issue 15 on local disk: collections in two overlapping loops (`registry garbage-collect
// --delete-untagged` processes, and online collections in this process) while pushers reuse layers of deleted
// images, mount them, tag untagged manifests again and delete tags and manifests. No acknowledged image breaks.
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { openFilesystemDriver } from '../../../registry/src/storage/driver/filesystem.js';
import { makeTempDir, writeDistributionConfig } from '../../helpers/processes.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { cliCollection, inProcessCollection, KEEP, leftover } from './collections.js';
import { brokenImages, described, race } from './race.js';

describe('gc online: pushes racing collections on local disk', function () {
  this.timeout(240_000);

  it('every acknowledged image pulls intact through the replica and a fresh one, with exactly its tags, and nothing unreferenced older than the keep time is left', async function () {
    const dir = await makeTempDir('race-disk');
    const registry = await startTestRegistry({ storage: 'filesystem' });
    const root = registry.rootDir as string;
    let fresh: TestRegistry | undefined;
    try {
      const config = await writeDistributionConfig(dir, { rootDir: root });
      const driver = await openFilesystemDriver({ rootdirectory: root });
      const report = await race([registry.url], [() => cliCollection(config), () => inProcessCollection(driver)], { pushers: 6, durationMs: 30_000, layers: 12, seed: 1501 });
      await sleep(KEEP.ms);
      await cliCollection(config);
      fresh = await startTestRegistry({ storage: 'filesystem', rootDir: root });
      expect(await brokenImages([registry.url, fresh.url], report.expected), described(report)).to.deep.equal([]);
      expect(report.collections.reduce((n, c) => n + c.deleted, 0), described(report)).to.be.greaterThan(0);
      expect(report.collections.reduce((n, c) => n + c.spared, 0), described(report)).to.be.greaterThan(0);
      expect(await leftover(config)).to.deep.equal({ manifests: 0, blobs: 0 });
    } finally {
      await fresh?.stop();
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
