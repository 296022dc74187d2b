/**
 * Golden tests: every `test/fixtures/invalid/*.yaml` is compiled alone through the
 * whole pipeline, must fail, and must print exactly its `*.expected.txt`.
 * `PARLEY_UPDATE_GOLDEN=1` rewrites the goldens (review the diff before committing).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSources, formatDiagnostic } from '../../src/compiler/index.js';

const DIR = 'test/fixtures/invalid';
const update = process.env.PARLEY_UPDATE_GOLDEN === '1' && process.env.CI !== 'true';
const entries = readdirSync(DIR).sort();
const yamls = entries.filter((f) => /\.ya?ml$/.test(f));
const golden = (f: string) => path.join(DIR, f.replace(/\.ya?ml$/, '.expected.txt'));

describe('invalid fixtures', () => {
  it('has fixtures, each with a golden, and no orphan goldens', () => {
    expect(yamls.length).toBeGreaterThan(0);
    const missing = yamls.filter((f) => !update && !existsSync(golden(f)));
    expect(missing).toEqual([]);
    const orphans = entries
      .filter((f) => f.endsWith('.expected.txt'))
      .filter((g) => !yamls.some((y) => golden(y) === path.join(DIR, g)));
    expect(orphans).toEqual([]);
  });

  it.each(yamls)('%s', (name) => {
    const file = path.join(DIR, name);
    const result = compileSources([{ file, text: readFileSync(file, 'utf8') }], { root: DIR });
    expect(result.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    expect(result.set).toBeUndefined();
    const text = `${result.diagnostics.map(formatDiagnostic).join('\n')}\n`;
    if (update) writeFileSync(golden(name), text);
    expect(text).toBe(readFileSync(golden(name), 'utf8'));
  });
});
