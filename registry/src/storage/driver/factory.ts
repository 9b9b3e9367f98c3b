// The one place that turns `storage:` in config.yml into a driver. Each backend lives in its own module.
import type { StorageDriverConfig } from '../../config/types.js';
import type { Logger } from '../../log.js';
import type { StorageDriver } from './driver.js';
import { openFilesystemDriver } from './filesystem.js';
import { InMemoryDriver } from './inmemory.js';

export async function createDriver(config: StorageDriverConfig, logger: Logger): Promise<StorageDriver> {
  const driver = await open(config);
  logger.info({ storage: driver.name, ...(config.type === 'filesystem' ? config.filesystem : {}) }, 'storage driver ready');
  return driver;
}

async function open(config: StorageDriverConfig): Promise<StorageDriver> {
  switch (config.type) {
    case 'filesystem':
      return openFilesystemDriver(config.filesystem);
    case 'inmemory':
      return new InMemoryDriver();
    // The object-store backends get their own case, importing from './s3.js' and './oss.js'.
    case 's3':
    case 'oss':
      throw new Error(
        `storage driver ${config.type} is not built into this registry yet: configure storage.filesystem (or inmemory) instead`,
      );
  }
}
