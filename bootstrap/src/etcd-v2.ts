// etcd over plain HTTP(S): the v2 keyspace (`GET /v2/keys/<key>`, which `etcdctl set` writes and all the etcd 2
// clusters of old LAIN nodes serve) and `GET /version`. Each request has its own connection and timer, and reads at
// most a bounded body.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { NoAnswer } from './etcd-cause.js';
import { MAX_VALUE_BYTES, type Key } from './keys.js';

export interface HttpTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface HttpAuth {
  username: string;
  password: string;
}

/** A v2 answer carries the value JSON-escaped, at worst 6 bytes (\u00XX) per byte, plus the node's metadata. */
const MAX_V2_BODY = MAX_VALUE_BYTES * 6 + 4096;

interface Answer {
  status: number;
  body: string;
  /** Set when the body was longer than the limit: how long it was, as far as the server said or was read. */
  overflow?: number;
}

async function readBody(res: IncomingMessage, limit: number): Promise<Pick<Answer, 'body' | 'overflow'>> {
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (declared > limit) {
    res.destroy();
    return { body: '', overflow: declared };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      res.destroy();
      return { body: '', overflow: size };
    }
    chunks.push(chunk as Buffer);
  }
  return { body: Buffer.concat(chunks).toString('utf8') };
}

function get(endpoint: string, path: string, tls: HttpTls | undefined, auth: HttpAuth | undefined, timeoutMs: number, limit: number): Promise<Answer> {
  const url = new URL(path, endpoint);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string> = {};
  if (auth !== undefined) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, headers, ca: tls?.ca, cert: tls?.cert, key: tls?.key }, (res) => {
      readBody(res, limit).then(
        (read) => resolve({ status: res.statusCode ?? 0, ...read }),
        reject,
      );
    });
    const timer = setTimeout(() => req.destroy(new NoAnswer(timeoutMs)), timeoutMs);
    req.once('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end();
  });
}

interface V2Node {
  value?: string;
  dir?: boolean;
}

/** What the v2 keyspace holds for a key: a value (possibly too large to read), or nothing. */
export type V2Read = { value: string } | { tooLarge: number } | { absent: true };

/**
 * The v2 value of `key`. etcd answers 404 both for a missing key ({"errorCode":100}) and, as plain text, when started
 * without --enable-v2 (or 3.6 and later, which have no v2 API); `v3Answered` says the server is an etcd 3 that answered
 * for the key through v3, so the plain 404 counts as absent too. Any other 404 (a proxy, a wrong port) is a failure.
 */
export async function readV2(endpoint: string, key: Key, tls: HttpTls | undefined, auth: HttpAuth | undefined, timeoutMs: number, v3Answered: boolean): Promise<V2Read> {
  const { status, body, overflow } = await get(endpoint, `/v2/keys${key}`, tls, auth, timeoutMs, MAX_V2_BODY);
  if (status === 404 && (v3Answered || /"errorCode":\s*100\b/.test(body))) return { absent: true };
  if (status === 200 && overflow !== undefined) return { tooLarge: overflow };
  if (status !== 200) throw new Error(`GET /v2/keys${key} answered ${status}: ${body.slice(0, 200)}`);
  const node = (JSON.parse(body) as { node?: V2Node }).node;
  if (node?.dir === true) return { value: '' };
  if (typeof node?.value !== 'string') throw new Error(`GET /v2/keys${key} answered 200 without a value`);
  const size = Buffer.byteLength(node.value);
  return size > MAX_VALUE_BYTES ? { tooLarge: size } : { value: node.value };
}

/** The etcd release the server reports at GET /version (e.g. "3.4.23"). */
export async function readServerVersion(endpoint: string, tls: HttpTls | undefined, auth: HttpAuth | undefined, timeoutMs: number): Promise<string> {
  const { status, body } = await get(endpoint, '/version', tls, auth, timeoutMs, 4096);
  const version = status === 200 ? (JSON.parse(body) as { etcdserver?: unknown }).etcdserver : undefined;
  if (typeof version !== 'string') throw new Error(`GET /version answered ${status}: ${body.slice(0, 200)}`);
  return version;
}
