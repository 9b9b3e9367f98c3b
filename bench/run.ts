// npm run bench [-- --rounds N] [--quick] [--only WORKLOAD ...] [--cpu-prof DIR]
// Starts this registry and distribution 2.8 side by side, measures the machine's ceilings, runs every workload
// against each registry in turn (ours, distribution, round after round), prints one table and writes JSON.
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify, parseArgs } from 'node:util';
import { runTool, toolPath } from '../test/helpers/tools.js';
import { makeTempDir } from '../test/helpers/spawn.js';
import { writeBlobFile, type BlobFile } from './lib/blobs.js';
import { measureBarePush } from './lib/bare-push.js';
import { measureCeilings } from './lib/ceilings.js';
import { cpuMs, MiB, peakRss } from './lib/proc-status.js';
import { startTarget, type OursOptions, type Target, type TargetName } from './lib/registries.js';
import { summarize, table, type Rounds, type Row } from './lib/report.js';
import { catalogWorkload, tagsWorkload } from './workloads/listing.js';
import { manifestPutWorkload, manifestReadWorkload } from './workloads/manifests.js';
import { mirrorWorkload } from './workloads/mirror.js';
import { pullWorkload } from './workloads/pull.js';
import { pushChunkedWorkload, pushMonolithicWorkload, pushSmallWorkload } from './workloads/push.js';
import type { Env, Sizes, Workload } from './workloads/workload.js';

const FULL: Sizes = {
  bigBlob: 256 * MiB,
  chunk: 8 * MiB,
  smallBlobs: 500,
  smallBlobSize: 64 * 1024,
  smallConcurrency: 8,
  pullConcurrency: 8,
  manifests: 1000,
  manifestConcurrency: 8,
  loadConnections: 32,
  loadSeconds: 10,
  listEntries: 5000,
  pageSize: 100,
};

const QUICK: Sizes = { ...FULL, bigBlob: 32 * MiB, smallBlobs: 100, manifests: 200, loadSeconds: 2, listEntries: 500 };

function workloads(sizes: Sizes): Workload[] {
  return [
    pushMonolithicWorkload(sizes),
    pushSmallWorkload(sizes),
    pushChunkedWorkload(sizes),
    pullWorkload(sizes),
    manifestPutWorkload(sizes),
    manifestReadWorkload(sizes),
    catalogWorkload(sizes),
    tagsWorkload(sizes),
    mirrorWorkload(sizes),
  ];
}

const usage = `usage: node dist/bench/run.js [--rounds N] [--quick] [--only WORKLOAD]... [--cpu-prof DIR] [--registry-cli FILE] [--json FILE]
  --rounds N       rounds of every workload against each registry (default 2, or 1 with --quick)
  --quick          small sizes and short loads, a smoke run of the harness
  --only WORKLOAD  run only this workload (repeatable): ${workloads(FULL)
    .map((w) => w.name)
    .join(', ')}
  --cpu-prof DIR   run our registry under node --cpu-prof, writing its profile into DIR when it stops
  --registry-cli F run our registry from another build's cli.js (to measure a change on a scratch copy)
  --json FILE      where the JSON goes (default bench/results/latest.json)
`;

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const execFileAsync = promisify(execFile);

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    'cpu-prof': { type: 'string' },
    'registry-cli': { type: 'string' },
    json: { type: 'string', default: join(repoRoot, 'bench/results/latest.json') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n${usage}`);
  process.exit(2);
}

if (args.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const sizes = args.quick ? QUICK : FULL;
const rounds = args.rounds === undefined ? (args.quick ? 1 : 2) : Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) fail(`--rounds must be a positive integer, not "${args.rounds}"`);
const all = workloads(sizes);
const unknown = (args.only ?? []).filter((name) => !all.some((w) => w.name === name));
if (unknown.length > 0) fail(`unknown workload ${unknown.join(', ')}`);
const selected = args.only ? all.filter((w) => args.only?.includes(w.name)) : all;
const profileDir = args['cpu-prof'] === undefined ? undefined : resolve(args['cpu-prof']);
const ours: OursOptions = {
  ...(profileDir && { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] }),
  ...(args['registry-cli'] && { cli: resolve(args['registry-cli']) }),
};

const ORDER: TargetName[] = ['ours', 'distribution'];
const workDir = await makeTempDir('bench');
const targets: Target[] = [];
/** Registries a workload started for itself (the mirror workload's mirrors and upstream). */
const helpers: Target[] = [];

async function shutdown(): Promise<void> {
  await Promise.all(selected.map((w) => w.cleanup?.()));
  await Promise.all([...targets, ...helpers].map((t) => t.process.stop(10_000)));
  await rm(workDir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`bench: ${signal}, stopping both registries`);
    void shutdown().finally(() => process.exit(130));
  });
}

const files = new Map<string, Promise<BlobFile>>();
const env: Env = {
  sizes,
  blobFile(seed, size) {
    const key = `${seed}-${size}`;
    let file = files.get(key);
    if (!file) {
      file = writeBlobFile(join(workDir, `${key}.bin`), seed, size);
      files.set(key, file);
    }
    return file;
  },
  async startRegistry(name, extra, label) {
    const target = await startTarget(name, workDir, ours, extra, label);
    helpers.push(target);
    return target;
  },
};

/** Writes back dirty pages (earlier pushes, generated files) so no timed step pays for another's disk writes. */
async function settle(): Promise<void> {
  await execFileAsync('sync');
}

async function run(): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg();
  log(`bench: work dir ${workDir}; ${rounds} round(s) of ${selected.map((w) => w.name).join(', ')}`);
  const ceilings = await measureCeilings(workDir, sizes.bigBlob);
  log(`ceilings (MB/s): ${JSON.stringify(ceilings, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}`);
  const barePush = await measureBarePush(workDir, await env.blobFile('bare', sizes.bigBlob));
  log(`bare Node push (MB/s): ${Math.round(barePush)}`);
  if (profileDir) await mkdir(profileDir, { recursive: true });
  for (const name of ORDER) {
    targets.push(await startTarget(name, workDir, ours));
  }
  const peakAfterPrepare: Record<TargetName, Record<string, number>> = { ours: {}, distribution: {} };
  for (const workload of selected) {
    for (const target of targets) {
      log(`prepare ${workload.name} on ${target.name}`);
      await workload.prepare?.(target, env);
      peakAfterPrepare[target.name][workload.name] = Math.round((await peakRss(target.pid)) / MiB);
    }
  }
  const figures = new Map<string, Rounds>();
  const details: Record<string, Record<string, unknown[]>> = {};
  // The kernel's peak RSS after each workload, per round: shows which workload makes a registry grow.
  const peakAfter: Record<TargetName, Record<string, number[]>> = { ours: {}, distribution: {} };
  // CPU ms each registry spent in each timed run: a figure other load on this shared machine hardly disturbs.
  const registryCpu: Record<TargetName, Record<string, number[]>> = { ours: {}, distribution: {} };
  for (let round = 0; round < rounds; round++) {
    for (const workload of selected) {
      for (const target of targets) {
        await settle();
        const cpuBefore = await cpuMs(target.pid);
        const result = await workload.run(target, env, round);
        (registryCpu[target.name][workload.name] ??= []).push((await cpuMs(target.pid)) - cpuBefore);
        for (const [id, value] of Object.entries(result.values)) {
          const perTarget = figures.get(id) ?? { ours: [], distribution: [] };
          perTarget[target.name].push(value);
          figures.set(id, perTarget);
        }
        if (result.details) ((details[workload.name] ??= {})[target.name] ??= []).push(result.details);
        (peakAfter[target.name][workload.name] ??= []).push(Math.round((await peakRss(target.pid)) / MiB));
        const shown = Object.entries(result.values).map(([id, v]) => `${id} ${v.toFixed(1)}`);
        log(`round ${round + 1}/${rounds} ${target.name}: ${shown.join(', ')}${result.details ? ` ${JSON.stringify(result.details)}` : ''}`);
      }
    }
  }
  const rss: Rounds = { ours: [], distribution: [] };
  for (const target of targets) rss[target.name].push((await peakRss(target.pid)) / MiB);
  const rows: Row[] = selected.flatMap((w) => w.metrics.map((m) => summarize(m, figures.get(m.id) as Rounds, ceilings)));
  rows.push(summarize({ id: 'peak-rss', label: 'peak RSS over the whole run (MiB)', better: 'lower' }, rss, ceilings));

  const report = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      node: process.version,
      // Other work on the machine (1, 5 and 15 minute load averages) is what makes runs disagree.
      loadavg: { start: loadAtStart, end: loadavg() },
      distribution: (await runTool(toolPath('docker-registry'), ['--version'])).trim(),
    },
    options: { rounds, quick: args.quick, only: args.only ?? null, cpuProfile: profileDir ?? null, registryCli: ours.cli ?? null },
    sizes,
    ceilings,
    barePushMBps: barePush,
    rows,
    details,
    registryCpuMs: registryCpu,
    peakRssMiBAfterPrepare: peakAfterPrepare,
    peakRssMiBAfterWorkload: peakAfter,
  };
  await mkdir(dirname(args.json), { recursive: true });
  await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(table(rows));
  const notes = Object.entries(details).map(([name, perTarget]) => `${name}: ${JSON.stringify(perTarget)}`);
  process.stdout.write(`\nceilings (MB/s): sha256 ${ceilings.sha256.toFixed(0)}, disk write+fdatasync ${ceilings.diskWrite.toFixed(0)}, read ${ceilings.diskRead.toFixed(0)}, loopback ${ceilings.loopback.toFixed(0)}\n`);
  process.stdout.write(`bare Node push (receive + sha256 + write + fdatasync, nothing else; best of 3): ${barePush.toFixed(0)} MB/s\n`);
  if (notes.length > 0) process.stdout.write(`${notes.join('\n')}\n`);
  log(`JSON written to ${args.json}`);
}

try {
  await run();
} catch (err) {
  for (const target of targets) {
    const lines = (await target.process.readLog().catch(() => '')).trimEnd().split('\n').slice(-20);
    log(`--- ${target.name} (pid ${target.pid}) log, last lines:\n${lines.join('\n')}`);
  }
  log(`bench: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await shutdown();
}
