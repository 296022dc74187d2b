import type { Document } from '../../../src/compiler/ast.js';
import { checkUnits } from '../../../src/compiler/check/index.js';
import { compareDiagnostics, type Diagnostic } from '../../../src/compiler/diagnostics.js';
import { loadText } from '../../../src/compiler/load.js';
import type { Unit } from '../../../src/compiler/model.js';

export const FILE = '/cfg/main.yaml';

/** Loads YAML (as one file) into units, failing the test on load errors. */
export function unitsOf(text: string, file = FILE): Unit[] {
  const loaded = loadText(file, text);
  if (loaded.diagnostics.length > 0) throw new Error(`load: ${JSON.stringify(loaded.diagnostics)}`);
  return loaded.documents.map((doc) => ({ doc, data: doc.data as Document }));
}

export interface Found {
  code: string;
  line: number;
  col: number;
  severity: string;
  message: string;
}

/** Runs the semantic checks on YAML text. */
export function check(text: string, opts: { files?: string[]; extra?: Unit[] } = {}): Found[] {
  const files = new Set(opts.files ?? []);
  const units = [...unitsOf(text), ...(opts.extra ?? [])];
  return checkUnits(units, { fileExists: (p) => files.has(p), sourceText: () => text })
    .sort(compareDiagnostics)
    .map(found);
}

function found(d: Diagnostic): Found {
  return { code: d.code, line: d.line, col: d.col, severity: d.severity, message: d.message };
}

export function codes(list: Found[]): string[] {
  return list.map((d) => d.code);
}

/** A routes document allowing every `sip:` destination, to keep dial checks quiet. */
export const ALLOW_ALL = `kind: routes
dialout: { allow: ["^sip:"] }
routes:
  - conference: lobby
`;
