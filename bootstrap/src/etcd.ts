// Reads bootstrap's keys from etcd: the v3 keyspace first, then the v2 keyspace. v2 fills in only keys that v3
// positively answered are absent, or every key when the server says it is etcd 2 (which has no v3 API). Any other v3
// failure fails the read: a key that v3 could not be asked about is never taken as absent, which would open the
// registry.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { describeGrpcFailure, describeHttpFailure, formatSeconds } from './etcd-cause.js';
import { readServerVersion, readV2, type HttpAuth, type HttpTls, type V2Read } from './etcd-v2.js';
import { readV3, type V3Read } from './etcd-v3.js';
import type { EtcdValue, Key } from './keys.js';

export type EtcdTls = HttpTls;

export interface EtcdSettings {
  endpoints: string[];
  tls?: EtcdTls;
  /** ETCD_USERNAME and ETCD_PASSWORD, for an etcd with authentication on. */
  auth?: HttpAuth;
}

/** What etcd holds for bootstrap's keys; a key that both keyspaces positively answered is absent is absent here. */
export type EtcdSnapshot = Map<Key, EtcdValue>;

export class EtcdReadFailed extends Error {
  constructor(
    readonly endpoints: string[],
    readonly causes: string[],
  ) {
    super(`etcd could not be read at ${endpoints.join(', ')}: ${causes.join('; ')}`);
    this.name = 'EtcdReadFailed';
  }
}

function hostOf(endpoint: string): string {
  return new URL(endpoint).hostname;
}

function isHttps(endpoint: string): boolean {
  return new URL(endpoint).protocol === 'https:';
}

/** v3's answers, or undefined when the server is an etcd 2 (no v3 keyspace); throws when v3 failed otherwise. */
async function readV3OrLearnItIsAbsent(settings: EtcdSettings, keys: readonly Key[], timeoutMs: number): Promise<Map<Key, V3Read> | undefined> {
  let v3Failure: string;
  try {
    return await readV3(settings.endpoints, settings.tls, settings.auth, keys, timeoutMs);
  } catch (err) {
    v3Failure = `v3 (gRPC) ${settings.endpoints.join(', ')}: ${describeGrpcFailure(err, settings.endpoints.map(hostOf).join(', '), timeoutMs, settings.endpoints.some(isHttps))}`;
  }
  const causes = [v3Failure];
  for (const endpoint of settings.endpoints) {
    try {
      const version = await readServerVersion(endpoint, settings.tls, settings.auth, timeoutMs);
      if (/^[0-2]\./.test(version)) return undefined;
      causes.push(`${endpoint}: the server says it is etcd ${version}, which has the v3 keyspace, so its keys cannot be read from v2 alone`);
    } catch (err) {
      causes.push(`v2 ${endpoint}: ${describeHttpFailure(err, hostOf(endpoint), isHttps(endpoint))}`);
    }
  }
  throw new EtcdReadFailed(settings.endpoints, causes);
}

async function readV2Anywhere(settings: EtcdSettings, key: Key, timeoutMs: number, v3Answered: boolean): Promise<V2Read> {
  const causes: string[] = [];
  for (const endpoint of settings.endpoints) {
    try {
      return await readV2(endpoint, key, settings.tls, settings.auth, timeoutMs, v3Answered);
    } catch (err) {
      causes.push(`v2 ${endpoint}: ${describeHttpFailure(err, hostOf(endpoint), isHttps(endpoint))}`);
    }
  }
  throw new EtcdReadFailed(settings.endpoints, causes);
}

/**
 * One read of every key. A key set in both keyspaces is taken from v3 (marked when the v2 value differs). Throws
 * EtcdReadFailed, naming every cause, when either keyspace cannot be read as it must be.
 */
export async function readSnapshot(settings: EtcdSettings, keys: readonly Key[], timeoutMs: number): Promise<EtcdSnapshot> {
  const v3 = await readV3OrLearnItIsAbsent(settings, keys, timeoutMs);
  const snapshot: EtcdSnapshot = new Map();
  for (const key of keys) {
    const v2 = await readV2Anywhere(settings, key, timeoutMs, v3 !== undefined);
    const fromV3 = v3?.get(key) ?? { absent: true };
    if ('value' in fromV3) {
      snapshot.set(key, { key, api: 'v3', value: fromV3.value, shadowsV2: !('absent' in v2) && !('value' in v2 && v2.value === fromV3.value) });
    } else if ('tooLarge' in fromV3) {
      snapshot.set(key, { key, api: 'v3', value: '', tooLarge: fromV3.tooLarge });
    } else if ('value' in v2) {
      snapshot.set(key, { key, api: 'v2', value: v2.value });
    } else if ('tooLarge' in v2) {
      snapshot.set(key, { key, api: 'v2', value: '', tooLarge: v2.tooLarge });
    }
  }
  return snapshot;
}

/** Each attempt gets at least this long, so that the last one before the deadline still names its real cause. */
const MIN_ATTEMPT_MS = 1000;
const MAX_ATTEMPT_MS = 5000;

/** Reads with exponential backoff until `timeoutMs` has passed, then throws the last EtcdReadFailed. */
export async function readWithRetry(settings: EtcdSettings, keys: readonly Key[], timeoutMs: number, log: Logger): Promise<EtcdSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    const attemptMs = Math.min(Math.max(deadline - Date.now(), MIN_ATTEMPT_MS), MAX_ATTEMPT_MS);
    try {
      return await readSnapshot(settings, keys, attemptMs);
    } catch (err) {
      if (!(err instanceof EtcdReadFailed)) throw err;
      const left = deadline - Date.now();
      if (left <= 0) throw err;
      log.warn({ attempt, endpoints: settings.endpoints, causes: err.causes, retryIn: formatSeconds(Math.min(delay, left)) }, 'etcd could not be read, retrying');
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, MAX_ATTEMPT_MS);
    }
  }
}
