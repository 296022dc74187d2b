/**
 * Checked documents → the compiled set (ir.ts): defaults applied, durations in ms,
 * audio paths relative to the configuration root, flows as xstate v5 machine
 * configs with actions and guards by name. Pure and deterministic.
 */
import path from 'node:path';
import type {
  CollectOptions,
  ConferenceDocument,
  DialOptions,
  JoinOptions,
  PlayOptions,
  RecordOptions,
  Route,
  RoutesDocument,
  SayOptions,
  ScenarioDocument,
  SendOptions,
  TestDocument,
} from './ast.js';
import { sortedKeys, versionOf } from './canonical.js';
import { globPattern } from './check/util.js';
import type { NodePath, SourceRef } from './diagnostics.js';
import { parseDuration } from './duration.js';
import type {
  ActionParams,
  ActionRef,
  CompiledConference,
  CompiledDialout,
  CompiledFlow,
  CompiledRoute,
  CompiledScenario,
  CompiledSet,
  CompiledTest,
  StateConfig,
  TransitionConfig,
} from './ir.js';
import {
  afterDuration,
  dtmfKeys,
  type FlowAction,
  type FlowBranch,
  type FlowModel,
  flowsOf,
  isUrl,
  type Unit,
} from './model.js';

/** The event a state's `then:` listens for (sent by the interpreter when the entry actions are done). */
export const ENTRY_DONE_EVENT = 'parley.entry.done';

/** Final states the built-in targets compile to. */
export const FINAL_STATES = { hangup: '$hangup', end: '$end' } as const;

/** Call parties a test uses when it names none. */
export const TEST_CALL_DEFAULTS = { from: 'caller@127.0.0.1', source: '127.0.0.1' } as const;

export interface CompileOptions {
  /** Folder audio paths are made relative to. */
  root: string;
  /** The files of the set and the SHA-256 of their text. */
  files: Array<{ file: string; sha256: string }>;
}

type Json = string | number | boolean;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Copies `o` without its `undefined` members so the output is plain JSON (a copy rather
 * than `delete`, which would leave slow dictionary-mode objects behind), with its keys
 * in sorted order, so that hashing a machine need not copy it again (canonical.ts).
 */
const clean: <T extends object>(o: T) => T = sortedKeys;

function ms(d: string | undefined, fallback: number): number;
function ms(d: string | undefined): number | undefined;
function ms(d: string | undefined, fallback?: number): number | undefined {
  return d === undefined ? fallback : parseDuration(d);
}

/** Compiles documents that passed every check. */
export function compileUnits(units: Unit[], options: CompileOptions): CompiledSet {
  const routesDocs = units.filter((u): u is Unit<RoutesDocument> => u.data.kind === 'routes');
  const routes: CompiledRoute[] = [];
  for (const u of routesDocs) {
    for (const [i, r] of u.data.routes.entries()) routes.push(compileRoute(u, r, i));
  }
  const body = {
    files: options.files,
    routes,
    dialout: compileDialout(routesDocs),
    conferences: units
      .filter((u): u is Unit<ConferenceDocument> => u.data.kind === 'conference')
      .map((u) => compileConference(u, options.root)),
    scenarios: units
      .filter((u): u is Unit<ScenarioDocument> => u.data.kind === 'scenario')
      .map((u) => compileScenario(u, options.root)),
    tests: units.filter((u): u is Unit<TestDocument> => u.data.kind === 'test').map(compileTest),
  };
  return { version: versionOf(versionedView(body)), ...body };
}

/**
 * What the set's version hashes: everything, each flow's machine stood in for by its
 * own version, so that megabytes of machines are serialised and hashed once, not twice.
 */
function versionedView(body: Omit<CompiledSet, 'version'>): unknown {
  const flow = (f: CompiledFlow) => ({ id: f.id, version: f.version });
  return {
    ...body,
    conferences: body.conferences.map((c) => ({
      ...c,
      participant: flow(c.participant),
      conference: c.conference && flow(c.conference),
    })),
    scenarios: body.scenarios.map((s) => ({ ...s, flow: flow(s.flow) })),
  };
}

// ───────────────────────────── documents ─────────────────────────────

function compileRoute(unit: Unit, r: Route, i: number): CompiledRoute {
  const m = r.match ?? {};
  const match: CompiledRoute['match'] = clean({
    to: m.to,
    from: m.from,
    headers: m.headers
      ? Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k.toLowerCase(), v]))
      : undefined,
    source: m.source === undefined ? undefined : ([] as string[]).concat(m.source),
    transport: m.transport === undefined ? undefined : ([] as string[]).concat(m.transport),
  });
  let action: CompiledRoute['action'];
  if (r.conference !== undefined) action = { kind: 'conference', name: r.conference };
  else if (r.scenario !== undefined) action = { kind: 'scenario', name: r.scenario };
  else if (typeof r.reject === 'number') action = { kind: 'reject', code: r.reject };
  else action = clean({ kind: 'reject' as const, code: r.reject?.code ?? 403, reason: r.reject?.reason });
  return clean({
    src: unit.doc.at(['routes', i]),
    description: r.description,
    match,
    action,
    vars: { ...(r.vars ?? {}) },
  });
}

function compileDialout(docs: Unit<RoutesDocument>[]): CompiledDialout {
  const allow: string[] = [];
  const trunks: CompiledDialout['trunks'] = {};
  for (const u of docs) {
    for (const a of u.data.dialout?.allow ?? []) if (!allow.includes(a)) allow.push(a);
    for (const [name, t] of Object.entries(u.data.dialout?.trunks ?? {})) {
      if (trunks[name]) continue; // the first definition wins
      trunks[name] = clean({ proxy: t.proxy, username: t.username, password: t.password, from: t.from });
    }
  }
  return { allow, trunks };
}

function compileConference(unit: Unit<ConferenceDocument>, root: string): CompiledConference {
  const d = unit.data;
  const a = d.audio ?? {};
  const l = d.limits ?? {};
  const r = d.record ?? {};
  const flows = flowsOf(unit);
  const participant = flows.find((f) => f.kind === 'participant') as FlowModel;
  const conference = flows.find((f) => f.kind === 'conference');
  return clean({
    src: unit.doc.at([]),
    name: d.name,
    pattern: globPattern(d.name),
    type: d.type ?? 'standalone',
    description: d.description,
    audio: {
      rate: a.rate ?? 16000,
      vad: a.vad ?? true,
      denoise: a.denoise ?? false,
      codecs: a.codecs ? [...a.codecs] : ['opus', 'g722', 'pcmu', 'pcma'],
      loudest: a.loudest ?? 3,
    },
    limits: clean({
      participants: l.participants,
      idleMs: ms(l.idle, 60_000),
      durationMs: ms(l.duration),
      pinFailures: l.pinFailures,
      lockoutMs: ms(l.lockout),
    }),
    record: clean({
      mix: r.mix ?? false,
      participants:
        r.participants === undefined || r.participants === false
          ? (false as const)
          : r.participants === true
            ? { direction: 'in' as const }
            : { direction: r.participants.direction },
      file: r.file,
    }),
    vars: { ...(d.vars ?? {}) },
    participant: compileFlow(unit, participant, root),
    conference: conference ? compileFlow(unit, conference, root) : undefined,
  });
}

function compileScenario(unit: Unit<ScenarioDocument>, root: string): CompiledScenario {
  const d = unit.data;
  const vars: CompiledScenario['vars'] = {};
  for (const [k, v] of Object.entries(d.vars ?? {})) {
    vars[k] = clean({ default: v.default, required: v.required ?? false, description: v.description });
  }
  const flow = flowsOf(unit)[0] as FlowModel;
  return clean({
    src: unit.doc.at([]),
    name: d.name,
    description: d.description,
    vars,
    flow: compileFlow(unit, flow, root),
  });
}

function compileTest(unit: Unit<TestDocument>): CompiledTest {
  const d = unit.data;
  const target = d.target ?? { route: true as const };
  // Without a `to`, a test aimed straight at a conference or scenario dials its name.
  const to =
    d.call?.to ??
    ('conference' in target ? target.conference : 'scenario' in target ? target.scenario : 'parley');
  return clean({
    src: unit.doc.at([]),
    name: d.name,
    description: d.description,
    target,
    call: {
      from: d.call?.from ?? TEST_CALL_DEFAULTS.from,
      to,
      source: d.call?.source ?? TEST_CALL_DEFAULTS.source,
    },
    script: d.script,
    expect: d.expect ?? [],
    absent: d.absent ?? [],
  });
}

// ───────────────────────────── flows ─────────────────────────────

class FlowCompiler {
  private readonly used = new Set<keyof typeof FINAL_STATES>();
  private readonly names: Set<string>;

  constructor(
    private readonly unit: Unit,
    private readonly flow: FlowModel,
    private readonly root: string,
  ) {
    this.names = new Set(flow.states.map((s) => s.name));
  }

  compile(): CompiledFlow {
    const states: Record<string, StateConfig> = {};
    for (const s of this.flow.states) {
      const on: Record<string, TransitionConfig[]> = {};
      const after: Record<string, TransitionConfig[]> = {};
      const dtmf: string[] = [];
      const push = (into: Record<string, TransitionConfig[]>, key: string, ts: TransitionConfig[]) => {
        const earlier = into[key];
        into[key] = earlier ? earlier.concat(ts) : ts;
      };
      for (const h of s.handlers) {
        const transitions = h.branches.map((b) => this.transition(b, h.event));
        const keys = dtmfKeys(h.event);
        const delay = afterDuration(h.event);
        if (keys !== undefined) {
          if (!dtmf.includes(keys)) dtmf.push(keys);
          push(on, `dtmf:${keys}`, transitions);
        } else if (delay !== undefined) push(after, String(parseDuration(delay)), transitions);
        else push(on, h.event, transitions);
      }
      const then = s.afterEntry;
      if (then)
        push(
          on,
          ENTRY_DONE_EVENT,
          then.branches.map((b) => this.transition(b, then.event)),
        );
      states[s.name] = clean({
        after: Object.keys(after).length > 0 ? after : undefined,
        entry: s.entry.map((a) => this.action(a, undefined)),
        meta: clean({ src: this.keyAt(s.path), dtmf, description: s.description }),
        on,
      });
    }
    const src = this.keyAt(this.flow.path);
    if (this.used.has('hangup')) {
      states[FINAL_STATES.hangup] = {
        entry: [{ params: {}, src, type: 'hangup' }],
        meta: { dtmf: [], src },
        on: {},
        type: 'final',
      };
    }
    if (this.used.has('end'))
      states[FINAL_STATES.end] = { entry: [], meta: { dtmf: [], src }, on: {}, type: 'final' };
    const machine = {
      context: { vars: { ...this.flow.vars } },
      id: this.flow.id,
      initial: this.target(this.flow.start?.name ?? this.flow.states[0]?.name ?? 'main'),
      states,
    };
    return { id: this.flow.id, version: versionOf(machine), machine };
  }

  private at(p: NodePath): SourceRef {
    return this.unit.doc.at(p);
  }

  private keyAt(p: NodePath): SourceRef {
    return p.length === 0 ? this.unit.doc.at(p) : this.unit.doc.keyAt(p);
  }

  private target(name: string): string {
    if (this.names.has(name)) return name;
    if (name === 'hangup' || name === 'end') {
      this.used.add(name);
      return FINAL_STATES[name];
    }
    return name;
  }

  private transition(b: FlowBranch, event: string): TransitionConfig {
    return clean({
      actions: b.actions.map((a) => this.action(a, event)),
      guard: b.guard && { params: { expr: b.guard.expr }, type: 'expr' as const },
      meta: { src: this.at(b.path) },
      target: b.target && this.target(b.target.name),
    });
  }

  /** A file path relative to the configuration root (forward slashes). */
  private rebase(file: string): string {
    const full = path.resolve(path.dirname(this.unit.doc.file), file);
    return path.relative(this.root, full).split(path.sep).join('/');
  }

  private media(v: string): { file?: string; url?: string } {
    return isUrl(v) ? { url: v } : { file: this.rebase(v) };
  }

  private audience(explicit: unknown): string {
    if (typeof explicit === 'string') return explicit;
    return this.flow.kind === 'conference' ? 'all' : 'self';
  }

  /** `mute: true` means the flow's own participant, or in a conference flow the one the event is about. */
  private subject(v: unknown): string {
    if (typeof v === 'string') return v;
    return this.flow.kind === 'conference' ? 'participant' : 'self';
  }

  private action(a: FlowAction, _event: string | undefined): ActionRef {
    const src = this.unit.doc.keyAt(a.path);
    const ref = <K extends keyof ActionParams>(type: K, params: ActionParams[K]) =>
      ({ params: clean(params), src, type }) as ActionRef;
    const v = a.value;
    switch (a.type) {
      case 'answer':
        return ref('answer', { early: isObject(v) && v.early === true });
      case 'reject':
        return ref(
          'reject',
          typeof v === 'number'
            ? { code: v }
            : { code: (v as { code: number }).code, reason: (v as { reason?: string }).reason },
        );
      case 'hangup':
        return ref('hangup', { reason: isObject(v) && typeof v.reason === 'string' ? v.reason : undefined });
      case 'say': {
        const o: SayOptions = typeof v === 'string' ? { text: v } : (v as SayOptions);
        return ref('say', { text: o.text, voice: o.voice, to: this.audience(o.to) });
      }
      case 'play': {
        const o: PlayOptions =
          typeof v === 'string' ? (isUrl(v) ? { url: v } : { file: v }) : (v as PlayOptions);
        return ref('play', {
          file: o.file === undefined ? undefined : this.rebase(o.file),
          url: o.url,
          loop: o.loop ?? false,
          to: this.audience(o.to),
        });
      }
      case 'stop':
        return ref('stop', { what: v as ActionParams['stop']['what'] });
      case 'collect':
        return ref('collect', this.collect(v as CollectOptions));
      case 'join': {
        const o: JoinOptions = isObject(v) ? (v as JoinOptions) : {};
        return ref('join', {
          conference: o.conference,
          muted: o.muted ?? false,
          deaf: o.deaf ?? false,
          role: o.role ?? 'participant',
          speak: o.speak ?? true,
          hear: o.hear ?? true,
          music: o.music === undefined ? undefined : isUrl(o.music) ? o.music : this.rebase(o.music),
        });
      }
      case 'leave':
        return ref('leave', {});
      case 'mute':
      case 'unmute':
      case 'deaf':
      case 'undeaf':
        return ref(a.type, { who: this.subject(v) });
      case 'toggle':
        return ref('toggle', { what: v as 'mute' | 'deaf' });
      case 'record': {
        const o = v as RecordOptions;
        return ref('record', { what: o.what, direction: o.direction ?? 'in', file: o.file });
      }
      case 'dial': {
        const o = v as DialOptions;
        return ref('dial', {
          to: o.to,
          from: o.from,
          trunk: o.trunk,
          timeoutMs: ms(o.timeout, 30_000),
          conference: o.conference,
          start: o.start,
          vars: { ...((o.vars ?? {}) as Record<string, Json>) },
        });
      }
      case 'link': {
        const o = v as { conference: string; direction?: 'both' | 'in' | 'out' };
        return ref('link', { conference: o.conference, direction: o.direction ?? 'both' });
      }
      case 'unlink':
        return ref('unlink', { conference: v as string });
      case 'send': {
        const o: SendOptions = typeof v === 'string' ? { text: v } : (v as SendOptions);
        return ref('send', { text: o.text, to: this.audience(o.to) });
      }
      case 'respond': {
        const o = isObject(v) ? v : {};
        return ref('respond', { status: typeof o.status === 'number' ? o.status : 200, body: o.body });
      }
      case 'set':
        return ref('set', { assignments: { ...(v as Record<string, string>) } });
      case 'notify': {
        const o = v as { event: string; to?: string };
        return ref('notify', { event: o.event, to: o.to ?? 'participants' });
      }
      case 'end':
        return ref('end', {});
      case 'log':
        return ref('log', { text: v as string });
    }
  }

  private collect(o: CollectOptions): ActionParams['collect'] {
    let prompt: ActionParams['collect']['prompt'];
    const p = o.prompt;
    if (p && 'say' in p) {
      const s: SayOptions = typeof p.say === 'string' ? { text: p.say } : p.say;
      prompt = { say: clean({ text: s.text, voice: s.voice }) };
    } else if (p && 'play' in p) {
      const play = p.play;
      if (typeof play === 'string') prompt = { play: this.media(play) };
      else
        prompt = {
          play: clean({ file: play.file === undefined ? undefined : this.rebase(play.file), url: play.url }),
        };
    }
    return clean({
      prompt,
      digits: o.digits,
      min: o.min ?? 1,
      end: o.end,
      timeoutMs: ms(o.timeout, 5_000),
      tries: o.tries ?? 1,
      into: o.into,
    });
  }
}

export function compileFlow(unit: Unit, flow: FlowModel, root: string): CompiledFlow {
  return new FlowCompiler(unit, flow, root).compile();
}
