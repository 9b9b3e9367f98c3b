// Before the routes: `?ns=<registry>` (sent by containerd through a hosts.toml mirror) that names a configured
// upstream moves the request under that upstream's prefix (ns=docker.io: /v2/library/alpine/... is served as
// /v2/docker.io/library/alpine/...), so every route, authorization included, sees the name the content is stored
// under. And pushes to a mirrored repository are refused, saying why, while local repositories take them.
import type { Context } from '../api/context.js';
import { queryString } from '../api/http-input.js';
import type { routePatterns } from '../api/routes.js';
import { RegistryError } from '../errcode.js';
import type { Routes } from './routing.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH']);

function pushRefusal(routes: Routes, name: string, ns: string): RegistryError | undefined {
  const route = routes.route(name, ns);
  if (!route) return undefined;
  const { namespace, remoteurl } = route.upstream;
  const why =
    namespace === undefined
      ? `this registry mirrors ${remoteurl} (proxy.remoteurl) for every repository outside the proxy.upstreams namespaces`
      : `repositories under ${route.upstream.prefix}/ mirror ${remoteurl} (proxy.upstreams namespace ${namespace})`;
  return new RegistryError('UNSUPPORTED', `${name} is a mirrored repository and takes no pushes: ${why}; push to a repository outside them`, { name });
}

export function mirrorRouting(routes: Routes, patterns: ReturnType<typeof routePatterns>, httpPrefix: string) {
  const base = `${httpPrefix}v2/`;
  const pushRoutes = [patterns.uploads, patterns.upload, patterns.manifest];
  return async (ctx: Context, next: () => Promise<unknown>): Promise<void> => {
    const ns = queryString(ctx.query.ns);
    const upstream = ns === '' ? undefined : routes.namespaced(ns);
    if (upstream?.prefix !== undefined && ctx.path.startsWith(base)) {
      const rest = ctx.path.slice(base.length);
      if (rest !== '' && rest !== '_catalog') ctx.path = `${base}${upstream.prefix}/${rest}`;
    }
    if (WRITES.has(ctx.method)) {
      const name = pushRoutes.map((pattern) => pattern.exec(ctx.path)?.[1]).find((captured) => captured !== undefined);
      const refusal = name === undefined ? undefined : pushRefusal(routes, name, ns);
      if (refusal) throw refusal;
    }
    await next();
  };
}
