/**
 * CLI failures carry their exit code. Exit codes scripts can rely on:
 *   0 success; 1 a negative answer (a check that found a problem, a refused object);
 *   2 bad input or usage (unknown flag, malformed file, bad config); 3 a failure talking to
 *   something else (server, cluster, database) that may succeed on retry.
 */
export type ExitCode = 0 | 1 | 2 | 3;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = 2,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** A negative answer that has already been printed; main exits 1 without another message. */
export class NegativeAnswer extends Error {
  readonly exitCode = 1 as const;
  constructor() {
    super("negative answer");
    this.name = "NegativeAnswer";
  }
}
