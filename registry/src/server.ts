// Runs the registry: storage driver, access controller and app from a Config, listening on http.addr, the debug
// server, and a graceful stop that drains in-flight requests (http.draintimeout) before the process exits.
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createApp } from './api/app.js';
import { createAccessController } from './auth/index.js';
import { answerClientErrors } from './client-error.js';
import { CLIENT_TIMEOUTS, enforceClientTimeouts, serverTimeoutOptions, type ClientTimeouts } from './client-timeouts.js';
import type { Config } from './config/types.js';
import { startDebugServer, type DebugServer } from './debug-server.js';
import { drainable } from './drain.js';
import { combineHealth, startStorageHealth } from './health.js';
import { parseAddr } from './listen-address.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics.js';
import { buildDriver, driverLogFields } from './storage/driver/factory.js';
import type { StorageDriver } from './storage/driver/driver.js';
import { guardDriver } from './storage/driver/guarded.js';
import { reachDriver, type RetrySchedule } from './storage/driver/reachability.js';
import { startUploadPurger } from './storage/purge.js';

export interface RunningRegistry {
  /** Base URL, e.g. http://127.0.0.1:5000 */
  url: string;
  server: Server;
  driver: StorageDriver;
  debug?: DebugServer;
  /** Stops accepting, waits for in-flight requests (at most draintimeout when set), releases the driver. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Limits on slow or stalled clients; CLIENT_TIMEOUTS unless a test needs them short. */
  clientTimeouts?: ClientTimeouts;
  /** How often a storage backend unreachable at start is tried again; STORAGE_RETRY unless a test needs it short. */
  storageRetry?: RetrySchedule;
}

export async function startRegistry(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningRegistry> {
  const metrics = config.http.debug?.prometheus.enabled ? new Metrics() : undefined;
  const rawDriver = await buildDriver(config.storage.driver, logger);
  const reachability = await reachDriver(rawDriver, logger.child(driverLogFields(config.storage.driver)), options.storageRetry);
  const driver = guardDriver(rawDriver, metrics, reachability);
  const access = await createAccessController(config.auth, logger);
  const health = startStorageHealth(driver, config.health.storagedriver, logger);
  const purger = startUploadPurger(driver, config.storage.maintenance, logger);
  const { koa } = createApp(config, { driver, logger, health, ...(access && { access }), ...(metrics && { metrics }) });
  const drainer = drainable(koa.callback(), logger);
  const handler = drainer.handler;
  const tls = config.http.tls;
  const timeouts = options.clientTimeouts ?? CLIENT_TIMEOUTS;
  const server = tls
    ? createHttpsServer({ cert: await readFile(tls.certificate), key: await readFile(tls.key), ...serverTimeoutOptions(timeouts) }, handler)
    : createHttpServer(serverTimeoutOptions(timeouts), handler);
  server.keepAliveTimeout = 65_000;
  const clientTimeouts = enforceClientTimeouts(server, timeouts, logger);
  answerClientErrors(server, logger);
  let listenAt: { host?: string; port: number };
  try {
    listenAt = parseAddr(config.http.addr);
  } catch (err) {
    throw new Error(`http.addr: ${(err as Error).message}`);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenAt.port, listenAt.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tls ? 'https' : 'http'}://${shownHost}:${address.port}`;
  const debug = config.http.debug ? await startDebugServer(config.http.debug, combineHealth(health, reachability), metrics, logger) : undefined;
  logger.info({ url, storage: driver.name, auth: config.auth?.type ?? 'none' }, 'registry listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    driver,
    ...(debug && { debug }),
    close() {
      closing ??= (async () => {
        clientTimeouts.draining();
        await drainer.drain(server, config.http.draintimeout);
        clientTimeouts.stop();
        health.stop();
        reachability.stop();
        purger.stop();
        await debug?.close();
        await rawDriver.close?.();
      })();
      return closing;
    },
  };
}
