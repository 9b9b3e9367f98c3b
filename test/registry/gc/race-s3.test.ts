// The race of issue 15 on S3 (s3rver): the same pushers and overlapping collection loops as on local disk, with
// nothing but the bucket shared between the registry and the collectors.
import { expect } from 'chai';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { toDistributionShape, toYaml } from '../../../registry/src/config/load.js';
import { createDriver } from '../../../registry/src/storage/driver/factory.js';
import { makeTempDir } from '../../helpers/processes.js';
import { startTestRegistry } from '../../helpers/registry.js';
import { startRegistry, type RunningRegistry } from '../../../registry/src/server.js';
import { quietLogger } from '../coord/fleet.js';
import { cliCollection, inProcessCollection, KEEP, leftover } from './collections.js';
import { brokenImages, described, race } from './race.js';

describe('gc online: pushes racing collections on S3 (s3rver)', function () {
  this.timeout(240_000);

  it('every acknowledged image pulls intact through the replica and a fresh one, with exactly its tags, and nothing unreferenced older than the keep time is left', async function () {
    const dir = await makeTempDir('race-s3');
    const registry = await startTestRegistry({ storage: 's3' });
    let fresh: RunningRegistry | undefined;
    try {
      const config = join(dir, 'config.yml');
      await writeFile(config, toYaml(toDistributionShape(registry.config)));
      const driver = await createDriver(registry.config.storage.driver, quietLogger([]));
      const report = await race([registry.url], [() => cliCollection(config), () => inProcessCollection(driver)], { pushers: 6, durationMs: 30_000, layers: 12, seed: 1502 });
      await sleep(KEEP.ms);
      await cliCollection(config);
      // A second replica on the same bucket, started after the race: nothing in its caches.
      fresh = await startRegistry(registry.config, quietLogger([]));
      expect(await brokenImages([registry.url, fresh.url], report.expected), described(report)).to.deep.equal([]);
      expect(report.collections.reduce((n, c) => n + c.deleted, 0), described(report)).to.be.greaterThan(0);
      expect(report.collections.reduce((n, c) => n + c.spared, 0), described(report)).to.be.greaterThan(0);
      expect(await leftover(config)).to.deep.equal({ manifests: 0, blobs: 0 });
      await driver.close?.();
    } finally {
      await fresh?.close();
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
