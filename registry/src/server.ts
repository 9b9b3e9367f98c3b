// Runs the registry: storage driver, access controller and app from a Config, listening on http.addr, the debug
// server, and a graceful stop that drains in-flight requests (http.draintimeout) before the process exits.
import { createApp } from './api/app.js';
import { createApiServer, type ApiServer } from './api-server.js';
import { createAccessController } from './auth/index.js';
import type { Coordinator } from './coord/coordinator.js';
import { createCoordination } from './coord/factory.js';
import type { Config } from './config/types.js';
import { startDebugServer, type DebugServer } from './debug-server.js';
import { startStorageHealth } from './health.js';
import { listenOn, urlOf } from './listen-address.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics.js';
import { createDriver } from './storage/driver/factory.js';
import type { StorageDriver } from './storage/driver/driver.js';
import { guardDriver } from './storage/driver/guarded.js';
import { startUploadPurger } from './storage/purge.js';
import { readTlsOptions } from './tls-options.js';

export interface RunningRegistry {
  /** Base URL, e.g. http://127.0.0.1:5000 */
  url: string;
  server: ApiServer['server'];
  driver: StorageDriver;
  coord: Coordinator;
  debug?: DebugServer;
  /** Stops accepting, waits for in-flight requests (at most draintimeout when set), releases the driver. */
  close(): Promise<void>;
}

export async function startRegistry(config: Config, logger: Logger): Promise<RunningRegistry> {
  // Before anything starts: a certificate that cannot be used ends the start with nothing to release.
  const tls = config.http.tls && (await readTlsOptions(config.http.tls));
  const metrics = config.http.debug?.prometheus.enabled ? new Metrics() : undefined;
  const rawDriver = await createDriver(config.storage.driver, logger);
  const driver = guardDriver(rawDriver, metrics);
  const coordination = await createCoordination(config, driver, logger);
  const access = await createAccessController(config.auth, logger);
  const health = startStorageHealth(driver, config.health.storagedriver, logger);
  const purger = startUploadPurger(driver, config.storage.maintenance, logger);
  const { koa } = createApp(config, {
    driver,
    logger,
    health,
    ...(access && { access }),
    ...(metrics && { metrics }),
    ...(coordination.descriptors && { descriptors: coordination.descriptors }),
  });
  const api = createApiServer(config.http, tls, koa.callback(), logger);
  const { server } = api;
  // In-flight requests, so a drain can drop keep-alive connections the moment the last response is out.
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  server.on('request', (_req: unknown, res: NodeJS.EventEmitter) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) onIdle?.();
    });
  });
  let debug: DebugServer | undefined;
  const release = async () => {
    health.stop();
    purger.stop();
    await debug?.close();
    await coordination.close();
    await rawDriver.close?.();
  };
  let url: string;
  try {
    url = urlOf(await listenOn(server, config.http.addr, 'http.addr'), api.scheme);
    if (config.http.debug) debug = await startDebugServer(config.http.debug, health, metrics, logger);
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
    ...(debug && { debug }),
    close() {
      closing ??= (async () => {
        const drained = api.close();
        onIdle = () => api.closeIdleConnections();
        if (inFlight === 0) onIdle();
        else logger.info({ inFlight }, 'draining in-flight requests');
        const timeout = config.http.draintimeout;
        if (timeout > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout)))]);
          clearTimeout(timer);
          api.closeAllConnections();
        } else {
          await drained;
        }
        await release();
      })();
      return closing;
    },
  };
}
