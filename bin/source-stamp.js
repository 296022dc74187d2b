// The fingerprint of the TypeScript sources dist/ is built from. bin/parley.js runs
// dist/ in a source checkout only when dist/.source-stamp holds the fingerprint of the
// sources as they are now, so what runs is always what is checked out; the build
// (scripts/build-dist.mjs, run by `npm ci`) writes it.
//
// A hash of the contents, not of modification times: a file restored with its old
// mtime, or a checkout that keeps mtimes, still counts as changed.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Where the stamp of the sources a build came from is kept. */
export const STAMP_FILE = join('dist', '.source-stamp');

/** Files whose content decides what `tsc -p tsconfig.build.json` emits. */
function buildInputs(root) {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(full);
    }
  };
  walk(join(root, 'src'));
  for (const config of ['tsconfig.json', 'tsconfig.build.json']) {
    const full = join(root, config);
    if (existsSync(full)) files.push(full);
  }
  return files.sort();
}

/** SHA-256 over the path and content of every build input, hex. */
export function sourceStamp(root) {
  const hash = createHash('sha256');
  for (const file of buildInputs(root)) {
    hash.update(relative(root, file).split('\\').join('/'));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** True when dist/ was built from exactly the sources under `root`. */
export function distIsCurrent(root) {
  try {
    return readFileSync(join(root, STAMP_FILE), 'utf8').trim() === sourceStamp(root);
  } catch {
    return false;
  }
}
