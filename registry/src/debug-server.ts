// http.debug.addr: /debug/health and, when http.debug.prometheus.enabled, the metrics at its path.
import { createServer, type Server } from 'node:http';
import type { HttpConfig } from './config/types.js';
import type { HealthStatus } from './health.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { listenOn, urlOf } from './listen-address.js';

export interface DebugServer {
  url: string;
  close(): Promise<void>;
}

export async function startDebugServer(
  config: NonNullable<HttpConfig['debug']>,
  health: HealthStatus,
  metrics: Metrics | undefined,
  logger: Logger,
): Promise<DebugServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/debug/health') {
      const failing = health.failing();
      res.writeHead(Object.keys(failing).length === 0 ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(failing));
    } else if (metrics && path === config.prometheus.path) {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
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
