// The v3 keyspace (`etcdctl put`) through the etcd3 client over gRPC. A key is absent only when etcd answered that it
// is; every other outcome is a value or an error.
import { rootCertificates } from 'node:tls';
import { Etcd3, isRecoverableError, type IOptions } from 'etcd3';
import type { HttpAuth, HttpTls } from './etcd-v2.js';
import { MAX_VALUE_BYTES, type Key } from './keys.js';

/** What v3 holds for one key: a value, a value too large to read (its answer's size), or nothing. */
export type V3Read = { value: string } | { tooLarge: number } | { absent: true };

/** Room in one gRPC answer for the key, its metadata and the response header around a value of MAX_VALUE_BYTES. */
const MAX_ANSWER_BYTES = MAX_VALUE_BYTES + 4096;

// grpc-js's own words when an answer exceeds grpc.max_receive_message_length: the server holds a larger value.
const ANSWER_TOO_LARGE = /RESOURCE_EXHAUSTED: Received message larger than max \((\d+) vs\.? \d+\)/;

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

const noEvent = () => ({ dispose: () => undefined });

/**
 * The etcd3 client's fault handling, replaced: its default retries every "recoverable" error (an answer too large
 * among them) and then opens a circuit breaker whose own error hides the first one. Here a call is tried once per
 * endpoint, on a connection error only, and bootstrap's own retry does the rest.
 */
function oncePerEndpoint(attempts: number): Policy {
  return {
    _altReturn: undefined as never,
    onSuccess: noEvent,
    onFailure: noEvent,
    async execute(fn, signal) {
      const context = { signal: signal ?? new AbortController().signal };
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn(context);
        } catch (err) {
          if (attempt >= attempts || !isRecoverableError(err as Error) || ANSWER_TOO_LARGE.test((err as Error).message)) throw err;
        }
      }
    },
  };
}

const direct = oncePerEndpoint(1);

/** Reads `keys` in one session; throws the first error that is not an answer about a key. */
export async function readV3(endpoints: string[], tls: HttpTls | undefined, auth: HttpAuth | undefined, keys: readonly Key[], timeoutMs: number): Promise<Map<Key, V3Read>> {
  // One deadline for the whole read, retries of the client included.
  const deadline = Date.now() + timeoutMs;
  const options: IOptions = {
    hosts: endpoints,
    dialTimeout: timeoutMs,
    defaultCallOptions: () => ({ deadline }),
    grpcOptions: { 'grpc.max_receive_message_length': MAX_ANSWER_BYTES },
    faultHandling: { global: oncePerEndpoint(endpoints.length), host: () => direct },
  };
  if (tls !== undefined) {
    options.credentials = {
      // Without ETCD_CA the server is checked against the system's roots, as grpc does by default.
      rootCertificate: tls.ca ?? Buffer.from(rootCertificates.join('\n')),
      privateKey: tls.key,
      certChain: tls.cert,
    };
  }
  if (auth !== undefined) options.auth = { ...auth, callOptions: () => ({ deadline }) };
  const client = new Etcd3(options);
  try {
    const reads = new Map<Key, V3Read>();
    for (const key of keys) {
      let value: string | null;
      try {
        value = await client.get(key).string();
      } catch (err) {
        const tooLarge = ANSWER_TOO_LARGE.exec((err as Error).message);
        if (tooLarge === null) throw err;
        reads.set(key, { tooLarge: Number(tooLarge[1]) });
        continue;
      }
      if (value === null) reads.set(key, { absent: true });
      else if (Buffer.byteLength(value) > MAX_VALUE_BYTES) reads.set(key, { tooLarge: Buffer.byteLength(value) });
      else reads.set(key, { value });
    }
    return reads;
  } finally {
    client.close();
  }
}
