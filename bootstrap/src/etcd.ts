// Reads bootstrap's keys from etcd: the v3 keyspace through the etcd3 client first, then the v2 keyspace over HTTP
// (`GET /v2/keys/<key>`), which is all the etcd 2 clusters of old LAIN nodes serve.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3, type IOptions } from 'etcd3';
import type { Logger } from 'pino';
import type { EtcdValue, Key } from './keys.js';

export interface EtcdTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface EtcdSettings {
  endpoints: string[];
  tls?: EtcdTls;
}

/** What etcd holds for bootstrap's keys; a key that is absent from both keyspaces is absent here. */
export type EtcdSnapshot = Map<Key, EtcdValue>;

export class EtcdUnreachable extends Error {
  constructor(
    readonly endpoints: string[],
    readonly causes: string[],
  ) {
    super(`etcd unreachable at ${endpoints.join(', ')}: ${causes.join('; ')}`);
    this.name = 'EtcdUnreachable';
  }
}

async function readV3(settings: EtcdSettings, keys: readonly Key[], timeoutMs: number): Promise<Map<Key, string>> {
  const options: IOptions = {
    hosts: settings.endpoints,
    dialTimeout: timeoutMs,
    defaultCallOptions: () => ({ deadline: Date.now() + timeoutMs }),
  };
  if (settings.tls !== undefined) {
    options.credentials = {
      // Without ETCD_CA the server is checked against the system's roots, as grpc does by default.
      rootCertificate: settings.tls.ca ?? Buffer.from(rootCertificates.join('\n')),
      privateKey: settings.tls.key,
      certChain: settings.tls.cert,
    };
  }
  const client = new Etcd3(options);
  try {
    const values = new Map<Key, string>();
    for (const key of keys) {
      const value = await client.get(key).string();
      if (value !== null) values.set(key, value);
    }
    return values;
  } finally {
    client.close();
  }
}

interface V2Node {
  value?: string;
  dir?: boolean;
}

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function getV2(endpoint: string, key: Key, tls: EtcdTls | undefined, timeoutMs: number): Promise<{ status: number; body: string }> {
  const url = new URL(`/v2/keys${key}`, endpoint);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, ca: tls?.ca, cert: tls?.cert, key: tls?.key }, (res) => {
      readBody(res).then((body) => resolve({ status: res.statusCode ?? 0, body }), reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The v2 value of `key`, undefined when it is absent (or the server does not serve the v2 API at all). */
async function readV2(endpoint: string, key: Key, tls: EtcdTls | undefined, timeoutMs: number): Promise<string | undefined> {
  const { status, body } = await getV2(endpoint, key, tls, timeoutMs);
  // etcd answers 404 both for a missing key ({"errorCode":100}) and, as plain text, when started without --enable-v2.
  if (status === 404) return undefined;
  if (status !== 200) throw new Error(`GET /v2/keys${key} answered ${status}: ${body.slice(0, 200)}`);
  const node = (JSON.parse(body) as { node?: V2Node }).node;
  if (node?.dir === true) return '';
  return node?.value;
}

async function readV2Anywhere(settings: EtcdSettings, key: Key, timeoutMs: number, causes: string[]): Promise<{ value: string | undefined } | undefined> {
  for (const endpoint of settings.endpoints) {
    try {
      return { value: await readV2(endpoint, key, settings.tls, timeoutMs) };
    } catch (err) {
      causes.push(`v2 ${endpoint}: ${(err as Error).message}`);
    }
  }
  return undefined;
}

/**
 * One read of every key. A key set in both keyspaces is taken from v3 (marked when the v2 value differs); a failed v3
 * read falls back to v2 alone. Throws EtcdUnreachable when neither keyspace can be read.
 */
export async function readSnapshot(settings: EtcdSettings, keys: readonly Key[], timeoutMs: number): Promise<EtcdSnapshot> {
  const causes: string[] = [];
  let v3: Map<Key, string> | undefined;
  try {
    v3 = await readV3(settings, keys, timeoutMs);
  } catch (err) {
    causes.push(`v3: ${(err as Error).message}`);
  }
  const snapshot: EtcdSnapshot = new Map();
  for (const key of keys) {
    const v2 = await readV2Anywhere(settings, key, timeoutMs, causes);
    if (v2 === undefined) throw new EtcdUnreachable(settings.endpoints, causes);
    const v3Value = v3?.get(key);
    if (v3Value !== undefined) snapshot.set(key, { key, api: 'v3', value: v3Value, shadowsV2: v2.value !== undefined && v2.value !== v3Value });
    else if (v2.value !== undefined) snapshot.set(key, { key, api: 'v2', value: v2.value });
  }
  return snapshot;
}

/** Reads with exponential backoff until `timeoutMs` has passed, then throws the last EtcdUnreachable. */
export async function readWithRetry(settings: EtcdSettings, keys: readonly Key[], timeoutMs: number, log: Logger): Promise<EtcdSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    const remaining = Math.max(deadline - Date.now(), 1);
    try {
      return await readSnapshot(settings, keys, Math.min(remaining, 5000));
    } catch (err) {
      if (!(err instanceof EtcdUnreachable)) throw err;
      const left = deadline - Date.now();
      if (left <= 0) throw err;
      log.warn({ attempt, endpoints: settings.endpoints, causes: err.causes, retryInMs: Math.min(delay, left) }, 'etcd unreachable, retrying');
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, 5000);
    }
  }
}
