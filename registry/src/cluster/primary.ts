// `registry serve` with several workers: the primary process serves no request itself. It checks what it can before
// forking (the config is already valid; the TLS files, the htpasswd file, the debug address), forks the workers, which
// share http.addr through node:cluster (the primary accepts and hands connections to the workers in turn, so
// keep-alive clients are spread evenly, which the kernel's shared accept queue does not do), checks htpasswd logins
// for them all, serves http.debug for the whole tree, replaces a worker that dies, and on SIGTERM/SIGINT drains them
// all and exits.
import type { Config } from '../config/types.js';
import { newCoordinatorId } from '../coord/coordinator.js';
import { startDebugServer, type DebugServer } from '../debug-server.js';
import { SETTLE_MS } from '../drain.js';
import type { Logger } from '../log.js';
import { readTlsOptions } from '../tls-options.js';
import { treeHealth, treeMetrics } from './tree-status.js';
import { WorkerPool } from './worker-pool.js';

const MiB = 1024 * 1024;

/** Beyond draintimeout and the settle time of a cut request, what a worker's release of storage and Redis may take. */
const RELEASE_MS = 5_000;

/** Resident set of every process, for the start-up log. */
async function treeRss(pool: WorkerPool): Promise<{ rssMiB: Record<string, number>; totalMiB: number }> {
  const sizes = [{ worker: 0, value: process.memoryUsage.rss() as unknown }, ...(await pool.ask('rss'))];
  const rssMiB = Object.fromEntries(sizes.map((s) => [String(s.worker), Math.round((s.value as number) / MiB)]));
  return { rssMiB, totalMiB: Object.values(rssMiB).reduce((a, b) => a + b, 0) };
}

/** Runs `count` workers until `stopSignal`; resolves with the exit code. Throws when the first workers cannot start. */
export async function runPrimary(config: Config, baseLogger: Logger, count: number, stopSignal: Promise<NodeJS.Signals>): Promise<number> {
  const logger = baseLogger.child({ worker: 0 });
  // The workers read these files too; a certificate that cannot be used ends the start before anything is forked.
  if (config.http.tls) await readTlsOptions(config.http.tls);
  // The primary checks every worker's htpasswd logins, so that the login limits count them together.
  const login = config.auth?.type === 'htpasswd' ? await (await import('../auth/htpasswd.js')).createHtpasswdLogin(config.auth, logger) : undefined;
  const pool = new WorkerPool(config, logger, count, newCoordinatorId(), login);
  let debug: DebugServer | undefined;
  if (config.http.debug) {
    const metrics = config.http.debug.prometheus.enabled ? treeMetrics(pool) : undefined;
    debug = await startDebugServer(config.http.debug, treeHealth(pool), metrics, logger);
  }
  const stop = async (): Promise<number> => {
    const stopped = pool.stop();
    const limitMs = config.http.draintimeout > 0 ? config.http.draintimeout + SETTLE_MS + RELEASE_MS : undefined;
    let timer: NodeJS.Timeout | undefined;
    const clean = await Promise.race([
      stopped,
      ...(limitMs === undefined ? [] : [new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), limitMs)))]),
    ]);
    clearTimeout(timer);
    if (clean === 'late') {
      logger.error({ limitMs }, 'workers did not stop in time; killing them');
      pool.kill();
      await stopped;
    }
    await debug?.close();
    return clean === true ? 0 : 1;
  };

  const started = await Promise.race([pool.start().then(() => 'started' as const), stopSignal]).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  if (started !== 'started') {
    logger.info({ signal: started }, 'stopped during start-up');
    return stop();
  }
  const first = pool.serving();
  logger.info({ url: first[0]?.url, workers: count, pids: first.map((w) => w.pid), ...(await treeRss(pool)) }, 'registry listening');
  const signal = await stopSignal;
  logger.info({ signal }, 'shutting down');
  const code = await stop();
  logger.info({ code }, 'stopped');
  return code;
}
