// Runs the registry: storage driver, access controller and app from a Config, listening on http.addr, and a
// graceful stop that drains in-flight requests (http.draintimeout) before the process exits.
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createApp } from './api/app.js';
import { createAccessController } from './auth/index.js';
import type { Config } from './config/types.js';
import type { Logger } from './log.js';
import { createDriver } from './storage/driver/factory.js';
import type { StorageDriver } from './storage/driver/driver.js';

export interface RunningRegistry {
  /** Base URL, e.g. http://127.0.0.1:5000 */
  url: string;
  server: Server;
  driver: StorageDriver;
  /** Stops accepting, waits for in-flight requests (at most draintimeout when set), releases the driver. */
  close(): Promise<void>;
}

/** distribution writes addresses as host:port or :port. */
export function parseAddr(addr: string): { host?: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!match) throw new Error(`http.addr: "${addr}" is not host:port or :port`);
  const host = match[1] ?? match[2];
  return { ...(host ? { host } : {}), port: Number(match[3]) };
}

export async function startRegistry(config: Config, logger: Logger): Promise<RunningRegistry> {
  const driver = await createDriver(config.storage.driver, logger);
  const access = await createAccessController(config.auth, logger);
  const { koa } = createApp(config, { driver, logger, ...(access && { access }) });
  const handler = koa.callback();
  const tls = config.http.tls;
  const server = tls
    ? createHttpsServer({ cert: await readFile(tls.certificate), key: await readFile(tls.key) }, handler)
    : createHttpServer(handler);
  // Large blobs stream for minutes; Node's default 5-minute request timeout would cut them off.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
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
  const { host, port } = parseAddr(config.http.addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tls ? 'https' : 'http'}://${shownHost}:${address.port}`;
  logger.info({ url, storage: driver.name, auth: config.auth?.type ?? 'none' }, 'registry listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    driver,
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
        await driver.close?.();
      })();
      return closing;
    },
  };
}
