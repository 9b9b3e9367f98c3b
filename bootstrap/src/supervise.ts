// `registry serve` as bootstrap's child: signals reach it, its exit code becomes bootstrap's, and bootstrap never
// exits leaving it behind.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Logger } from 'pino';

export interface RegistryChild {
  readonly pid: number;
  /** Resolves with the exit code, 128 + the signal number when a signal ended it (as a shell reports it). */
  readonly exited: Promise<number>;
  /** Sends a signal if the child is still running. */
  signal(signal: NodeJS.Signals): void;
}

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

export async function startRegistryChild(registryCli: string, configPath: string, log: Logger): Promise<RegistryChild> {
  // The registry logs to the container's stdout and stderr itself.
  const child = spawn(process.execPath, [registryCli, 'serve', configPath], { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid as number;
  let running = true;
  // A crash of bootstrap itself still ends the registry, which drains on SIGTERM.
  const onExit = () => {
    if (running) child.kill('SIGTERM');
  };
  process.on('exit', onExit);
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      process.off('exit', onExit);
      const status = code ?? 128 + (signal === null ? 0 : constants.signals[signal]);
      log.info({ registryPid: pid, code, signal }, 'registry exited');
      resolve(status);
    });
  });
  log.info({ registryPid: pid, config: configPath }, 'registry started');
  return {
    pid,
    exited,
    signal(sig) {
      if (running) child.kill(sig);
    },
  };
}

/**
 * Forwards SIGTERM and SIGINT to whichever child `current` returns, until the returned function is called. Before
 * there is a child (e.g. while etcd is retried) a signal ends bootstrap at once: as PID 1 of a container it would
 * otherwise be ignored.
 */
export function forwardSignals(current: () => RegistryChild | undefined, log: Logger): () => void {
  const handler = (signal: NodeJS.Signals) => {
    const child = current();
    if (child === undefined) {
      log.info({ signal }, 'signal before the registry started; exiting');
      process.exit(128 + constants.signals[signal]);
    }
    log.info({ signal, registryPid: child.pid }, 'forwarding signal to the registry');
    child.signal(signal);
  };
  for (const signal of FORWARDED) process.on(signal, handler);
  return () => {
    for (const signal of FORWARDED) process.off(signal, handler);
  };
}
