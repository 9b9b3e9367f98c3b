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
