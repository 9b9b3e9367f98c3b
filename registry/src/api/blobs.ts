// /v2/<name>/blobs/<digest>: GET and HEAD (with Range), DELETE of the repository's link.
import { Readable } from 'node:stream';
import type Router from '@koa/router';
import { formatDigest } from '../storage/digest.js';
import { checkDigest } from '../storage/reference.js';
import { authorize, deletable, repositoryAccess, writable } from './access.js';
import type { RequestState, Services, Context } from './context.js';
import { parseRange } from './http-input.js';
import { emptyBody } from './http-output.js';
import { captures, type routePatterns } from './routes.js';

/** The first `length` bytes of a stream; the rest is not read. */
function take(source: Readable, length: number): Readable {
  return Readable.from(
    (async function* () {
      let left = length;
      try {
        for await (const chunk of source as AsyncIterable<Buffer>) {
          if (chunk.length >= left) {
            yield chunk.subarray(0, left);
            return;
          }
          left -= chunk.length;
          yield chunk;
        }
      } finally {
        source.destroy();
      }
    })(),
    { objectMode: false },
  );
}

export function registerBlobs(router: Router<RequestState>, services: Services, routes: ReturnType<typeof routePatterns>): void {
  const { store } = services;
  const redirect = !services.config.storage.redirect.disable;

  async function read(ctx: Context): Promise<void> {
    const { name, second } = captures(ctx);
    const digest = checkDigest(second);
    await authorize(ctx, services, [repositoryAccess(name, 'pull')]);
    const size = await store.layers.stat(name, digest);
    const etag = `"${formatDigest(digest)}"`;
    ctx.set('Docker-Content-Digest', formatDigest(digest));
    ctx.set('ETag', etag);
    ctx.set('Accept-Ranges', 'bytes');
    ctx.set('Cache-Control', 'max-age=31536000');
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
    if (range) {
      ctx.status = 206;
      ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
      ctx.length = range.end - range.start + 1;
      if (ctx.method === 'GET') {
        const source = await store.blobs.open(digest, range.start);
        ctx.body = range.end === size - 1 ? source : take(source, range.end - range.start + 1);
      }
    } else {
      ctx.status = 200;
      ctx.length = size;
      if (ctx.method === 'GET') ctx.body = await store.blobs.open(digest);
    }
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
