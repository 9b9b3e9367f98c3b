// The maintenance `serve` does by itself: the background collector (storage.maintenance.gc) and scheduled retention
// (storage.maintenance.prune), as once-per-fleet jobs with their progress in the log and their figures in the metrics.
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { readJobRecord } from '../../../registry/src/coord/exclusive.js';
import { GC_LEASE } from '../../../registry/src/gc/online.js';
import { PRUNE_JOB } from '../../../registry/src/retention/background.js';
import { Client } from '../../helpers/oci.js';
import { makeTempDir } from '../../helpers/processes.js';
import { startTestRegistry } from '../../helpers/registry.js';
import { pullVerified, stored } from './fixtures.js';
import { eventually } from './race.js';

/** The value of a metric line (`name{labels} value`) in Prometheus text, or undefined. */
function metric(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('gc: the background collector and scheduled retention of serve', function () {
  this.timeout(120_000);
  let root: string;
  beforeEach(async () => {
    root = await makeTempDir('gc-background');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('collects while serving, says how far it got in the log, and exposes runs, duration, what it freed and its last success as metrics', async () => {
    const registry = await startTestRegistry({
      rootDir: root,
      config: {
        storage: { maintenance: { gc: { enabled: true, interval: '1s', minage: '0s' }, uploadpurging: { enabled: false } } },
        http: { debug: { addr: '127.0.0.1:0', prometheus: { enabled: true } } },
      },
    });
    try {
      const client = new Client(registry.url);
      const gone = await client.pushImage('app', 'old', ['a layer of an image about to be deleted']);
      const kept = await client.pushImage('app', 'v1', ['a layer that stays']);
      expect((await client.request('DELETE', `/v2/app/manifests/${gone.digest}`)).status).to.equal(202);
      await eventually('a collection deletes the deleted image', async () => !(await stored(registry.driver, gone.layers[0]?.digest as string)));
      await eventually('that collection finishes', async () => registry.logs.some((l) => l.msg === 'garbage collection finished' && Number(l.blobsDeleted) > 0));
      await pullVerified(client, 'app', 'v1');
      expect(await stored(registry.driver, kept.layers[0]?.digest as string)).to.equal(true);
      const gcLogs = registry.logs.filter((l) => l.job === GC_LEASE).map((l) => l.msg);
      expect(gcLogs).to.include.members(['marking', 'scanning blobs', 'sweeping', 'garbage collection finished']);
      expect(registry.logs.some((l) => l.msg === 'background garbage collection enabled' && l.component === 'gc')).to.equal(true);
      const text = await (await fetch(`${registry.debug?.url}/metrics`)).text();
      expect(metric(text, 'registry_gc_runs_total{outcome="success"}')).to.be.at.least(1);
      expect(metric(text, 'registry_gc_duration_seconds_count')).to.be.at.least(1);
      expect(metric(text, 'registry_gc_blobs_freed_total')).to.be.at.least(3);
      expect(metric(text, 'registry_gc_bytes_freed_total')).to.be.greaterThan(0);
      expect(metric(text, 'registry_gc_last_success_timestamp_seconds')).to.be.greaterThan(Date.now() / 1000 - 600);
      const record = await readJobRecord(registry.driver, GC_LEASE);
      expect(record.holder).to.equal(registry.coord.id);
    } finally {
      await registry.stop();
    }
  });

  it('refuses to collect or prune in read-only mode, and says why', async () => {
    const registry = await startTestRegistry({
      rootDir: root,
      config: { storage: { maintenance: { readonly: { enabled: true }, gc: { enabled: true, interval: '1s' }, prune: { enabled: true, interval: '1s' } } } },
    });
    try {
      const refusals = registry.logs.filter((l) => l.level === 'warn').map((l) => String(l.msg));
      expect(refusals.some((m) => m.startsWith('storage.maintenance.gc is enabled but') && m.includes('read-only storage must not change'))).to.equal(true);
      expect(refusals.some((m) => m.startsWith('storage.maintenance.prune is enabled but') && m.includes('read-only storage must not change'))).to.equal(true);
      expect(registry.logs.some((l) => l.msg === 'background garbage collection enabled')).to.equal(false);
    } finally {
      await registry.stop();
    }
  });

  it('prunes each repository to its newest tags once per interval, then has the collector free what only the pruned images used', async () => {
    const first = await startTestRegistry({ rootDir: root });
    const images = [];
    try {
      const client = new Client(first.url);
      for (const tag of ['v1', 'v2', 'v3']) images.push(await client.pushImage('app', tag, [`the layer of app:${tag}`]));
    } finally {
      await first.stop();
    }
    const registry = await startTestRegistry({
      rootDir: root,
      config: {
        storage: { maintenance: { prune: { enabled: true, interval: '2s', keep: 1 }, gc: { enabled: true, interval: '24h', minage: '0s' }, uploadpurging: { enabled: false } } },
      },
    });
    try {
      await eventually('the scheduled prune runs', async () => (await readJobRecord(registry.driver, PRUNE_JOB)).lastSuccess !== undefined);
      const runs = registry.logs.filter((l) => l.msg === 'prune finished');
      expect(runs[0]).to.deep.include({ job: PRUNE_JOB, repositories: 1, tagsKept: 1, tagsRemoved: 2, manifestsDeleted: 2 });
      const client = new Client(registry.url);
      expect(((await (await client.request('GET', '/v2/app/tags/list')).json()) as { tags: string[] }).tags).to.deep.equal(['v3']);
      await eventually('the collector runs after the prune', async () => (await readJobRecord(registry.driver, GC_LEASE)).lastSuccess !== undefined);
      for (const image of images.slice(0, 2)) expect(await stored(registry.driver, image.layers[0]?.digest as string), 'a pruned layer').to.equal(false);
      await pullVerified(client, 'app', 'v3');
    } finally {
      await registry.stop();
    }
  });
});
