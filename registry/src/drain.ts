// The graceful stop: stop accepting, let the requests in flight finish, and never take longer than draintimeout plus
// SETTLE_MS. A request counts as in flight until its response has closed and its handler has returned, so a request
// cut at the deadline still gets to close its upload's writer (its bytes stay resumable) before storage is released.
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Logger } from './log.js';

/** How long requests cut at the drain deadline get to clean up. */
export const SETTLE_MS = 2_000;

export interface Drainer {
  /** The server's request handler, counted. */
  handler: RequestListener;
  /**
   * Stops accepting and waits for the requests in flight: all of them when timeoutMs is 0, else until the deadline,
   * when the rest are cut and given at most SETTLE_MS to finish.
   */
  drain(server: Server, timeoutMs: number): Promise<void>;
}

function timeout(ms: number): { done: Promise<'timeout'>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  return { done, clear: () => clearTimeout(timer) };
}

export function drainable(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>, logger: Logger): Drainer {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  let onSettled: (() => void) | undefined;

  const handler: RequestListener = (req, res) => {
    inFlight.add(res);
    // A connection kept alive would carry the next request past the drain.
    if (draining) res.setHeader('Connection', 'close');
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
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
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
      // Keep-alive connections between requests; a connection still in its TLS handshake is not among them and
      // would hold close() for the handshake timeout, so that wait is bounded too.
      server.closeAllConnections();
      const closing = timeout(SETTLE_MS);
      await Promise.race([closed, closing.done]);
      closing.clear();
    },
  };
}
