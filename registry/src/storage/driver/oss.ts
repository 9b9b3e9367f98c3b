// storage.oss: Aliyun OSS speaks the S3 protocol, so this is the S3 driver pointed at the right OSS host with
// distribution's oss keys. The mapping is documented in docs/storage-s3-oss.md.
import type { OSSStorage } from '../../config/types.js';
import type { Logger } from '../../log.js';
import type { BufferBudget } from './buffer-budget.js';
import { checked, type StorageDriver } from './driver.js';
import { MIN_PART_SIZE } from './s3-store.js';
import { encryptionHeaders, parseEndpoint, S3Driver, sizeSetting, StorageStartError, type ObjectStoreSettings } from './s3.js';

const DEFAULT_CHUNK_SIZE = 2 * MIN_PART_SIZE;
const MAX_CHUNK_SIZE = 5 * 1024 * 1024 * 1024;

/** The host requests go to: `endpoint` when set, else the region's internal or public OSS endpoint. */
export function ossHost(config: Pick<OSSStorage, 'region' | 'endpoint' | 'internal'>): string {
  if (config.endpoint) return config.endpoint;
  return config.internal ? `${config.region}-internal.aliyuncs.com` : `${config.region}.aliyuncs.com`;
}

export function ossSettings(config: OSSStorage): ObjectStoreSettings {
  for (const key of ['accesskeyid', 'accesskeysecret', 'region', 'bucket'] as const) {
    if (!config[key]) throw new StorageStartError(`storage.oss.${key}`, 'is required');
  }
  const endpointKey = config.endpoint ? 'storage.oss.endpoint' : 'storage.oss.region';
  const endpoint = parseEndpoint(ossHost(config), config.secure ?? true, endpointKey);
  // OSS's own domains only take virtual-hosted requests (bucket.oss-cn-beijing.aliyuncs.com); any other endpoint is an
  // S3-speaking gateway addressed by path, as in the seed deployment's example (http://s3.domain.svc).
  const ossDomain = endpoint.host.endsWith('.aliyuncs.com');
  return {
    name: 'oss',
    ...endpoint,
    pathStyle: !ossDomain,
    region: config.region,
    bucket: config.bucket,
    accessKey: config.accesskeyid,
    secretKey: config.accesskeysecret,
    skipVerify: false,
    rootDirectory: config.rootdirectory ?? '',
    chunkSize: sizeSetting(config.chunksize, DEFAULT_CHUNK_SIZE, MIN_PART_SIZE, MAX_CHUNK_SIZE, 'storage.oss.chunksize'),
    // distribution's oss driver has no multipart-copy keys; OSS's CopyObject also stops at 1 GiB, so parts above that.
    copy: { thresholdSize: 1024 * 1024 * 1024, chunkSize: 32 * 1024 * 1024, maxConcurrency: 10 },
    objectHeaders: { 'Content-Type': 'application/octet-stream', ...encryptionHeaders(config.encrypt, undefined) },
    configKeys: { bucket: 'storage.oss.bucket', credentials: 'storage.oss.accesskeyid', endpoint: endpointKey, region: 'storage.oss.region' },
  };
}

/** The driver storage.oss describes, without contacting it: a setting that cannot work throws, the rest is check()'s. */
export function buildOSSDriver(config: OSSStorage, logger: Logger, options: { budget?: BufferBudget } = {}): S3Driver {
  return new S3Driver(ossSettings(config), logger, options.budget);
}

/** buildOSSDriver and its start check, so a wrong bucket, key or endpoint fails here. */
export async function createOSSDriver(config: OSSStorage, logger: Logger, options: { budget?: BufferBudget } = {}): Promise<StorageDriver> {
  return checked(buildOSSDriver(config, logger, options));
}
