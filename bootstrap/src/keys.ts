// The etcd keys bootstrap reads, and the etcdctl commands an SA types to change them.

/** `lainctl auth open` writes {"realm","issuer","service"} here; `etcdctl rm` turns token auth off. */
export const AUTH_KEY = '/lain/config/auth/registry';
/** A JSON object in the shape of distribution's `storage` section. */
export const STORAGE_KEY = '/lain/config/registry/storage';

export const KEYS = [AUTH_KEY, STORAGE_KEY] as const;
export type Key = (typeof KEYS)[number];

/**
 * The most bootstrap reads of one value. A real auth or storage value is well under 1 KiB; the bound keeps a
 * pathological one from filling memory or a log line.
 */
export const MAX_VALUE_BYTES = 64 * 1024;

/** The parameters an S3 storage value needs, with placeholders. */
export const S3_EXAMPLE = { region: '<region>', bucket: '<bucket>', accesskey: '<accesskey>', secretkey: '<secretkey>' };

/** What a fix command writes when nothing of the value can be kept, or the value the SA meant is too long to print. */
const EXAMPLES: Record<Key, unknown> = {
  [AUTH_KEY]: { realm: 'http://console.<domain>/api/v1/authorize/registry/', issuer: 'auth server', service: '<domain>' },
  [STORAGE_KEY]: { s3: S3_EXAMPLE },
};

/** `etcdctl set` writes the v2 keyspace, `etcdctl put` the v3 one; etcd 3.4 keeps them apart. */
export type EtcdApi = 'v2' | 'v3';

export interface EtcdValue {
  key: Key;
  /** The value as etcd holds it; '' when it was too large to read. */
  value: string;
  api: EtcdApi;
  /** Set, in bytes (at least), when the value is over MAX_VALUE_BYTES: it was not read. */
  tooLarge?: number;
  /** Read from v3 while the v2 keyspace holds a different value for the key, which is ignored. */
  shadowsV2?: boolean;
}

/** `text` as one shell word: single-quoted, each ' written as '\'' so that any text pastes back byte for byte. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Longest JSON a fix command prints; longer, long strings become placeholders, then the key's example is printed. */
const MAX_FIX_JSON = 2048;
const MAX_FIX_STRING = 200;

function withPlaceholders(value: unknown, name: string): unknown {
  if (typeof value === 'string') return value.length > MAX_FIX_STRING ? `<${name}>` : value;
  if (Array.isArray(value)) return value.map((item) => withPlaceholders(item, name));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withPlaceholders(v, k)]));
  return value;
}

function fixJson(key: Key, json: unknown): string {
  const full = JSON.stringify(json);
  if (full.length <= MAX_FIX_JSON) return full;
  const shortened = JSON.stringify(withPlaceholders(json, 'value'));
  return shortened.length <= MAX_FIX_JSON ? shortened : JSON.stringify(EXAMPLES[key]);
}

/** The command that writes `json` to `key` through the same API the SA used, so it replaces the value bootstrap read. */
export function etcdctlSet(key: Key, json: unknown, api: EtcdApi): string {
  const value = shellQuote(fixJson(key, json));
  return api === 'v2' ? `ETCDCTL_API=2 etcdctl set ${key} ${value}` : `ETCDCTL_API=3 etcdctl put ${key} ${value}`;
}

/** etcdctlSet with the key's example value. */
export function etcdctlSetExample(key: Key, api: EtcdApi): string {
  return etcdctlSet(key, EXAMPLES[key], api);
}

export function etcdctlRm(key: Key, api: EtcdApi): string {
  return api === 'v2' ? `ETCDCTL_API=2 etcdctl rm ${key}` : `ETCDCTL_API=3 etcdctl del ${key}`;
}

/** Names a value's origin in messages, e.g. "etcd key /lain/config/auth/registry (v2, etcdctl set)". */
export function describeKey(value: Pick<EtcdValue, 'key' | 'api'>): string {
  return `etcd key ${value.key} (${value.api}, etcdctl ${value.api === 'v2' ? 'set' : 'put'})`;
}
