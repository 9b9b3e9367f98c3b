// The same race with the offline collector in the loop: mark, then sweep, with the same --min-age but without a
// registered collection, so without the writers' intents and tombstones (what `registry garbage-collect` was before
// issue 15, and what distribution 2.8's is). Acknowledged images break: the failure the online collection prevents.
import { expect } from 'chai';
import { collectGarbage } from '../../../registry/src/gc/collect.js';
import { openFilesystemDriver } from '../../../registry/src/storage/driver/filesystem.js';
import { startTestRegistry } from '../../helpers/registry.js';
import { KEEP } from './collections.js';
import { unguarded } from './fixtures.js';
import { brokenImages, described, race } from './race.js';

describe('gc online: the same race against an offline collector', function () {
  this.timeout(240_000);

  it('breaks acknowledged images: what a push made referenced during the mark (a reused layer, a manifest tagged again) is swept under it', async function () {
    const registry = await startTestRegistry({ storage: 'filesystem' });
    const driver = await openFilesystemDriver({ rootdirectory: registry.rootDir as string });
    try {
      const collect = async () => {
        const s = await collectGarbage(driver, { dryRun: false, deleteUntagged: true, minAgeMs: KEEP.ms }, () => undefined, unguarded);
        return { deleted: s.manifestsDeleted + s.blobsDeleted, spared: 0 };
      };
      // The race is a race: a round of 30 s broke one or two images in each of the runs tried; up to three rounds.
      const rounds: string[] = [];
      let broken: string[] = [];
      for (let round = 0; round < 3 && broken.length === 0; round++) {
        const report = await race([registry.url], [collect], { pushers: 6, durationMs: 30_000, layers: 12, seed: 1501 + 100 * round });
        rounds.push(described(report));
        broken = await brokenImages([registry.url], report.expected);
      }
      expect(broken, rounds.join('\n')).to.not.deep.equal([]);
    } finally {
      await registry.stop();
    }
  });
});
