// Times every storage operation into the storage latency histogram, whatever the backend.
import type { Metrics } from '../../metrics.js';
import type { StorageDriver } from './driver.js';

const TIMED = ['getContent', 'putContent', 'reader', 'writer', 'stat', 'list', 'listPage', 'move', 'delete', 'redirectURL', 'walk'] as const;

export function instrumentDriver(driver: StorageDriver, metrics: Metrics): StorageDriver {
  const timed: Partial<StorageDriver> = {};
  for (const operation of TIMED) {
    const original = driver[operation].bind(driver) as (...args: unknown[]) => Promise<unknown>;
    (timed as Record<string, unknown>)[operation] = async (...args: unknown[]) => {
      const end = metrics.storage.startTimer({ driver: driver.name, operation });
      try {
        const result = await original(...args);
        end({ outcome: 'ok' });
        return result;
      } catch (err) {
        end({ outcome: 'error' });
        throw err;
      }
    };
  }
  return Object.assign(Object.create(driver) as StorageDriver, timed);
}
