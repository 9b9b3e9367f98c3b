import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childEnv, type EnvPatch } from './tools.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A server process started for a test, its stdout and stderr captured to `logPath` in its own temp dir. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Temp dir owned by the helper, removed by stop(). */
  readonly dir: string;
  readonly logPath: string;
  readonly exited: Promise<Exit>;
  readLog(): Promise<string>;
  /** SIGTERM, SIGKILL after the grace period, waits for the exit; safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/** Polled until it answers true; it gets the process so it can read the log (e.g. for a port the server printed). */
export type Readiness = (proc: ManagedProcess) => Promise<boolean>;

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  env?: EnvPatch;
  cwd?: string;
  /** A temp dir from makeTempDir to use instead of a fresh one (e.g. holding a config file); stop() removes it. */
  dir?: string;
  ready: Readiness;
  timeoutMs?: number;
}

const running = new Set<ManagedProcess>();

// The exit event may still be in flight when we signal, so a vanished process is not an error.
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export function makeTempDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `lain-${name}-`));
}

/** Spawns a process and resolves once it is ready; if it exits or times out first, the error includes its log. */
export async function startProcess(opts: StartOptions): Promise<ManagedProcess> {
  const dir = opts.dir ?? (await makeTempDir(opts.name));
  const logPath = join(dir, `${opts.name}.log`);
  const logFd = openSync(logPath, 'a');
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd ?? dir,
    env: childEnv(opts.env),
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, sig) => resolve({ code, signal: sig }));
  });
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (spawned !== undefined || child.pid === undefined) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${opts.name}: cannot start ${opts.command}: ${spawned?.message ?? 'no pid'}`);
  }
  const pid = child.pid;
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  let stopping: Promise<void> | undefined;
  const proc: ManagedProcess = {
    name: opts.name,
    pid,
    dir,
    logPath,
    exited,
    readLog: () => readFile(logPath, 'utf8'),
    stop(graceMs = 5000) {
      stopping ??= (async () => {
        running.delete(proc);
        if (!hasExited) {
          signal(pid, 'SIGTERM');
          const gone = await Promise.race([exited.then(() => true), sleep(graceMs, false)]);
          if (!gone) signal(pid, 'SIGKILL');
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  running.add(proc);

  const timeoutMs = opts.timeoutMs ?? 20000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (hasExited) {
      const exit = await exited;
      const log = await proc.readLog();
      await proc.stop();
      throw new Error(`${opts.name} exited during startup (code ${exit.code}, signal ${exit.signal}); log:\n${log}`);
    }
    if (await opts.ready(proc).catch(() => false)) return proc;
    if (Date.now() > deadline) {
      const log = await proc.readLog();
      await proc.stop();
      throw new Error(`${opts.name} not ready after ${timeoutMs} ms; log:\n${log}`);
    }
    await sleep(100);
  }
}

/** Starts one of our own programs (e.g. dist/registry/src/cli.js) with this Node binary. */
export function startNodeProcess(
  script: string,
  args: string[],
  env: EnvPatch,
  ready: Readiness,
  opts: { name?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<ManagedProcess> {
  return startProcess({ name: opts.name ?? 'node', command: process.execPath, args: [script, ...args], env, cwd: opts.cwd, timeoutMs: opts.timeoutMs, ready });
}

/** Readiness: the URL answers an HTTP request and `accept` likes the response (by default: any status). */
export function httpReady(url: string, accept: (res: Response) => boolean | Promise<boolean> = () => true): Readiness {
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    try {
      return await accept(res);
    } finally {
      if (!res.bodyUsed) await res.body?.cancel();
    }
  };
}

// If the test run exits without stopping everything (a crash, mocha's --exit), no server outlives it.
process.once('exit', () => {
  for (const proc of running) {
    signal(proc.pid, 'SIGKILL');
    rmSync(proc.dir, { recursive: true, force: true });
  }
});

/** Safety net for after() hooks: stops whatever a failing test left running. Tests still stop each process themselves. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((proc) => proc.stop()));
}
