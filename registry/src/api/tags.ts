// GET /v2/<name>/tags/list: tags sorted, paginated with n/last and a Link header.
import type Router from '@koa/router';
import { authorize, repositoryAccess } from './access.js';
import type { RequestState, Services, Context } from './context.js';
import { pageSize, queryString } from './http-input.js';
import { captures, type routePatterns } from './routes.js';
import { apiPath } from './urls.js';

const MAX_ENTRIES = 10_000;

export function registerTags(router: Router<RequestState>, services: Services, routes: ReturnType<typeof routePatterns>): void {
  router.get(routes.tags, async (ctx: Context) => {
    const { name } = captures(ctx);
    await authorize(ctx, services, [repositoryAccess(name, 'pull')]);
    const n = pageSize(ctx.query.n, undefined, MAX_ENTRIES);
    const last = queryString(ctx.query.last);
    if (n === 0) {
      // Still answers NAME_UNKNOWN for a repository that does not exist.
      await services.store.tags.list(name, '', 1);
      ctx.body = { name, tags: [] };
      return;
    }
    const limit = n ?? Number.MAX_SAFE_INTEGER;
    const tags = await services.store.tags.list(name, last, n === undefined ? limit : n + 1);
    const page = tags.slice(0, limit);
    if (n !== undefined && tags.length > n && page.length > 0) {
      const next = new URLSearchParams({ n: String(n), last: page[page.length - 1] as string });
      ctx.set('Link', `<${apiPath(services, `${name}/tags/list`)}?${next}>; rel="next"`);
    }
    ctx.body = { name, tags: page };
  });
}
