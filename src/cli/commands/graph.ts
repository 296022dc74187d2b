import path from 'node:path';
import { type CompiledFlow, type CompiledSet, renderDot, renderMermaid } from '../../compiler/index.js';
import { type CliIO, EXIT_OK, UsageError } from '../io.js';
import { compileOrReport } from './shared.js';

export interface GraphOptions {
  flow?: string;
  format: 'mermaid' | 'dot';
}

/** Flows defined in `file`, in document order. */
function flowsOfFile(set: CompiledSet, file: string): CompiledFlow[] {
  const same = (f: string) => path.resolve(f) === path.resolve(file);
  const out: CompiledFlow[] = [];
  for (const c of set.conferences) {
    if (!same(c.src.file)) continue;
    out.push(c.participant);
    if (c.conference) out.push(c.conference);
  }
  for (const s of set.scenarios) if (same(s.src.file)) out.push(s.flow);
  return out;
}

/**
 * `parley graph FILE`: Mermaid or DOT of the flows in FILE. The file's folder is
 * compiled with it, so routes and conferences defined elsewhere resolve.
 */
export function graphCommand(file: string, opts: GraphOptions, io: CliIO): number {
  const compiled = compileOrReport(/\.ya?ml$/i.test(file) ? [path.dirname(file)] : [file], io);
  if ('exit' in compiled) return compiled.exit;
  const flows = flowsOfFile(compiled.set, file);
  if (flows.length === 0)
    throw new UsageError(`${file} defines no flow (only conference and scenario documents do)`);
  const chosen = opts.flow ? flows.filter((f) => f.id === opts.flow) : flows;
  if (chosen.length === 0) {
    throw new UsageError(
      `no flow "${opts.flow}" in ${file}; its flows: ${flows.map((f) => f.id).join(', ')}`,
    );
  }
  const render = opts.format === 'dot' ? renderDot : renderMermaid;
  io.out(
    chosen
      .map((f) =>
        opts.format === 'dot' ? render(f) : `%% ${f.id} (version ${f.version.slice(0, 12)})\n${render(f)}`,
      )
      .join('\n'),
  );
  return EXIT_OK;
}
