// The configuration module's public face: YAML text or a file, plus REGISTRY_* overrides, in; one typed Config and
// its warnings out, or a ConfigError listing every problem.
import { readFile } from 'node:fs/promises';
import type { Config } from './types.js';
import { applyEnv } from './env.js';
import { Problems, describeValue } from './section.js';
import { emptyMap, parseYaml } from './tree.js';
import { validate } from './validate.js';

export { maskSecrets, toYaml, toDistributionShape } from './shape.js';

export interface LoadResult {
  config: Config;
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(
    readonly issues: string[],
    readonly source?: string,
    /** What was found besides the issues (unknown keys, unsupported options), for a report that shows both. */
    readonly warnings: string[] = [],
  ) {
    super(issues.map((issue) => (source === undefined ? issue : `${source}: ${issue}`)).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Validates config.yml text with the overrides of env (process.env by default); throws ConfigError. */
export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env, source?: string): LoadResult {
  const parsed = parseYaml(text, (line) => ({ line: line ?? 1 }));
  if (parsed.errors.length > 0) throw new ConfigError(parsed.errors, source);
  const root = parsed.root ?? emptyMap({ line: 1 });
  if (root.kind !== 'map') {
    throw new ConfigError([`(top level): expected a mapping of sections (version, storage, http, ...), got ${describeValue(root)}`], source);
  }
  const problems = new Problems();
  applyEnv(root, env, problems);
  const config = validate(root, problems);
  if (problems.issues.length > 0) throw new ConfigError(problems.issues, source, problems.warnings);
  return { config, warnings: problems.warnings };
}

/**
 * The file's text; bytes that are not UTF-8 are an error naming the line, where a lenient decoder would turn them into
 * U+FFFD in a realm, a password or a bucket name without a word.
 */
function decodeUtf8(bytes: Buffer, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const text = bytes.toString('utf8');
    const at = text.indexOf('\uFFFD');
    const line = text.slice(0, at).split('\n').length;
    const byte = bytes[Buffer.byteLength(text.slice(0, at))] ?? 0;
    throw new ConfigError([`line ${line}: is not valid UTF-8 (byte 0x${byte.toString(16).padStart(2, '0')}); save the file as UTF-8`], path);
  }
}

export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ConfigError([`cannot read the configuration file: ${err instanceof Error ? err.message : String(err)}`], path);
  }
  return parseConfig(decodeUtf8(bytes, path), env, path);
}
