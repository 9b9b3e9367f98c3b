#!/usr/bin/env node
// The `registry` command: one module per subcommand under commands/, dispatched from this table.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configCheck } from './commands/config-check.js';
import { du } from './commands/du.js';
import { garbageCollect } from './commands/garbage-collect.js';
import { healthcheck } from './commands/healthcheck.js';
import { list } from './commands/list.js';
import { prune } from './commands/prune.js';
import { migrateCommand } from './commands/migrate.js';
import { serve } from './commands/serve.js';
import { CommandError, refuseSilentExit, type Command } from './commands/command.js';
import { SettingError } from './setting-error.js';

const COMMANDS: Record<string, Command> = {
  serve,
  'config-check': configCheck,
  healthcheck,
  'garbage-collect': garbageCollect,
  list,
  du,
  prune,
  migrate: migrateCommand,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  registry ${name} ${command.usage}\n      ${command.summary}`);
  return `usage:\n${lines.join('\n')}\n  registry --version\n`;
}

const HELP = new Set(['--help', '-h', 'help']);
const VERSION = new Set(['--version', 'version']);

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    process.stderr.write(usage());
    return 2;
  }
  if (HELP.has(name) || VERSION.has(name)) {
    if (args.length > 0) {
      process.stderr.write(`registry: ${name} takes no arguments, got ${args.join(' ')}\n${usage()}`);
      return 2;
    }
    process.stdout.write(VERSION.has(name) ? `registry ${version()}\n` : usage());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`registry: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  if (args.length === 1 && HELP.has(args[0] as string)) {
    process.stdout.write(`usage: registry ${name} ${command.usage}\n  ${command.summary}\n`);
    return 0;
  }
  return command.run(args);
}

/** Failures a person fixes by changing a command line or a setting print as their message alone, without a stack. */
function isExplained(err: unknown): err is CommandError | SettingError {
  return err instanceof CommandError || err instanceof SettingError;
}

const work = main(process.argv.slice(2));
refuseSilentExit(work, process.argv[2] ?? 'registry');
work.then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`registry: ${isExplained(err) ? err.message : ((err as Error).stack ?? String(err))}\n`);
    process.exitCode = err instanceof CommandError ? err.exitCode : 1;
  },
);
