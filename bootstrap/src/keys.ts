// The etcd keys bootstrap reads, and the etcdctl commands an SA types to change them.

/** `lainctl auth open` writes {"realm","issuer","service"} here; `etcdctl rm` turns token auth off. */
export const AUTH_KEY = '/lain/config/auth/registry';
/** A JSON object in the shape of distribution's `storage` section. */
export const STORAGE_KEY = '/lain/config/registry/storage';

export const KEYS = [AUTH_KEY, STORAGE_KEY] as const;
export type Key = (typeof KEYS)[number];

/** `etcdctl set` writes the v2 keyspace, `etcdctl put` the v3 one; etcd 3.4 keeps them apart. */
export type EtcdApi = 'v2' | 'v3';

export interface EtcdValue {
  key: Key;
  value: string;
  api: EtcdApi;
  /** Read from v3 while the v2 keyspace holds a different value for the key, which is ignored. */
  shadowsV2?: boolean;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The command that writes `json` to `key` through the same API the SA used, so it replaces the value bootstrap read. */
export function etcdctlSet(key: Key, json: unknown, api: EtcdApi): string {
  const value = shellQuote(JSON.stringify(json));
  return api === 'v2' ? `ETCDCTL_API=2 etcdctl set ${key} ${value}` : `ETCDCTL_API=3 etcdctl put ${key} ${value}`;
}

export function etcdctlRm(key: Key, api: EtcdApi): string {
  return api === 'v2' ? `ETCDCTL_API=2 etcdctl rm ${key}` : `ETCDCTL_API=3 etcdctl del ${key}`;
}

/** Names a value's origin in messages, e.g. "etcd key /lain/config/auth/registry (v2, etcdctl set)". */
export function describeKey(value: Pick<EtcdValue, 'key' | 'api'>): string {
  return `etcd key ${value.key} (${value.api}, etcdctl ${value.api === 'v2' ? 'set' : 'put'})`;
}
