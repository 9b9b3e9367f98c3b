// Wires the coordination layer a config asks for: Redis when `redis:` is configured, the storage backend when the
// storage is shared (filesystem, s3, oss), the in-process backend for inmemory storage; and the blob descriptor cache
// of storage.cache.blobdescriptor on top of it.
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { MemoryDescriptorCache, RedisDescriptorCache, type DescriptorCache } from '../storage/descriptor-cache.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import type { Coordinator } from './coordinator.js';
import { LocalCoordinator } from './local.js';
import { RedisCoordinator } from './redis-backend.js';
import { connectRedis, firstConnection } from './redis-client.js';
import type { Relay } from './relay.js';
import { StorageCoordinator } from './storage-backend.js';

export interface Coordination {
  coord: Coordinator;
  descriptors?: DescriptorCache;
  close(): Promise<void>;
}

export interface CoordinationOptions {
  /** The machine's process group, when this process is one of several workers. */
  relay?: Relay;
  /** Whether this process reads the storage backend's events (one per machine; default: yes). */
  poll?: boolean;
  /** How often it reads them (default 1 s). */
  pollMs?: number;
}

/** The coordinator the config asks for, connected (or given up on for now, when Redis does not answer at start). */
export async function createCoordinator(config: Config, driver: StorageDriver, logger: Logger, options: CoordinationOptions = {}): Promise<Coordinator> {
  const log = logger.child({ component: 'coordination' });
  if (config.redis) {
    const coord = new RedisCoordinator(config.redis, log);
    await coord.connected();
    return coord;
  }
  if (driver.name === 'inmemory') return new LocalCoordinator(log);
  return new StorageCoordinator(driver, log, {
    poll: options.poll ?? true,
    ...(options.pollMs !== undefined && { pollMs: options.pollMs }),
    ...(options.relay && { relay: options.relay }),
  });
}

export async function createCoordination(config: Config, driver: StorageDriver, logger: Logger, options: CoordinationOptions = {}): Promise<Coordination> {
  const coord = await createCoordinator(config, driver, logger, options);
  const kind = config.storage.cache.blobdescriptor;
  let descriptors: DescriptorCache | undefined;
  if (kind === 'redis' && config.redis) {
    const client = connectRedis(config.redis, logger, 'blobdescriptor');
    await firstConnection(client, config.redis);
    descriptors = new RedisDescriptorCache(coord, client);
  } else if (kind === 'inmemory') {
    descriptors = new MemoryDescriptorCache(coord);
  }
  logger.info({ coordination: coord.backend, id: coord.id, blobdescriptor: kind ?? 'none' }, 'coordination ready');
  return {
    coord,
    ...(descriptors && { descriptors }),
    async close() {
      descriptors?.close();
      await coord.close();
    },
  };
}
