// The maintenance `serve` does by itself, each a once-per-fleet job of the coordination layer (docs/maintenance.md):
// upload purging (storage.maintenance.uploadpurging), the background collector (storage.maintenance.gc) and
// retention (storage.maintenance.prune). Each refuses to run in read-only mode and says why.
import type { StorageConfig } from './config/types.js';
import { scheduleCollector, type BackgroundDeps } from './gc/background.js';
import { schedulePrune } from './retention/background.js';
import { startUploadPurger } from './storage/purge.js';

export interface Maintenance {
  stop(): Promise<void>;
}

export function startMaintenance(maintenance: StorageConfig['maintenance'], deps: BackgroundDeps): Maintenance {
  const purger = startUploadPurger(deps.coordination.coord, deps.driver, maintenance, deps.logger);
  const collector = scheduleCollector(maintenance, deps);
  const prune = schedulePrune(maintenance, deps, collector);
  return {
    async stop() {
      await Promise.all([purger?.stop(), collector?.stop(), prune?.stop()]);
    },
  };
}
