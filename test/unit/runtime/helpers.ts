/**
 * Test support: the expression engine, a recording event sink, a memory logger,
 * and builders for hand-written IR (what the compiler would emit).
 */
import type { SourceRef } from '../../../src/compiler/diagnostics.js';
import type {
  ActionRef,
  CompiledConference,
  CompiledFlow,
  CompiledRoute,
  CompiledSet,
  MachineConfig,
  StateConfig,
  TransitionConfig,
} from '../../../src/compiler/ir.js';
import { celExpressions } from '../../../src/runtime/expressions.js';
import type { EventSink, ExpressionEngine, RuntimeEvent } from '../../../src/runtime/ports.js';

/** The language's own expression engine (src/compiler/expr.ts). */
export const celEngine: ExpressionEngine = celExpressions;

export class RecordingSink implements EventSink {
  readonly events: RuntimeEvent[] = [];
  emit(event: RuntimeEvent): void {
    this.events.push(event);
  }
  of(type: string): RuntimeEvent[] {
    return this.events.filter((e) => e.type === type);
  }
}

export { MemoryLogger } from '../../helpers/memory-logger.js';

export const src = (line: number, col = 1): SourceRef => ({ file: 'test.yaml', line, col });

type Act = { [K in ActionRef['type']]: [K, Extract<ActionRef, { type: K }>['params']] }[ActionRef['type']];

export function act(...[type, params]: Act): ActionRef {
  return { type, params, src: src(1) } as ActionRef;
}

export interface TState {
  entry?: ActionRef[];
  on?: Record<string, Array<Partial<TransitionConfig>> | Partial<TransitionConfig> | string>;
  after?: Record<string, Array<Partial<TransitionConfig>> | Partial<TransitionConfig> | string>;
  dtmf?: string[];
  final?: boolean;
}

function trans(t: Array<Partial<TransitionConfig>> | Partial<TransitionConfig> | string): TransitionConfig[] {
  const list = typeof t === 'string' ? [{ target: t }] : Array.isArray(t) ? t : [t];
  return list.map((x) => ({ actions: [], meta: { src: src(2) }, ...x }));
}

/** A compiled flow from a compact description; adds `$hangup` and `$end`. */
export function flow(id: string, initial: string, states: Record<string, TState>, vars = {}): CompiledFlow {
  const out: Record<string, StateConfig> = {};
  for (const [name, s] of Object.entries(states)) {
    const on: Record<string, TransitionConfig[]> = {};
    for (const [ev, t] of Object.entries(s.on ?? {})) on[ev] = trans(t);
    const cfg: StateConfig = { entry: s.entry ?? [], on, meta: { src: src(3), dtmf: s.dtmf ?? [] } };
    if (s.after) {
      cfg.after = {};
      for (const [ms, t] of Object.entries(s.after)) cfg.after[ms] = trans(t);
    }
    if (s.final) cfg.type = 'final';
    out[name] = cfg;
  }
  out.$hangup = { type: 'final', entry: [act('hangup', {})], on: {}, meta: { src: src(4), dtmf: [] } };
  out.$end = { type: 'final', entry: [], on: {}, meta: { src: src(4), dtmf: [] } };
  const machine: MachineConfig = { id, initial, context: { vars }, states: out };
  return { id, version: 'test', machine };
}

/** Lets queued promise callbacks run. */
export const tick = () => new Promise<void>((r) => setImmediate(r));

type Defaults = Partial<Omit<CompiledConference, 'participant' | 'conference'>>;

/** A compiled conference document with the compiler's defaults. */
export function conference(
  name: string,
  participant: CompiledFlow,
  more: Defaults & { conference?: CompiledFlow } = {},
): CompiledConference {
  const { limits, ...rest } = more;
  return {
    src: src(1),
    name,
    pattern: `^${name.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`,
    type: 'standalone',
    audio: { rate: 16000, vad: true, denoise: false, codecs: ['opus', 'g722', 'pcmu', 'pcma'], loudest: 3 },
    record: { mix: false, participants: false },
    vars: {},
    ...rest,
    limits: { idleMs: 60_000, ...(limits ?? {}) },
    participant,
  };
}

export function compiledSet(
  parts: Partial<Pick<CompiledSet, 'routes' | 'conferences' | 'scenarios' | 'dialout'>>,
): CompiledSet {
  return {
    version: 'test',
    files: [],
    routes: parts.routes ?? [],
    dialout: parts.dialout ?? { allow: [], trunks: {} },
    conferences: parts.conferences ?? [],
    scenarios: parts.scenarios ?? [],
    tests: [],
  };
}

export function route(
  match: CompiledRoute['match'],
  action: CompiledRoute['action'],
  vars: CompiledRoute['vars'] = {},
): CompiledRoute {
  return { src: src(1), match, action, vars };
}

export const guard = (expr: string) => ({ type: 'expr' as const, params: { expr } });
