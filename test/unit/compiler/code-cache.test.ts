import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCommonJs } from '../../../src/compiler/code-cache.js';

const GENERATED = path.resolve('generated/schema-validator.cjs');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'parley-code-cache-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the schema validator through V8 code cache', () => {
  it('is written by the install step and taken by V8 in a plain node process', () => {
    expect(existsSync(`${GENERATED}.cache`), 'run `node scripts/build-validator.mjs` (npm ci does)').toBe(
      true,
    );
    // A process of its own: V8 refuses a cache made under other V8 flags, and this worker
    // may run with some. What this proves: the build script's wrapper is the loader's.
    const script = `
      import { loadCommonJs } from './src/compiler/code-cache.ts';
      const file = ${JSON.stringify(GENERATED)};
      const { exports, cacheUsed } = loadCommonJs(file, file + '.cache');
      console.log(JSON.stringify({ cacheUsed, type: typeof exports, ok: exports({ kind: 'routes', routes: [] }) }));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim())).toEqual({ cacheUsed: true, type: 'function', ok: true });
  });

  it('compiles the module as usual when the cache is missing or damaged', () => {
    const file = path.join(scratch, 'module.cjs');
    writeFileSync(file, 'module.exports = (x) => x * 2; module.exports.name2 = __filename;');
    const missing = loadCommonJs(file, `${file}.cache`);
    expect(missing.cacheUsed).toBe(false);
    expect((missing.exports as (x: number) => number)(21)).toBe(42);
    expect((missing.exports as { name2: string }).name2).toBe(file);

    // Another module's cache, and bytes that are no cache at all: the module still loads.
    copyFileSync(`${GENERATED}.cache`, `${file}.cache`);
    expect((loadCommonJs(file, `${file}.cache`).exports as (x: number) => number)(4)).toBe(8);
    writeFileSync(`${file}.cache`, 'not a cache');
    expect((loadCommonJs(file, `${file}.cache`).exports as (x: number) => number)(1)).toBe(2);
  });
});
