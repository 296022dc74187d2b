#!/usr/bin/env node
// Entry point of the `parley` command. In a source checkout it runs the
// TypeScript sources through tsx, so what runs is always what is checked out;
// an installed package (no src/, built by `npm pack`), or a checkout installed
// without dev dependencies but built with `npm run build`, runs dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

const tsx = existsSync(source) ? await loadTsx() : undefined;
if (tsx) {
  tsx.register();
  await import(pathToFileURL(source).href);
} else if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  process.stderr.write('parley: not built: run `npm ci` (development) or `npm run build`\n');
  process.exitCode = 2;
}
