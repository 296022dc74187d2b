import { formatTranscript, runTest } from '../../runtime/sim/index.js';
import { type CliIO, EXIT_INVALID, EXIT_OK } from '../io.js';
import { compileOrReport, configRoot } from './shared.js';

export interface TestCliOptions {
  /** Only tests whose name contains this text. */
  grep?: string;
  /** Print the transcript of failed tests. */
  verbose?: boolean;
}

/** `parley test [paths...]`: runs every `kind: test` document; exit 1 when any fails or none ran. */
export async function testCommand(paths: string[], opts: TestCliOptions, io: CliIO): Promise<number> {
  const compiled = compileOrReport(paths, io);
  if ('exit' in compiled) return compiled.exit;
  const tests = compiled.set.tests.filter((t) => !opts.grep || t.name.includes(opts.grep));
  if (tests.length === 0) {
    io.err(
      `${paths.join(' ')}: no test${opts.grep ? ` matching "${opts.grep}"` : ''} (kind: test documents)`,
    );
    return EXIT_INVALID;
  }
  const root = configRoot(paths);
  let failed = 0;
  for (const test of tests) {
    const result = await runTest(compiled.set, test, { root });
    const where = `${test.src.file}:${test.src.line}:${test.src.col}`;
    if (result.passed) {
      io.out(`ok    ${test.name}`);
      continue;
    }
    failed++;
    io.out(`FAIL  ${test.name}  (${where})`);
    for (const f of result.failures) io.out(`      ${f}`);
    if (opts.verbose) {
      io.out('      transcript:');
      for (const line of formatTranscript(result.transcript).split('\n')) io.out(`        ${line}`);
    }
  }
  io.out(`${tests.length - failed} passed, ${failed} failed`);
  return failed > 0 ? EXIT_INVALID : EXIT_OK;
}
