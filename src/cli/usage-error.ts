/**
 * A problem with what the user typed. `main` prints its message as one line followed by the usage of
 * the command, and exits with 2 (the conventional exit code for bad usage), so scripts can tell it
 * apart from a crash.
 */
export class UsageError extends Error {
  constructor(message: string, public readonly usage: string) {
    super(message);
    this.name = 'UsageError';
  }
}
