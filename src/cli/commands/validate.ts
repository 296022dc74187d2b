import { compilePaths } from '../../compiler/index.js';
import { type CliIO, EXIT_INVALID, EXIT_OK } from '../io.js';
import { countErrors, type DiagnosticFormat, formatDiagnostics } from '../report.js';

export interface ValidateOptions {
  format: DiagnosticFormat;
}

/** Files seen: those with loaded documents and those that only produced diagnostics. */
function countFiles(documents: Array<{ file: string }>, diagnostics: Array<{ file: string }>): number {
  return new Set([...documents.map((d) => d.file), ...diagnostics.map((d) => d.file)]).size;
}

/** `parley validate [paths...]`: every diagnostic as `file:line:col: message`; exit 1 on any error. */
export function validateCommand(paths: string[], opts: ValidateOptions, io: CliIO): number {
  const result = compilePaths(paths);
  const errors = countErrors(result.diagnostics);
  const warnings = result.diagnostics.length - errors;
  if (opts.format === 'json') {
    io.out(
      JSON.stringify(
        {
          ok: errors === 0,
          errors,
          warnings,
          version: result.set?.version ?? null,
          files: countFiles(result.documents, result.diagnostics),
          documents: result.documents.length,
          diagnostics: result.diagnostics,
        },
        null,
        2,
      ),
    );
    return errors === 0 ? EXIT_OK : EXIT_INVALID;
  }
  for (const line of formatDiagnostics(result.diagnostics, opts.format)) {
    (errors > 0 ? io.err : io.out)(line);
  }
  const files = countFiles(result.documents, result.diagnostics);
  const what = `${paths.join(' ')}: ${files} ${files === 1 ? 'file' : 'files'}, ${result.documents.length} documents`;
  const tally = [
    errors ? `${errors} ${errors === 1 ? 'error' : 'errors'}` : '',
    warnings ? `${warnings} ${warnings === 1 ? 'warning' : 'warnings'}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  if (errors > 0) {
    io.err(`${what}, ${tally}`);
    return EXIT_INVALID;
  }
  io.out(`${what}, ok${tally ? ` (${tally})` : ''}, version ${result.set?.version.slice(0, 12)}`);
  return EXIT_OK;
}
