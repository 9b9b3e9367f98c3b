// /lain/config/auth/registry -> distribution's auth.token section. Any doubt about the value is an error: a malformed
// key never turns into an open registry.
import { suggest } from '../../registry/src/config/section.js';
import type { Problem } from './problem.js';
import { AUTH_KEY, describeKey, etcdctlSet, etcdctlSetExample, type EtcdValue } from './keys.js';
import { clip, describeJson, parseObject, type JsonObject } from './json-value.js';

/** Where the LAIN console's certificate is mounted into the registry container. */
export const DEFAULT_ROOTCERTBUNDLE = '/lain/app/auth/server.pem';
/** The issuer `lainctl auth open` writes and the LAIN console signs with. */
const LAIN_ISSUER = 'auth server';

export interface TokenSection {
  realm: string;
  issuer: string;
  service: string;
  rootcertbundle: string;
  autoredirect?: boolean;
  jwks?: string;
  signingalgorithms?: string[];
}

const REQUIRED = ['realm', 'service', 'issuer'] as const;
const FIELDS = [...REQUIRED, 'rootcertbundle', 'autoredirect', 'jwks', 'signingalgorithms'];

function realmProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `expected a URL string, got ${describeJson(value)}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${clip(JSON.stringify(value))} is not a URL (e.g. http://console.<domain>/api/v1/authorize/registry/)`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${clip(JSON.stringify(value))} is not an http or https URL`;
  return undefined;
}

function fieldProblem(name: string, value: unknown): string | undefined {
  switch (name) {
    case 'realm':
      return realmProblem(value);
    case 'service':
    case 'issuer':
    case 'rootcertbundle':
    case 'jwks':
      if (typeof value !== 'string') return `expected a string, got ${describeJson(value)}`;
      return value.trim() === '' ? 'must not be empty' : undefined;
    case 'autoredirect':
      return typeof value === 'boolean' ? undefined : `expected true or false, got ${describeJson(value)}`;
    case 'signingalgorithms':
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? undefined : `expected an array of strings, got ${describeJson(value)}`;
    default: {
      const near = suggest(name, FIELDS);
      return `unknown field${near === undefined ? '' : ` (did you mean "${near}"?)`}; the fields are ${FIELDS.join(', ')}`;
    }
  }
}

/** The domain the SA most likely meant, from whichever of service and realm is usable. */
function domainOf(good: JsonObject): string {
  if (typeof good.service === 'string') return good.service;
  if (typeof good.realm === 'string') {
    const host = new URL(good.realm).hostname;
    return host.startsWith('console.') ? host.slice('console.'.length) : host;
  }
  return '<domain>';
}

/** The value with every bad or missing field replaced by what LAIN would write, for the fix command. */
function corrected(good: JsonObject): JsonObject {
  const domain = domainOf(good);
  return {
    realm: good.realm ?? `http://console.${domain}/api/v1/authorize/registry/`,
    issuer: good.issuer ?? LAIN_ISSUER,
    service: good.service ?? domain,
    ...Object.fromEntries(Object.entries(good).filter(([k]) => !(REQUIRED as readonly string[]).includes(k))),
  };
}

/** The auth.token section the key asks for, or the problems with it (never a partial section). */
export function parseAuthKey(entry: EtcdValue): TokenSection | Problem[] {
  const result = parseObject(entry, etcdctlSetExample(AUTH_KEY, entry.api));
  if ('problem' in result) return [result.problem];
  const parsed = result.object;

  const good: JsonObject = {};
  const bad: { field: string; message: string }[] = [];
  for (const [field, value] of Object.entries(parsed)) {
    const message = fieldProblem(field, value);
    if (message === undefined) good[field] = value;
    else bad.push({ field, message });
  }
  for (const field of REQUIRED) if (!(field in parsed)) bad.push({ field, message: 'is missing' });
  if (bad.length > 0) {
    const fix = etcdctlSet(AUTH_KEY, corrected(good), entry.api);
    return bad.map(({ field, message }) => ({ source: describeKey(entry), field, message, fix }));
  }

  // Every field passed fieldProblem above, which checked its type. In the order `lainctl auth open` writes them, so
  // fix commands built from a section read the same.
  const section: TokenSection = {
    realm: parsed.realm as string,
    issuer: parsed.issuer as string,
    service: parsed.service as string,
    rootcertbundle: (parsed.rootcertbundle as string | undefined) ?? DEFAULT_ROOTCERTBUNDLE,
  };
  if (parsed.autoredirect !== undefined) section.autoredirect = parsed.autoredirect as boolean;
  if (parsed.jwks !== undefined) section.jwks = parsed.jwks as string;
  if (parsed.signingalgorithms !== undefined) section.signingalgorithms = parsed.signingalgorithms as string[];
  return section;
}
