// Runs the built `registry` command as an SA would, to completion, with its exit code and output.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built registry command (dist/registry/src/cli.js), for tests and the bench that run it as a process. */
export const REGISTRY_CLI = fileURLToPath(new URL('../../registry/src/cli.js', import.meta.url));

export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runRegistry(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [REGISTRY_CLI, ...args], { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}
