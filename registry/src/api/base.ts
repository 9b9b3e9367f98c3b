// GET /v2/: the API version check, and where clients learn whether they must authenticate.
import type Router from '@koa/router';
import { authorize } from './access.js';
import type { RequestState, Services, Context } from './context.js';
import type { routePatterns } from './routes.js';

export function registerBase(router: Router<RequestState>, services: Services, routes: ReturnType<typeof routePatterns>): void {
  router.get(routes.base, async (ctx: Context) => {
    await authorize(ctx, services, []);
    ctx.type = 'application/json';
    ctx.body = '{}';
  });
}
