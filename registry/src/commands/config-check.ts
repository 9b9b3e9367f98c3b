// registry config-check <config.yml>: validate, print the effective config with secrets masked, exit 0/1.
import { maskSecrets, toYaml } from '../config/load.js';
import type { Command } from './command.js';
import { loadForCommand } from './load.js';

export const configCheck: Command = {
  usage: '<config.yml>',
  summary: 'validate a config (environment overrides applied) and print it with secrets masked; exit 0 if valid',
  async run(args) {
    const { config, warnings } = await loadForCommand(args[0], 'registry config-check <config.yml>');
    for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
    process.stdout.write(toYaml(maskSecrets(config)));
    process.stderr.write(`${args[0]}: valid\n`);
    return 0;
  },
};
