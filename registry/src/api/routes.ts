// The API's URL patterns, in one place. Repository names contain slashes, so routes are regular expressions
// whose captures are read by the handlers (name first).
import { RegistryError } from '../errcode.js';
import { checkName } from '../storage/reference.js';
import type { Context } from './context.js';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function routePatterns(prefix: string) {
  const v2 = `^${escape(prefix)}v2`;
  return {
    base: new RegExp(`${v2}/?$`),
    catalog: new RegExp(`${v2}/_catalog$`),
    tags: new RegExp(`${v2}/(.+)/tags/list$`),
    manifest: new RegExp(`${v2}/(.+)/manifests/([^/]+)$`),
    uploads: new RegExp(`${v2}/(.+)/blobs/uploads/?$`),
    upload: new RegExp(`${v2}/(.+)/blobs/uploads/([^/]+)$`),
    blob: new RegExp(`${v2}/(.+)/blobs/([^/]+)$`),
    referrers: new RegExp(`${v2}/(.+)/referrers/([^/]+)$`),
  };
}

/** The repository name and the second capture (reference, digest or upload id) of a route. */
export function captures(ctx: Context): { name: string; second: string } {
  const [name, second] = ctx.captures ?? [];
  if (name === undefined) throw new RegistryError('NOT_FOUND');
  return { name: checkName(name), second: second ?? '' };
}
