// What the maintenance commands (garbage-collect, prune, list, du, migrate) share: the storage driver named by a config
// file, closed when the work is done.
import { CommandError } from '../commands/command.js';
import { loadForCommand } from '../commands/load.js';
import type { Config } from '../config/types.js';
import { createLogger, type Logger } from '../log.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import { createDriver } from '../storage/driver/factory.js';

/**
 * Loads the config, opens its storage driver and runs work on it. The driver logs to stderr at warn, so stdout
 * carries only the command's own output (pipe --json into jq).
 */
export async function withStorage<T>(
  configPath: string | undefined,
  usage: string,
  work: (driver: StorageDriver, config: Config, logger: Logger) => Promise<T>,
): Promise<T> {
  const { config, warnings } = await loadForCommand(configPath, usage);
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
  const logger = createLogger({ ...config.log, level: 'warn' }, process.stderr);
  let driver: StorageDriver;
  try {
    driver = await createDriver(config.storage.driver, logger);
  } catch (err) {
    throw new CommandError(`cannot open the storage configured in ${configPath}: ${(err as Error).message}`);
  }
  try {
    return await work(driver, config, logger);
  } finally {
    await driver.close?.();
  }
}
