// How a process that serves nothing (the offline collector) tells the running fleet which blobs it swept: the same
// "blob-gone" message a replica publishes when it loses a blob, so every process's descriptor cache drops them, and
// their sizes leave Redis when storage.cache.blobdescriptor is redis.
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { BLOB_GONE_TOPIC } from '../storage/descriptor-cache.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import { createCoordination } from './factory.js';

/** One message, one Redis command or one event file per this many digests. */
const BATCH = 1000;

export async function announceSweptBlobs(config: Config, driver: StorageDriver, logger: Logger, digests: string[]): Promise<void> {
  if (digests.length === 0) return;
  const coordination = await createCoordination(config, driver, logger, { poll: false });
  try {
    for (let i = 0; i < digests.length; i += BATCH) {
      const batch = digests.slice(i, i + BATCH);
      if (coordination.descriptors) await coordination.descriptors.forget(batch);
      else await coordination.coord.publish(BLOB_GONE_TOPIC, batch);
    }
  } finally {
    await coordination.close();
  }
}
