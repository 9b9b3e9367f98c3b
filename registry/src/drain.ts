// The graceful stop: stop accepting, let the requests in flight finish, and never take longer than draintimeout plus
// SETTLE_MS. A request counts as in flight until its response has closed and its handler has returned, so a request
// cut at the deadline still gets to close its upload's writer (its bytes stay resumable) before storage is released.
import { ServerResponse } from 'node:http';
import type { ApiServer, RequestHandler } from './api-server.js';
import type { Logger } from './log.js';

/** How long requests cut at the drain deadline get to clean up. */
export const SETTLE_MS = 2_000;

export interface Drainer {
  /** The server's request handler, counted. */
  handler: RequestHandler;
  /**
   * Stops accepting and waits for the requests in flight: all of them when timeoutMs is 0, else until the deadline,
   * when the rest are cut and given at most SETTLE_MS to finish.
   */
  drain(server: ApiServer, timeoutMs: number): Promise<void>;
}

type Response = Parameters<RequestHandler>[1];

/** HTTP/1.1 is told to close the connection; HTTP/2 forbids the header, and its sessions get GOAWAY instead. */
function closeAfter(res: Response): void {
  if (res instanceof ServerResponse && !res.headersSent) res.setHeader('Connection', 'close');
}

function timeout(ms: number): { done: Promise<'timeout'>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  return { done, clear: () => clearTimeout(timer) };
}

export function drainable(handle: (...args: Parameters<RequestHandler>) => Promise<void>, logger: Logger): Drainer {
  const inFlight = new Set<Response>();
  let draining = false;
  let onSettled: (() => void) | undefined;

  const handler: RequestHandler = (req, res) => {
    inFlight.add(res);
    // A connection kept alive would carry the next request past the drain.
    if (draining) closeAfter(res);
    let pending = 2;
    const settle = () => {
      if (--pending > 0) return;
      inFlight.delete(res);
      if (inFlight.size === 0) onSettled?.();
    };
    res.once('close', settle);
    handle(req, res).then(settle, settle);
  };

  const settled = new Promise<void>((resolve) => {
    onSettled = () => {
      if (draining) resolve();
    };
  });

  return {
    handler,
    async drain(server, timeoutMs) {
      draining = true;
      const closed = server.close();
      for (const res of inFlight) closeAfter(res);
      if (inFlight.size === 0) onSettled?.();
      else logger.info({ inFlight: inFlight.size, drainTimeoutMs: timeoutMs }, 'draining in-flight requests');
      if (timeoutMs > 0) {
        const deadline = timeout(timeoutMs);
        if ((await Promise.race([settled, deadline.done])) === 'timeout') {
          logger.warn({ inFlight: inFlight.size, drainTimeoutMs: timeoutMs }, 'drain timeout reached: cutting the requests still in flight');
          server.closeAllConnections();
          const settling = timeout(SETTLE_MS);
          await Promise.race([settled, settling.done]);
          settling.clear();
        }
        deadline.clear();
      } else {
        await settled;
      }
      // Keep-alive connections between requests (HTTP/2 sessions end after their last stream); a connection still in
      // its TLS handshake is not among them and would hold close() for the handshake timeout, so that wait is bounded.
      server.closeIdleConnections();
      const closing = timeout(SETTLE_MS);
      await Promise.race([closed, closing.done]);
      closing.clear();
    },
  };
}
