/**
 * Diagnostics and source positions shared by every compiler pass.
 *
 * A diagnostic always names the file and the 1-based line and column of the YAML
 * node at fault, so `parley validate` can print `file:line:col: message` and an
 * editor or CI annotation can jump to it.
 */

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  severity: Severity;
  /** Stable machine-readable code, e.g. `unknown-action`, `dangling-goto`, `yaml-syntax`. */
  code: string;
  /** Plain words, no JSON pointer dumps. */
  message: string;
  /** Optional suggestion, e.g. `did you mean "say"?` (already part of `message` when short). */
  hint?: string;
}

/** A path into a document's data: object keys and array indexes. */
export type NodePath = ReadonlyArray<string | number>;

export interface SourceRef {
  file: string;
  line: number;
  col: number;
}

/**
 * One YAML document of a file, with its data and a way back to positions.
 * `at(path)` gives the position of the value at `path`; `keyAt(path)` the position
 * of the key that holds it (for "unknown property" errors). Both fall back to the
 * nearest existing ancestor, so they always return a position.
 */
export interface SourceDocument {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  /** Plain JS data (what ajv validates). */
  data: unknown;
  at(path: NodePath): SourceRef;
  keyAt(path: NodePath): SourceRef;
}

/** Orders diagnostics by file, line, column, then message, for stable output. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.message.localeCompare(b.message)
  );
}

export function formatDiagnostic(d: Diagnostic): string {
  const sev = d.severity === 'warning' ? 'warning: ' : '';
  return `${d.file}:${d.line}:${d.col}: ${sev}${d.message}`;
}
