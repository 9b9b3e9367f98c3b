// Request counts, latencies and bytes per route for Prometheus. Byte counts are socket deltas, so chunked bodies
// count too without reading the body here.
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

export function measureRequests(metrics: Metrics, routes: Routes) {
  return async (ctx: Context, next: () => Promise<unknown>): Promise<void> => {
    const route = routeLabel(routes, ctx.path);
    const socket = ctx.req.socket;
    const readBefore = socket.bytesRead;
    const writtenBefore = socket.bytesWritten;
    const end = metrics.latency.startTimer({ route, method: ctx.method });
    const uploading = UPLOAD_ROUTES.has(route) && ctx.method !== 'GET' && ctx.method !== 'DELETE';
    if (uploading) metrics.uploadsInProgress.inc();
    ctx.res.once('close', () => {
      end();
      if (uploading) metrics.uploadsInProgress.dec();
      metrics.requests.inc({ route, method: ctx.method, code: String(ctx.status) });
      metrics.bytesIn.inc({ route }, Math.max(0, socket.bytesRead - readBefore));
      metrics.bytesOut.inc({ route }, Math.max(0, socket.bytesWritten - writtenBefore));
    });
    await next();
  };
}
