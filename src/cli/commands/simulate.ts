import type { CompiledTest } from '../../compiler/index.js';
import { formatTranscript, simulate } from '../../runtime/sim/index.js';
import { type CliIO, EXIT_INVALID, EXIT_OK, UsageError } from '../io.js';
import { compileOrReport, configRoot } from './shared.js';

export interface SimulateCliOptions {
  script: string;
  /** `route` (default), `conference:NAME` or `scenario:NAME`. */
  target?: string;
  from?: string;
  to?: string;
  source?: string;
  /** `key=value` variables for a scenario target. */
  var?: string[];
  json?: boolean;
}

/** Parses `--target` into the simulator's target. */
export function parseTarget(target: string | undefined, vars: string[] = []): CompiledTest['target'] {
  if (target === undefined || target === 'route') {
    if (vars.length > 0) throw new UsageError('--var needs a scenario target (--target scenario:NAME)');
    return { route: true };
  }
  const m = /^(conference|scenario):(.+)$/.exec(target);
  if (!m)
    throw new UsageError(`--target must be "route", "conference:NAME" or "scenario:NAME", got "${target}"`);
  const [, kind, name] = m as unknown as [string, 'conference' | 'scenario', string];
  if (kind === 'conference') {
    if (vars.length > 0) throw new UsageError('--var needs a scenario target (--target scenario:NAME)');
    return { conference: name };
  }
  const parsed: Record<string, unknown> = {};
  for (const v of vars) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var must be key=value, got "${v}"`);
    parsed[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return { scenario: name, vars: parsed };
}

/** `parley simulate PATHS... --script "..."`: runs the script on a virtual clock and prints the transcript. */
export async function simulateCommand(paths: string[], opts: SimulateCliOptions, io: CliIO): Promise<number> {
  const target = parseTarget(opts.target, opts.var);
  const compiled = compileOrReport(paths, io);
  if ('exit' in compiled) return compiled.exit;
  const call: { from?: string; to?: string; source?: string } = {};
  if (opts.from !== undefined) call.from = opts.from;
  if (opts.to !== undefined) call.to = opts.to;
  if (opts.source !== undefined) call.source = opts.source;
  const { transcript, errors } = await simulate(compiled.set, {
    target,
    call,
    script: opts.script,
    root: configRoot(paths),
  });
  if (opts.json) io.out(JSON.stringify({ transcript, errors }, null, 2));
  else {
    io.out(formatTranscript(transcript));
    for (const e of errors) io.err(`error: ${e}`);
  }
  return errors.length > 0 ? EXIT_INVALID : EXIT_OK;
}
