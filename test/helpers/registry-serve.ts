// `registry serve config.yml` as an operator runs it, one process per call: the way to get replicas that share a
// storage backend, http.secret and Redis, each with its own port, debug server and access log.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, withPortRetry } from './ports.js';
import { REGISTRY_CLI } from './registry-cli.js';
import { httpReady, startNodeProcess, type ManagedProcess } from './spawn.js';

export interface RegistryProcess {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The debug server (/debug/health), when asked for. */
  debugUrl?: string;
  configPath: string;
  proc: ManagedProcess;
}

export interface RegistryProcessOptions {
  /** The storage section, distribution's keys. */
  storage: Record<string, unknown>;
  /** http.secret, the same on every replica of a fleet. */
  secret?: string;
  /** Other top-level sections (redis, ...). */
  sections?: Record<string, unknown>;
  /** Starts the debug server on a port of its own. */
  debug?: boolean;
}

/** Writes dir/<name>.yml (JSON logs, access log on) and starts `registry serve`; resolves once GET /v2/ answers 200. */
export function startRegistryProcess(dir: string, name: string, options: RegistryProcessOptions): Promise<RegistryProcess> {
  return withPortRetry(async () => {
    const port = await freePort();
    const debugPort = options.debug ? await freePort() : undefined;
    const configPath = join(dir, `${name}.yml`);
    const config = {
      version: 0.1,
      log: { level: 'info', formatter: 'json', accesslog: { disabled: false } },
      storage: options.storage,
      http: {
        addr: `127.0.0.1:${port}`,
        ...(options.secret !== undefined && { secret: options.secret }),
        ...(debugPort !== undefined && { debug: { addr: `127.0.0.1:${debugPort}` } }),
      },
      ...options.sections,
    };
    await writeFile(configPath, stringify(config));
    const url = `http://127.0.0.1:${port}`;
    const proc = await startNodeProcess(REGISTRY_CLI, ['serve', configPath], {}, httpReady(`${url}/v2/`, (res) => res.status === 200), { name });
    return { url, configPath, proc, ...(debugPort !== undefined && { debugUrl: `http://127.0.0.1:${debugPort}` }) };
  });
}

export interface AccessEntry {
  method: string;
  /** Path and query, as the client sent them. */
  url: string;
  status: number;
}

/** The requests a registry process has answered so far, from its access log. */
export async function accessLog(proc: ManagedProcess): Promise<AccessEntry[]> {
  const entries: AccessEntry[] = [];
  for (const line of (await proc.readLog()).split('\n')) {
    if (!line.startsWith('{')) continue;
    const record = JSON.parse(line) as { msg?: string; req?: { method: string; url: string }; res?: { status: number } };
    if (record.msg === 'request' && record.req && record.res) entries.push({ method: record.req.method, url: record.req.url, status: record.res.status });
  }
  return entries;
}
