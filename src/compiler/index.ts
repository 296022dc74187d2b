/**
 * The compiler's public entry: YAML sources or paths → diagnostics and, when there
 * are no errors, the compiled set. Load (positions) → validate (JSON Schema) →
 * check (meaning) → compile (machine configs). Never throws on bad input.
 */
import { type Dirent, existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Document } from './ast.js';
import { sha256 } from './canonical.js';
import { checkUnits } from './check/index.js';
import { compileUnits } from './compile.js';
import { compareDiagnostics, type Diagnostic, type SourceDocument } from './diagnostics.js';
import type { CompiledFlow, CompiledSet } from './ir.js';
import { loadText } from './load.js';
import type { Unit } from './model.js';
import { validateDocument } from './validate.js';

export type * from './ast.js';
export { canonicalJson, sha256, versionOf } from './canonical.js';
export type { Diagnostic, NodePath, Severity, SourceDocument, SourceRef } from './diagnostics.js';
export { compareDiagnostics, formatDiagnostic } from './diagnostics.js';
export {
  ExpressionError,
  evaluateExpression,
  isTruthy,
  parseExpression,
  parseTemplate,
  renderTemplate,
} from './expr.js';
export type * from './ir.js';
export { renderDot, renderMermaid } from './render.js';

export interface CompileOptions {
  /** Folder audio paths are stored relative to. Default: the first path's folder (or the first source's). */
  root?: string;
  /** Whether an audio file exists (absolute path). Default: the file system. */
  fileExists?: (path: string) => boolean;
}

export interface CompileResult {
  /** Errors and warnings, sorted by file, line, column. */
  diagnostics: Diagnostic[];
  /** The compiled configuration; only when there is no error. */
  set?: CompiledSet;
  /** Every document that loaded (valid or not), in file order. */
  documents: SourceDocument[];
}

export interface Source {
  /** Name diagnostics carry; audio paths are resolved relative to its folder. */
  file: string;
  text: string;
}

/** Every flow of a compiled set, in set order: each conference's participant then conference flow, then scenarios. */
export function listFlows(set: CompiledSet): CompiledFlow[] {
  const out: CompiledFlow[] = [];
  for (const c of set.conferences) {
    out.push(c.participant);
    if (c.conference) out.push(c.conference);
  }
  for (const s of set.scenarios) out.push(s.flow);
  return out;
}

function defaultFileExists(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function internalError(file: string, err: unknown): Diagnostic {
  const message = err instanceof Error ? err.message : String(err);
  return {
    file,
    line: 1,
    col: 1,
    severity: 'error',
    code: 'internal-error',
    message: `internal error: ${message}`,
  };
}

/** Compiles a configuration given as texts (sorted by file name first). */
export function compileSources(sources: Source[], opts: CompileOptions = {}): CompileResult {
  const sorted = [...sources].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const root = path.resolve(opts.root ?? (sorted[0] ? path.dirname(sorted[0].file) : '.'));
  return run(sorted, [], root, opts.fileExists ?? defaultFileExists);
}

/** Compiles the YAML files under `paths` (folders recursively, `*.yaml`/`*.yml`, sorted). */
export function compilePaths(paths: string[], opts: CompileOptions = {}): CompileResult {
  const diagnostics: Diagnostic[] = [];
  const files: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      diagnostics.push({
        file: p,
        line: 1,
        col: 1,
        severity: 'error',
        code: 'missing-path',
        message: `no such file or folder: ${p}`,
      });
      continue;
    }
    if (isDir) files.push(...yamlFilesUnder(p));
    else files.push(p);
  }
  const sources: Source[] = [];
  for (const file of [...new Set(files)].sort()) {
    try {
      sources.push({ file, text: readFileSync(file, 'utf8') });
    } catch (err) {
      diagnostics.push({
        file,
        line: 1,
        col: 1,
        severity: 'error',
        code: 'read-error',
        message: `cannot read file: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }
  const first = paths[0];
  const defaultRoot =
    first === undefined
      ? '.'
      : existsSync(first) && statSync(first).isDirectory()
        ? first
        : path.dirname(first);
  return run(
    sources,
    diagnostics,
    path.resolve(opts.root ?? defaultRoot),
    opts.fileExists ?? defaultFileExists,
  );
}

/**
 * YAML files under `dir`, following symbolic links (a Kubernetes ConfigMap mount is
 * made of them) but skipping hidden entries and node_modules, each real folder once.
 */
function yamlFilesUnder(dir: string, seen = new Set<string>()): string[] {
  const out: string[] = [];
  let entries: Dirent[];
  try {
    const real = realpathSync(dir);
    if (seen.has(real)) return out;
    seen.add(real);
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const full = path.join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const st = statSync(full);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        continue; // a dangling link
      }
    }
    if (isDir) out.push(...yamlFilesUnder(full, seen));
    else if (isFile && /\.ya?ml$/i.test(e.name)) out.push(full);
  }
  return out;
}

function run(
  sources: Source[],
  diagnostics: Diagnostic[],
  root: string,
  fileExists: (p: string) => boolean,
): CompileResult {
  const documents: SourceDocument[] = [];
  const units: Unit[] = [];
  const texts = new Map<string, string>();
  let partial = false;
  for (const { file, text } of sources) {
    texts.set(file, text);
    try {
      const loaded = loadText(file, text);
      diagnostics.push(...loaded.diagnostics);
      if (loaded.diagnostics.some((d) => d.severity === 'error')) partial = true;
      for (const doc of loaded.documents) {
        documents.push(doc);
        const problems = validateDocument(doc);
        diagnostics.push(...problems);
        if (problems.some((d) => d.severity === 'error')) partial = true;
        else units.push({ doc, data: doc.data as Document });
      }
    } catch (err) {
      diagnostics.push(internalError(file, err));
      partial = true;
    }
  }
  const fallbackFile = sources[0]?.file ?? '.';
  // Many documents name the same few prompts and hold music: ask the file system once each.
  const seen = new Map<string, boolean>();
  const existsOnce = (p: string): boolean => {
    const known = seen.get(p);
    if (known !== undefined) return known;
    const found = fileExists(p);
    seen.set(p, found);
    return found;
  };
  try {
    diagnostics.push(
      ...checkUnits(units, { fileExists: existsOnce, sourceText: (f) => texts.get(f), partial }),
    );
  } catch (err) {
    diagnostics.push(internalError(fallbackFile, err));
  }
  const sortedDiagnostics = dedupe(diagnostics.sort(compareDiagnostics));
  const result: CompileResult = { diagnostics: sortedDiagnostics, documents };
  if (sortedDiagnostics.some((d) => d.severity === 'error')) return result;
  try {
    const files = sources.map(({ file, text }) => ({ file, sha256: sha256(text) }));
    result.set = compileUnits(units, { root, files });
  } catch (err) {
    result.diagnostics = [...sortedDiagnostics, internalError(fallbackFile, err)];
  }
  return result;
}

function dedupe(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const key = `${d.file}\0${d.line}\0${d.col}\0${d.severity}\0${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
