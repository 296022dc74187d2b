import { Command, CommanderError } from 'commander';

/** Builds the CLI; returns the process exit code (0 ok, 1 invalid input, 2 usage). */
export async function run(argv: string[]): Promise<number> {
  const program = new Command('parley')
    .description('Declarative audio conferencing: validate, render, simulate and serve conference flows.')
    .exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
}
