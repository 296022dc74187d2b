import { run } from '../../src/cli/program.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process and captures what it writes. */
export async function cli(...argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, {
    out: (t) => out.push(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => err.push(t.endsWith('\n') ? t : `${t}\n`),
  });
  return { code, out: out.join(''), err: err.join('') };
}
