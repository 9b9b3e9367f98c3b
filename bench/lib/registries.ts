// The registries under test, started as child processes on 127.0.0.1 with the same config.yml settings:
// filesystem storage in a temp dir, log level warn, access log off, delete enabled, upload purging off, and the
// in-memory blob descriptor cache that distribution's packaged config.yml turns on. Ours runs twice: with its default
// of a worker per core (or --workers N), and with one worker (one process, no cluster).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startDistribution, writeDistributionConfig, type DistributionOptions } from '../../test/helpers/distribution.js';
import { freePort, withPortRetry } from '../../test/helpers/ports.js';
import { httpReady, makeTempDir, startProcess, type ManagedProcess, type Readiness } from '../../test/helpers/spawn.js';
import { workerCount } from '../../registry/src/cluster/worker-count.js';
import { REGISTRY_CLI } from '../../test/helpers/registry-cli.js';

export type TargetName = 'ours' | 'ours-1' | 'distribution';

export interface Target {
  readonly name: TargetName;
  readonly url: string;
  /** The process started: with workers, their primary (proc-status.ts treeSum adds the workers in). */
  readonly pid: number;
  /** Processes that serve requests: ours' workers, 1 for distribution. */
  readonly workers: number;
  readonly process: ManagedProcess;
}

/** Config sections beyond the shared settings, the same for every registry (the mirror workload's `proxy`). */
export type ConfigExtra = Record<string, unknown>;

function settings(rootDir: string, extra: ConfigExtra = {}): DistributionOptions {
  return { rootDir, configExtra: { storage: { cache: { blobdescriptor: 'inmemory' } }, ...extra } };
}

export interface OursOptions {
  /** Extra node flags, e.g. --cpu-prof --cpu-prof-dir=DIR (the profile is written when the process exits on SIGTERM). */
  nodeFlags?: string[];
  /** Another build's cli.js (e.g. a scratch copy with a change to try); default: this tree's dist. */
  cli?: string;
  /** http.workers of the default target (`ours`); unset: the registry's own default, a worker per core. */
  workers?: number;
}

/** Ready once the primary says every worker serves, or the single process says it listens. */
function everyWorkerServes(url: string): Readiness {
  const answers = httpReady(`${url}/v2/`);
  return async (proc) => (await answers(proc)) && (await proc.readLog()).split('\n').some((line) => line.includes('"msg":"registry listening"') && !/"worker":[1-9]/.test(line));
}

async function launchOurs(name: 'ours' | 'ours-1', rootDir: string, opts: OursOptions, extra: ConfigExtra): Promise<Target> {
  const port = await freePort();
  const dir = await makeTempDir('bench-ours');
  const configPath = await writeDistributionConfig(dir, settings(rootDir, extra), port);
  const url = `http://127.0.0.1:${port}`;
  const workers = name === 'ours-1' ? 1 : (opts.workers ?? workerCount(undefined));
  const proc = await startProcess({
    name: 'registry',
    command: process.execPath,
    args: [...(opts.nodeFlags ?? []), opts.cli ?? REGISTRY_CLI, 'serve', configPath],
    dir,
    // Info lines only for the start-up (the access log stays off), JSON to read them.
    env: { REGISTRY_HTTP_WORKERS: String(workers), REGISTRY_LOG_LEVEL: 'info', REGISTRY_LOG_FORMATTER: 'json' },
    ready: everyWorkerServes(url),
  });
  return { name, url, pid: proc.pid, workers, process: proc };
}

/** This registry: `node dist/registry/src/cli.js serve config.yml`, storing under `rootDir`. */
export async function startOurs(name: 'ours' | 'ours-1', rootDir: string, opts: OursOptions = {}, extra: ConfigExtra = {}): Promise<Target> {
  await mkdir(rootDir, { recursive: true });
  return withPortRetry(() => launchOurs(name, rootDir, opts, extra));
}

/** distribution 2.8 (`docker-registry serve config.yml`), storing under `rootDir`. */
export async function startReference(rootDir: string, extra: ConfigExtra = {}): Promise<Target> {
  await mkdir(rootDir, { recursive: true });
  const dist = await startDistribution(settings(rootDir, extra));
  return { name: 'distribution', url: dist.url, pid: dist.pid, workers: 1, process: dist.process };
}

export function startTarget(name: TargetName, workDir: string, ours: OursOptions = {}, extra: ConfigExtra = {}, label = 'storage'): Promise<Target> {
  const rootDir = join(workDir, `${name}-${label}`);
  return name === 'distribution' ? startReference(rootDir, extra) : startOurs(name, rootDir, ours, extra);
}
