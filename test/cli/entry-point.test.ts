import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STAMP_FILE, sourceStamp } from '../../bin/source-stamp.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// bin/parley.js chooses between dist/ and the TypeScript sources. Here it runs in a
// miniature checkout whose two entry points say which one ran.
describe('the parley entry point', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'parley-entry-'));
    cpSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(path.join(dir, 'tsconfig.json'), '{}\n');
    mkdirSync(path.join(dir, 'src', 'cli'), { recursive: true });
    writeFileSync(
      path.join(dir, 'src', 'cli', 'main.ts'),
      "const from: string = 'source';\nconsole.log(from);\n",
    );
    mkdirSync(path.join(dir, 'dist', 'cli'), { recursive: true });
    writeFileSync(path.join(dir, 'dist', 'cli', 'main.js'), "console.log('dist');\n");
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const ran = (env: Record<string, string> = {}): string => {
    const child = spawnSync(process.execPath, [path.join(dir, 'bin', 'parley.js')], {
      encoding: 'utf8',
      env: { ...process.env, PARLEY_FROM_SOURCE: '', ...env },
    });
    expect(child.stderr).toBe('');
    return child.stdout.trim();
  };
  const stamp = () => writeFileSync(path.join(dir, STAMP_FILE), `${sourceStamp(dir)}\n`);

  it('runs the sources when dist/ carries no stamp', () => {
    expect(ran()).toBe('source');
  });

  it('runs dist/ when it was built from the sources as they are', () => {
    stamp();
    expect(ran()).toBe('dist');
  });

  it('runs the sources again once a source file changes, even by one character', () => {
    stamp();
    writeFileSync(
      path.join(dir, 'src', 'cli', 'main.ts'),
      "const from: string = 'source';\nconsole.log(from); \n",
    );
    expect(ran()).toBe('source');
  });

  it('notices a new source file and a changed tsconfig', () => {
    stamp();
    writeFileSync(path.join(dir, 'src', 'cli', 'extra.ts'), 'export {};\n');
    expect(ran()).toBe('source');
    stamp();
    expect(ran()).toBe('dist');
    writeFileSync(path.join(dir, 'tsconfig.json'), '{ "compilerOptions": {} }\n');
    expect(ran()).toBe('source');
  });

  it('ignores test files, which the build leaves out', () => {
    stamp();
    writeFileSync(path.join(dir, 'src', 'cli', 'main.test.ts'), 'export {};\n');
    expect(ran()).toBe('dist');
  });

  it('runs the sources when PARLEY_FROM_SOURCE=1, whatever the stamp', () => {
    stamp();
    expect(ran({ PARLEY_FROM_SOURCE: '1' })).toBe('source');
  });

  it('runs dist/ in an installed package, which has no sources', () => {
    rmSync(path.join(dir, 'src'), { recursive: true });
    expect(ran()).toBe('dist');
  });
});
