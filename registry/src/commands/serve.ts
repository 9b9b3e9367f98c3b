// registry serve <config.yml>: run until SIGTERM/SIGINT, then drain and exit 0.
import { createLogger } from '../log.js';
import { startRegistry } from '../server.js';
import type { Command } from './command.js';
import { loadForCommand } from './load.js';

export const serve: Command = {
  usage: '<config.yml>',
  summary: 'serve the registry API; SIGTERM drains in-flight requests (http.draintimeout) and exits 0',
  async run(args) {
    // Listen for signals before starting: a SIGTERM during start-up (docker stop, bootstrap --watch) must still end
    // in a clean stop and exit 0, not kill the process mid-start.
    const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    const { config, warnings } = await loadForCommand(args[0], 'registry serve <config.yml>');
    const logger = createLogger(config.log);
    for (const warning of warnings) logger.warn({ config: args[0] }, warning);
    const registry = await startRegistry(config, logger);
    const signal = await stopSignal;
    logger.info({ signal }, 'shutting down');
    await registry.close();
    logger.info('stopped');
    return 0;
  },
};
