// /v2/<name>/blobs/uploads/: start (plain, monolithic, cross-repository mount), PATCH chunks, PUT to finish,
// GET status, DELETE to cancel.
import { Http2ServerRequest } from 'node:http2';
import type Router from '@koa/router';
import { Challenge } from '../auth/controller.js';
import { RegistryError } from '../errcode.js';
import { formatDigest, type Digest } from '../storage/digest.js';
import { checkDigest, checkName } from '../storage/reference.js';
import type { UploadStatus } from '../storage/uploads.js';
import { authorize, repositoryAccess, writable } from './access.js';
import type { RequestState, Services, Context } from './context.js';
import { parseContentRange, queryString } from './http-input.js';
import { emptyBody } from './http-output.js';
import { RequestBody } from './request-body.js';
import { captures, type routePatterns } from './routes.js';
import { locationUrl } from './urls.js';

function rangeHeader(size: number): string {
  // The spec's Range is inclusive; an empty upload reports 0-0, as distribution does.
  return `0-${Math.max(size - 1, 0)}`;
}

/** The upload no longer exists: unknown, or discarded after a digest mismatch. */
function isUploadGone(err: unknown): boolean {
  return err instanceof RegistryError && (err.descriptor.code === 'BLOB_UPLOAD_UNKNOWN' || err.descriptor.code === 'DIGEST_INVALID');
}

/**
 * Whether the request carries a body. HTTP/1.1 announces one with Content-Length or Transfer-Encoding; an HTTP/2
 * request may stream one without either, and has none only when its HEADERS frame ended the stream.
 */
function hasBody(ctx: Context): boolean {
  // By the request's kind, not its version: an HTTP/1.1 request line may claim HTTP/2.0.
  if (ctx.req instanceof Http2ServerRequest) return !ctx.req.stream.endAfterHeaders;
  const length = ctx.get('content-length');
  return (length !== '' && Number(length) > 0) || ctx.get('transfer-encoding') !== '';
}

export function registerUploads(router: Router<RequestState>, services: Services, routes: ReturnType<typeof routePatterns>): void {
  const { store } = services;

  function uploadAccepted(ctx: Context, name: string, status: UploadStatus, code: 202 | 204): void {
    emptyBody(ctx, code);
    ctx.set('Location', locationUrl(ctx, services, `${name}/blobs/uploads/${status.uuid}`));
    ctx.set('Range', rangeHeader(status.size));
    ctx.set('Docker-Upload-UUID', status.uuid);
  }

  /**
   * Rethrows a chunk's failure with where the upload stands (Location, Range where storage can still tell), so the
   * client can resume it or cancel it: a refused chunk leaves the upload as it was before the chunk.
   */
  async function refusedChunk(ctx: Context, name: string, uuid: string, body: RequestBody, err: unknown): Promise<never> {
    await discardRest(ctx, body);
    if (isUploadGone(err)) throw err;
    const status = await store.uploads.status(name, uuid).catch((statusErr: unknown) => {
      // An upload that does not exist is the answer, whatever else was wrong with the chunk.
      if (isUploadGone(statusErr)) throw statusErr;
      return undefined;
    });
    ctx.set('Location', locationUrl(ctx, services, `${name}/blobs/uploads/${uuid}`));
    ctx.set('Docker-Upload-UUID', uuid);
    if (status) ctx.set('Range', rangeHeader(status.size));
    throw err;
  }

  /** Drops the rest of a refused chunk so the client gets the answer; past the drain limit the connection closes. */
  async function discardRest(ctx: Context, body: RequestBody): Promise<void> {
    const discarded = await body.discardRest().catch(() => false);
    if (!discarded) ctx.set('Connection', 'close');
  }

  /** The blob is stored and linked: the store did both in one write. */
  function blobCreated(ctx: Context, name: string, digest: Digest): void {
    emptyBody(ctx, 201);
    ctx.set('Location', locationUrl(ctx, services, `${name}/blobs/${formatDigest(digest)}`));
    ctx.set('Docker-Content-Digest', formatDigest(digest));
  }

  /** Links a blob from another repository when the client may pull it there; false means start an upload. */
  async function mount(ctx: Context, name: string, digest: Digest, from: string): Promise<boolean> {
    try {
      await authorize(ctx, services, [repositoryAccess(from, 'pull')]);
    } catch (err) {
      if (err instanceof Challenge) return false;
      throw err;
    }
    if (!(await store.layers.mount(name, from, digest))) return false;
    blobCreated(ctx, name, digest);
    ctx.state.log.debug({ name, from, digest: formatDigest(digest) }, 'blob mounted');
    return true;
  }

  router.post(routes.uploads, async (ctx: Context) => {
    const { name } = captures(ctx);
    await authorize(ctx, services, [repositoryAccess(name, 'pull', 'push')]);
    writable(services);
    const mounted = queryString(ctx.query.mount);
    if (mounted) {
      const digest = checkDigest(mounted);
      const from = queryString(ctx.query.from);
      if (from && (await mount(ctx, name, digest, checkName(from)))) return;
    }
    const monolithic = queryString(ctx.query.digest);
    if (monolithic) {
      const digest = checkDigest(monolithic);
      const body = new RequestBody(ctx.req);
      try {
        await store.uploads.upload(name, digest, body);
      } catch (err) {
        await discardRest(ctx, body);
        throw err;
      }
      blobCreated(ctx, name, digest);
      return;
    }
    uploadAccepted(ctx, name, await store.uploads.start(name), 202);
  });

  router.patch(routes.upload, async (ctx: Context) => {
    const { name, second: uuid } = captures(ctx);
    await authorize(ctx, services, [repositoryAccess(name, 'pull', 'push')]);
    writable(services);
    const body = new RequestBody(ctx.req);
    try {
      const range = parseContentRange(ctx.get('content-range') || undefined, ctx.get('content-length') || undefined);
      uploadAccepted(ctx, name, await store.uploads.append(name, uuid, body, range), 202);
    } catch (err) {
      await refusedChunk(ctx, name, uuid, body, err);
    }
  });

  router.put(routes.upload, async (ctx: Context) => {
    const { name, second: uuid } = captures(ctx);
    await authorize(ctx, services, [repositoryAccess(name, 'pull', 'push')]);
    writable(services);
    const raw = queryString(ctx.query.digest);
    if (!raw) {
      throw new RegistryError('DIGEST_INVALID', 'the digest query parameter is required to finish an upload: PUT <upload URL>?digest=sha256:<hex>');
    }
    const digest = checkDigest(raw);
    const range = parseContentRange(ctx.get('content-range') || undefined, ctx.get('content-length') || undefined);
    const body = new RequestBody(ctx.req);
    try {
      if (range) {
        const status = await store.uploads.status(name, uuid);
        if (range.start !== status.size) {
          throw new RegistryError('RANGE_INVALID', `last chunk starts at byte ${range.start} but the upload has ${status.size} bytes`);
        }
      }
      await store.uploads.complete(name, uuid, digest, hasBody(ctx) ? body : undefined);
    } catch (err) {
      await refusedChunk(ctx, name, uuid, body, err);
    }
    blobCreated(ctx, name, digest);
  });

  router.get(routes.upload, async (ctx: Context) => {
    const { name, second: uuid } = captures(ctx);
    await authorize(ctx, services, [repositoryAccess(name, 'pull')]);
    uploadAccepted(ctx, name, await store.uploads.status(name, uuid), 204);
  });

  router.delete(routes.upload, async (ctx: Context) => {
    const { name, second: uuid } = captures(ctx);
    await authorize(ctx, services, [repositoryAccess(name, 'pull', 'push')]);
    writable(services);
    await store.uploads.cancel(name, uuid);
    emptyBody(ctx, 204);
  });
}
