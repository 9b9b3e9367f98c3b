// `console-auth serve`: load console.yml, listen on http.addr, reload on change or SIGHUP, drain on SIGTERM/SIGINT.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../../registry/src/log.js';
import { createConsoleApp, type ConsoleApp } from './app.js';
import { loadConsoleConfig } from './config.js';
import { watchConfig } from './reload.js';

export interface Listening {
  server: Server;
  /** http://host:port as bound (the real port when http.addr asked for 0). */
  url: string;
  close(): Promise<void>;
}

/** Splits distribution's addr form: "host:port", ":port" (every interface) or "[v6]:port". */
export function parseAddr(addr: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  const port = Number(match?.[3]);
  if (match === null || !Number.isInteger(port) || port > 65535) {
    throw new Error(`http.addr "${addr}" is not host:port or :port`);
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

export async function listen(consoleApp: ConsoleApp, addr: string): Promise<Listening> {
  const { host, port } = parseAddr(addr);
  const server = createServer(consoleApp.app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    server,
    url: `http://${shown}:${bound.port}`,
    // Stops accepting, lets running requests finish, then drops idle keep-alive connections.
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

export async function serve(configPath: string): Promise<void> {
  const config = await loadConsoleConfig(configPath);
  const logger: Logger = createLogger({ level: config.log.level, formatter: 'json', fields: {} });
  const consoleApp = await createConsoleApp(config, { logger });
  const listening = await listen(consoleApp, config.http.addr);
  logger.info({ url: listening.url, config: configPath, mode: config.mode, service: config.token.service }, 'console-auth listening');
  const watcher = watchConfig(configPath, consoleApp, logger);
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading console.yml');
    void watcher.reload();
  });
  const shutdown = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'console-auth stopping');
    watcher.stop();
    consoleApp.close();
    listening.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
