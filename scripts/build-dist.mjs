#!/usr/bin/env node
// Builds dist/ from src/ with the TypeScript compiler and records which sources it
// was built from (bin/source-stamp.js). Run by `npm run build` and, in a source
// checkout, by `npm ci`/`npm install`, so that `parley` starts from plain JavaScript
// instead of compiling TypeScript on the fly (about 0.4 s less per command).
//
// In an installed package there is no src/ (dist/ ships built) and no TypeScript:
// then there is nothing to do. Plain JavaScript because it runs at install time.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAMP_FILE, sourceStamp } from '../bin/source-stamp.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const optional = process.argv.includes('--if-source');

if (!existsSync(path.join(root, 'src'))) {
  if (optional) process.exit(0);
  console.error('build-dist: no src/ folder to build');
  process.exit(1);
}

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // A checkout installed without development dependencies runs from dist/ only if it was built before.
  if (optional) {
    console.error('build-dist: TypeScript is not installed; parley will need `npm run build` or tsx');
    process.exit(0);
  }
  console.error('build-dist: TypeScript is not installed (npm ci installs it)');
  process.exit(1);
}

const stampFile = path.join(root, STAMP_FILE);
// Taken before compiling: if a source changes during the build, the stamp no longer matches.
const stamp = sourceStamp(root);
rmSync(stampFile, { force: true });
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) {
  console.error('build-dist: tsc failed; parley runs the TypeScript sources through tsx until dist/ builds');
  process.exit(optional ? 0 : (result.status ?? 1));
}
writeFileSync(stampFile, `${stamp}\n`);
