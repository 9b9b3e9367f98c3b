import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, withPortRetry } from './ports.js';
import { httpReady, makeTempDir, startProcess, type ManagedProcess } from './spawn.js';
import { runTool, toolPath, type EnvPatch } from './tools.js';

type Config = { [key: string]: unknown };

/** The reference registry, distribution 2.8.2 (`docker-registry serve`), on 127.0.0.1. */
export interface Distribution {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT, the form image references use. */
  readonly host: string;
  readonly pid: number;
  /** The config.yml it runs with, in the helper's temp dir (gone after stop). */
  readonly configPath: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export interface DistributionOptions {
  /** storage.filesystem.rootdirectory */
  rootDir: string;
  /** Deep-merged into the generated config; a null value removes that key (e.g. `storage: { filesystem: null, s3: {...} }`). */
  configExtra?: Config;
  env?: EnvPatch;
}

function isObject(v: unknown): v is Config {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Config, extra: Config): Config {
  const out: Config = { ...base };
  for (const [key, val] of Object.entries(extra)) {
    if (val === null) delete out[key];
    else out[key] = isObject(val) && isObject(out[key]) ? deepMerge(out[key] as Config, val) : val;
  }
  return out;
}

/**
 * Writes DIR/config.yml as startDistribution runs it (port 0 when only a maintenance command needs it, e.g.
 * garbage-collect after the registry was stopped, which deletes its own config).
 */
export async function writeDistributionConfig(dir: string, opts: DistributionOptions, port = 0): Promise<string> {
  const configPath = join(dir, 'config.yml');
  const config = deepMerge(
    {
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: {
        filesystem: { rootdirectory: opts.rootDir },
        delete: { enabled: true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: { addr: `127.0.0.1:${port}` },
    },
    opts.configExtra ?? {},
  );
  await writeFile(configPath, stringify(config));
  return configPath;
}

async function launch(opts: DistributionOptions): Promise<Distribution> {
  const port = await freePort();
  const dir = await makeTempDir('distribution');
  const configPath = await writeDistributionConfig(dir, opts, port);
  const url = `http://127.0.0.1:${port}`;
  // AWS_CA_BUNDLE makes its S3 driver panic (FIELD-NOTES); REGISTRY_* from the caller would override the config.
  const inherited = Object.keys(process.env).filter((k) => k === 'AWS_CA_BUNDLE' || k.startsWith('REGISTRY_'));
  const proc = await startProcess({
    name: 'distribution',
    command: toolPath('docker-registry'),
    args: ['serve', configPath],
    dir,
    env: { ...Object.fromEntries(inherited.map((k) => [k, undefined])), ...opts.env },
    ready: httpReady(`${url}/v2/`),
  });
  return { url, host: `127.0.0.1:${port}`, pid: proc.pid, configPath, process: proc, stop: () => proc.stop() };
}

export function startDistribution(opts: DistributionOptions): Promise<Distribution> {
  return withPortRetry(() => launch(opts));
}

/** `docker-registry garbage-collect CONFIG [flags]` (flags: --dry-run, --delete-untagged); returns its stdout. */
export function distributionGarbageCollect(configPath: string, flags: string[] = []): Promise<string> {
  return runTool(toolPath('docker-registry'), ['garbage-collect', ...flags, configPath]);
}
