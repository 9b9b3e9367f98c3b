import type { Config } from '../../../registry/src/config/types.js';
import { LocalCoordinator, LocalHub } from '../../../registry/src/coord/local.js';
import { InMemoryDriver } from '../../../registry/src/storage/driver/inmemory.js';
import { runCoordinatorSuite } from './coordinator-suite.js';
import { quietLogger, type Fleet } from './fleet.js';

// The in-process backend stands for several processes only in a test: members share one hub and one store.
runCoordinatorSuite(
  'local (one process)',
  async () => {
    const hub = new LocalHub();
    const driver = new InMemoryDriver();
    const logs: Record<string, unknown>[] = [];
    const logger = quietLogger(logs);
    return {
      config: {} as Config,
      logs,
      logger,
      join: async () => ({ coord: new LocalCoordinator(logger, hub), driver }),
      close: async () => undefined,
    } satisfies Fleet;
  },
  { polled: false, ttlMs: 600 },
);
