#!/usr/bin/env node
// console-auth: the cluster console's registry token service.
import { text } from 'node:stream/consumers';
import { parseArgs } from 'node:util';
import bcrypt from 'bcryptjs';
import { keygen } from './keys.js';
import { serve } from './server.js';

const USAGE = `usage:
  console-auth serve <console.yml>              serve /api/v1/authorize/registry/ (reloads on change or SIGHUP)
  console-auth keygen --out <dir> [--bits 4096] [--days 3650] [--cn NAME]
                                                write <dir>/server.key and the self-signed <dir>/server.pem
                                                (the registry's auth.token.rootcertbundle)
  console-auth hash-password [--cost 10]        read a password on stdin, print its bcrypt hash for console.yml`;

class UsageError extends Error {}

function integer(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
      if (positionals.length !== 1) throw new UsageError('serve takes one argument: the path of console.yml');
      await serve(positionals[0]!);
      return;
    }
    case 'keygen': {
      const { values } = parseArgs({
        args: rest,
        options: { out: { type: 'string' }, bits: { type: 'string' }, days: { type: 'string' }, cn: { type: 'string' } },
      });
      if (values.out === undefined) throw new UsageError('keygen needs --out <dir>');
      const written = await keygen(values.out, {
        bits: integer(values.bits, 'bits', 4096, 2048, 16384),
        days: integer(values.days, 'days', 3650, 1, 36500),
        commonName: values.cn,
      });
      process.stdout.write(`${written.keyPath}\n${written.certPath}\n`);
      return;
    }
    case 'hash-password': {
      const { values } = parseArgs({ args: rest, options: { cost: { type: 'string' } } });
      const cost = integer(values.cost, 'cost', 10, 4, 15);
      // One trailing newline is the terminator of `echo` or a typed line, not part of the password.
      const password = (await text(process.stdin)).replace(/\r?\n$/, '');
      if (password === '') throw new UsageError('hash-password read an empty password on stdin');
      process.stdout.write(`${await bcrypt.hash(password, cost)}\n`);
      return;
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      if (command === undefined) process.exitCode = 2;
      return;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`console-auth: ${(err as Error).message}\n${usage ? `${USAGE}\n` : ''}`);
  process.exit(usage ? 2 : 1);
});
