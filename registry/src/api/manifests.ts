// /v2/<name>/manifests/<reference>: GET, HEAD, PUT, DELETE by tag or digest.
import type Router from '@koa/router';
import { RegistryError } from '../errcode.js';
import type { ManifestSource } from '../proxy/manifests.js';
import { formatDigest } from '../storage/digest.js';
import { isIndexType, MEDIA_TYPES, readStoredManifest } from '../storage/manifest.js';
import type { StoredManifest } from '../storage/manifests.js';
import { lookupReference, parseReference } from '../storage/reference.js';
import { authorize, deletable, repositoryAccess, writable } from './access.js';
import type { RequestState, Services, Context } from './context.js';
import { readSmallBody } from './http-input.js';
import { emptyBody } from './http-output.js';
import { captures, type routePatterns } from './routes.js';
import { locationUrl } from './urls.js';

/** The OCI spec asks registries to accept manifests of at least 4 MiB; distribution's limit is the same. */
export const MANIFEST_LIMIT = 4 * 1024 * 1024;

function accepted(ctx: Context): Set<string> | undefined {
  const header = ctx.get('accept');
  if (!header) return undefined;
  const types = new Set(header.split(',').map((part) => part.split(';')[0]?.trim() ?? ''));
  return types.has('*/*') ? undefined : types;
}

/**
 * distribution's content negotiation: OCI types are served only to clients that accept them, and a manifest list
 * fetched by tag by a client that accepts no list type is replaced by its linux/amd64 image. A request without
 * Accept, or with a match-all Accept, gets what is stored.
 */
async function negotiate(ctx: Context, source: ManifestSource, stored: StoredManifest, byTag: boolean): Promise<StoredManifest> {
  const accepts = accepted(ctx);
  if (!accepts || accepts.has(stored.mediaType)) return stored;
  if (isIndexType(stored.mediaType) && byTag && !accepts.has(MEDIA_TYPES.dockerList) && !accepts.has(MEDIA_TYPES.ociIndex)) {
    const child = readStoredManifest(stored.content)?.manifests.find((d) => d.platform?.architecture === 'amd64' && d.platform?.os === 'linux');
    if (child) return negotiate(ctx, source, await source.get(child.digest), false);
  }
  if (stored.mediaType === MEDIA_TYPES.ociManifest || stored.mediaType === MEDIA_TYPES.ociIndex) {
    throw new RegistryError(
      'MANIFEST_UNKNOWN',
      `the manifest is ${stored.mediaType}, which the request's Accept header does not list; add it to Accept`,
      { mediaType: stored.mediaType },
    );
  }
  return stored;
}

function setManifestHeaders(ctx: Context, manifest: StoredManifest): void {
  const digest = formatDigest(manifest.digest);
  ctx.set('Docker-Content-Digest', digest);
  ctx.set('ETag', `"${digest}"`);
  ctx.type = manifest.mediaType;
  ctx.length = manifest.content.length;
}

export function registerManifests(router: Router<RequestState>, services: Services, routes: ReturnType<typeof routePatterns>): void {
  const { store } = services;

  function stored(name: string): ManifestSource {
    return {
      async resolve(reference) {
        const ref = lookupReference(reference);
        if (ref.digest) return { digest: ref.digest, byTag: false };
        return { digest: await store.tags.resolve(name, ref.tag), byTag: true };
      },
      get: (digest) => store.manifests.get(name, digest),
    };
  }

  async function read(ctx: Context): Promise<void> {
    const { name, second } = captures(ctx);
    await authorize(ctx, services, [repositoryAccess(name, 'pull')]);
    const source = services.mirror?.manifests(ctx, name) ?? stored(name);
    const { digest, byTag } = await source.resolve(second);
    const manifest = await negotiate(ctx, source, await source.get(digest), byTag);
    setManifestHeaders(ctx, manifest);
    if (ctx.get('if-none-match') === `"${formatDigest(manifest.digest)}"`) {
      ctx.status = 304;
      return;
    }
    ctx.status = 200;
    if (ctx.method === 'GET') ctx.body = manifest.content;
  }

  router.get(routes.manifest, read);
  router.head(routes.manifest, read);

  router.put(routes.manifest, async (ctx: Context) => {
    const { name, second } = captures(ctx);
    const ref = parseReference(second);
    await authorize(ctx, services, [repositoryAccess(name, 'pull', 'push')]);
    writable(services);
    const content = await readSmallBody(
      ctx.req,
      MANIFEST_LIMIT,
      () => new RegistryError('MANIFEST_TOO_LARGE', `manifest is larger than ${MANIFEST_LIMIT} bytes, the most this registry accepts`),
    );
    const { digest, manifest } = await store.manifests.put(name, content, ctx.get('content-type') || undefined, ref.digest, {
      ...(ref.tag !== undefined && { tag: ref.tag }),
    });
    const location = formatDigest(digest);
    emptyBody(ctx, 201);
    ctx.set('Location', locationUrl(ctx, services, `${name}/manifests/${location}`));
    ctx.set('Docker-Content-Digest', location);
    if (manifest.subject) ctx.set('OCI-Subject', formatDigest(manifest.subject.digest));
    ctx.state.log.debug({ name, digest: location, tag: ref.tag }, 'manifest stored');
  });

  router.delete(routes.manifest, async (ctx: Context) => {
    const { name, second } = captures(ctx);
    await authorize(ctx, services, [repositoryAccess(name, 'delete')]);
    writable(services);
    deletable(services);
    const ref = lookupReference(second);
    if (ref.tag !== undefined) {
      await store.tags.untag(name, ref.tag);
    } else {
      await store.manifests.delete(name, ref.digest);
      const untagged = await store.tags.untagDigest(name, ref.digest);
      ctx.state.log.info({ name, digest: formatDigest(ref.digest), untagged }, 'manifest deleted');
    }
    emptyBody(ctx, 202);
  });
}
