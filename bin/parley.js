#!/usr/bin/env node
// Entry point of the `parley` command.
//
// An installed package (no src/) runs dist/. A source checkout runs dist/ when it was
// built from exactly the sources checked out (`npm ci` builds it; bin/source-stamp.js
// compares), and otherwise the TypeScript sources through tsx, so that what runs is
// always what is checked out. PARLEY_FROM_SOURCE=1 forces the sources.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { distIsCurrent } from './source-stamp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'cli', 'main.ts');
const built = join(root, 'dist', 'cli', 'main.js');

async function loadTsx() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined;
  }
}

const fromSource = existsSync(source);
const useBuilt =
  existsSync(built) && (!fromSource || (process.env.PARLEY_FROM_SOURCE !== '1' && distIsCurrent(root)));
const tsx = useBuilt || !fromSource ? undefined : await loadTsx();
if (useBuilt) {
  await import(pathToFileURL(built).href);
} else if (tsx) {
  tsx.register();
  await import(pathToFileURL(source).href);
} else if (existsSync(built)) {
  // Sources without tsx (installed without development dependencies): the last build.
  await import(pathToFileURL(built).href);
} else {
  process.stderr.write('parley: not built: run `npm ci` (development) or `npm run build`\n');
  process.exitCode = 2;
}
