import { statSync } from 'node:fs';
import path from 'node:path';
import { type CompiledSet, type CompileResult, compilePaths } from '../../compiler/index.js';
import { type CliIO, EXIT_INVALID } from '../io.js';
import { countErrors, formatDiagnostics } from '../report.js';

/**
 * Compiles `paths` for a command that needs a valid set (graph, simulate, test):
 * prints the diagnostics and returns the exit code when the set is invalid.
 */
export function compileOrReport(
  paths: string[],
  io: CliIO,
): { set: CompiledSet; result: CompileResult } | { exit: number } {
  const result = compilePaths(paths);
  const errors = countErrors(result.diagnostics);
  for (const line of formatDiagnostics(result.diagnostics, 'text')) io.err(line);
  if (errors > 0 || !result.set) {
    io.err(`${paths.join(' ')}: ${errors} ${errors === 1 ? 'error' : 'errors'}; nothing to run`);
    return { exit: EXIT_INVALID };
  }
  return { set: result.set, result };
}

/** The folder audio paths of a compiled set are relative to (the compiler's default root). */
export function configRoot(paths: string[]): string {
  const first = paths[0] ?? '.';
  try {
    return statSync(first).isDirectory() ? first : path.dirname(first);
  } catch {
    return path.dirname(first);
  }
}
