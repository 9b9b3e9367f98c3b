// The two registries under test, started as child processes on 127.0.0.1 with the same config.yml settings:
// filesystem storage in a temp dir, log level warn, access log off, delete enabled, upload purging off, and the
// in-memory blob descriptor cache that distribution's packaged config.yml turns on.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startDistribution, writeDistributionConfig, type DistributionOptions } from '../../test/helpers/distribution.js';
import { freePort, withPortRetry } from '../../test/helpers/ports.js';
import { httpReady, makeTempDir, startProcess, type ManagedProcess } from '../../test/helpers/spawn.js';
import { REGISTRY_CLI } from '../../test/helpers/registry-cli.js';

export type TargetName = 'ours' | 'distribution';

export interface Target {
  readonly name: TargetName;
  readonly url: string;
  readonly pid: number;
  readonly process: ManagedProcess;
}


/** `extra`: sections added to both registries' config.yml alike (the mirror workload's `proxy`). */
function settings(rootDir: string, extra: Record<string, unknown> = {}): DistributionOptions {
  return { rootDir, configExtra: { storage: { cache: { blobdescriptor: 'inmemory' } }, ...extra } };
}

export interface OursOptions {
  /** Extra node flags, e.g. --cpu-prof --cpu-prof-dir=DIR (the profile is written when the process exits on SIGTERM). */
  nodeFlags?: string[];
  /** Another build's cli.js (e.g. a scratch copy with a change to try); default: this tree's dist. */
  cli?: string;
}

/** Config sections beyond the shared settings, the same for both registries. */
export type ConfigExtra = Record<string, unknown>;

async function launchOurs(rootDir: string, opts: OursOptions, extra: ConfigExtra): Promise<Target> {
  const port = await freePort();
  const dir = await makeTempDir('bench-ours');
  const configPath = await writeDistributionConfig(dir, settings(rootDir, extra), port);
  const url = `http://127.0.0.1:${port}`;
  const proc = await startProcess({
    name: 'registry',
    command: process.execPath,
    args: [...(opts.nodeFlags ?? []), opts.cli ?? REGISTRY_CLI, 'serve', configPath],
    dir,
    ready: httpReady(`${url}/v2/`),
  });
  return { name: 'ours', url, pid: proc.pid, process: proc };
}

/** This registry: `node dist/registry/src/cli.js serve config.yml`, storing under `rootDir`. */
export async function startOurs(rootDir: string, opts: OursOptions = {}, extra: ConfigExtra = {}): Promise<Target> {
  await mkdir(rootDir, { recursive: true });
  return withPortRetry(() => launchOurs(rootDir, opts, extra));
}

/** distribution 2.8 (`docker-registry serve config.yml`), storing under `rootDir`. */
export async function startReference(rootDir: string, extra: ConfigExtra = {}): Promise<Target> {
  await mkdir(rootDir, { recursive: true });
  const dist = await startDistribution(settings(rootDir, extra));
  return { name: 'distribution', url: dist.url, pid: dist.pid, process: dist.process };
}

export function startTarget(name: TargetName, workDir: string, ours: OursOptions = {}, extra: ConfigExtra = {}, label = 'storage'): Promise<Target> {
  const rootDir = join(workDir, `${name}-${label}`);
  return name === 'ours' ? startOurs(rootDir, ours, extra) : startReference(rootDir, extra);
}
