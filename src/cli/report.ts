import { type Diagnostic, formatDiagnostic } from '../compiler/index.js';

export type DiagnosticFormat = 'text' | 'json' | 'github';

/** Escapes a value for a GitHub Actions workflow command (`::error file=…::message`). */
function githubEscape(s: string, property: boolean): string {
  let out = s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
  if (property) out = out.replaceAll(':', '%3A').replaceAll(',', '%2C');
  return out;
}

export function formatDiagnostics(diagnostics: Diagnostic[], format: DiagnosticFormat): string[] {
  switch (format) {
    case 'text':
      return diagnostics.map(formatDiagnostic);
    case 'github':
      return diagnostics.map(
        (d) =>
          `::${d.severity === 'warning' ? 'warning' : 'error'} file=${githubEscape(d.file, true)},line=${d.line},col=${d.col},title=${githubEscape(d.code, true)}::${githubEscape(d.message, false)}`,
      );
    case 'json':
      return [JSON.stringify(diagnostics, null, 2)];
  }
}

export function countErrors(diagnostics: Diagnostic[]): number {
  return diagnostics.filter((d) => d.severity === 'error').length;
}
