// Shared by the config tests: parse with an explicit (empty by default) environment, never the test runner's.
import { ConfigError, parseConfig, type LoadResult } from '../../../registry/src/config/load.js';

export function load(text: string, env: NodeJS.ProcessEnv = {}): LoadResult {
  return parseConfig(text, env, 'config.yml');
}

/** The issues of the ConfigError the text must raise. */
export function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    load(text, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError, the config was accepted');
}

export const MINIMAL = 'version: 0.1\nstorage: {inmemory: {acceptdataloss: true}}\n';
