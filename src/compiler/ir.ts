/**
 * The compiler's output: what the runtime, the simulator and the renderers consume.
 *
 * Everything here is plain JSON (no functions, no class instances, no undefined
 * in arrays) and deterministic: the same YAML gives byte-identical JSON, whose
 * SHA-256 is the version. A flow compiles to an xstate v5 machine config in which
 * actions and guards are referenced by name (`{ type, params }`) and bound by the
 * interpreter at run time (`setup({ actions, guards }).createMachine(config)`).
 */
import type { Audience, RecordDirection, TestDocument } from './ast.js';
import type { SourceRef } from './diagnostics.js';

/** A whole configuration set (every file of a folder), compiled. */
export interface CompiledSet {
  /**
   * SHA-256 (hex) of the canonical JSON of everything below, where each flow is
   * written as its id and version (its machine's own hash).
   */
  version: string;
  /** Files that went into it, with the SHA-256 of their text. */
  files: Array<{ file: string; sha256: string }>;
  routes: CompiledRoute[];
  dialout: CompiledDialout;
  conferences: CompiledConference[];
  scenarios: CompiledScenario[];
  tests: CompiledTest[];
}

export interface CompiledDialout {
  /** Regex sources; a destination must match one. Empty = nothing may be dialled. */
  allow: string[];
  trunks: Record<string, { proxy: string; username?: string; password?: string; from?: string }>;
}

export interface CompiledRoute {
  src: SourceRef;
  description?: string;
  /** Regex sources (JS syntax with named groups); absent = any. */
  match: {
    to?: string;
    from?: string;
    /** Lower-case header name → regex source. */
    headers?: Record<string, string>;
    /** CIDR list. */
    source?: string[];
    transport?: string[];
  };
  action:
    | { kind: 'conference'; name: string /* template */ }
    | { kind: 'scenario'; name: string /* template */ }
    | { kind: 'reject'; code: number; reason?: string };
  vars: Record<string, string | number | boolean>;
}

export interface CompiledConference {
  src: SourceRef;
  /** As written, e.g. `room-*`. */
  name: string;
  /** Anchored regex source matching the names this entry serves (`^room-.*$`). */
  pattern: string;
  type: 'standalone' | 'local';
  description?: string;
  /** Defaults applied. */
  audio: {
    rate: 8000 | 16000 | 48000;
    vad: boolean;
    denoise: boolean;
    codecs: Array<'opus' | 'g722' | 'pcmu' | 'pcma' | 'l16'>;
    loudest: number;
  };
  /** Durations in milliseconds; absent = unlimited. */
  limits: {
    participants?: number;
    idleMs: number;
    durationMs?: number;
    pinFailures?: number;
    lockoutMs?: number;
  };
  record: { mix: boolean; participants: false | { direction: RecordDirection }; file?: string };
  vars: Record<string, string | number | boolean>;
  participant: CompiledFlow;
  /** Absent when the document has no conference flow. */
  conference?: CompiledFlow;
}

export interface CompiledScenario {
  src: SourceRef;
  name: string;
  description?: string;
  vars: Record<string, { default?: string | number | boolean; required: boolean; description?: string }>;
  flow: CompiledFlow;
}

export interface CompiledTest {
  src: SourceRef;
  name: string;
  description?: string;
  target: NonNullable<TestDocument['target']> | { route: true };
  call: { from: string; to: string; source: string };
  script: string;
  expect: TestDocument['expect'] & object;
  absent: TestDocument['absent'] & object;
}

/** One flow, compiled. */
export interface CompiledFlow {
  /** `<document name>/<participant|conference|flow>`. */
  id: string;
  /** SHA-256 (hex) of the canonical JSON of `machine`. */
  version: string;
  machine: MachineConfig;
}

/**
 * An xstate v5 machine config (the JSON subset Parley emits).
 *
 * Conventions the interpreter relies on:
 * - `context.vars` holds the flow's initial variables.
 * - A state's `entry` actions run in order; an action that takes time (say,
 *   play without loop, collect, dial, join) is awaited before the next starts.
 *   When the whole list has finished the interpreter sends `parley.entry.done`;
 *   a state's `then:` compiles to `on['parley.entry.done']`.
 * - Transition `actions` run in order the same way, before the target is entered.
 * - Event names: built-in names as in ast.ts; DTMF sequences as `dtmf:<keys>`
 *   (e.g. `dtmf:*6`, listed in `meta.dtmf` so the interpreter knows which suffixes
 *   to watch); custom events as written; timers as xstate `after` with ms keys.
 * - Leaving a state cancels what its entry started and has not finished (prompts
 *   to self, collect, the rest of the entry list); joins, recordings, dials and
 *   prompts to others outlive the state.
 * - Built-in targets `hangup` and `end` compile to final states `$hangup`
 *   (entry: a hangup action) and `$end` (the flow ends; in a conference flow,
 *   ends the conference).
 */
export interface MachineConfig {
  id: string;
  initial: string;
  context: { vars: Record<string, string | number | boolean> };
  states: Record<string, StateConfig>;
}

export interface StateConfig {
  type?: 'final';
  entry: ActionRef[];
  on: Record<string, TransitionConfig[]>;
  /** Delay in ms (as a decimal string key) → transitions. */
  after?: Record<string, TransitionConfig[]>;
  meta: { src: SourceRef; dtmf: string[]; description?: string };
}

export interface TransitionConfig {
  /** State name; absent = stay (no re-entry). */
  target?: string;
  guard?: GuardRef;
  actions: ActionRef[];
  meta: { src: SourceRef };
}

export interface GuardRef {
  type: 'expr';
  params: { expr: string };
}

/**
 * A bound-at-run-time action. `params` holds the action's options with defaults
 * applied and durations in ms; strings that may hold `${...}` stay templates and
 * are evaluated by the interpreter with the event's variables in scope.
 */
export type ActionRef = {
  [K in keyof ActionParams]: { type: K; params: ActionParams[K]; src: SourceRef };
}[keyof ActionParams];

export interface ActionParams {
  answer: { early: boolean };
  reject: { code: number; reason?: string };
  hangup: { reason?: string };
  say: { text: string; voice?: string; to: Audience };
  play: { file?: string; url?: string; loop: boolean; to: Audience };
  stop: { what: 'play' | 'record' | 'all' };
  collect: {
    prompt?: { say: { text: string; voice?: string } } | { play: { file?: string; url?: string } };
    digits: number;
    min: number;
    end?: string;
    timeoutMs: number;
    tries: number;
    into?: string;
  };
  join: {
    conference?: string;
    muted: boolean;
    deaf: boolean;
    role: string;
    speak: boolean | { to: Audience[] };
    hear: boolean | { from: Audience[] };
    music?: string;
  };
  leave: Record<string, never>;
  mute: { who: Audience };
  unmute: { who: Audience };
  deaf: { who: Audience };
  undeaf: { who: Audience };
  toggle: { what: 'mute' | 'deaf' };
  record: { what: 'conference' | 'self' | 'participant'; direction: RecordDirection; file?: string };
  dial: {
    to: string;
    from?: string;
    trunk?: string;
    timeoutMs: number;
    conference?: string;
    start?: string;
    vars: Record<string, string | number | boolean>;
  };
  link: { conference: string; direction: 'both' | 'in' | 'out' };
  unlink: { conference: string };
  send: { text: string; to: Audience };
  respond: { status: number; body?: unknown };
  set: { assignments: Record<string, string> };
  notify: { event: string; to: 'conference' | 'participants' | Audience };
  end: Record<string, never>;
  log: { text: string };
}

export type ActionType = keyof ActionParams;

/** Every action type, in the order the language lists them. */
export const ACTION_TYPES: readonly ActionType[] = [
  'answer',
  'reject',
  'hangup',
  'say',
  'play',
  'stop',
  'collect',
  'join',
  'leave',
  'mute',
  'unmute',
  'deaf',
  'undeaf',
  'toggle',
  'record',
  'dial',
  'link',
  'unlink',
  'send',
  'respond',
  'set',
  'notify',
  'end',
  'log',
];
