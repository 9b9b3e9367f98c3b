// GET /v2/_catalog: repository names in path order, paginated with n/last and a Link header.
import type Router from '@koa/router';
import { authorize } from './access.js';
import type { RequestState, Services, Context } from './context.js';
import { pageSize, queryString } from './http-input.js';
import type { routePatterns } from './routes.js';
import { apiPath } from './urls.js';

/** distribution's defaults: 100 entries unless asked, 1000 at most per page. */
const DEFAULT_ENTRIES = 100;
const MAX_ENTRIES = 1000;

export function registerCatalog(router: Router<RequestState>, services: Services, routes: ReturnType<typeof routePatterns>): void {
  router.get(routes.catalog, async (ctx: Context) => {
    await authorize(ctx, services, [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    const n = pageSize(ctx.query.n, DEFAULT_ENTRIES, MAX_ENTRIES) as number;
    const last = queryString(ctx.query.last);
    const repositories = await services.store.catalog.list(last, n + 1);
    const page = repositories.slice(0, n);
    if (repositories.length > n && page.length > 0) {
      const next = new URLSearchParams({ last: page[page.length - 1] as string, n: String(n) });
      ctx.set('Link', `<${apiPath(services, '_catalog')}?${next}>; rel="next"`);
    }
    ctx.body = { repositories: page };
  });
}
