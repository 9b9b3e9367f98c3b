// http.debug.addr: /debug/health and, when http.debug.prometheus.enabled, the metrics at its path: of this process, or
// with several workers, of the whole process tree, served once by the primary.
import { createServer, type Server } from 'node:http';
import type { HttpConfig } from './config/types.js';
import type { Logger } from './log.js';
import { listenOn, urlOf } from './listen-address.js';

export interface HealthSource {
  /** check name -> error message, for the failing checks only */
  failing(): Record<string, string> | Promise<Record<string, string>>;
}

/** A prom-client Registry, or whatever renders the tree's metrics in its format. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface DebugServer {
  url: string;
  close(): Promise<void>;
}

export async function startDebugServer(
  config: NonNullable<HttpConfig['debug']>,
  health: HealthSource,
  metrics: MetricsSource | undefined,
  logger: Logger,
): Promise<DebugServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/debug/health') {
      Promise.resolve(health.failing()).then(
        (failing) => {
          res.writeHead(Object.keys(failing).length === 0 ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify(failing));
        },
        (err: Error) => {
          logger.error({ err }, 'health collection failed');
          res.writeHead(500).end();
        },
      );
    } else if (metrics && path === config.prometheus.path) {
      metrics.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.contentType });
          res.end(text);
        },
        (err: Error) => {
          logger.error({ err }, 'metrics collection failed');
          res.writeHead(500).end();
        },
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  const url = urlOf(await listenOn(server, config.addr, 'http.debug.addr'), 'http');
  logger.info({ url }, 'debug server listening');
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
