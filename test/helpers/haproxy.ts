// Debian's haproxy on 127.0.0.1 in front of registry replicas: round robin per request, each replica health-checked
// on its debug server's /debug/health, and a stats page that says which replicas are up. Stopped by PID.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, withPortRetry } from './ports.js';
import { makeTempDir, startProcess, type ManagedProcess } from './spawn.js';
import { toolPath } from './tools.js';

export interface Replica {
  /** http://127.0.0.1:PORT, where the registry API answers. */
  url: string;
  /** http://127.0.0.1:PORT of its debug server, where /debug/health answers. */
  debugUrl: string;
}

export interface HAProxy {
  /** http://127.0.0.1:PORT, the registry as clients see it. */
  readonly url: string;
  /** 127.0.0.1:PORT, the form image references use. */
  readonly host: string;
  /** The generated haproxy.cfg, for a reader of a failed test. */
  readonly config: string;
  readonly process: ManagedProcess;
  /** Server name (r0, r1, ...) -> its state as haproxy sees it (UP, DOWN, ...). */
  states(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

function port(url: string): string {
  return new URL(url).port;
}

/** The config an operator would write (docs/deployment.md shows the same), on loopback ports. */
export function haproxyConfig(listen: number, stats: number, replicas: Replica[]): string {
  return [
    'global',
    '  maxconn 1024',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    // Blobs stream for as long as they take; an upload chunk may sit in a client's buffer for a while.
    '  timeout client 10m',
    '  timeout server 10m',
    'frontend registry',
    `  bind 127.0.0.1:${listen}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    // A request that cannot reach its replica (dead, not yet marked DOWN) is sent to another one.
    '  retries 2',
    '  option redispatch 1',
    '  option httpchk GET /debug/health',
    '  http-check expect status 200',
    '  default-server inter 500ms fall 2 rise 1',
    ...replicas.map((r, i) => `  server r${i} 127.0.0.1:${port(r.url)} check port ${port(r.debugUrl)}`),
    'frontend stats',
    `  bind 127.0.0.1:${stats}`,
    '  stats enable',
    '  stats uri /stats',
    '',
  ].join('\n');
}

async function states(statsUrl: string): Promise<Record<string, string>> {
  const csv = await (await fetch(`${statsUrl};csv`, { signal: AbortSignal.timeout(2000) })).text();
  const [header, ...rows] = csv.trim().split('\n');
  const columns = header.replace(/^# /, '').split(',');
  const name = columns.indexOf('svname');
  const status = columns.indexOf('status');
  const out: Record<string, string> = {};
  for (const row of rows) {
    const cells = row.split(',');
    if (cells[0] === 'replicas' && /^r\d+$/.test(cells[name])) out[cells[name]] = cells[status];
  }
  return out;
}

/** Starts haproxy and resolves once every replica is UP behind it. */
export function startHAProxy(replicas: Replica[]): Promise<HAProxy> {
  return withPortRetry(async () => {
    const [listen, stats] = [await freePort(), await freePort()];
    const dir = await makeTempDir('haproxy');
    const config = haproxyConfig(listen, stats, replicas);
    const configPath = join(dir, 'haproxy.cfg');
    await writeFile(configPath, config);
    const statsUrl = `http://127.0.0.1:${stats}/stats`;
    const proc = await startProcess({
      name: 'haproxy',
      command: toolPath('haproxy'),
      // -db: foreground, so the PID we hold is haproxy's own.
      args: ['-db', '-f', configPath],
      dir,
      ready: async () => {
        const seen = await states(statsUrl);
        return replicas.every((_, i) => seen[`r${i}`] === 'UP');
      },
    });
    return {
      url: `http://127.0.0.1:${listen}`,
      host: `127.0.0.1:${listen}`,
      config,
      process: proc,
      states: () => states(statsUrl),
      stop: () => proc.stop(),
    };
  });
}
