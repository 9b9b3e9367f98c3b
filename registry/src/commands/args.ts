// Command-line arguments of the `registry` subcommands: strict flags, so an unknown flag (`serve --port 5001`) or a
// stray argument fails with the usage instead of being taken for a file name.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CommandError } from './command.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<T extends Options>(args: string[], options: T, usage: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CommandError(`${(err as Error).message}\nusage: ${usage}`, 2);
  }
}

/** The one config file a command takes, as its only positional argument. */
export function oneConfigFile(positionals: string[], usage: string): string {
  const [path] = positionals;
  if (path === undefined) throw new CommandError(`a config file is required\nusage: ${usage}`, 2);
  if (positionals.length > 1) throw new CommandError(`one config file expected, got ${positionals.length}: ${positionals.join(' ')}\nusage: ${usage}`, 2);
  return path;
}
