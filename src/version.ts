/**
 * Parley's own version, from its package.json: one folder up from src/ and from dist/
 * alike, and shipped in every package. Read once, when first imported.
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export const PARLEY_VERSION = readVersion();
