// The one place that turns `storage:` in config.yml into a driver. Each backend lives in its own module.
import type { StorageDriverConfig } from '../../config/types.js';
import type { Logger } from '../../log.js';
import type { StorageDriver } from './driver.js';
import { openFilesystemDriver } from './filesystem.js';
import { InMemoryDriver } from './inmemory.js';
import { createOSSDriver } from './oss.js';
import { createS3Driver } from './s3.js';

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
    case 's3':
      return createS3Driver(config.s3, logger);
    case 'oss':
      return createOSSDriver(config.oss, logger);
  }
}
