import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadText } from '../../../src/compiler/load.js';
import { compiledSchema, validateDocument } from '../../../src/compiler/validate.js';

const GENERATED = path.resolve('generated/schema-validator.cjs');

function yamlFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => path.join(dir, f));
}

describe('the precompiled schema validator', () => {
  it('is built by npm ci from the current schema and is the one in use', () => {
    expect(existsSync(GENERATED), 'run `node scripts/build-validator.mjs` (npm ci does)').toBe(true);
    const precompiled = compiledSchema();
    const runtime = compiledSchema('runtime');
    // The install-time module, not a validator compiled in this process.
    expect(precompiled.validate).not.toBe(runtime.validate);
    expect((precompiled.validate as unknown as { schemaSha256?: string }).schemaSha256).toMatch(
      /^[0-9a-f]{64}$/,
    );
  });

  it('words every fixture and example exactly as a validator compiled at run time', () => {
    const files = [...yamlFiles('test/fixtures/invalid'), ...yamlFiles('conferences')];
    expect(files.length).toBeGreaterThan(50);
    let documents = 0;
    let problems = 0;
    for (const file of files) {
      for (const doc of loadText(file, readFileSync(file, 'utf8')).documents) {
        documents++;
        const auto = validateDocument(doc);
        problems += auto.length;
        expect(auto, file).toEqual(validateDocument(doc, 'runtime'));
      }
    }
    expect(documents).toBeGreaterThan(50);
    // The invalid fixtures must actually exercise error wording.
    expect(problems).toBeGreaterThan(20);
  });
});
