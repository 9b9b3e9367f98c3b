// health.storagedriver: a periodic storage check, as distribution runs it. After `threshold` failures in a row the
// registry reports unhealthy on /debug/health and answers API requests 503 until a check passes again.
import type { HealthConfig } from './config/types.js';
import type { Logger } from './log.js';
import { isNotFound, type StorageDriver } from './storage/driver/driver.js';

export interface HealthStatus {
  /** check name -> error message, for the failing checks only */
  failing(): Record<string, string>;
  stop(): void;
}

export function startStorageHealth(driver: StorageDriver, config: HealthConfig['storagedriver'], logger: Logger): HealthStatus {
  const name = `storagedriver_${driver.name}`;
  let failures = 0;
  let lastError = '';
  const check = async () => {
    try {
      await driver.stat('/');
      if (failures >= config.threshold) logger.info({ check: name }, 'storage health check passes again');
      failures = 0;
    } catch (err) {
      if (isNotFound(err)) {
        failures = 0;
        return;
      }
      failures++;
      lastError = (err as Error).message;
      logger.warn({ check: name, failures, err }, 'storage health check failed');
    }
  };
  const timer = config.enabled ? setInterval(() => void check(), config.interval) : undefined;
  timer?.unref();
  if (config.enabled) void check();
  return {
    failing: () => (config.enabled && failures >= config.threshold ? { [name]: lastError } : {}),
    stop: () => clearInterval(timer),
  };
}

/** Several sources of health as one, for /debug/health. */
export function combineHealth(...parts: HealthStatus[]): HealthStatus {
  return {
    failing: () => Object.assign({}, ...parts.map((part) => part.failing())) as Record<string, string>,
    stop: () => parts.forEach((part) => part.stop()),
  };
}
