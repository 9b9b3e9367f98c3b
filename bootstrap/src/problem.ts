// Every way bootstrap can refuse to start is reported as problems an SA can act on, never as a stack trace.

/** One thing wrong with bootstrap's inputs, phrased for the SA who has to fix it. */
export interface Problem {
  /** Where the bad value lives: an etcd key (with the API it was read through), a file, or an environment variable. */
  source: string;
  /** The field inside that value; absent when the whole value is wrong. */
  field?: string;
  /** What is wrong with it. */
  message: string;
  /** The command (or the action) that fixes it. */
  fix: string;
}

/** Exit codes of `bootstrap` and `bootstrap render`, documented in docs/bootstrap.md. */
export const EXIT = {
  ok: 0,
  /** A value in etcd, the template, a file it names, or a setting is wrong. */
  invalid: 1,
  /** Bad command line. */
  usage: 2,
  /** etcd could not be read within BOOTSTRAP_ETCD_TIMEOUT and there is no last-good config to fall back on. */
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

function describe(problem: Problem): string {
  return problem.field === undefined ? problem.message : `field "${problem.field}": ${problem.message}`;
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
  return [...groups.values()].map((group) => `${group[0].source}: ${group.map(describe).join('; ')}. Fix: ${group[0].fix}`);
}
