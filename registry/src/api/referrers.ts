// GET /v2/<name>/referrers/<digest>: the OCI 1.1 referrers API, with the artifactType filter.
import type Router from '@koa/router';
import { MEDIA_TYPES } from '../storage/manifest.js';
import { checkDigest } from '../storage/reference.js';
import { authorize, repositoryAccess } from './access.js';
import type { RequestState, Services, Context } from './context.js';
import { queryString } from './http-input.js';
import { captures, type routePatterns } from './routes.js';

export function registerReferrers(router: Router<RequestState>, services: Services, routes: ReturnType<typeof routePatterns>): void {
  router.get(routes.referrers, async (ctx: Context) => {
    const { name, second } = captures(ctx);
    const subject = checkDigest(second);
    await authorize(ctx, services, [repositoryAccess(name, 'pull')]);
    const artifactType = queryString(ctx.query.artifactType) || undefined;
    const manifests = await services.store.referrers.list(name, subject, artifactType);
    if (artifactType !== undefined) ctx.set('OCI-Filters-Applied', 'artifactType');
    ctx.type = MEDIA_TYPES.ociIndex;
    ctx.body = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests };
  });
}
