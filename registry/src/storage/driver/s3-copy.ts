// Server-side copy for move(): bytes never pass through the registry. Objects up to multipartcopythresholdsize go in
// one CopyObject (S3 allows up to 5 GiB); larger ones in parts of multipartcopychunksize with UploadPartCopy,
// multipartcopymaxconcurrency at a time, as distribution's s3 driver does.
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  requestXml,
  xmlValue,
  type ObjectStore,
} from './s3-store.js';

function copySource(store: ObjectStore, key: string): string {
  return `/${store.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export async function copyObject(store: ObjectStore, sourceKey: string, destKey: string, size: number): Promise<void> {
  if (size <= store.copy.thresholdSize) {
    await requestXml(store, {
      method: 'PUT',
      key: destKey,
      headers: { ...store.objectHeaders, 'x-amz-copy-source': copySource(store, sourceKey) },
    });
    return;
  }
  await multipartCopy(store, sourceKey, destKey, size);
}

async function multipartCopy(store: ObjectStore, sourceKey: string, destKey: string, size: number): Promise<void> {
  const { chunkSize, maxConcurrency } = store.copy;
  const count = Math.ceil(size / chunkSize);
  const uploadId = await createMultipartUpload(store, destKey);
  const parts: Array<{ number: number; etag: string }> = [];
  let next = 0;
  let failed = false;
  const copyParts = async (): Promise<void> => {
    while (!failed && next < count) {
      const index = next++;
      const first = index * chunkSize;
      const last = Math.min(size, first + chunkSize) - 1;
      try {
        const xml = await requestXml(store, {
          method: 'PUT',
          key: destKey,
          query: `partNumber=${index + 1}&uploadId=${uploadId}`,
          headers: { 'x-amz-copy-source': copySource(store, sourceKey), 'x-amz-copy-source-range': `bytes=${first}-${last}` },
        });
        parts[index] = { number: index + 1, etag: xmlValue(xml, 'ETag') };
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  try {
    // Every worker stops before the upload is aborted, so no part lands after the abort.
    const results = await Promise.allSettled(Array.from({ length: Math.min(maxConcurrency, count) }, copyParts));
    const rejected = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (rejected) throw rejected.reason;
    await completeMultipartUpload(store, destKey, uploadId, parts);
  } catch (err) {
    await abortMultipartUpload(store, destKey, uploadId).catch((abortErr: unknown) => {
      store.logger.warn({ key: destKey, uploadId, err: abortErr }, 'could not abort a failed multipart copy');
    });
    throw err;
  }
  store.logger.debug({ sourceKey, destKey, size, parts: count }, 'multipart copy done');
}
