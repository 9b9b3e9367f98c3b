// node dist/bench/gc.js [--manifests N] [--blobs N] [--storage disk|s3|both] [--concurrency N] [--json FILE]
// Times one collection of a registry of N manifests and N blobs generated straight into the storage, ours against
// distribution 2.8's offline collector on identical data (local disk, and a bucket on s3rver); then push throughput
// against our registry on disk while one of our collections runs, against the same without one.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../registry/src/config/load.js';
import { createDriver } from '../registry/src/storage/driver/factory.js';
import { quietLogger } from '../test/registry/coord/fleet.js';
import { s3Storage } from '../test/helpers/s3-registry.js';
import { startS3rver, type S3Server } from '../test/helpers/s3rver.js';
import { makeTempDir } from '../test/helpers/spawn.js';
import { diskPut, driverPut, writeLayout, type Layout } from '../test/helpers/registry-layout.js';
import { startOurs, type Target } from './lib/registries.js';
import { collectDistribution, collectOurs, copyTree, layoutSpec, pushUntil, writeConfig, type Collected, type GcSizes, type PushRate } from './workloads/gc.js';

const usage = 'usage: node dist/bench/gc.js [--manifests N] [--blobs N] [--storage disk|s3|both] [--concurrency N] [--json FILE]\n';
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    manifests: { type: 'string', default: '10000' },
    blobs: { type: 'string', default: '100000' },
    storage: { type: 'string', default: 'both' },
    concurrency: { type: 'string', default: '4' },
    json: { type: 'string', default: join(repoRoot, 'bench/results/gc.json') },
  },
});
const sizes: GcSizes = { manifests: Number(args.manifests), blobs: Number(args.blobs) };
const concurrency = Number(args.concurrency);
if (!(sizes.manifests > 0 && sizes.blobs > sizes.manifests * 2 && concurrency > 0) || !['disk', 's3', 'both'].includes(args.storage)) {
  process.stderr.write(usage);
  process.exit(2);
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const workDir = await makeTempDir('bench-gc');
const servers: (S3Server | Target)[] = [];
const report: Record<string, unknown> = { startedAt: new Date().toISOString(), sizes };

async function shutdown(): Promise<void> {
  for (const server of servers) await ('stop' in server ? server.stop() : server.process.stop(10_000));
  await rm(workDir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown().finally(() => process.exit(130)));

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  log(`${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

function checkDeleted(who: string, collected: Collected, layout: Layout): void {
  if (collected.blobsDeleted !== layout.garbageBlobs) throw new Error(`${who} deleted ${collected.blobsDeleted} blobs, the layout has ${layout.garbageBlobs} unreferenced`);
}

async function onDisk(): Promise<void> {
  const master = join(workDir, 'master');
  const layout = await timed('disk: layout written', () => writeLayout(diskPut(master), layoutSpec(sizes, 'disk')));
  log(`disk: ${JSON.stringify(layout)}`);
  const results: Record<string, Collected> = {};
  for (const who of ['ours', 'distribution'] as const) {
    const root = join(workDir, `disk-${who}`);
    await timed(`disk: copy for ${who}`, () => copyTree(master, root));
    const config = await writeConfig(workDir, `disk-${who}`, { filesystem: { rootdirectory: root } });
    results[who] = await timed(`disk: ${who} collects`, () => (who === 'ours' ? collectOurs(config) : collectDistribution(config)));
    checkDeleted(who, results[who] as Collected, layout);
    await rm(root, { recursive: true, force: true });
  }
  report.disk = { layout, ...results };

  // Pushes against our registry on a copy of the layout: alone, during one collection, alone again.
  const root = join(workDir, 'disk-live');
  await copyTree(master, root);
  const registry = await startOurs('ours', root);
  servers.push(registry);
  const config = await writeConfig(workDir, 'disk-live', { filesystem: { rootdirectory: root } });
  const seconds = async (s: number) => sleep(s * 1000);
  const pushes: Record<string, PushRate> = {};
  pushes.before = await timed('disk: pushes alone', () => pushUntil(registry.url, concurrency, 'before', seconds(20)));
  const collection = collectOurs(config);
  pushes.during = await timed('disk: pushes during a collection', () => pushUntil(registry.url, concurrency, 'during', collection));
  const during = await collection;
  pushes.after = await timed('disk: pushes alone again', () => pushUntil(registry.url, concurrency, 'after', seconds(20)));
  report.pushes = { ...pushes, collection: during, ratio: pushes.during.perSecond / ((pushes.before.perSecond + pushes.after.perSecond) / 2) };
}

async function onS3(): Promise<void> {
  const s3 = await startS3rver({ bucket: 'ours', extraBuckets: ['distribution'] });
  servers.push(s3);
  const logger = quietLogger([]);
  const results: Record<string, Collected & { layoutMs: number }> = {};
  const failures: Record<string, string> = {};
  for (const who of ['ours', 'distribution'] as const) {
    const config = await writeConfig(workDir, `s3-${who}`, { s3: s3Storage({ ...s3, bucket: who }, false).s3 });
    const driver = await createDriver((await loadConfigFile(config)).config.storage.driver, logger);
    const started = performance.now();
    const layout = await timed(`s3: layout written for ${who}`, () => writeLayout(driverPut(driver), layoutSpec(sizes, 's3'), 32));
    const layoutMs = performance.now() - started;
    report.s3Layout = layout;
    try {
      const collected = await timed(`s3: ${who} collects`, () => (who === 'ours' ? collectOurs(config) : collectDistribution(config)));
      checkDeleted(who, collected, layout);
      results[who] = { ...collected, layoutMs };
    } catch (err) {
      // distribution 2.8 cannot collect a bucket on s3rver (see docs/benchmarks.md): recorded, not fatal.
      if (who === 'ours') throw err;
      failures[who] = (err as Error).message.split('\n').slice(0, 2).join(' ');
      log(`s3: ${who} failed: ${failures[who]}`);
    }
  }
  report.s3 = { ...results, failures };
}

const seconds = (ms: number | undefined) => (ms === undefined ? '' : (ms / 1000).toFixed(1));

/** The figures as a table, as the other benches print them; the JSON keeps everything. */
function table(): string {
  const rows = [
    `| one collection of ${sizes.manifests} manifests, ${sizes.blobs} blobs (s) ↓ | ours | ours, mark and sweep | distribution 2.8 | ratio |`,
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  const row = (label: string, results: Record<string, Collected> | undefined, failures: Record<string, string> = {}) => {
    const ours = results?.ours;
    const theirs = results?.distribution;
    if (!ours) return;
    const ratio = theirs ? (ours.wallMs / theirs.wallMs).toFixed(2) : '';
    rows.push(`| ${label} | ${seconds(ours.wallMs)} | ${seconds(ours.workMs)} | ${theirs ? seconds(theirs.wallMs) : `failed: ${failures.distribution ?? '?'}`} | ${ratio} |`);
  };
  row('local disk', report.disk as Record<string, Collected> | undefined);
  const s3 = report.s3 as (Record<string, Collected> & { failures: Record<string, string> }) | undefined;
  row('s3rver', s3, s3?.failures);
  const pushes = report.pushes as (Record<'before' | 'during' | 'after', PushRate> & { ratio: number }) | undefined;
  if (pushes) {
    rows.push('', `| pushes of small images, ${concurrency} clients (images/s) ↑ | before | during our collection | after | during / alone |`, '| --- | ---: | ---: | ---: | ---: |');
    rows.push(`| local disk | ${pushes.before.perSecond.toFixed(1)} | ${pushes.during.perSecond.toFixed(1)} | ${pushes.after.perSecond.toFixed(1)} | ${pushes.ratio.toFixed(2)} |`);
  }
  return `${rows.join('\n')}\n`;
}

try {
  if (args.storage !== 's3') await onDisk();
  if (args.storage !== 'disk') await onS3();
  report.finishedAt = new Date().toISOString();
  await mkdir(dirname(resolve(args.json)), { recursive: true });
  await writeFile(resolve(args.json), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(table());
  log(`JSON written to ${resolve(args.json)}`);
} catch (err) {
  log(`bench: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await shutdown();
}
