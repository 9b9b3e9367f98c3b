// Wraps any backend so that the layers above see one kind of failure for an unreachable, full or failing storage
// (StorageError, rendered as 503 or 507 with the backend named), and, with metrics on, times every operation.
import type { Metrics } from '../../metrics.js';
import {
  InvalidOffsetError,
  InvalidPathError,
  PathNotFoundError,
  StorageError,
  type FileWriter,
  type StorageDriver,
} from './driver.js';
import type { Reachability } from './reachability.js';

const OPERATIONS = ['getContent', 'putContent', 'reader', 'writer', 'stat', 'list', 'listPage', 'move', 'delete', 'redirectURL', 'walk'] as const;

/** Driver errors that describe the request, not the storage's health, pass through unchanged. */
function isContractError(err: unknown): boolean {
  return err instanceof PathNotFoundError || err instanceof InvalidPathError || err instanceof InvalidOffsetError || err instanceof StorageError;
}

function asStorageError(driver: string, operation: string, err: unknown): unknown {
  return isContractError(err) ? err : new StorageError(driver, operation, err);
}

function guardWriter(driver: string, writer: FileWriter): FileWriter {
  const call = async <T>(operation: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw asStorageError(driver, `writer.${operation}`, err);
    }
  };
  return {
    get size() {
      return writer.size;
    },
    write: (chunk) => call('write', () => writer.write(chunk)),
    close: () => call('close', () => writer.close()),
    cancel: () => call('cancel', () => writer.cancel()),
    commit: () => call('commit', () => writer.commit()),
  };
}

/** `reachable` refuses every operation while the backend has not answered since start (reachability.ts). */
export function guardDriver(driver: StorageDriver, metrics?: Metrics, reachable?: Pick<Reachability, 'require'>): StorageDriver {
  const guarded: Partial<StorageDriver> = {};
  const operations = driver.copyTo ? [...OPERATIONS, 'copyTo' as const] : OPERATIONS;
  for (const operation of operations) {
    const original = (driver[operation] as (...args: unknown[]) => Promise<unknown>).bind(driver);
    (guarded as Record<string, unknown>)[operation] = async (...args: unknown[]) => {
      reachable?.require(operation);
      const end = metrics?.storage.startTimer({ driver: driver.name, operation });
      try {
        const result = await original(...args);
        end?.({ outcome: 'ok' });
        return operation === 'writer' ? guardWriter(driver.name, result as FileWriter) : result;
      } catch (err) {
        end?.({ outcome: 'error' });
        throw asStorageError(driver.name, operation, err);
      }
    };
  }
  return Object.assign(Object.create(driver) as StorageDriver, guarded);
}
