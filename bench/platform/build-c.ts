/**
 * Compiles a benchmark's C helper with the system compiler, once per source version, into
 * the temp directory (not the tree): `cc -O2`, the binary named by a hash of the source.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Path of the compiled `source` (linked with `libs`), building it when the source changed. */
export function buildC(source: string, name: string, libs: string[] = []): string {
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const binary = path.join(tmpdir(), `parley-${name}-${hash}`);
  if (!existsSync(binary)) {
    // Built under a private name and renamed: a concurrent run never executes half a file.
    const partial = `${binary}.${process.pid}.tmp`;
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', partial, source, ...libs], { stdio: 'inherit' });
    renameSync(partial, binary);
  }
  return binary;
}
