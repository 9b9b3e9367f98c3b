import type { Context } from './context.js';

/**
 * Ends the response with a status and an empty body. Koa turns `body = null` into 204 unless the status is set
 * after it, and then sends Content-Length: 0 with no Content-Type, which is what the spec's 201/202 answers carry.
 */
export function emptyBody(ctx: Context, status: number): void {
  ctx.body = null;
  ctx.status = status;
}
