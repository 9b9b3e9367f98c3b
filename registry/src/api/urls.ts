// Builds the URLs the API returns (Location, Link), honouring http.host, http.prefix and http.relativeurls.
import type { Context, Services } from './context.js';

export function apiPath(services: Services, rest: string): string {
  return `${services.config.http.prefix}v2/${rest}`;
}

/** An absolute URL unless relativeurls is set, like distribution's URL builder. */
export function locationUrl(ctx: Context, services: Services, rest: string): string {
  const path = apiPath(services, rest);
  const { host, relativeurls } = services.config.http;
  if (relativeurls) return path;
  if (host) return `${host.replace(/\/$/, '')}${path}`;
  return `${requestOrigin(ctx)}${path}`;
}

/** scheme://host as the client addressed this registry, through a proxy's X-Forwarded-* headers if any. */
export function requestOrigin(ctx: Context): string {
  const forwardedProto = ctx.get('x-forwarded-proto').split(',')[0]?.trim();
  const forwardedHost = ctx.get('x-forwarded-host').split(',')[0]?.trim();
  return `${forwardedProto || ctx.protocol}://${forwardedHost || ctx.host}`;
}
