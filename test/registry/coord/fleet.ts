// Several coordinators over one shared backend, each standing for one process of a fleet (its own id, its own
// connections), built from config.yml text the way serve builds them.
import { Writable } from 'node:stream';
import { parseConfig, toYaml } from '../../../registry/src/config/load.js';
import type { Config } from '../../../registry/src/config/types.js';
import type { Coordinator } from '../../../registry/src/coord/coordinator.js';
import { createCoordinator } from '../../../registry/src/coord/factory.js';
import { createLogger, type Logger } from '../../../registry/src/log.js';
import { createDriver } from '../../../registry/src/storage/driver/factory.js';
import type { StorageDriver } from '../../../registry/src/storage/driver/driver.js';

export interface Fleet {
  config: Config;
  /** A new "process": its own driver and coordinator, closed by close(). */
  join(options?: { poll?: boolean }): Promise<{ coord: Coordinator; driver: StorageDriver }>;
  logs: Record<string, unknown>[];
  logger: Logger;
  close(): Promise<void>;
}

export function quietLogger(logs: Record<string, unknown>[]): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return createLogger({ level: 'debug', formatter: 'json', fields: {} }, sink);
}

/** `sections` is config.yml's shape: a storage section and, for the Redis backend, a redis section. */
export function fleetOf(sections: Record<string, unknown>): Fleet {
  const { config } = parseConfig(toYaml({ version: '0.1', ...sections }), {}, 'test');
  const members: { coord: Coordinator; driver: StorageDriver }[] = [];
  const logs: Record<string, unknown>[] = [];
  const logger = quietLogger(logs);
  return {
    config,
    logs,
    logger,
    async join(options = {}) {
      const driver = await createDriver(config.storage.driver, logger);
      const coord = await createCoordinator(config, driver, logger, { poll: options.poll ?? true, pollMs: 50 });
      const member = { coord, driver };
      members.push(member);
      return member;
    },
    async close() {
      for (const { coord, driver } of members.splice(0)) {
        await coord.close();
        await driver.close?.();
      }
    },
  };
}
