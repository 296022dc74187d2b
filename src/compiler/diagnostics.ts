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

type PathKey = string | number;

/**
 * `path` followed by one to three keys, in an array of exactly that length. A spread
 * (`[...path, key]`) gets a backing store with room for about sixteen more, and the
 * checks and the compiler keep a path for every action, branch and handler: on a
 * thousand files that spare room was most of what the scavenger copied.
 */
export function subPath(path: NodePath, a: PathKey, b?: PathKey, c?: PathKey): NodePath {
  const n = path.length;
  const out = new Array<PathKey>(n + (b === undefined ? 1 : c === undefined ? 2 : 3));
  for (let i = 0; i < n; i++) out[i] = path[i] as PathKey;
  out[n] = a;
  if (b !== undefined) out[n + 1] = b;
  if (c !== undefined) out[n + 2] = c;
  return out;
}

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
