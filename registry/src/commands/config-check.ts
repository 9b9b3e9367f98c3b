// registry config-check <config.yml>: validate, print the effective config with secrets masked, exit 0/1.
import { maskSecrets, toYaml } from '../config/load.js';
import { oneConfigFile, parseCommandArgs } from './args.js';
import type { Command } from './command.js';
import { loadForCommand } from './load.js';

const ARGS = '<config.yml>';
const USAGE = `registry config-check ${ARGS}`;

export const configCheck: Command = {
  usage: ARGS,
  summary: 'validate a config (environment overrides applied) and print it with secrets masked; exit 0 if valid',
  async run(args) {
    const configPath = oneConfigFile(parseCommandArgs(args, {}, USAGE).positionals, USAGE);
    const { config, warnings } = await loadForCommand(configPath, USAGE);
    for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
    process.stdout.write(toYaml(maskSecrets(config)));
    process.stderr.write(`${configPath}: valid\n`);
    return 0;
  },
};
