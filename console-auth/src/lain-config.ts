// The console.yml keys of the LAIN access model: the identity backend (accounts or LAIN SSO), etcd (the whitelist,
// the node network, the SSO URL and the domain live there), trusted proxies, anonymous_pull and any-method requests.
// Read with config.ts's Reader, so their problems are reported with the others'.
import { parseAddressList, type AddressList } from './address-list.js';
import type { Reader, Tree } from './config.js';
import type { EtcdSettings } from './lain-etcd.js';
import type { SsoSettings } from './lain-sso.js';

export type IdentityConfig = { backend: 'accounts' } | { backend: 'lain-sso'; sso: SsoSettings };

/** LAIN's etcd, as its console reached it. */
const DEFAULT_ETCD_ENDPOINT = 'http://etcd.lain:4001';

const HTTP_URL = /^https?:\/\/[^/]/;

export function readBoolean(r: Reader, tree: Tree, key: string, path: string): boolean {
  const value = tree[key] ?? false;
  if (typeof value !== 'boolean') {
    r.problems.push(`${path} must be true or false (got ${JSON.stringify(value)})`);
    return false;
  }
  return value;
}

export function readTrustedProxies(r: Reader, value: unknown): AddressList {
  const entries = value ?? [];
  if (!Array.isArray(entries) || !entries.every((e) => typeof e === 'string')) {
    r.problems.push('http.trustedproxies must be a list of addresses, CIDRs or first-last ranges');
    return parseAddressList([]).list;
  }
  const parsed = parseAddressList(entries as string[]);
  for (const problem of parsed.problems) r.problems.push(`http.trustedproxies: ${problem}`);
  return parsed.list;
}

export function readEtcd(r: Reader, value: unknown): EtcdSettings | undefined {
  if (value === undefined || value === null) return undefined;
  const etcd = r.section(value, 'etcd', ['endpoints', 'poll', 'timeout'], false);
  const endpoints = etcd.endpoints ?? [DEFAULT_ETCD_ENDPOINT];
  if (!Array.isArray(endpoints) || endpoints.length === 0 || !endpoints.every((e) => typeof e === 'string' && HTTP_URL.test(e))) {
    r.problems.push(`etcd.endpoints must be a list of http(s) URLs such as ${DEFAULT_ETCD_ENDPOINT} (got ${JSON.stringify(endpoints)})`);
  }
  return {
    endpoints: Array.isArray(endpoints) ? endpoints.filter((e): e is string => typeof e === 'string') : [],
    pollMs: r.duration(etcd, 'poll', 'etcd.poll', '10s'),
    timeoutMs: r.duration(etcd, 'timeout', 'etcd.timeout', '3s'),
  };
}

/** `etcd` is whether console.yml configures etcd, where an SSO URL and app-group prefix can come from instead. */
export function readIdentity(r: Reader, value: unknown, etcd: boolean, accounts: number): IdentityConfig {
  const identity = r.section(value, 'identity', ['backend', 'sso'], false);
  const backend = identity.backend ?? 'accounts';
  if (backend === 'accounts') {
    if (identity.sso !== undefined) r.problems.push('identity.sso applies to identity.backend lain-sso only');
    return { backend };
  }
  if (backend !== 'lain-sso') {
    r.problems.push(`identity.backend must be "accounts" or "lain-sso" (got ${JSON.stringify(backend)})`);
    return { backend: 'accounts' };
  }
  if (accounts > 0) r.problems.push('accounts are not used with identity.backend lain-sso (SSO checks passwords); remove them');
  const sso = r.section(identity.sso, 'identity.sso', ['url', 'clientid', 'redirecturi', 'admingroup', 'appgroupprefix', 'cachettl', 'timeout'], true);
  const url = sso.url === undefined ? undefined : r.string(sso, 'url', 'identity.sso.url');
  if (url !== undefined && !HTTP_URL.test(url)) r.problems.push(`identity.sso.url must be an http(s) URL (got ${JSON.stringify(url)})`);
  if (url === undefined && !etcd) r.problems.push('identity.sso.url is required unless etcd is configured (LAIN keeps it in /lain/config/auth/console)');
  const appGroupPrefix = sso.appgroupprefix === undefined ? undefined : r.string(sso, 'appgroupprefix', 'identity.sso.appgroupprefix');
  if (appGroupPrefix === undefined && !etcd) {
    r.problems.push('identity.sso.appgroupprefix is required unless etcd is configured (LAIN\'s default is lainapp-<domain>, from /lain/config/domain)');
  }
  return {
    backend,
    sso: {
      ...(url !== undefined && { url: url.replace(/\/+$/, '') }),
      // LAIN's client ids are numbers, which YAML reads as such.
      clientId: typeof sso.clientid === 'number' ? String(sso.clientid) : r.string(sso, 'clientid', 'identity.sso.clientid'),
      redirectUri: r.string(sso, 'redirecturi', 'identity.sso.redirecturi'),
      adminGroup: r.string(sso, 'admingroup', 'identity.sso.admingroup', 'lain'),
      ...(appGroupPrefix !== undefined && { appGroupPrefix }),
      cacheTtlMs: r.duration(sso, 'cachettl', 'identity.sso.cachettl', '30s'),
      timeoutMs: r.duration(sso, 'timeout', 'identity.sso.timeout', '5s'),
    },
  };
}
