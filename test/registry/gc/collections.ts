// Collections as the race tests run them: `registry garbage-collect` processes on a config file, their summary read
// back from stdout, and collections in the test's own process (no lease: they overlap the command's).
import { expect } from 'chai';
import { newCoordinatorId } from '../../../registry/src/coord/coordinator.js';
import { collectLive } from '../../../registry/src/gc/online.js';
import type { StorageDriver } from '../../../registry/src/storage/driver/driver.js';
import { runRegistry } from '../../helpers/registry-cli.js';
import { quietLogger } from '../coord/fleet.js';
import type { CollectionCounts } from './race.js';

/** The keep time (--min-age) of every collection in the race tests. */
export const KEEP = { ms: 1000, flag: '1s' };

function count(stdout: string, pattern: RegExp): number {
  const match = pattern.exec(stdout);
  if (!match) throw new Error(`no ${pattern} in the collector's output:\n${stdout}`);
  return Number(match[1]) + Number(match[2]);
}

/** One `registry garbage-collect --delete-untagged --min-age 1s`, to completion. */
export async function cliCollection(config: string): Promise<CollectionCounts> {
  // The collector lowers its own priority, and here it competes with the pushers and the registry for the cores.
  const run = await runRegistry(['garbage-collect', '--delete-untagged', '--min-age', KEEP.flag, '--quiet', config], {}, { timeoutMs: 180_000 });
  expect(run.code, run.stderr).to.equal(0);
  return {
    deleted: count(run.stdout, /deleted (\d+) manifests?, (\d+) blobs?/),
    spared: count(run.stdout, /kept, referenced during the collection: (\d+) manifests?, (\d+) blobs?/),
  };
}

/** What a collection with the keep time would delete now: nothing, once collections have converged. */
export async function leftover(config: string): Promise<{ manifests: number; blobs: number }> {
  const run = await runRegistry(['garbage-collect', '--dry-run', '--delete-untagged', '--min-age', KEEP.flag, '--quiet', config]);
  expect(run.code, run.stderr).to.equal(0);
  const match = /would delete (\d+) manifests?, (\d+) blobs?/.exec(run.stdout);
  if (!match) throw new Error(`no summary in the dry run's output:\n${run.stdout}`);
  return { manifests: Number(match[1]), blobs: Number(match[2]) };
}

/** One online collection in this process, as the background collector runs it, without the lease. */
export async function inProcessCollection(driver: StorageDriver): Promise<CollectionCounts> {
  const live = { holder: newCoordinatorId(), logger: quietLogger([]), swept: [] };
  const summary = await collectLive(driver, { dryRun: false, deleteUntagged: true, minAgeMs: KEEP.ms }, () => undefined, live);
  return { deleted: summary.manifestsDeleted + summary.blobsDeleted, spared: summary.manifestsSpared + summary.blobsSpared };
}
