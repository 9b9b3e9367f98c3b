// Runs the registry: storage driver, access controller and app from a Config, listening on http.addr, the debug
// server, and a graceful stop that drains in-flight requests (http.draintimeout) before the process exits.
import { createApp } from './api/app.js';
import { createApiServer, type ApiServer } from './api-server.js';
import type { PasswordLogin } from './auth/htpasswd.js';
import { createAccessController } from './auth/index.js';
import { CLIENT_TIMEOUTS, enforceClientTimeouts, type ClientTimeouts } from './client-timeouts.js';
import type { Config } from './config/types.js';
import type { Coordinator } from './coord/coordinator.js';
import { createCoordination } from './coord/factory.js';
import type { Relay } from './coord/relay.js';
import { startDebugServer, type DebugServer } from './debug-server.js';
import { drainable } from './drain.js';
import { combineHealth, startStorageHealth, type HealthStatus } from './health.js';
import { listenOn, urlOf } from './listen-address.js';
import type { Logger } from './log.js';
import { startMaintenance } from './maintenance.js';
import { Metrics } from './metrics.js';
import { buildDriver, driverLogFields } from './storage/driver/factory.js';
import type { StorageDriver } from './storage/driver/driver.js';
import { guardDriver } from './storage/driver/guarded.js';
import { reachDriver, type RetrySchedule } from './storage/driver/reachability.js';
import { readTlsOptions } from './tls-options.js';

export interface RunningRegistry {
  /** Base URL, e.g. http://127.0.0.1:5000 */
  url: string;
  server: ApiServer['server'];
  driver: StorageDriver;
  coord: Coordinator;
  /** Storage health and reachability, as /debug/health reports them. */
  health: HealthStatus;
  /** With http.debug.prometheus enabled. */
  metrics?: Metrics;
  debug?: DebugServer;
  /** Stops accepting, waits for in-flight requests (at most draintimeout when set), releases the driver. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Limits on slow or stalled clients; CLIENT_TIMEOUTS unless a test needs them short. */
  clientTimeouts?: ClientTimeouts;
  /** How often a storage backend unreachable at start is tried again; STORAGE_RETRY unless a test needs it short. */
  storageRetry?: RetrySchedule;
  /**
   * Whether this process runs the periodic jobs (upload purging, the background collector and retention, mirror
   * eviction: whatever runs once per interval through scheduleExclusive): true unless it is one of a machine's
   * workers other than the one chosen to (cluster/). Across machines, each job's lease decides.
   */
  runsJobs?: boolean;
  /** Set when this process is one of the workers of `registry serve` (cluster/); absent when it serves alone. */
  worker?: WorkerRole;
}

export interface WorkerRole {
  /** 1..http.workers, in logs and metrics. */
  id: number;
  /** The machine's bus between workers, through their primary; the worker that runs the jobs also reads storage events. */
  relay: Relay;
  /** htpasswd logins, checked by the primary so that the login limits count the attempts of every worker together. */
  login: PasswordLogin;
}

export async function startRegistry(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningRegistry> {
  // Before anything starts: a certificate that cannot be used ends the start with nothing to release.
  const tls = config.http.tls && (await readTlsOptions(config.http.tls));
  const { worker } = options;
  const runsJobs = options.runsJobs ?? true;
  const metrics = config.http.debug?.prometheus.enabled ? new Metrics(worker?.id) : undefined;
  const rawDriver = await buildDriver(config.storage.driver, logger);
  const reachability = await reachDriver(rawDriver, logger.child(driverLogFields(config.storage.driver)), options.storageRetry);
  const driver = guardDriver(rawDriver, metrics, reachability);
  const coordination = await createCoordination(config, driver, logger, worker ? { relay: worker.relay, poll: runsJobs } : {});
  const access = await createAccessController(config.auth, logger, worker?.login);
  const health = startStorageHealth(driver, config.health.storagedriver, logger);
  const status = combineHealth(health, reachability);
  const maintenance = runsJobs ? startMaintenance(config.storage.maintenance, { coordination, driver, logger, ...(metrics && { metrics }) }) : undefined;
  const { koa, mirror } = createApp(config, {
    driver,
    logger,
    health,
    ...(access && { access }),
    ...(metrics && { metrics }),
    ...(coordination.descriptors && { descriptors: coordination.descriptors }),
    coord: coordination.coord,
  });
  const eviction = runsJobs ? mirror?.scheduleEviction() : undefined;
  const drainer = drainable(koa.callback(), logger);
  const timeouts = options.clientTimeouts ?? CLIENT_TIMEOUTS;
  const api = createApiServer(config.http, tls, drainer.handler, timeouts, logger);
  const { server } = api;
  const clientTimeouts = enforceClientTimeouts(server, timeouts, logger);
  let debug: DebugServer | undefined;
  const release = async () => {
    clientTimeouts.stop();
    status.stop();
    await maintenance?.stop();
    await eviction?.stop();
    mirror?.close();
    await debug?.close();
    await coordination.close();
    await rawDriver.close?.();
  };
  let url: string;
  try {
    url = urlOf(await listenOn(server, config.http.addr, 'http.addr'), api.scheme);
    // A worker's health and metrics are served by its primary, for the whole process tree.
    if (config.http.debug && !worker) debug = await startDebugServer(config.http.debug, status, metrics?.registry, logger);
  } catch (err) {
    // A registry that cannot listen ends: nothing it started may keep the process alive.
    if (server.listening) await api.close();
    await release();
    throw err;
  }
  logger.info({ url, protocols: api.protocols, storage: driver.name, auth: config.auth?.type ?? 'none' }, 'registry listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    driver,
    coord: coordination.coord,
    health: status,
    ...(metrics && { metrics }),
    ...(debug && { debug }),
    close() {
      closing ??= (async () => {
        clientTimeouts.draining();
        await drainer.drain(api, config.http.draintimeout);
        await release();
      })();
      return closing;
    },
  };
}
