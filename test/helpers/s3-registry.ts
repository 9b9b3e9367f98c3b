// Registry processes on S3 (s3rver), as an operator runs them: `registry serve config.yml` with storage.s3.
import { startRegistryProcess, type RegistryProcess } from './registry-serve.js';
import type { S3Server } from './s3rver.js';

export type { RegistryProcess } from './registry-serve.js';


/** The storage section (distribution's keys) for a bucket on this s3rver. */
export function s3Storage(s3: Pick<S3Server, 'endpoint' | 'accessKey' | 'secretKey' | 'bucket'>, redirect: boolean): Record<string, unknown> {
  return {
    s3: {
      accesskey: s3.accessKey,
      secretkey: s3.secretKey,
      region: 'us-east-1',
      regionendpoint: s3.endpoint,
      bucket: s3.bucket,
      forcepathstyle: true,
      secure: false,
      rootdirectory: '/registry',
      chunksize: 5 * 1024 * 1024,
      // s3rver answers UploadPartCopy with 501, so blobs are moved into place with one CopyObject whatever their size.
      multipartcopythresholdsize: 5 * 1024 * 1024 * 1024,
    },
    redirect: { disable: !redirect },
    delete: { enabled: true },
    maintenance: { uploadpurging: { enabled: false } },
  };
}

/** Writes dir/<name>.yml and starts `registry serve` on a free port; resolves once GET /v2/ answers 200. */
export function startS3RegistryProcess(dir: string, name: string, storage: Record<string, unknown>, secret: string): Promise<RegistryProcess> {
  return startRegistryProcess(dir, name, { storage, secret });
}
