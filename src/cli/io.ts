/** Where a command writes; injectable so commands run in tests without spawning a process. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

export const processIO: CliIO = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** Exit codes: 0 ok, 1 invalid input (config, failed test), 2 usage. */
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

/** A usage error found after commander parsed the arguments (bad option value, unknown flow). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
