// registry config-check [--strict] <config.yml>: validate a config (environment applied) and every file it names the
// way `serve` reads them; print the effective config with secrets masked, then the errors and warnings right above the
// verdict, where an SA reads them. Exit 0 if the registry would start with it (--strict: and nothing to warn about).
import { checkFiles } from '../config/files.js';
import { ConfigError, loadConfigFile, maskSecrets, toYaml } from '../config/load.js';
import { oneConfigFile, parseCommandArgs } from './args.js';
import type { Command } from './command.js';

const ARGS = '[--strict] <config.yml>';
const USAGE = `registry config-check ${ARGS}`;

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The last line: whether the registry would start, and what the lines above it count. */
function verdict(path: string, errors: number, warnings: number, strict: boolean): { line: string; code: number } {
  if (errors > 0) {
    const also = warnings > 0 ? `, ${count(warnings, 'warning')}` : '';
    return { line: `${path}: NOT valid (${count(errors, 'error')}${also}); the registry would refuse to start`, code: 1 };
  }
  if (warnings === 0) return { line: `${path}: valid`, code: 0 };
  if (strict) return { line: `${path}: NOT valid under --strict (${count(warnings, 'warning')})`, code: 1 };
  return { line: `${path}: valid, with ${count(warnings, 'warning')} (--strict refuses them)`, code: 0 };
}

export const configCheck: Command = {
  usage: ARGS,
  summary:
    'validate a config (environment overrides applied) and every file it names, print it with secrets masked, then its errors and warnings; exit 0 if the registry would start with it (--strict: and nothing to warn about)',
  async run(args) {
    const parsed = parseCommandArgs(args, { strict: { type: 'boolean' } }, USAGE);
    const path = oneConfigFile(parsed.positionals, USAGE);
    let errors: string[];
    let warnings: string[];
    try {
      const loaded = await loadConfigFile(path);
      process.stdout.write(toYaml(maskSecrets(loaded.config)));
      errors = (await checkFiles(loaded.config)).map((problem) => problem.message);
      warnings = loaded.warnings;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors = err.issues;
      warnings = err.warnings;
    }
    for (const error of errors) process.stderr.write(`error: ${error}\n`);
    for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
    const { line, code } = verdict(path, errors.length, warnings.length, parsed.values.strict === true);
    process.stderr.write(`${line}\n`);
    return code;
  },
};
