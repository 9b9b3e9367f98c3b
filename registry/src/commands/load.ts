// Loading the config file named on a command line, with its problems as a CommandError.
import { ConfigError, loadConfigFile, type LoadResult } from '../config/load.js';
import { CommandError } from './command.js';

export async function loadForCommand(path: string | undefined, usage: string): Promise<LoadResult> {
  if (!path) throw new CommandError(`a config file is required: ${usage}`, 2);
  try {
    return await loadConfigFile(path);
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandError(err.message);
    throw err;
  }
}
