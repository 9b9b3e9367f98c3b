// `registry serve` as a process tree (http.workers > 1): the primary and its workers over filesystem storage, with
// the debug server and JSON logs, so a test can signal the primary, kill a worker and read what each one logged.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './ports.js';
import { request } from 'node:http';
import { httpReady, makeTempDir, startProcess, stopAll, type ManagedProcess } from './processes.js';
import { REGISTRY_CLI } from './registry-cli.js';

export type LogLine = Record<string, unknown>;

export interface RegistryTree {
  url: string;
  port: number;
  /** The debug server, served by the primary for the whole tree. */
  debugUrl: string;
  proc: ManagedProcess;
  logs(): Promise<LogLine[]>;
  /** worker id -> pid of the worker serving now under that id, from the primary's log. */
  workers(): Promise<Map<number, number>>;
}

export interface TreeOptions {
  workers: number;
  /** http.draintimeout, e.g. "30s". */
  drainTimeout?: string;
  /** The config's auth section; none by default. */
  auth?: Record<string, unknown>;
}

async function logLines(proc: ManagedProcess): Promise<LogLine[]> {
  return (await proc.readLog())
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** Starts the tree and resolves once every worker serves (the primary logged "registry listening"). */
export async function startRegistryTree(options: TreeOptions): Promise<RegistryTree> {
  const dir = await makeTempDir('registry-tree');
  const [port, debugPort] = [await freePort(), await freePort()];
  const config = {
    version: 0.1,
    log: { level: 'info', formatter: 'json' },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
    http: {
      addr: `127.0.0.1:${port}`,
      workers: options.workers,
      draintimeout: options.drainTimeout ?? '0s',
      debug: { addr: `127.0.0.1:${debugPort}`, prometheus: { enabled: true } },
    },
    ...(options.auth && { auth: options.auth }),
  };
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, stringify(config));
  const url = `http://127.0.0.1:${port}`;
  const serving = httpReady(`${url}/v2/`);
  // The temp dir (config, data, log) is the process's: stop() removes it.
  const started = await startProcess({
    name: 'registry',
    command: process.execPath,
    args: [REGISTRY_CLI, 'serve', configPath],
    dir,
    ready: async (p) => (await serving(p)) && (await logLines(p)).some((l) => l.worker === 0 && l.msg === 'registry listening'),
  });
  return {
    url,
    port,
    debugUrl: `http://127.0.0.1:${debugPort}`,
    proc: started,
    logs: () => logLines(started),
    async workers() {
      const pids = new Map<number, number>();
      for (const line of await logLines(started)) if (line.msg === 'worker serving') pids.set(line.child as number, line.childPid as number);
      return pids;
    },
  };
}

/** A tree started before the suite's tests and stopped after them; the getter is for use inside the tests. */
export function registryTreeFor(options: TreeOptions): () => RegistryTree {
  let tree: RegistryTree | undefined;
  before(async () => {
    tree = await startRegistryTree(options);
  });
  after(async () => {
    await tree?.proc.stop();
    await stopAll();
  });
  return () => {
    if (!tree) throw new Error('the registry tree did not start');
    return tree;
  };
}

/** GET on a connection of its own, so node:cluster hands it to the next worker; resolves with the status. */
export function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    })
      .once('error', reject)
      .end();
  });
}
