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
import { CommandError, type Command } from './commands/command.js';

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

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version' || name === 'version') {
    process.stdout.write(`registry ${version()}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`registry: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  return command.run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`registry: ${err instanceof CommandError ? err.message : (err as Error).stack ?? String(err)}\n`);
    process.exitCode = err instanceof CommandError ? err.exitCode : 1;
  },
);
