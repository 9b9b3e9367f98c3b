// A loopback reverse proxy in front of a registry, standing in for the network between a mirror and its upstream:
// it records every request (to count upstream GETs where they arrive) and the body bytes it has passed on per
// request, and can throttle responses to a byte rate (a slow upstream, without any timed assertion in the tests).
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProxiedRequest {
  method: string;
  /** Path and query, as the mirror sent them. */
  url: string;
  /** Response body bytes passed on so far. */
  bytes: number;
}

export interface UpstreamProxy {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly requests: ProxiedRequest[];
  /** Requests whose method is `method` and whose path matches `path`. */
  count(method: string, path: RegExp): number;
  /** Response body bytes passed on so far, over the requests whose path matches. */
  bytesSent(path: RegExp): number;
  /** Bytes per second for responses started from now on; undefined for full speed. */
  throttle(bytesPerSecond: number | undefined): void;
  stop(): Promise<void>;
}

/**
 * Bytes a throttled body is cut into, each sent after the wait its size costs at the rate: 16 KiB, or a fiftieth of
 * a second's worth at high rates, since timers do not fire more often than every millisecond or so.
 */
function pieceSize(rate: number): number {
  return Math.max(16 * 1024, Math.floor(rate / 50));
}

async function relay(from: IncomingMessage, to: NodeJS.WritableStream & { destroyed: boolean }, seen: ProxiedRequest, rate: number | undefined): Promise<void> {
  const step = rate === undefined ? Number.POSITIVE_INFINITY : pieceSize(rate);
  for await (const chunk of from as AsyncIterable<Buffer>) {
    for (let at = 0; at < chunk.length; at += step) {
      const piece = rate === undefined ? chunk : chunk.subarray(at, at + step);
      if (rate !== undefined) await sleep((piece.length / rate) * 1000);
      if (to.destroyed) return;
      seen.bytes += piece.length;
      if (!to.write(piece)) await new Promise((resolve) => to.once('drain', resolve));
    }
  }
}

export async function startUpstreamProxy(target: string): Promise<UpstreamProxy> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  let rate: number | undefined;
  const server: Server = createServer((req, res) => {
    const seen: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', bytes: 0 };
    requests.push(seen);
    const currentRate = rate;
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        relay(answer, res, seen, currentRate).then(
          () => res.end(),
          () => res.destroy(),
        );
      },
    );
    forward.on('error', () => res.destroy());
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const matching = (method: string | undefined, path: RegExp) => requests.filter((r) => (method === undefined || r.method === method) && path.test(r.url));
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (method, path) => matching(method, path).length,
    bytesSent: (path) => matching(undefined, path).reduce((sum, r) => sum + r.bytes, 0),
    throttle(bytesPerSecond) {
      rate = bytesPerSecond;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
