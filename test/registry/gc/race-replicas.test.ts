// The race of issue 15 through two replicas: two `registry serve` processes sharing one directory, each with the
// background collector on (storage.maintenance.gc, every second), every request of the pushers sent to either.
import { expect } from 'chai';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJobRecord } from '../../../registry/src/coord/exclusive.js';
import { GC_LEASE } from '../../../registry/src/gc/online.js';
import { openFilesystemDriver } from '../../../registry/src/storage/driver/filesystem.js';
import { makeTempDir, writeDistributionConfig } from '../../helpers/processes.js';
import { startS3RegistryProcess, type RegistryProcess } from '../../helpers/s3-registry.js';
import { KEEP, leftover } from './collections.js';
import { brokenImages, described, eventually, race } from './race.js';

interface Run {
  replica: string;
  start: number;
  end: number;
  deleted: number;
  spared: number;
}

/** The background collections a replica's log tells of, from registration to the end. */
async function runsOf(replica: RegistryProcess, name: string): Promise<Run[]> {
  const lines = (await replica.proc.readLog())
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.job === GC_LEASE);
  const runs: Run[] = [];
  let start: number | undefined;
  for (const line of lines) {
    const time = Date.parse(line.time as string);
    if (String(line.msg).startsWith('garbage collection registered')) start = time;
    if (line.msg === 'garbage collection finished' && start !== undefined) {
      const n = (key: string) => Number(line[key]);
      runs.push({ replica: name, start, end: time, deleted: n('manifestsDeleted') + n('blobsDeleted'), spared: n('manifestsSpared') + n('blobsSpared') });
      start = undefined;
    }
  }
  return runs;
}

describe('gc online: pushes racing the background collectors of two replicas', function () {
  this.timeout(240_000);

  it('every acknowledged image pulls intact through both replicas, collections never overlap, and nothing unreferenced older than the keep time is left', async function () {
    const dir = await makeTempDir('race-replicas');
    const root = join(dir, 'storage');
    await mkdir(root);
    const storage = {
      filesystem: { rootdirectory: root },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false }, gc: { enabled: true, interval: '1s', minage: KEEP.flag, deleteuntagged: true } },
    };
    const replicas: RegistryProcess[] = [];
    try {
      for (const name of ['a', 'b']) replicas.push(await startS3RegistryProcess(dir, name, storage, 'shared secret'));
      const urls = replicas.map((r) => r.url);
      const report = await race(urls, [], { pushers: 6, durationMs: 30_000, layers: 12, seed: 1503 });
      // Until a collection that began after the last push was older than the keep time has finished.
      const stopped = Date.now();
      const driver = await openFilesystemDriver({ rootdirectory: root });
      await eventually('a background collection after the pushes', async () => {
        const record = await readJobRecord(driver, GC_LEASE);
        return (record.lastStart ?? 0) > stopped + KEEP.ms && (record.lastFinish ?? 0) > (record.lastStart ?? 0);
      });
      const runs = [...(await runsOf(replicas[0] as RegistryProcess, 'a')), ...(await runsOf(replicas[1] as RegistryProcess, 'b'))].sort((x, y) => x.start - y.start);
      const about = `${described(report)} ${JSON.stringify(runs)}`;
      expect(await brokenImages(urls, report.expected), about).to.deep.equal([]);
      for (let i = 1; i < runs.length; i++) expect((runs[i] as Run).start, `runs overlap: ${about}`).to.be.at.least((runs[i - 1] as Run).end);
      expect(runs.reduce((n, r) => n + r.deleted, 0), about).to.be.greaterThan(0);
      expect(runs.reduce((n, r) => n + r.spared, 0), about).to.be.greaterThan(0);
      expect(await leftover(await writeDistributionConfig(dir, { rootDir: root }))).to.deep.equal({ manifests: 0, blobs: 0 });
    } finally {
      await Promise.all(replicas.map((r) => r.proc.stop()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
