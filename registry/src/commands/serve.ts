// registry serve <config.yml>: run until SIGTERM/SIGINT, then drain and exit 0.
import { createLogger } from '../log.js';
import { startRegistry } from '../server.js';
import { oneConfigFile, parseCommandArgs } from './args.js';
import type { Command } from './command.js';
import { loadForCommand } from './load.js';

const ARGS = '<config.yml>';
const USAGE = `registry serve ${ARGS}`;

export const serve: Command = {
  usage: ARGS,
  summary: 'serve the registry API; SIGTERM drains in-flight requests (http.draintimeout) and exits 0',
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
    const registry = await startRegistry(config, logger);
    const signal = await stopSignal;
    logger.info({ signal }, 'shutting down');
    await registry.close();
    logger.info('stopped');
    return 0;
  },
};
