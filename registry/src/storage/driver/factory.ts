// The one place that turns `storage:` in config.yml into a driver. Each backend lives in its own module.
import type { StorageDriverConfig } from '../../config/types.js';
import type { Logger } from '../../log.js';
import { checked, type StorageDriver } from './driver.js';
import { openFilesystemDriver } from './filesystem.js';
import { InMemoryDriver } from './inmemory.js';

/** The driver, checked: for commands that need the storage now. A backend that cannot be reached fails here. */
export async function createDriver(config: StorageDriverConfig, logger: Logger): Promise<StorageDriver> {
  const driver = await checked(await buildDriver(config, logger));
  logger.info(driverLogFields(config), 'storage driver ready');
  return driver;
}

/** What a log line about the driver says of it: its name, and for the filesystem where it stores. */
export function driverLogFields(config: StorageDriverConfig): Record<string, unknown> {
  return { storage: config.type, ...(config.type === 'filesystem' ? config.filesystem : {}) };
}

/**
 * The driver, built without contacting a networked backend (its check() does that): a setting that cannot work
 * throws here, while an endpoint that does not answer yet is the caller's to wait for.
 */
export async function buildDriver(config: StorageDriverConfig, logger: Logger): Promise<StorageDriver> {
  switch (config.type) {
    case 'filesystem':
      return openFilesystemDriver(config.filesystem);
    case 'inmemory':
      return new InMemoryDriver();
    // Loaded on demand: the object-store client costs about 15 MiB of RSS that a filesystem registry never needs.
    case 's3':
      return (await import('./s3.js')).buildS3Driver(config.s3, logger);
    case 'oss':
      return (await import('./oss.js')).buildOSSDriver(config.oss, logger);
  }
}
