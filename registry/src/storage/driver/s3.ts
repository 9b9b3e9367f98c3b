// storage.s3: the StorageDriver on an S3 bucket, through the minio client, with distribution's keys and layout.
// oss.ts maps storage.oss onto the same driver. docs/storage-s3-oss.md is the operator's view of both.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import { Client, type ClientOptions } from 'minio';
import type { S3Storage } from '../../config/types.js';
import type { Logger } from '../../log.js';
import { BufferBudget, MiB, processBufferBudget } from './buffer-budget.js';
import {
  checked,
  checkPath,
  InvalidOffsetError,
  PathNotFoundError,
  type FileInfo,
  type FileWriter,
  type StorageDriver,
  type WalkDecision,
} from './driver.js';
import { copyObject } from './s3-copy.js';
import { DEFAULT_RETRY_POLICY, retryingTransport } from './s3-retry.js';
import { isWriterObject, KeySpace, writerObjectsPrefix, writerStateOwner } from './s3-keys.js';
import { hasObjectsBelow, listChildren, listKeys, listNamesAfter, walkObjects } from './s3-listing.js';
import {
  deleteObjects,
  errorCode,
  getObject,
  isMissingObject,
  MIN_PART_SIZE,
  putObject,
  type CopySettings,
  type ObjectStore,
} from './s3-store.js';
import { abortSavedUpload, openWriter } from './s3-writer.js';

const GiB = 1024 * MiB;
/** S3's largest part and largest single PUT or CopyObject. */
const MAX_PART_SIZE = 5 * GiB;
/** distribution's defaults. */
const DEFAULT_CHUNK_SIZE = 2 * MIN_PART_SIZE;
const DEFAULT_COPY_CHUNK_SIZE = 32 * MiB;
const DEFAULT_COPY_THRESHOLD = 32 * MiB;
const DEFAULT_COPY_CONCURRENCY = 100;
/** Presigned URLs live as long as distribution's. */
const REDIRECT_EXPIRY_SECONDS = 20 * 60;
const START_CHECK_TIMEOUT_MS = 15_000;
const STORAGE_CLASSES = ['NONE', 'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'OUTPOSTS', 'GLACIER_IR', 'EXPRESS_ONEZONE'];

/** A bucket the driver can reach, resolved from storage.s3 or storage.oss without any network access. */
export interface ObjectStoreSettings {
  name: 's3' | 'oss';
  /** Host name or IP address, no scheme. */
  host: string;
  port?: number;
  useSSL: boolean;
  pathStyle: boolean;
  region: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  sessionToken?: string;
  skipVerify: boolean;
  userAgent?: string;
  rootDirectory: string;
  chunkSize: number;
  copy: CopySettings;
  objectHeaders: Record<string, string>;
  /** The config keys a start-time failure points at. */
  configKeys: { bucket: string; credentials: string; endpoint: string; region: string };
}

/** A storage backend that cannot be used as configured; `configKey` is what the operator has to fix. */
export class StorageStartError extends Error {
  constructor(
    readonly configKey: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${configKey}: ${message}`, options);
    this.name = 'StorageStartError';
  }
}

/** Scheme, host and port of an endpoint written as a host or a URL; a scheme in the value wins over `secure`. */
export function parseEndpoint(value: string, secure: boolean, configKey: string): { host: string; port?: number; useSSL: boolean } {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `${secure ? 'https' : 'http'}://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new StorageStartError(configKey, `"${value}" is neither a host name nor an http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new StorageStartError(configKey, `"${value}" uses ${url.protocol}; only http and https are spoken`);
  }
  if (url.pathname !== '/' || url.search !== '' || url.username !== '') {
    throw new StorageStartError(configKey, `"${value}" has a path, query or user; give only scheme, host and port`);
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ''), ...(url.port ? { port: Number(url.port) } : {}), useSSL: url.protocol === 'https:' };
}

/** A byte size from config within bounds, or the default. */
export function sizeSetting(value: number | undefined, fallback: number, min: number, max: number, configKey: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new StorageStartError(configKey, `${value} is out of range: give a whole number of bytes from ${min} to ${max}`);
  }
  return value;
}

export function encryptionHeaders(encrypt: boolean | undefined, keyid: string | undefined): Record<string, string> {
  if (!encrypt) return {};
  return keyid
    ? { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': keyid }
    : { 'x-amz-server-side-encryption': 'AES256' };
}

/** storage.s3 as distribution reads it, credentials falling back to the AWS environment variables. */
export function s3Settings(config: S3Storage, env: NodeJS.ProcessEnv = process.env): ObjectStoreSettings {
  if (!config.bucket) throw new StorageStartError('storage.s3.bucket', 'is required: name the bucket the registry stores into');
  if (!config.region) throw new StorageStartError('storage.s3.region', 'is required (e.g. us-east-1; any name your S3 service accepts)');
  const fromConfig = Boolean(config.accesskey || config.secretkey);
  const accessKey = fromConfig ? config.accesskey : env.AWS_ACCESS_KEY_ID;
  const secretKey = fromConfig ? config.secretkey : env.AWS_SECRET_ACCESS_KEY;
  if (!accessKey || !secretKey) {
    throw new StorageStartError(
      'storage.s3.accesskey',
      fromConfig
        ? 'storage.s3.accesskey and storage.s3.secretkey must be set together'
        : 'no credentials: set storage.s3.accesskey and storage.s3.secretkey, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment',
    );
  }
  const secure = config.secure ?? true;
  const endpoint = config.regionendpoint
    ? parseEndpoint(config.regionendpoint, secure, 'storage.s3.regionendpoint')
    : { host: 's3.amazonaws.com', useSSL: secure };
  const storageClass = (config.storageclass ?? 'STANDARD').toUpperCase();
  if (!STORAGE_CLASSES.includes(storageClass)) {
    throw new StorageStartError('storage.s3.storageclass', `"${config.storageclass}" is not one of ${STORAGE_CLASSES.join(', ')}`);
  }
  return {
    name: 's3',
    ...endpoint,
    // distribution 2.x addressed a regionendpoint path-style; forcepathstyle decides when it is given.
    pathStyle: config.forcepathstyle ?? config.regionendpoint !== undefined,
    region: config.region,
    bucket: config.bucket,
    accessKey,
    secretKey,
    ...(!fromConfig && env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    skipVerify: config.skipverify ?? false,
    ...(config.useragent ? { userAgent: config.useragent } : {}),
    rootDirectory: config.rootdirectory ?? '',
    chunkSize: sizeSetting(config.chunksize, DEFAULT_CHUNK_SIZE, MIN_PART_SIZE, MAX_PART_SIZE, 'storage.s3.chunksize'),
    copy: {
      chunkSize: sizeSetting(config.multipartcopychunksize, DEFAULT_COPY_CHUNK_SIZE, MIN_PART_SIZE, MAX_PART_SIZE, 'storage.s3.multipartcopychunksize'),
      thresholdSize: sizeSetting(config.multipartcopythresholdsize, DEFAULT_COPY_THRESHOLD, 0, MAX_PART_SIZE, 'storage.s3.multipartcopythresholdsize'),
      maxConcurrency: sizeSetting(config.multipartcopymaxconcurrency, DEFAULT_COPY_CONCURRENCY, 1, 10_000, 'storage.s3.multipartcopymaxconcurrency'),
    },
    objectHeaders: {
      'Content-Type': 'application/octet-stream',
      ...encryptionHeaders(config.encrypt, config.keyid),
      ...(storageClass === 'NONE' ? {} : { 'x-amz-storage-class': storageClass }),
    },
    configKeys: {
      bucket: 'storage.s3.bucket',
      credentials: 'storage.s3.accesskey',
      endpoint: config.regionendpoint ? 'storage.s3.regionendpoint' : 'storage.s3.region',
      region: 'storage.s3.region',
    },
  };
}

/** minio's client with distribution's `useragent` appended to its own. */
class UserAgentClient extends Client {
  constructor(options: ClientOptions, extra: string) {
    super(options);
    this.userAgent = `${this.userAgent} ${extra}`;
  }
}

const CREDENTIAL_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken', 'InvalidSecurity']);
const REGION_CODES = new Set(['AuthorizationHeaderMalformed', 'PermanentRedirect', 'IllegalLocationConstraintException', 'InvalidRegion']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EPROTO']);

function endpointLabel(settings: ObjectStoreSettings): string {
  return `${settings.useSSL ? 'https' : 'http'}://${settings.host}${settings.port ? `:${settings.port}` : ''}`;
}

/** Turns the start check's failure into an error that names the key to fix. */
function startError(settings: ObjectStoreSettings, err: unknown): StorageStartError {
  const code = errorCode(err) ?? '';
  const detail = err instanceof Error ? err.message : String(err);
  const at = endpointLabel(settings);
  const keys = settings.configKeys;
  if (code === 'NoSuchBucket') {
    return new StorageStartError(keys.bucket, `bucket "${settings.bucket}" does not exist at ${at}: create it, or name an existing bucket`, { cause: err });
  }
  if (CREDENTIAL_CODES.has(code)) {
    const pair = settings.name === 's3' ? 'storage.s3.accesskey / storage.s3.secretkey (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)' : 'storage.oss.accesskeyid / storage.oss.accesskeysecret';
    return new StorageStartError(keys.credentials, `${at} refused access to bucket "${settings.bucket}" (${code}: ${detail}): check ${pair} and the key's rights on the bucket`, { cause: err });
  }
  if (REGION_CODES.has(code)) {
    return new StorageStartError(keys.region, `${at} says bucket "${settings.bucket}" is not in region "${settings.region}" (${code}: ${detail})`, { cause: err });
  }
  if (NETWORK_CODES.has(code) || code.startsWith('ERR_SSL') || code.includes('CERT') || code === 'START_CHECK_TIMEOUT') {
    const tls = code.includes('CERT') || code.startsWith('ERR_SSL') ? ' (for a self-signed certificate set skipverify: true)' : '';
    return new StorageStartError(keys.endpoint, `cannot reach ${at} (${code}: ${detail})${tls}`, { cause: err });
  }
  return new StorageStartError(`storage.${settings.name}`, `the start check against bucket "${settings.bucket}" at ${at} failed: ${code ? `${code}: ` : ''}${detail}`, { cause: err });
}

export class S3Driver implements StorageDriver {
  readonly name: string;
  private readonly store: ObjectStore;
  private readonly checkClient: Client;
  private readonly agent: HttpAgent;

  /** Builds the client; no request is made until check() or the first call. */
  constructor(
    readonly settings: ObjectStoreSettings,
    logger: Logger,
    budget: BufferBudget = processBufferBudget,
  ) {
    this.name = settings.name;
    this.agent = settings.useSSL ? new HttpsAgent({ keepAlive: true, rejectUnauthorized: !settings.skipVerify }) : new HttpAgent({ keepAlive: true });
    const storeLogger = logger.child({ storage: settings.name });
    const options: ClientOptions = {
      endPoint: settings.host,
      ...(settings.port === undefined ? {} : { port: settings.port }),
      useSSL: settings.useSSL,
      pathStyle: settings.pathStyle,
      region: settings.region,
      accessKey: settings.accessKey,
      secretKey: settings.secretKey,
      ...(settings.sessionToken ? { sessionToken: settings.sessionToken } : {}),
      transportAgent: this.agent,
      // s3-retry.ts says why minio's own retry is off and what is sent again instead.
      retryOptions: { disableRetry: true },
    };
    const client = (more: Partial<ClientOptions>) => {
      const all = { ...options, ...more };
      return settings.userAgent ? new UserAgentClient(all, settings.userAgent) : new Client(all);
    };
    // The start check is tried once: its caller retries it on its own schedule and logs only what changes.
    this.checkClient = client({});
    this.store = {
      name: settings.name,
      client: client({ transport: retryingTransport(settings.useSSL, DEFAULT_RETRY_POLICY, storeLogger) }),
      bucket: settings.bucket,
      keys: new KeySpace(settings.rootDirectory),
      objectHeaders: settings.objectHeaders,
      chunkSize: settings.chunkSize,
      copy: settings.copy,
      budget,
      logger: storeLogger,
    };
  }

  /** The start check: one list request proves the endpoint answers, the bucket exists and the credentials work. */
  async check(timeoutMs = START_CHECK_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'START_CHECK_TIMEOUT' })),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.checkClient.listObjectsV2Query(this.store.bucket, this.store.keys.root, '', '/', 1, ''), timeout]);
    } catch (err) {
      throw startError(this.settings, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private key(path: string): string {
    return this.store.keys.key(path);
  }

  async getContent(path: string): Promise<Buffer> {
    checkPath(path, this.name);
    try {
      return await getObject(this.store, this.key(path));
    } catch (err) {
      throw this.notFound(err, path);
    }
  }

  async putContent(path: string, content: Buffer): Promise<void> {
    checkPath(path, this.name);
    await putObject(this.store, this.key(path), content);
  }

  async reader(path: string, offset = 0): Promise<Readable> {
    checkPath(path, this.name);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidOffsetError(path, offset, this.name);
    try {
      const stream = await this.store.client.getPartialObject(this.store.bucket, this.key(path), offset);
      // OSS answers an unsatisfiable range with 200 and the whole object (distribution's oss driver notes it).
      if (offset === 0 || (stream as Readable & { statusCode?: number }).statusCode === 206) return stream;
      stream.destroy();
    } catch (err) {
      if (errorCode(err) !== 'InvalidRange') throw this.notFound(err, path);
    }
    const info = await this.stat(path);
    if (info.isDir) throw new PathNotFoundError(path, this.name);
    if (offset === info.size) return Readable.from([]);
    if (offset < info.size) throw new Error(`${this.name}: ${endpointLabel(this.settings)} ignored the Range of a read of ${path} at ${offset}`);
    throw new InvalidOffsetError(path, offset, this.name);
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    checkPath(path, this.name);
    return openWriter(this.store, path, append);
  }

  async stat(path: string): Promise<FileInfo> {
    checkPath(path, this.name, true);
    if (path !== '/') {
      try {
        const info = await this.store.client.statObject(this.store.bucket, this.key(path));
        return { path, size: info.size, modTime: info.lastModified, isDir: false };
      } catch (err) {
        if (!isMissingObject(err)) throw err;
      }
      if (!(await hasObjectsBelow(this.store, this.store.keys.dirPrefix(path)))) throw new PathNotFoundError(path, this.name);
    }
    // Prefixes have no time of their own, as in distribution's s3 driver.
    return { path, size: 0, modTime: new Date(0), isDir: true };
  }

  async list(path: string): Promise<string[]> {
    checkPath(path, this.name, true);
    return (await listChildren(this.store, path)).map((info) => info.path);
  }

  async listPage(path: string, after: string, limit: number): Promise<string[]> {
    checkPath(path, this.name, true);
    return listNamesAfter(this.store, path, after, limit);
  }

  async move(source: string, dest: string): Promise<void> {
    checkPath(source, this.name);
    checkPath(dest, this.name);
    const sourceKey = this.key(source);
    let size: number;
    try {
      size = (await this.store.client.statObject(this.store.bucket, sourceKey)).size;
    } catch (err) {
      throw this.notFound(err, source);
    }
    if (source === dest) return;
    await copyObject(this.store, sourceKey, this.key(dest), size);
    await deleteObjects(this.store, [sourceKey]);
  }

  /**
   * Deletes the object at path and every object below it, with the writer objects of each; a saved writer state's
   * multipart upload is aborted first, so purging an abandoned upload also frees its parts.
   */
  async delete(path: string): Promise<void> {
    checkPath(path, this.name);
    const key = this.key(path);
    const belongs = (candidate: string) =>
      candidate === key || candidate.startsWith(`${key}/`) || candidate.startsWith(writerObjectsPrefix(key));
    let found = false;
    // Listing by the bare key also returns siblings such as "a-b" for "a"; they are filtered out, not deleted.
    for await (const page of listKeys(this.store, key)) {
      const doomed = page.filter(belongs);
      found ||= doomed.some((candidate) => !isWriterObject(candidate));
      for (const candidate of doomed) {
        const owner = writerStateOwner(candidate);
        if (owner !== undefined) await abortSavedUpload(this.store, candidate, owner);
      }
      await deleteObjects(this.store, doomed);
    }
    if (!found) throw new PathNotFoundError(path, this.name);
  }

  async redirectURL(path: string, method: 'GET' | 'HEAD'): Promise<string> {
    checkPath(path, this.name);
    return this.store.client.presignedUrl(method, this.store.bucket, this.key(path), REDIRECT_EXPIRY_SECONDS);
  }

  async walk(path: string, visit: (info: FileInfo) => Promise<WalkDecision> | WalkDecision): Promise<void> {
    checkPath(path, this.name, true);
    await walkObjects(this.store, path, visit);
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  private notFound(err: unknown, path: string): unknown {
    return isMissingObject(err) ? new PathNotFoundError(path, this.name) : err;
  }
}

/** The driver storage.s3 describes, without contacting it: a setting that cannot work throws, the rest is check()'s. */
export function buildS3Driver(config: S3Storage, logger: Logger, options: { budget?: BufferBudget } = {}): S3Driver {
  const settings = s3Settings(config);
  if (config.v4auth === false) {
    logger.warn('storage.s3.v4auth: false is ignored: this registry signs every request with AWS Signature V4');
  }
  return new S3Driver(settings, logger, options.budget);
}

/** buildS3Driver and its start check, so a wrong bucket, key or endpoint fails here. */
export async function createS3Driver(config: S3Storage, logger: Logger, options: { budget?: BufferBudget } = {}): Promise<StorageDriver> {
  return checked(buildS3Driver(config, logger, options));
}
