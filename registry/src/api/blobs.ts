// /v2/<name>/blobs/<digest>: GET and HEAD (with Range), DELETE of the repository's link.
import type Router from '@koa/router';
import { formatDigest, type Digest } from '../storage/digest.js';
import { checkDigest } from '../storage/reference.js';
import { authorize, deletable, repositoryAccess, writable } from './access.js';
import type { RequestState, Services, Context } from './context.js';
import { parseRange } from './http-input.js';
import { emptyBody } from './http-output.js';
import { captures, type routePatterns } from './routes.js';

/** What a blob answer carries that an error answer must not (a proxy would cache the error for a year). */
const BLOB_HEADERS = ['Docker-Content-Digest', 'ETag', 'Accept-Ranges', 'Cache-Control', 'Content-Range'];

function blobHeaders(digest: Digest): Record<string, string> {
  return { 'Docker-Content-Digest': formatDigest(digest), ETag: `"${formatDigest(digest)}"`, 'Accept-Ranges': 'bytes', 'Cache-Control': 'max-age=31536000' };
}

export function registerBlobs(router: Router<RequestState>, services: Services, routes: ReturnType<typeof routePatterns>): void {
  const { store } = services;
  const redirect = !services.config.storage.redirect.disable;

  async function read(ctx: Context): Promise<void> {
    const { name, second } = captures(ctx);
    const digest = checkDigest(second);
    await authorize(ctx, services, [repositoryAccess(name, 'pull')]);
    if (await services.mirror?.serveBlob(ctx, name, digest, blobHeaders(digest))) return;
    // A HEAD is how a pusher decides to skip an upload, so storage answers it; a GET may use the cached size, since
    // reading a blob that is gone fails before the first byte.
    const size = await store.layers.stat(name, digest, { stored: ctx.method === 'HEAD' });
    const etag = `"${formatDigest(digest)}"`;
    ctx.set(blobHeaders(digest));
    if (ctx.get('if-none-match') === etag) {
      ctx.status = 304;
      return;
    }
    const url = redirect ? await store.blobs.redirectURL(digest, ctx.method === 'HEAD' ? 'HEAD' : 'GET') : undefined;
    if (url) {
      ctx.status = 307;
      ctx.set('Location', url);
      return;
    }
    const range = parseRange(ctx.get('range') || undefined, size);
    ctx.type = 'application/octet-stream';
    const start = range?.start ?? 0;
    const length = range ? range.end - range.start + 1 : size;
    ctx.status = range ? 206 : 200;
    if (range) ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    ctx.length = length;
    if (ctx.method === 'GET') await send(ctx, digest, start, length);
  }

  /**
   * Writes the bytes to the socket from reused buffers (Koa piping a stream would allocate every chunk), so Koa is
   * told not to respond. A failure before the first byte is rendered as usual, without the blob's caching headers;
   * one after it can only cut the connection, which the client sees as a short body.
   */
  async function send(ctx: Context, digest: Digest, start: number, length: number): Promise<void> {
    const res = ctx.res;
    ctx.respond = false;
    try {
      await store.blobs.send(digest, start, length, res);
    } catch (err) {
      if (!res.headersSent) {
        ctx.respond = true;
        for (const header of BLOB_HEADERS) ctx.remove(header);
        throw err;
      }
      ctx.state.log.error({ err }, 'reading the blob failed mid-response; connection closed');
      res.destroy();
      return;
    }
    if (!res.destroyed) res.end();
  }

  router.get(routes.blob, read);
  router.head(routes.blob, read);

  router.delete(routes.blob, async (ctx: Context) => {
    const { name, second } = captures(ctx);
    const digest = checkDigest(second);
    await authorize(ctx, services, [repositoryAccess(name, 'delete')]);
    writable(services);
    deletable(services);
    await store.layers.unlink(name, digest);
    ctx.state.log.info({ name, digest: formatDigest(digest) }, 'blob unlinked');
    emptyBody(ctx, 202);
  });
}
