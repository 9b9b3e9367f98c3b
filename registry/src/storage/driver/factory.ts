// The one place that turns `storage:` in config.yml into a driver. Each backend lives in its own module.
import type { StorageDriverConfig } from '../../config/types.js';
import type { Logger } from '../../log.js';
import type { StorageDriver } from './driver.js';
import { openFilesystemDriver } from './filesystem.js';
import { InMemoryDriver } from './inmemory.js';

export async function createDriver(config: StorageDriverConfig, logger: Logger): Promise<StorageDriver> {
  const driver = await open(config, logger);
  logger.info({ storage: driver.name, ...(config.type === 'filesystem' ? config.filesystem : {}) }, 'storage driver ready');
  return driver;
}

async function open(config: StorageDriverConfig, logger: Logger): Promise<StorageDriver> {
  switch (config.type) {
    case 'filesystem':
      return openFilesystemDriver(config.filesystem);
    case 'inmemory':
      return new InMemoryDriver();
    // Loaded on demand: the object-store client costs about 15 MiB of RSS that a filesystem registry never needs.
    case 's3':
      return (await import('./s3.js')).createS3Driver(config.s3, logger);
    case 'oss':
      return (await import('./oss.js')).createOSSDriver(config.oss, logger);
  }
}
