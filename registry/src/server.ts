// Runs the registry: storage driver, access controller and app from a Config, listening on http.addr, the debug
// server, and a graceful stop that drains in-flight requests (http.draintimeout) before the process exits.
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createApp } from './api/app.js';
import { createAccessController } from './auth/index.js';
import type { Coordinator } from './coord/coordinator.js';
import { createCoordination } from './coord/factory.js';
import { answerClientErrors } from './client-error.js';
import type { Config } from './config/types.js';
import { startDebugServer, type DebugServer } from './debug-server.js';
import { startStorageHealth } from './health.js';
import { parseAddr } from './listen-address.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics.js';
import { createDriver } from './storage/driver/factory.js';
import type { StorageDriver } from './storage/driver/driver.js';
import { guardDriver } from './storage/driver/guarded.js';
import { startMaintenance } from './maintenance.js';

export interface RunningRegistry {
  /** Base URL, e.g. http://127.0.0.1:5000 */
  url: string;
  server: Server;
  driver: StorageDriver;
  coord: Coordinator;
  debug?: DebugServer;
  /** Stops accepting, waits for in-flight requests (at most draintimeout when set), releases the driver. */
  close(): Promise<void>;
}

export async function startRegistry(config: Config, logger: Logger): Promise<RunningRegistry> {
  const metrics = config.http.debug?.prometheus.enabled ? new Metrics() : undefined;
  const rawDriver = await createDriver(config.storage.driver, logger);
  const driver = guardDriver(rawDriver, metrics);
  const coordination = await createCoordination(config, driver, logger);
  const access = await createAccessController(config.auth, logger);
  const health = startStorageHealth(driver, config.health.storagedriver, logger);
  const maintenance = startMaintenance(config.storage.maintenance, { coordination, driver, logger, ...(metrics && { metrics }) });
  const { koa } = createApp(config, {
    driver,
    logger,
    health,
    ...(access && { access }),
    ...(metrics && { metrics }),
    ...(coordination.descriptors && { descriptors: coordination.descriptors }),
    coord: coordination.coord,
  });
  const handler = koa.callback();
  const tls = config.http.tls;
  const server = tls
    ? createHttpsServer({ cert: await readFile(tls.certificate), key: await readFile(tls.key) }, handler)
    : createHttpServer(handler);
  // Large blobs stream for minutes; Node's default 5-minute request timeout would cut them off.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  answerClientErrors(server, logger);
  // In-flight requests, so a drain can drop keep-alive connections the moment the last response is out.
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  server.on('request', (_req, res) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) onIdle?.();
    });
  });
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
  const debug = config.http.debug ? await startDebugServer(config.http.debug, health, metrics, logger) : undefined;
  logger.info({ url, storage: driver.name, auth: config.auth?.type ?? 'none' }, 'registry listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    driver,
    coord: coordination.coord,
    ...(debug && { debug }),
    close() {
      closing ??= (async () => {
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        onIdle = () => server.closeAllConnections();
        if (inFlight === 0) onIdle();
        else logger.info({ inFlight }, 'draining in-flight requests');
        const timeout = config.http.draintimeout;
        if (timeout > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout)))]);
          clearTimeout(timer);
          server.closeAllConnections();
        } else {
          await drained;
        }
        health.stop();
        await maintenance.stop();
        await debug?.close();
        await coordination.close();
        await rawDriver.close?.();
      })();
      return closing;
    },
  };
}
