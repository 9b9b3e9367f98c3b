// npm run bench [-- --rounds N] [--quick] [--only WORKLOAD ...] [--clients N] [--workers N] [--cpu-prof DIR]
// Starts this registry (with its default of a worker per core, and with one worker) and distribution 2.8 side by
// side, measures the machine's ceilings, runs every workload against each registry in turn (round after round),
// prints one table and writes JSON.
import { execFile } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify, parseArgs } from 'node:util';
import { runTool, toolPath } from '../test/helpers/tools.js';
import { makeTempDir } from '../test/helpers/spawn.js';
import { writeBlobFile, type BlobFile } from './lib/blobs.js';
import { measureBarePush } from './lib/bare-push.js';
import { measureCeilings } from './lib/ceilings.js';
import { measureClientCeilings } from './lib/client-ceiling.js';
import type { Ceilings } from './lib/ceilings.js';
import type { ClientKind } from './lib/fanout.js';
import { cpuMs, currentRss, machineBusyMs, MiB, peakRss, treeSum } from './lib/proc-status.js';
import { startTarget, type OursOptions, type Target, type TargetName } from './lib/registries.js';
import { summarize, table, type Rounds, type Row } from './lib/report.js';
import { catalogWorkload, tagsWorkload } from './workloads/listing.js';
import { manifestFanOutWorkload, manifestPutWorkload, manifestReadWorkload } from './workloads/manifests.js';
import { mirrorWorkload } from './workloads/mirror.js';
import { fanoutFiles, fanoutPullWorkload, fanoutPushWorkload } from './workloads/fanout.js';
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
  clients: 16,
  fanoutBlob: 64 * MiB,
  fanoutConnections: 96,
  loadProcesses: availableParallelism(),
};

const QUICK: Sizes = { ...FULL, bigBlob: 32 * MiB, smallBlobs: 100, manifests: 200, loadSeconds: 2, listEntries: 500, clients: 4, fanoutBlob: 8 * MiB };

function workloads(sizes: Sizes): Workload[] {
  return [
    pushMonolithicWorkload(sizes),
    pushSmallWorkload(sizes),
    pushChunkedWorkload(sizes),
    pullWorkload(sizes),
    fanoutPushWorkload(sizes),
    fanoutPullWorkload(sizes),
    manifestPutWorkload(sizes),
    manifestReadWorkload(sizes),
    manifestFanOutWorkload(sizes),
    catalogWorkload(sizes),
    tagsWorkload(sizes),
    mirrorWorkload(sizes),
  ];
}

const usage = `usage: node dist/bench/run.js [--rounds N] [--quick] [--only WORKLOAD]... [--clients N] [--workers N] [--client curl|node]
                              [--fanout-mib N] [--load-processes N] [--cpu-prof DIR] [--registry-cli FILE] [--json FILE]
  --rounds N       rounds of every workload against each registry (default 2, or 1 with --quick)
  --quick          small sizes and short loads, a smoke run of the harness
  --only WORKLOAD  run only this workload (repeatable): ${workloads(FULL)
    .map((w) => w.name)
    .join(', ')}
  --clients N      client processes of the fan-out push and pull (default 16, 4 with --quick)
  --workers N      http.workers of ours (default: the registry's own, a worker per core); ours also runs with 1
  --client KIND    the fan-out clients: curl (default) or node (one Node process per client, where curl is missing)
  --fanout-mib N   each fan-out push client's blob (default 64, 8 with --quick)
  --load-processes N  client processes of the ${FULL.fanoutConnections}-connection manifest load (default: the cores)
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
    clients: { type: 'string' },
    workers: { type: 'string' },
    client: { type: 'string', default: 'curl' },
    'fanout-mib': { type: 'string' },
    'load-processes': { type: 'string' },
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
/** A positive integer option, or the fallback when it is not given. */
function count(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, not "${value}"`);
  return n;
}

const base = args.quick ? QUICK : FULL;
const sizes: Sizes = {
  ...base,
  clients: count('clients', args.clients, base.clients),
  fanoutBlob: count('fanout-mib', args['fanout-mib'], base.fanoutBlob / MiB) * MiB,
  loadProcesses: count('load-processes', args['load-processes'], base.loadProcesses),
};
const rounds = count('rounds', args.rounds, args.quick ? 1 : 2);
if (args.client !== 'curl' && args.client !== 'node') fail(`--client must be curl or node, not "${args.client}"`);
const clientKind = args.client as ClientKind;
const all = workloads(sizes);
const unknown = (args.only ?? []).filter((name) => !all.some((w) => w.name === name));
if (unknown.length > 0) fail(`unknown workload ${unknown.join(', ')}`);
const selected = args.only ? all.filter((w) => args.only?.includes(w.name)) : all;
const profileDir = args['cpu-prof'] === undefined ? undefined : resolve(args['cpu-prof']);
const ours: OursOptions = {
  ...(profileDir && { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] }),
  ...(args['registry-cli'] && { cli: resolve(args['registry-cli']) }),
  ...(args.workers !== undefined && { workers: count('workers', args.workers, 1) }),
};

const ORDER: TargetName[] = ['ours', 'ours-1', 'distribution'];
/** How long the registries idle after their start before their memory is read. */
const IDLE_SETTLE_MS = 30_000;
const perTarget = <T>(make: () => T): Record<TargetName, T> => ({ ours: make(), 'ours-1': make(), distribution: make() });
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
  clientKind,
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
  const ceilings: Ceilings = await measureCeilings(workDir, sizes.bigBlob);
  const fanningOut = selected.some((w) => w.name.startsWith('fanout-'));
  // Measured before the registries start and again after they stopped working, the best kept: as for every ceiling,
  // other work on the machine only ever lowers it, and one moment's load should not decide it.
  const measureClients = async (): Promise<void> => {
    const client = await measureClientCeilings(clientKind, await fanoutFiles(sizes, env), sizes.clients, sizes.bigBlob);
    ceilings.clientPush = Math.max(ceilings.clientPush ?? 0, client.push);
    ceilings.clientPull = Math.max(ceilings.clientPull ?? 0, client.pull);
  };
  if (fanningOut) await measureClients();
  log(`ceilings (MB/s): ${JSON.stringify(ceilings, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}`);
  const barePush = await measureBarePush(workDir, await env.blobFile('bare', sizes.bigBlob));
  log(`bare Node push (MB/s): ${Math.round(barePush)}`);
  if (profileDir) await mkdir(profileDir, { recursive: true });
  for (const name of ORDER) {
    targets.push(await startTarget(name, workDir, ours));
  }
  const on = (workload: Workload): Target[] => targets.filter((t) => t.name !== 'ours-1' || workload.oneWorker);
  // Resident memory of each registry's whole process tree, idle: nothing has been asked of it yet, and V8 has had the
  // time to give back what loading the code took (its memory reducer runs after some seconds of quiet).
  await sleep(IDLE_SETTLE_MS);
  const idleRss = perTarget<number[]>(() => []);
  for (const target of targets) idleRss[target.name].push((await treeSum(target.pid, currentRss)) / MiB);
  log(`idle RSS of each process tree (MiB): ${targets.map((t) => `${t.name} ${idleRss[t.name][0]?.toFixed(1)} (${t.workers} worker(s))`).join(', ')}`);
  const peakAfterPrepare = perTarget<Record<string, number>>(() => ({}));
  for (const workload of selected) {
    for (const target of on(workload)) {
      log(`prepare ${workload.name} on ${target.name}`);
      await workload.prepare?.(target, env);
      peakAfterPrepare[target.name][workload.name] = Math.round((await treeSum(target.pid, peakRss)) / MiB);
    }
  }
  const figures = new Map<string, Rounds>();
  const details: Record<string, Record<string, unknown[]>> = {};
  // The kernel's peak RSS after each workload, per round (summed over a process tree): shows which workload makes a
  // registry grow.
  const peakAfter = perTarget<Record<string, number[]>>(() => ({}));
  // CPU ms each registry spent in each timed run: a figure other load on this shared machine hardly disturbs.
  const registryCpu = perTarget<Record<string, number[]>>(() => ({}));
  // CPU ms the whole machine spent meanwhile: the registry, its clients and the kernel.
  const machineCpu = perTarget<Record<string, number[]>>(() => ({}));
  for (let round = 0; round < rounds; round++) {
    for (const workload of selected) {
      // Every other round the other registry goes first, so load that rises or falls during a round favours neither.
      const order = round % 2 === 0 ? on(workload) : on(workload).reverse();
      for (const target of order) {
        await settle();
        const [cpuBefore, machineBefore] = [await treeSum(target.pid, cpuMs), await machineBusyMs()];
        const result = await workload.run(target, env, round);
        (registryCpu[target.name][workload.name] ??= []).push((await treeSum(target.pid, cpuMs)) - cpuBefore);
        (machineCpu[target.name][workload.name] ??= []).push((await machineBusyMs()) - machineBefore);
        for (const [id, value] of Object.entries(result.values)) {
          const figure = figures.get(id) ?? perTarget<number[]>(() => []);
          figure[target.name].push(value);
          figures.set(id, figure);
        }
        if (result.details) ((details[workload.name] ??= {})[target.name] ??= []).push(result.details);
        (peakAfter[target.name][workload.name] ??= []).push(Math.round((await treeSum(target.pid, peakRss)) / MiB));
        const shown = Object.entries(result.values).map(([id, v]) => `${id} ${v.toFixed(1)}`);
        log(`round ${round + 1}/${rounds} ${target.name}: ${shown.join(', ')}${result.details ? ` ${JSON.stringify(result.details)}` : ''}`);
      }
    }
  }
  if (fanningOut) await measureClients();
  const rss: Rounds = perTarget<number[]>(() => []);
  for (const target of targets) rss[target.name].push((await treeSum(target.pid, peakRss)) / MiB);
  const idlePerWorker: Rounds = perTarget<number[]>(() => []);
  for (const target of targets) idlePerWorker[target.name].push((idleRss[target.name][0] as number) / target.workers);
  const rows: Row[] = selected.flatMap((w) => w.metrics.map((m) => summarize(m, figures.get(m.id) as Rounds, ceilings)));
  const GiB = 1024 * MiB;
  for (const w of selected) {
    const bytes = w.bytesPerRun;
    if (bytes === undefined) continue;
    const perGiB = (cpu: Record<TargetName, Record<string, number[]>>): Rounds => {
      const rounds = perTarget<number[]>(() => []);
      for (const name of Object.keys(rounds) as TargetName[]) rounds[name] = (cpu[name][w.name] ?? []).map((ms) => ms / (bytes / GiB));
      return rounds;
    };
    rows.push(summarize({ id: `${w.name}-cpu`, label: `${w.name}: the registry's CPU per GiB moved (ms)`, better: 'lower' }, perGiB(registryCpu), ceilings));
    rows.push(summarize({ id: `${w.name}-machine-cpu`, label: `${w.name}: the whole machine's CPU per GiB moved, clients included (ms)`, better: 'lower' }, perGiB(machineCpu), ceilings));
  }
  rows.push(summarize({ id: 'idle-rss', label: `idle RSS of the whole process tree, ${IDLE_SETTLE_MS / 1000} s after start (MiB)`, better: 'lower' }, idleRss, ceilings));
  rows.push(summarize({ id: 'idle-rss-per-worker', label: 'idle RSS of the tree per worker (MiB)', better: 'lower' }, idlePerWorker, ceilings));
  rows.push(summarize({ id: 'peak-rss', label: 'peak RSS over the whole run, process tree (MiB)', better: 'lower' }, rss, ceilings));

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
    options: { rounds, quick: args.quick, only: args.only ?? null, cpuProfile: profileDir ?? null, registryCli: ours.cli ?? null, client: clientKind },
    workers: Object.fromEntries(targets.map((t) => [t.name, t.workers])),
    sizes,
    ceilings,
    barePushMBps: barePush,
    rows,
    details,
    registryCpuMs: registryCpu,
    machineCpuMs: machineCpu,
    peakRssMiBAfterPrepare: peakAfterPrepare,
    peakRssMiBAfterWorkload: peakAfter,
  };
  await mkdir(dirname(args.json), { recursive: true });
  await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(table(rows));
  const notes = Object.entries(details).map(([name, perTarget]) => `${name}: ${JSON.stringify(perTarget)}`);
  process.stdout.write(`\nceilings (MB/s): sha256 ${ceilings.sha256.toFixed(0)}, disk write+fdatasync ${ceilings.diskWrite.toFixed(0)}, read ${ceilings.diskRead.toFixed(0)}, loopback ${ceilings.loopback.toFixed(0)}\n`);
  process.stdout.write(`bare Node push (receive + sha256 + write + fdatasync, nothing else; best of 3): ${barePush.toFixed(0)} MB/s\n`);
  process.stdout.write(`workers: ${targets.map((t) => `${t.name} ${t.workers}`).join(', ')}; fan-out clients: ${sizes.clients} ${clientKind} processes`);
  if (ceilings.clientPush !== undefined) process.stdout.write(`, their ceiling against a server that only moves bytes: push ${ceilings.clientPush.toFixed(0)}, pull ${ceilings.clientPull?.toFixed(0)} MB/s`);
  process.stdout.write('\n');
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
