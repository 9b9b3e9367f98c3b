// Debian's haproxy on 127.0.0.1 in front of registry replicas, with the configuration docs/deployment.md gives
// operators (round robin per request, redispatch, checks on each replica's /debug/health, a stats page that says
// which replicas are up), moved to loopback ports. Stopped by PID.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fencedBlocks, REPO_ROOT } from '../docs/markdown.js';
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

/** The haproxy configuration docs/deployment.md gives operators, so the tests run what the doc says. */
async function deploymentConfig(): Promise<string> {
  const blocks = fencedBlocks(await readFile(join(REPO_ROOT, 'docs/deployment.md'), 'utf8')).filter((b) => b.lang === 'haproxy');
  if (blocks.length !== 1) throw new Error(`docs/deployment.md should hold one haproxy block, not ${blocks.length}`);
  return blocks[0].code;
}

/**
 * The doc's configuration on loopback: its registry frontend on `listen`, its stats frontend on `stats`, its server
 * lines replaced by one per replica, and checks every 500 ms, so a test sees a replica go DOWN in about a second.
 */
function localConfig(doc: string, listen: number, stats: number, replicas: Replica[]): string {
  const binds = [listen, stats];
  const lines: string[] = [];
  for (const line of doc.split('\n')) {
    const indent = /^\s*/.exec(line)?.[0] ?? '';
    const words = line.trim().split(/\s+/);
    if (words[0] === 'bind') {
      const next = binds.shift();
      if (next === undefined) throw new Error(`more bind lines than the registry and stats frontends: ${line}`);
      lines.push(`${indent}bind 127.0.0.1:${next}`);
    } else if (words[0] === 'server') {
      if (!lines.some((l) => l.trim().startsWith('server '))) {
        replicas.forEach((r, i) => lines.push(`${indent}server r${i} 127.0.0.1:${port(r.url)} check port ${port(r.debugUrl)}`));
      }
    } else if (words[0] === 'default-server') {
      lines.push(line.replace(/\binter \S+/, 'inter 500ms').replace(/\brise \d+/, 'rise 1'));
    } else {
      lines.push(line);
    }
  }
  if (binds.length > 0) throw new Error('the doc\'s haproxy block lacks the registry or the stats frontend');
  return `${lines.join('\n')}\n`;
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
    const config = localConfig(await deploymentConfig(), listen, stats, replicas);
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
