// node dist/bench/rss-1gib.js [--size-mib N] [--limit-mib N] [--workers N] [--with-distribution]
// Pushes one big blob in 8 MiB PATCHes, another in a single PUT, and pulls one back (hashing it), and reports the
// registry's peak RSS in each phase: memory has to stay flat whatever the blob size (issue 3: under 150 MiB). With
// workers, the figure is the whole process tree's (the sum of each process's peak) and the limit applies per worker.
import { parseArgs } from 'node:util';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '../test/helpers/spawn.js';
import { pushChunked, pushMonolithic, verifyBlob, writeBlobFile } from './lib/blobs.js';
import { Client } from './lib/http.js';
import { MiB, peakRss, resetPeakRss, treePids, treeSum } from './lib/proc-status.js';
import { startTarget, type Target, type TargetName } from './lib/registries.js';

const { values: args } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1024' },
    'limit-mib': { type: 'string', default: '150' },
    'with-distribution': { type: 'boolean', default: false },
    workers: { type: 'string', default: '1' },
  },
});
const workers = Number(args.workers);
const size = Number(args['size-mib']) * MiB;
const limit = Number(args['limit-mib']);
if (!Number.isInteger(size) || size <= 0 || !(limit > 0) || !Number.isInteger(workers) || workers < 1) {
  process.stderr.write('usage: node dist/bench/rss-1gib.js [--size-mib N] [--limit-mib N] [--workers N] [--with-distribution]\n');
  process.exit(2);
}

const CHUNK = 8 * MiB;
const REPO = 'bench/rss';
const workDir = await makeTempDir('bench-rss');
const targets: Target[] = [];

async function shutdown(): Promise<void> {
  await Promise.all(targets.map((t) => t.process.stop(10_000)));
  await rm(workDir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void shutdown().finally(() => process.exit(130)));
}

type Phases = Record<string, number>;

/** Peak RSS in MiB of each phase, the kernel's high-water mark reset before each. */
async function measure(target: Target): Promise<Phases> {
  const chunked = await writeBlobFile(join(workDir, 'chunked.bin'), 'rss-chunked', size);
  const monolithic = await writeBlobFile(join(workDir, 'monolithic.bin'), 'rss-monolithic', size);
  const client = new Client(target.url, 1);
  const treePeak = async () => (await treeSum(target.pid, peakRss)) / MiB;
  const phases: Phases = { idle: await treePeak() };
  const phase = async (name: string, step: () => Promise<void>): Promise<void> => {
    for (const pid of await treePids(target.pid)) await resetPeakRss(pid);
    await step();
    phases[name] = await treePeak();
    process.stderr.write(`${target.name}: ${name} peak RSS ${phases[name]?.toFixed(1)} MiB\n`);
  };
  try {
    await phase('push chunked', () => pushChunked(client, REPO, chunked, CHUNK));
    await phase('push monolithic', () => pushMonolithic(client, REPO, monolithic));
    await phase('pull', () => verifyBlob(client, REPO, monolithic));
  } finally {
    client.close();
  }
  return phases;
}

async function run(): Promise<boolean> {
  const names: TargetName[] = args['with-distribution'] ? ['ours', 'distribution'] : ['ours'];
  const results: Record<string, Phases> = {};
  for (const name of names) {
    const target = await startTarget(name, workDir, { workers });
    targets.push(target);
    results[name] = await measure(target);
    await target.process.stop(10_000);
  }
  const phaseNames = Object.keys(results.ours ?? {});
  const tree = workers === 1 ? '' : `, summed over the primary and its ${workers} workers`;
  process.stdout.write(`peak RSS (MiB) with a ${size / MiB} MiB blob${tree}\n| phase | ${names.join(' | ')} |\n| --- |${names.map(() => ' ---: |').join('')}\n`);
  for (const phase of phaseNames) {
    process.stdout.write(`| ${phase} | ${names.map((n) => results[n]?.[phase]?.toFixed(1)).join(' | ')} |\n`);
  }
  const worst = Math.max(...Object.values(results.ours ?? {})) / workers;
  const ok = worst < limit;
  process.stdout.write(`ours: highest phase peak ${worst.toFixed(1)} MiB${workers === 1 ? '' : ' per worker'}, ${ok ? 'under' : 'NOT under'} the ${limit} MiB limit\n`);
  return ok;
}

try {
  process.exitCode = (await run()) ? 0 : 1;
} catch (err) {
  process.stderr.write(`rss-1gib: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  await shutdown();
}
