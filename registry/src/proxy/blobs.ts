// Blobs of mirrored repositories. In storage: served by the ordinary blob path. Not yet: fetched from the upstream
// once for everyone who asks at the same time, across workers and replicas (SingleFlight): the first client gets the
// bytes as they arrive, through the ordinary upload path (hashed, verified, committed), and the others, here or in
// other processes, read the committed blob from storage. A HEAD asks the upstream and fetches nothing.
import type { IncomingMessage } from 'node:http';
import type { Context } from '../api/context.js';
import { RegistryError } from '../errcode.js';
import type { Logger } from '../log.js';
import { formatDigest, type Digest } from '../storage/digest.js';
import { markOutcome, present, type MirrorServices, type Upstream } from './context.js';
import { upstreamRefusal } from './errors.js';
import { LiveClient } from './live-client.js';
import { drain, UpstreamError } from './upstream-client.js';

function blobPath(digest: Digest): string {
  return `blobs/${formatDigest(digest)}`;
}

/** One GET from the upstream into an upload of `name`, fed to `live` on the way; returns the committed size. */
async function fetchBlob(m: MirrorServices, upstream: Upstream, name: string, digest: Digest, live: LiveClient | undefined, log: Logger): Promise<number> {
  const { store } = m;
  const { client } = upstream;
  const what = `GET /v2/${upstream.remote}/${blobPath(digest)}`;
  const res = await client.request('GET', upstream.remote, blobPath(digest));
  if (res.statusCode !== 200) {
    await drain(res);
    throw client.refused(res, what);
  }
  const declared = res.headers['content-length'];
  live?.begin(declared === undefined ? undefined : Number(declared));
  const upload = await store.uploads.start(name).catch((err: unknown) => {
    res.destroy();
    throw err;
  });
  let received = 0;
  async function* body(): AsyncGenerator<Buffer> {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      received += chunk.length;
      client.countBytes(chunk.length);
      live?.push(chunk);
      yield chunk;
    }
  }
  let size: number;
  try {
    // Aborting the chunk (a cancel) ends the upstream response, which ends the iteration with the reason.
    const source = Object.assign(body(), { abort: (reason: Error) => res.destroy(reason) });
    size = await store.uploads.complete(name, upload.uuid, digest, source);
  } catch (err) {
    res.destroy();
    // A digest mismatch discarded the upload already; anything else leaves a partial one to remove.
    await store.uploads.cancel(name, upload.uuid).catch(() => undefined);
    if (err instanceof RegistryError && err.descriptor.code === 'DIGEST_INVALID') {
      client.countError('digest');
      throw new UpstreamError('digest', `${client.config.remoteurl} sent bytes for ${upstream.remote}@${formatDigest(digest)} that do not match that digest (${err.message}); nothing was stored`);
    }
    if (err instanceof RegistryError || err instanceof UpstreamError) throw err;
    client.countError('unreachable');
    throw new UpstreamError('unreachable', `the transfer from ${client.config.remoteurl} broke after ${received} bytes of ${what}: ${(err as Error).message}`);
  }
  log.info({ name, digest: formatDigest(digest), size, upstream: client.label }, 'mirror: blob fetched');
  return size;
}

/** The upstream's answer to a HEAD of the blob in the repository; an UpstreamError unless it has it there. */
async function headBlob(upstream: Upstream, digest: Digest): Promise<IncomingMessage> {
  const res = await upstream.client.request('HEAD', upstream.remote, blobPath(digest));
  await drain(res);
  if (res.statusCode !== 200) throw upstream.client.refused(res, `HEAD /v2/${upstream.remote}/${blobPath(digest)}`);
  return res;
}

async function answerHead(ctx: Context, upstream: Upstream, digest: Digest, headers: Record<string, string>): Promise<void> {
  const res = await headBlob(upstream, digest);
  ctx.set(headers);
  ctx.type = 'application/octet-stream';
  const length = res.headers['content-length'];
  if (length !== undefined) ctx.length = Number(length);
  ctx.status = 200;
}

/**
 * Answers the request itself and returns true, or returns false once the blob is in storage and linked to `name`, for
 * the ordinary path to serve (with Range, conditional requests and redirects as usual).
 */
export async function serveMirroredBlob(
  m: MirrorServices,
  ctx: Context,
  name: string,
  upstream: Upstream,
  digest: Digest,
  headers: Record<string, string>,
): Promise<boolean> {
  const { store, metrics } = m;
  const subject = `blob ${formatDigest(digest)} of ${name}`;
  if ((await present(store.layers.stat(name, digest))) !== undefined) {
    metrics?.mirrorHits.inc({ kind: 'blob' });
    markOutcome(ctx, 'hit');
    return false;
  }
  metrics?.mirrorMisses.inc({ kind: 'blob' });
  markOutcome(ctx, 'miss');
  try {
    if (ctx.method === 'HEAD') {
      await answerHead(ctx, upstream, digest, headers);
      return true;
    }
    // A Range asks for part of the blob: it waits for the whole one like any follower.
    const live = ctx.get('range') ? undefined : new LiveClient(ctx, headers);
    let led = false;
    let size: number;
    try {
      size = await m.flight.run(`blob.${digest.algorithm}.${digest.hex}`, {
        ready: () => present(store.blobs.stat(digest)),
        lead: async () => {
          led = true;
          metrics?.mirrorFetches.inc({ kind: 'blob' });
          try {
            return await fetchBlob(m, upstream, name, digest, live, ctx.state.log);
          } finally {
            metrics?.mirrorFetches.dec({ kind: 'blob' });
          }
        },
      });
    } catch (err) {
      if (!live?.started) throw err;
      ctx.state.log.error({ err, name, digest: formatDigest(digest) }, 'mirror fetch failed mid-response; connection cut');
      live.fail();
      return true;
    }
    if (led && live?.started) {
      await live.finish(store.blobs, digest, size).catch((err: unknown) => {
        ctx.state.log.error({ err, name, digest: formatDigest(digest) }, 'sending the rest of the blob from storage failed; connection cut');
        live.fail();
      });
      return true;
    }
    // Stored for another repository: linked here only once the upstream says this repository has it too.
    if (!(await store.layers.linked(name, digest))) {
      await headBlob(upstream, digest);
      await store.layers.link(name, digest);
    }
    return false;
  } catch (err) {
    throw upstreamRefusal(err, 'blob', subject);
  }
}
