/**
 * Golden tests of the schema-level fixtures (`test/fixtures/invalid/s-*.yaml`): loading
 * and schema validation alone must print exactly `s-*.expected.txt`. These files fail
 * before any later pass, so the full-pipeline fixture runner prints the same lines.
 * `PARLEY_UPDATE_GOLDEN=1` rewrites the goldens (review the diff before committing).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareDiagnostics, type Diagnostic, formatDiagnostic } from '../../../src/compiler/diagnostics.js';
import { loadFile } from '../../../src/compiler/load.js';
import { validateDocument } from '../../../src/compiler/validate.js';

const DIR = 'test/fixtures/invalid';
const update = process.env.PARLEY_UPDATE_GOLDEN === '1' && process.env.CI !== 'true';
const fixtures = readdirSync(DIR)
  .filter((f) => /^s-.*\.yaml$/.test(f))
  .sort();

function diagnosticsOf(file: string): Diagnostic[] {
  const loaded = loadFile(file);
  const all = [...loaded.diagnostics, ...loaded.documents.flatMap((d) => validateDocument(d))];
  return all.sort(compareDiagnostics);
}

describe('schema-level invalid fixtures', () => {
  it('has enough of them', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(22);
  });

  it.each(fixtures)('%s', (name) => {
    const file = path.join(DIR, name);
    const diagnostics = diagnosticsOf(file);
    expect(diagnostics.some((d) => d.severity === 'error')).toBe(true);
    for (const d of diagnostics) {
      expect(d.file).toBe(file);
      expect(d.message).not.toMatch(/must NOT|must match|instancePath|schemaPath|#\/\$defs/);
    }
    const text = `${diagnostics.map(formatDiagnostic).join('\n')}\n`;
    const golden = path.join(DIR, name.replace(/\.yaml$/, '.expected.txt'));
    if (update) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });
});
