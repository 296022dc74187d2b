/**
 * What every semantic check shares: the documents, how to reach the file system,
 * and how to turn a node path into a diagnostic at the right line and column.
 */
import type { ConferenceDocument, RoutesDocument, ScenarioDocument, TestDocument } from '../ast.js';
import type { Diagnostic, NodePath, Severity, SourceRef } from '../diagnostics.js';
import { type FlowModel, flowsOf, type Unit } from '../model.js';

export interface CheckOptions {
  /** Whether a file exists (absolute path). */
  fileExists: (path: string) => boolean;
  /** The text of a loaded file, to place diagnostics inside plain one-line scalars. */
  sourceText?: (file: string) => string | undefined;
  /**
   * Some documents failed to load or validate and are missing here: checks that
   * look one document up from another are skipped rather than blame the wrong one.
   */
  partial?: boolean;
}

export interface FlowEntry {
  unit: Unit;
  flow: FlowModel;
}

export class CheckContext {
  readonly diagnostics: Diagnostic[] = [];
  readonly routes: Unit<RoutesDocument>[] = [];
  readonly conferences: Unit<ConferenceDocument>[] = [];
  readonly scenarios: Unit<ScenarioDocument>[] = [];
  readonly tests: Unit<TestDocument>[] = [];
  readonly flows: FlowEntry[] = [];
  private readonly lines = new Map<string, string[]>();

  constructor(
    readonly units: Unit[],
    readonly options: CheckOptions,
  ) {
    for (const unit of units) {
      const d = unit.data;
      if (d.kind === 'routes') this.routes.push(unit as Unit<RoutesDocument>);
      else if (d.kind === 'conference') this.conferences.push(unit as Unit<ConferenceDocument>);
      else if (d.kind === 'scenario') this.scenarios.push(unit as Unit<ScenarioDocument>);
      else if (d.kind === 'test') this.tests.push(unit as Unit<TestDocument>);
      for (const flow of flowsOf(unit)) this.flows.push({ unit, flow });
    }
  }

  report(
    unit: Unit,
    path: NodePath,
    code: string,
    message: string,
    opts: { severity?: Severity; key?: boolean; hint?: string; at?: SourceRef } = {},
  ): void {
    const at = opts.at ?? (opts.key ? unit.doc.keyAt(path) : unit.doc.at(path));
    const d: Diagnostic = {
      file: at.file,
      line: at.line,
      col: at.col,
      severity: opts.severity ?? 'error',
      code,
      message,
    };
    if (opts.hint) d.hint = opts.hint;
    this.diagnostics.push(d);
  }

  /**
   * The position of character `offset` of the string `value` at `path`: exact when
   * the scalar is written on one line, plain or quoted without escapes; otherwise
   * the scalar's own position.
   */
  positionIn(unit: Unit, path: NodePath, value: string, offset: number): SourceRef {
    const at = unit.doc.at(path);
    if (value.includes('\n')) return at;
    const line = this.lineOf(at.file, at.line);
    if (line === undefined) return at;
    const rest = line.slice(at.col - 1);
    if (rest.startsWith(value)) return { ...at, col: at.col + offset };
    const q = rest[0];
    if ((q === '"' || q === "'") && rest.slice(1).startsWith(value))
      return { ...at, col: at.col + 1 + offset };
    return at;
  }

  private lineOf(file: string, line: number): string | undefined {
    let lines = this.lines.get(file);
    if (!lines) {
      const text = this.options.sourceText?.(file);
      if (text === undefined) return undefined;
      // Lines and columns as the loader counts them: no byte-order mark, CR, LF or CRLF breaks.
      lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r\n|\r|\n/);
      this.lines.set(file, lines);
    }
    return lines[line - 1];
  }
}

/** `file:line` of a unit's node, for messages that point at a second place. */
export function where(unit: Unit, path: NodePath): string {
  const at = unit.doc.at(path);
  return `${at.file}:${at.line}`;
}
