// Runs the built `registry` command as an SA would, to completion, with its exit code and output.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built registry command (dist/registry/src/cli.js), for tests and the bench that run it as a process. */
export const REGISTRY_CLI = fileURLToPath(new URL('../../registry/src/cli.js', import.meta.url));

export interface CommandRun {
  /** The exit status; -1 when a signal ended it (the run took longer than its timeout). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** A command the registry runs under, e.g. setpriv with its flags. */
  prefix?: string[];
  /** How long the command may run before it is killed; a command that should fail must also end. */
  timeoutMs?: number;
}

export function runRegistry(args: string[], env: NodeJS.ProcessEnv = {}, options: RunOptions = {}): Promise<CommandRun> {
  const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath];
  return new Promise((resolve) => {
    execFile(
      command as string,
      [...prefixArgs, REGISTRY_CLI, ...args],
      { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024, timeout: options.timeoutMs ?? 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
