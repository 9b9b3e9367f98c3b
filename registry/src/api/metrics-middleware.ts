// Request counts, latencies and bytes per route for Prometheus. Over HTTP/1.1 byte counts are socket deltas, so
// chunked bodies count too without reading the body here; over HTTP/2 every stream shares the socket, so they are
// the stream's own DATA bytes received and the body of a completed response.
import { Http2ServerRequest } from 'node:http2';
import type { Metrics } from '../metrics.js';
import type { Context } from './context.js';
import type { routePatterns } from './routes.js';

type Routes = ReturnType<typeof routePatterns>;

/** The route a path belongs to, as a bounded label (never the repository name). */
export function routeLabel(routes: Routes, path: string): string {
  for (const [name, pattern] of Object.entries(routes)) if (pattern.test(path)) return name;
  return 'other';
}

const UPLOAD_ROUTES = new Set(['uploads', 'upload']);

/** Starts counting a request's bytes; the function returned reads the counts once the response has closed. */
function countBytes(ctx: Context): () => { read: number; written: number } {
  const { req, res } = ctx;
  if (req instanceof Http2ServerRequest) {
    let read = 0;
    // The compatibility layer already reads the stream in flowing mode; one more listener changes nothing.
    req.stream.on('data', (chunk: Buffer) => (read += chunk.length));
    const bodiless = () => ctx.method === 'HEAD' || ctx.status === 204 || ctx.status === 304;
    return () => ({ read, written: res.writableFinished && !bodiless() ? (ctx.response.length ?? 0) : 0 });
  }
  const socket = req.socket;
  const readBefore = socket.bytesRead;
  const writtenBefore = socket.bytesWritten;
  return () => ({ read: Math.max(0, socket.bytesRead - readBefore), written: Math.max(0, socket.bytesWritten - writtenBefore) });
}

export function measureRequests(metrics: Metrics, routes: Routes) {
  return async (ctx: Context, next: () => Promise<unknown>): Promise<void> => {
    const route = routeLabel(routes, ctx.path);
    const bytes = countBytes(ctx);
    const end = metrics.latency.startTimer({ route, method: ctx.method });
    const uploading = UPLOAD_ROUTES.has(route) && ctx.method !== 'GET' && ctx.method !== 'DELETE';
    if (uploading) metrics.uploadsInProgress.inc();
    ctx.res.once('close', () => {
      end();
      if (uploading) metrics.uploadsInProgress.dec();
      metrics.requests.inc({ route, method: ctx.method, code: String(ctx.status) });
      const { read, written } = bytes();
      metrics.bytesIn.inc({ route }, read);
      metrics.bytesOut.inc({ route }, written);
    });
    await next();
  };
}
