// The registry as an operator runs it, `node dist/registry/src/cli.js serve config.yml`, on a fixed port and a
// data directory that outlive the process, so a test can signal or kill it and start it again where it was.
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { freePort } from '../../helpers/ports.js';
import { httpReady, startNodeProcess, type ManagedProcess } from '../../helpers/processes.js';
import { REGISTRY_CLI } from '../../helpers/registry-cli.js';


export interface RegistrySite {
  /** http://127.0.0.1:PORT, the same for every process started on this site. */
  url: string;
  rootDir: string;
  configPath: string;
  /** Starts `registry serve` on the site and resolves once GET /v2/ answers. */
  start(): Promise<ManagedProcess>;
}

/**
 * Writes dir/config.yml (filesystem storage at rootDir, by default dir/data; JSON logs) for a port picked now and
 * kept. Two sites on one rootDir are two replicas sharing their storage.
 */
export async function registrySite(dir: string, rootDir = join(dir, 'data')): Promise<RegistrySite> {
  const port = await freePort();
  const configPath = join(dir, 'config.yml');
  const config = {
    version: 0.1,
    log: { level: 'info', formatter: 'json' },
    storage: { filesystem: { rootdirectory: rootDir }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
    http: { addr: `127.0.0.1:${port}` },
  };
  await writeFile(configPath, stringify(config));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    rootDir,
    configPath,
    start: () => startNodeProcess(REGISTRY_CLI, ['serve', configPath], {}, httpReady(`${url}/v2/`, (res) => res.status === 200), { name: 'registry' }),
  };
}

/** Resolves once the process has logged a line with this msg (JSON logs). */
export async function waitForLog(proc: ManagedProcess, msg: string): Promise<void> {
  const needle = `"msg":${JSON.stringify(msg)}`;
  while (!(await proc.readLog()).includes(needle)) await sleep(20);
}

/** The data files of every upload of a repository in progress on disk, with their sizes. */
export async function uploadFiles(rootDir: string, name: string): Promise<{ path: string; size: number }[]> {
  const dir = join(rootDir, 'docker/registry/v2/repositories', name, '_uploads');
  const uuids = await readdir(dir).catch(() => [] as string[]);
  const files = [];
  for (const uuid of uuids) {
    const path = join(dir, uuid, 'data');
    const info = await stat(path).catch(() => undefined);
    if (info) files.push({ path, size: info.size });
  }
  return files;
}

/** Resolves once some upload of the repository has at least `bytes` bytes on disk: the request is mid-stream. */
export async function waitForUploadBytes(rootDir: string, name: string, bytes: number): Promise<void> {
  while (!(await uploadFiles(rootDir, name)).some((f) => f.size >= bytes)) await sleep(20);
}
