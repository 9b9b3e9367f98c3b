// The bucket handle the S3 driver's modules share, and the few raw S3 calls they all make. Requests go through the
// minio client's signed-request layer rather than putObject, whose streaming path calls ListMultipartUploads (which
// s3rver, and some S3-speaking stores, do not implement).
import type { IncomingMessage } from 'node:http';
import type { Client } from 'minio';
import type { Logger } from '../../log.js';
import type { BufferBudget } from './buffer-budget.js';
import type { KeySpace } from './s3-keys.js';

export interface CopySettings {
  /** Objects larger than this are copied with UploadPartCopy in parts (multipartcopythresholdsize). */
  thresholdSize: number;
  /** multipartcopychunksize */
  chunkSize: number;
  /** multipartcopymaxconcurrency */
  maxConcurrency: number;
}

export interface ObjectStore {
  /** Driver name for messages and errors: "s3" or "oss". */
  readonly name: string;
  readonly client: Client;
  readonly bucket: string;
  readonly keys: KeySpace;
  /** Sent with every object created: content type, server-side encryption, storage class. */
  readonly objectHeaders: Readonly<Record<string, string>>;
  /** Part size of writers (chunksize). */
  readonly chunkSize: number;
  readonly copy: CopySettings;
  readonly budget: BufferBudget;
  readonly logger: Logger;
}

/** S3's smallest part size for every part but the last. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** The S3 error code (NoSuchKey, AccessDenied, ...) or the socket error code (ECONNREFUSED, ...) of an error. */
export function errorCode(err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

export function isMissingObject(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'NoSuchKey' || code === 'NotFound';
}

async function readBody(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A signed request whose XML answer is returned; S3 reports some failures inside a 200 answer, so those throw too. */
export async function requestXml(
  store: ObjectStore,
  options: { method: string; key?: string; query?: string; headers?: Record<string, string> },
  body: Buffer | string = '',
): Promise<string> {
  const res = await store.client.makeRequestAsync(
    {
      method: options.method,
      bucketName: store.bucket,
      ...(options.key === undefined ? {} : { objectName: options.key }),
      ...(options.query === undefined ? {} : { query: options.query }),
      headers: { ...options.headers },
    },
    body,
    [200],
  );
  const xml = (await readBody(res)).toString('utf8');
  const failed = s3ErrorIn(xml);
  if (failed) {
    throw Object.assign(new Error(`${options.method} ${options.key ?? store.bucket}: ${failed.code}: ${failed.message ?? ''}`), {
      code: failed.code,
    });
  }
  return xml;
}

/** The code and message of an S3 <Error> document, or undefined when the XML holds none. */
export function s3ErrorIn(xml: string): { code: string; message: string | undefined } | undefined {
  const failed = /<Error>[\s\S]*?<Code>([^<]*)<\/Code>(?:[\s\S]*?<Message>([^<]*)<\/Message>)?/.exec(xml);
  return failed ? { code: failed[1] as string, message: failed[2] } : undefined;
}

/** The first <tag> value of an XML answer (ETag, UploadId), without the quotes S3 puts around ETags. */
export function xmlValue(xml: string, tag: string): string {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  if (!match) throw new Error(`S3 answer has no <${tag}>: ${xml.slice(0, 200)}`);
  return (match[1] as string).replace(/^(&quot;|&#34;|")|(&quot;|&#34;|")$/g, '');
}

/** One PUT of the whole object, whatever its size (up to S3's 5 GiB). */
export async function putObject(store: ObjectStore, key: string, body: Buffer): Promise<void> {
  await store.client.makeRequestAsyncOmit(
    { method: 'PUT', bucketName: store.bucket, objectName: key, headers: { ...store.objectHeaders } },
    body,
    [200],
  );
}

export async function getObject(store: ObjectStore, key: string): Promise<Buffer> {
  return readBody((await store.client.getObject(store.bucket, key)) as IncomingMessage);
}

export async function getObjectIfExists(store: ObjectStore, key: string): Promise<Buffer | undefined> {
  try {
    return await getObject(store, key);
  } catch (err) {
    if (isMissingObject(err)) return undefined;
    throw err;
  }
}

export async function createMultipartUpload(store: ObjectStore, key: string): Promise<string> {
  return store.client.initiateNewMultipartUpload(store.bucket, key, { ...store.objectHeaders });
}

export async function completeMultipartUpload(
  store: ObjectStore,
  key: string,
  uploadId: string,
  parts: ReadonlyArray<{ number: number; etag: string }>,
): Promise<void> {
  await store.client.completeMultipartUpload(
    store.bucket,
    key,
    uploadId,
    parts.map((part) => ({ part: part.number, etag: part.etag })),
  );
}

/**
 * Aborts a multipart upload so its parts stop costing storage. An upload that is already gone is fine, and so is a
 * server without AbortMultipartUpload (s3rver answers 405): there the parts stay until the bucket's lifecycle rule.
 */
export async function abortMultipartUpload(store: ObjectStore, key: string, uploadId: string): Promise<void> {
  try {
    await store.client.abortMultipartUpload(store.bucket, key, uploadId);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'NoSuchUpload') return;
    if (code === 'MethodNotAllowed' || code === 'NotImplemented') {
      store.logger.debug({ key, uploadId, code }, 'storage server cannot abort multipart uploads; parts left to it');
      return;
    }
    throw err;
  }
}

/**
 * Deletes keys with DeleteObjects, 1000 a request; keys already gone count as deleted. When the batch fails the keys
 * are deleted one request each, which also surfaces the real error: s3rver deletes a batch's keys concurrently and
 * answers 500 when two of them empty the same directory, even after the retries of s3-retry.ts.
 */
export async function deleteObjects(store: ObjectStore, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  try {
    if (keys.length > 1) {
      const failures = await store.client.removeObjects(store.bucket, [...keys]);
      if (failures.length === 0) return;
      store.logger.warn({ count: keys.length, failures: JSON.stringify(failures).slice(0, 500) }, 'DeleteObjects failed some keys; deleting one by one');
    }
  } catch (err) {
    store.logger.warn({ count: keys.length, err }, 'DeleteObjects failed; deleting one by one');
  }
  for (const key of keys) await store.client.removeObject(store.bucket, key);
}
