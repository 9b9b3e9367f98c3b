// The shape every `registry` subcommand has, and the error that ends one with a message instead of a trace.
export interface Command {
  /** Arguments, as shown in usage. */
  usage: string;
  summary: string;
  /** Resolves with the exit code. */
  run(args: string[]): Promise<number>;
}

/** A failure the user can act on: printed as its message alone, no stack. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** EX_SOFTWARE: the command stopped without finishing, a fault of the registry rather than of its input. */
export const EXIT_UNFINISHED = 70;

/**
 * Makes a process whose event loop runs dry while `work` is still pending exit EXIT_UNFINISHED with a message, not 0
 * in silence: a promise nothing will settle (a request whose socket vanished) would otherwise end a collection as if
 * it had succeeded. 'beforeExit' comes only when the loop is empty, never on an explicit exit such as serve's.
 */
export function refuseSilentExit(work: Promise<unknown>, name: string): void {
  let settled = false;
  const done = () => {
    settled = true;
  };
  work.then(done, done);
  process.once('beforeExit', () => {
    if (settled) return;
    process.stderr.write(`registry: ${name} stopped before it finished, with nothing left to wait for; this is a bug in the registry: run the command again\n`);
    process.exitCode = EXIT_UNFINISHED;
  });
}
