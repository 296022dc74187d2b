/**
 * The boundary between the flow interpreter and the outside world.
 *
 * Everything a running flow does to a call, to media or to time goes through one
 * of these interfaces. The SIP runtime and the native media engine implement them
 * for real; the simulator (`src/runtime/sim/`) implements them with fakes that
 * record a transcript on a virtual clock. Nothing in `src/runtime/flow`,
 * `src/runtime/conference` or `src/runtime/session` knows which one it runs on.
 */
import type { Audience } from '../compiler/ast.js';
import type { ActionParams, CompiledConference } from '../compiler/ir.js';
import type { FlowEvent } from './flow/types.js';

// ───────────────────────────── time ─────────────────────────────

/** Opaque timer handle. */
export type TimerId = unknown;

/**
 * Timers and the current time. Structurally compatible with xstate's `Clock`, so
 * the same object drives `after` delays inside machines.
 */
export interface Clock {
  /** Milliseconds; monotonic within one runtime. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
}

// ───────────────────────────── logging ─────────────────────────────

/** The subset of pino's logger the runtime uses (pino itself satisfies it). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

// ───────────────────────────── expressions ─────────────────────────────

/**
 * The expression language (CEL) as the runtime needs it. The default
 * implementation (`expressions.ts`) delegates to `src/compiler/expr.ts`, the
 * language's single source of semantics; it is injected so the interpreter can be
 * tested and embedded on its own.
 */
export interface ExpressionEngine {
  /** Throws on a parse or evaluation error. */
  evaluate(expr: string, scope: Record<string, unknown>): unknown;
  /** Renders `${expr}` placeholders; throws on error. */
  render(template: string, scope: Record<string, unknown>): string;
  truthy(value: unknown): boolean;
}

// ───────────────────────────── calls ─────────────────────────────

/** What is known about a call when it arrives (or is dialled). */
export interface CallInfo {
  /** Unique within the runtime. */
  id: string;
  /** From URI without the scheme (`alice@example.com`). */
  from: string;
  /** Request-URI user part (or the dialled URI for outbound legs). */
  to: string;
  /** Source IP address of the signalling. */
  source: string;
  transport: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  direction: 'inbound' | 'outbound';
}

export type CallState = 'ringing' | 'early' | 'answered' | 'ended';

/** Something the far end did. */
export type CallEvent =
  | { type: 'dtmf'; digit: string }
  | { type: 'talking' }
  | { type: 'silent' }
  | { type: 'message'; text: string; from: string }
  | { type: 'hangup'; reason?: string };

/** One call leg: an inbound SIP dialog, an outbound one, or a simulated call. */
export interface CallLeg {
  readonly info: CallInfo;
  readonly state: CallState;
  /** Idempotent; `early` = 183 with media only. */
  answer(opts: { early: boolean }): Promise<void>;
  /** Only before the call is answered; throws `CallStateError` afterwards. */
  reject(code: number, reason?: string): Promise<void>;
  /** Idempotent. On a call not yet answered it refuses the call (the adapter picks the status, e.g. 480). */
  hangup(reason?: string): Promise<void>;
  /** In-dialog text message (SIP MESSAGE). */
  sendMessage(text: string): Promise<void>;
  /** Subscribes to the far end's events; returns the unsubscribe function. */
  onEvent(listener: (event: CallEvent) => void): () => void;
}

export interface DialRequest {
  /** SIP URI, already allowed by the dial-out policy. */
  to: string;
  from?: string;
  trunk?: { name: string; proxy: string; username?: string; password?: string; from?: string };
  /** Ring time before `no-answer`. */
  timeoutMs: number;
}

export type DialOutcome =
  | { status: 'answered'; leg: CallLeg }
  | { status: 'busy' | 'no-answer' | 'failed'; reason?: string };

/** Places outbound calls. */
export interface CallControl {
  /** Resolves with the outcome; never rejects for call failures (those are `failed`). Aborting cancels the attempt. */
  dial(request: DialRequest, signal: AbortSignal): Promise<DialOutcome>;
}

// ───────────────────────────── HTTP ─────────────────────────────

/** An HTTP request addressed to a running session (conference, scenario or call). */
export interface HttpRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** True once `respond` was called. */
  readonly responded: boolean;
  /** First call wins; later ones are ignored. */
  respond(status: number, body?: unknown): void;
}

// ───────────────────────────── media ─────────────────────────────

/** Whom a prompt is played to: the given legs, or (with `conference`) into that conference's mix. */
export interface MediaTarget {
  /** Leg ids (already resolved from the audience). */
  legs: readonly string[];
  /** Set when the prompt goes to everyone in this conference: the engine plays it into the mix once. */
  conference?: string;
  /** The audience as written (`self`, `all`, `role:moderator`), for events and logs. */
  audience: string;
}

export type PromptSource =
  | { kind: 'tts'; text: string; voice?: string }
  /** Path relative to the configuration root. */
  | { kind: 'file'; path: string }
  | { kind: 'url'; url: string };

export type PromptPurpose = 'prompt' | 'music';

export interface PromptOptions {
  loop: boolean;
  /** Aborting stops the prompt; the promise then resolves with `cancelled`. */
  signal: AbortSignal;
  purpose: PromptPurpose;
}

export type PromptResult = 'finished' | 'cancelled';

/**
 * Media routing of one member, resolved to leg ids. `'all'` follows membership
 * changes inside the engine; lists are recomputed by the conference actor.
 */
export interface MemberRouting {
  muted: boolean;
  deaf: boolean;
  /** Who hears this member (when not muted). */
  speakTo: 'all' | readonly string[];
  /** Whom this member hears (when not deaf). */
  hearFrom: 'all' | readonly string[];
  /** Gain on this member's voice (0–16); absent = 1. */
  gain?: number;
}

export interface RecordingRequest {
  conference: string;
  /** Absent: the conference mix. */
  leg?: string;
  direction: 'in' | 'out' | 'both';
  /** File name (already rendered); the engine places it under its recordings folder. */
  file: string;
}

export interface RecordingResult {
  file: string;
  durationMs: number;
}

export interface RecordingHandle {
  readonly file: string;
  /** Closes the file; resolves like `done`. */
  stop(): Promise<RecordingResult>;
  /** Resolves when the file is closed for any reason (stop, leg gone, conference closed). */
  readonly done: Promise<RecordingResult>;
}

/** The media plane: prompts to legs, mixers and their routing, recording, links. */
export interface MediaPort {
  /** Resolves when played to the end (`finished`) or stopped (`cancelled`). Looping prompts only end by abort. */
  prompt(target: MediaTarget, source: PromptSource, opts: PromptOptions): Promise<PromptResult>;
  openConference(name: string, audio: CompiledConference['audio']): Promise<void>;
  closeConference(name: string): Promise<void>;
  addMember(conference: string, leg: string, routing: MemberRouting): Promise<void>;
  updateMember(conference: string, leg: string, routing: MemberRouting): Promise<void>;
  removeMember(conference: string, leg: string): Promise<void>;
  startRecording(request: RecordingRequest): Promise<RecordingHandle>;
  link(from: string, to: string, direction: 'both' | 'in' | 'out'): Promise<void>;
  unlink(from: string, to: string): Promise<void>;
}

// ───────────────────────────── conferences ─────────────────────────────

/** Options of a join, defaults applied (as compiled). */
export type JoinOptions = ActionParams['join'];

/** A member as its conference sees it: how the conference reaches the member's call and flow. */
export interface ConferenceMember {
  /** Leg id; unique within the runtime. */
  readonly id: string;
  /** The caller's From (user@host). */
  readonly from: string;
  /** Delivers an event (`notify` events, `recorded`) to the member's flow. */
  deliver(event: FlowEvent): void;
  /** The conference ended with the member in it; the member's session hangs its call up. */
  conferenceEnded(conference: ConferenceControl): void;
  sendMessage(text: string): Promise<void>;
}

/** Who an audience is relative to: the acting member, and the member an event is about. */
export interface AudienceContext {
  self?: string;
  participant?: string;
}

/**
 * Membership and control of one running conference: what flows (and the HTTP
 * API) do to a conference. Implemented by `ConferenceActor`.
 */
export interface ConferenceControl {
  readonly name: string;
  readonly ended: boolean;
  /** `full` when `limits.participants` is reached; `ended` when the conference is over. */
  join(member: ConferenceMember, options: JoinOptions): Promise<'joined' | 'full' | 'ended'>;
  leave(memberId: string, reason?: 'leave' | 'hangup' | 'ended'): Promise<void>;
  /** Member ids an audience stands for now. */
  resolve(audience: Audience, ctx: AudienceContext): string[];
  setFlag(memberIds: readonly string[], flag: 'muted' | 'deaf', value: boolean): Promise<void>;
  toggle(memberId: string, what: 'mute' | 'deaf'): Promise<void>;
  routingOf(memberId: string): MemberRouting | undefined;
  prompt(
    audience: Audience,
    ctx: AudienceContext,
    source: PromptSource,
    opts: { loop: boolean; signal: AbortSignal },
  ): Promise<PromptResult>;
  /** Starts a recording of the mix or one member; `onDone` gets the `recorded` details. */
  record(
    params: { what: 'conference' | 'self' | 'participant'; direction: 'in' | 'out' | 'both'; file?: string },
    subject: string | undefined,
    onDone: (recording: { file: string; duration: number }, handle: RecordingHandle) => void,
  ): Promise<RecordingHandle>;
  link(other: string, direction: 'both' | 'in' | 'out'): Promise<void>;
  unlink(other: string): Promise<void>;
  /** Raises a custom event in the conference flow, every participant flow, or an audience's flows. */
  notify(event: string, to: 'conference' | 'participants' | Audience, ctx: AudienceContext): void;
  /** An HTTP request for the conference flow (404 when it does not handle it). */
  http(request: HttpRequest): void;
  /** Hangs every member up, ends the conference flow, closes the mixer. */
  end(reason: string): Promise<void>;
}

// ───────────────────────────── observation ─────────────────────────────

/** A flat scalar field of a runtime event. */
export type EventField = string | number | boolean;

/**
 * Something that happened, for event streams, metrics, webhooks and the
 * simulator's transcript. `source` is `call:<leg id>`, `conference:<name>` or
 * `scenario:<name>#<session id>`; `type` follows the transcript vocabulary
 * (`state`, `say`, `joined`, `mute`, ...).
 */
export interface RuntimeEvent {
  source: string;
  type: string;
  fields: Record<string, EventField>;
}

export interface EventSink {
  emit(event: RuntimeEvent): void;
}

/** Ports one runtime instance needs. */
export interface RuntimePorts {
  clock: Clock;
  logger: Logger;
  media: MediaPort;
  calls: CallControl;
  events: EventSink;
  expressions: ExpressionEngine;
}
