// registry serve <config.yml>: run until SIGTERM/SIGINT, then drain and exit 0; in this process when http.workers is
// 1, else as the primary of a worker per core (cluster/primary.ts).
import { runPrimary } from '../cluster/primary.js';
import { workerCount } from '../cluster/worker-count.js';
import { createLogger } from '../log.js';
import { oneConfigFile, parseCommandArgs } from './args.js';
import type { Command } from './command.js';
import { loadForCommand } from './load.js';

const ARGS = '<config.yml>';
const USAGE = `registry serve ${ARGS}`;

export const serve: Command = {
  usage: ARGS,
  summary: 'serve the registry API with http.workers processes (default: one per core); SIGTERM drains in-flight requests (http.draintimeout) and exits 0',
  async run(args) {
    const configPath = oneConfigFile(parseCommandArgs(args, {}, USAGE).positionals, USAGE);
    // Listen for signals before starting: a SIGTERM during start-up (docker stop, bootstrap --watch) must still end
    // in a clean stop and exit 0, not kill the process mid-start.
    const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    const { config, warnings } = await loadForCommand(configPath, USAGE);
    const logger = createLogger(config.log);
    for (const warning of warnings) logger.warn({ config: configPath }, warning);
    // The inmemory driver's images live in one process (several workers over it are refused by validation).
    const workers = config.storage.driver.type === 'inmemory' ? 1 : workerCount(config.http.workers);
    if (workers > 1) return runPrimary(config, logger, workers, stopSignal);
    // Loaded here, not above: a primary serves no request, and the app's modules would cost it 20 MiB of memory.
    const { startRegistry } = await import('../server.js');
    const registry = await startRegistry(config, logger);
    const signal = await stopSignal;
    logger.info({ signal }, 'shutting down');
    await registry.close();
    logger.info('stopped');
    return 0;
  },
};
