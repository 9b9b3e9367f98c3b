// Every way bootstrap can refuse to start is reported as problems an SA can act on, never as a stack trace.
import type { Logger } from 'pino';
import { clip } from './json-value.js';

/** One thing wrong with bootstrap's inputs, phrased for the SA who has to fix it. */
export interface Problem {
  /** Where the bad value lives: an etcd key (with the API it was read through), a file, or an environment variable. */
  source: string;
  /** The field inside that value; absent when the whole value is wrong. */
  field?: string;
  /** What is wrong with it. */
  message: string;
  /**
   * What fixes it: an action, or a command that pastes as printed (anything after it is a shell comment), or an
   * action ending in such a command after ": ".
   */
  fix: string;
}

/** Exit codes of `bootstrap` and `bootstrap render`, documented in docs/bootstrap.md. */
export const EXIT = {
  ok: 0,
  /** A value in etcd, the template, a file it names, or a setting is wrong. */
  invalid: 1,
  /** Bad command line. */
  usage: 2,
  /** etcd could not be read within BOOTSTRAP_ETCD_TIMEOUT and there is no last-good config to start on. */
  unreachable: 3,
} as const;

export class BootstrapError extends Error {
  constructor(
    readonly problems: Problem[],
    readonly exitCode: number = EXIT.invalid,
  ) {
    super(formatProblems(problems).join('\n'));
    this.name = 'BootstrapError';
  }
}

/** An I/O error as a message names it: its code (ENOENT, EACCES) when it has one. */
export function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** How much of a problem a line says before its fix: enough for any real one, bounded for a pathological value. */
const MAX_PROBLEM = 2000;

function describe(problem: Problem): string {
  return clip(problem.field === undefined ? problem.message : `field "${clip(problem.field)}": ${problem.message}`, MAX_PROBLEM);
}

/**
 * One line per value to fix: problems with the same source and the same fix (several fields of one etcd key) are
 * joined, so the SA reads each key and its one command once.
 */
export function formatProblems(problems: Problem[]): string[] {
  const groups = new Map<string, Problem[]>();
  for (const problem of problems) {
    const id = JSON.stringify([problem.source, problem.fix]);
    groups.set(id, [...(groups.get(id) ?? []), problem]);
  }
  return [...groups.values()].map((group) => `${group[0].source}: ${clip(group.map(describe).join('; '), MAX_PROBLEM)}. Fix: ${group[0].fix}`);
}

/**
 * Problems as bootstrap reports them while it runs: every line with its fix as plain text on stderr, where a command
 * pastes as printed (a log line would escape its quotes), then one structured log line naming the values to fix.
 */
export function reportProblems(problems: Problem[], log: Logger, level: 'fatal' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  for (const line of formatProblems(problems)) process.stderr.write(`${line}\n`);
  log[level]({ ...fields, toFix: [...new Set(problems.map((p) => p.source))] }, `${msg}; what is wrong and the fix are on stderr`);
}
