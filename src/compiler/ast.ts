/**
 * The document model of Parley's YAML language, as it stands after loading and
 * schema validation. `schema/parley.schema.json` is the published contract; these
 * types mirror it one to one, so a change to one is a change to the other.
 *
 * Every node that the checker or the compiler may need to blame carries no
 * position itself: positions live in the loader's `SourceMap`, keyed by the JSON
 * path of the node (see load.ts), so these stay plain data.
 */

/** A duration written as `500ms`, `10s`, `2m`, `1h` (integer or decimal + unit). */
export type Duration = string;

/** A string that may contain `${expression}` placeholders (CEL inside). */
export type Template = string;

/** A CEL expression (guards, `set` values). */
export type Expression = string;

/** A state name, or one of the built-in pseudo states. */
export type Target = string;

/** Pseudo states every flow may name as a target. */
export const BUILTIN_TARGETS = ['hangup', 'end'] as const;

// ───────────────────────────── files ─────────────────────────────

export type Document = RoutesDocument | ConferenceDocument | ScenarioDocument | TestDocument;

export interface RoutesDocument {
  kind: 'routes';
  /** Optional name, unique among routes documents. */
  name?: string;
  description?: string;
  /** Dial-out policy for every flow in this configuration set. */
  dialout?: DialoutPolicy;
  routes: Route[];
}

export interface DialoutPolicy {
  /** Regexes a dial-out destination URI must match; nothing matches → refused. Default: none allowed. */
  allow: string[];
  /** Named trunks that `dial.trunk` may refer to. */
  trunks?: Record<string, Trunk>;
}

export interface Trunk {
  /** SIP URI of the proxy/registrar, e.g. `sip:trunk.example.com:5060`. */
  proxy: string;
  username?: Template;
  /** Usually `${env.TRUNK_PASSWORD}`: secrets stay out of YAML. */
  password?: Template;
  from?: Template;
}

export interface Route {
  description?: string;
  /** All given conditions must hold. Regexes may define named groups used in templates. */
  match?: RouteMatch;
  /** Exactly one of `conference`, `scenario`, `reject`. */
  conference?: Template;
  scenario?: Template;
  reject?: number | { code: number; reason?: string };
  /** Variables handed to the flow (`vars.*`); values are templates over the captures. */
  vars?: Record<string, Template | number | boolean>;
}

export interface RouteMatch {
  /** Regex on the request-URI user part. */
  to?: string;
  /** Regex on the From URI (user@host, without the scheme). */
  from?: string;
  /** Regex per SIP header name (case-insensitive names). */
  headers?: Record<string, string>;
  /** Source address: IPv4/IPv6 CIDR or list of them. */
  source?: string | string[];
  /** Transport: udp | tcp | tls | ws | wss | webrtc. */
  transport?: string | string[];
}

export interface ConferenceDocument {
  kind: 'conference';
  /** Name or template with `*` wildcards (`room-*` serves any `room-NNNN`). */
  name: string;
  description?: string;
  /** standalone (default): reachable by routes and HTTP. local: lives in one call's or scenario's session. */
  type?: 'standalone' | 'local';
  audio?: AudioSettings;
  limits?: Limits;
  record?: RecordSettings;
  /** Conference variables (`conference.vars.*`). */
  vars?: Record<string, string | number | boolean>;
  /** Flow run once per participant (inbound calls and dialled legs). */
  participant?: Flow;
  /** Flow run once per conference. */
  conference?: Flow;
}

export interface AudioSettings {
  /** Mixing rate in Hz: 8000, 16000 (default) or 48000. */
  rate?: 8000 | 16000 | 48000;
  /** Voice activity detection: talking events, loudest-talker selection. Default true. */
  vad?: boolean;
  /** Noise suppression before mixing. Default false. */
  denoise?: boolean;
  /** Codec preference, best first. Default [opus, g722, pcmu, pcma]. */
  codecs?: Array<'opus' | 'g722' | 'pcmu' | 'pcma' | 'l16'>;
  /** How many loudest talkers are mixed. Default 3. */
  loudest?: number;
}

export interface Limits {
  /** Maximum participants; further joins are refused with the `full` event. */
  participants?: number;
  /** How long a standalone conference lives with nobody in it. Default 60s. */
  idle?: Duration;
  /** Longest a conference may run. */
  duration?: Duration;
  /** Failed PIN attempts per source address before further calls are refused for `lockout`. */
  pinFailures?: number;
  lockout?: Duration;
}

export interface RecordSettings {
  /** Record the conference mix from its start. */
  mix?: boolean;
  /** Record every participant separately. true = incoming audio only. */
  participants?: boolean | { direction: RecordDirection };
  /** File name template under the server's recordings folder. */
  file?: Template;
}

export type RecordDirection = 'in' | 'out' | 'both';

export interface ScenarioDocument {
  kind: 'scenario';
  name: string;
  description?: string;
  /** Declared variables: default values; `required: true` entries must be passed by the starter. */
  vars?: Record<string, ScenarioVar>;
  flow: Flow;
}

export interface ScenarioVar {
  description?: string;
  default?: string | number | boolean;
  required?: boolean;
}

// ───────────────────────────── flows ─────────────────────────────

/**
 * A flow: named states, one of which is `start`. The short form `{ on: {...} }`
 * (with optional `do`) stands for a flow of a single state named `main`.
 */
export interface Flow {
  description?: string;
  start?: string;
  /** Flow variables with initial values (`vars.*`). */
  vars?: Record<string, string | number | boolean>;
  states?: Record<string, State>;
  /** Short form: the single state's handlers. */
  on?: Record<string, Handler>;
  do?: Action[];
}

/**
 * A state runs its entry actions, then waits for events. An action may be written
 * inline (`say: "Hello"`) when it is the only one; `do:` lists several, run in
 * order (each waits for the previous one to finish when it takes time: say, play,
 * collect, dial). `then` is taken when the entry actions have all finished.
 */
export interface State extends Partial<InlineAction> {
  description?: string;
  do?: Action[];
  /** Taken when the entry actions have finished: a target, or branches like a handler's (`[{ if, goto }, target]`). */
  then?: Handler;
  on?: Record<string, Handler>;
}

/**
 * What happens on an event:
 * - a string: go to that state;
 * - an object: run its actions, then go to `goto` if given (else stay);
 * - a list: the first branch whose `if` holds is taken; a plain state name in the
 *   list is a branch without a guard (`- hangup` as the fallback).
 */
export type Handler = Target | Branch | Array<Branch | Target>;

export interface Branch extends Partial<InlineAction> {
  /** CEL guard; absent = always. */
  if?: Expression;
  do?: Action[];
  goto?: Target;
}

/**
 * Event names a flow may handle (`on:` keys):
 * - participant flows: `collected`, `exhausted`, `dtmf` (any key), `dtmf "<keys>"`
 *   (a key sequence such as `dtmf "*6"`), `played`, `joined`, `left`, `full`,
 *   `answered`, `busy`, `no-answer`, `failed`, `hangup`, `message`, `http`,
 *   `talking`, `silent`, `recorded`, `after <duration>`, and custom events sent by `notify`;
 * - conference flows: `started`, `joined`, `left`, `empty`, `ended`, `http`,
 *   `recorded`, `message`, `after <duration>`, and custom events.
 * Custom event names are lower kebab-case and not one of the built-ins.
 */
export const PARTICIPANT_EVENTS = [
  'collected',
  'exhausted',
  'dtmf',
  'played',
  'joined',
  'left',
  'full',
  'answered',
  'busy',
  'no-answer',
  'failed',
  'hangup',
  'message',
  'http',
  'talking',
  'silent',
  'recorded',
] as const;

export const CONFERENCE_EVENTS = [
  'started',
  'joined',
  'left',
  'empty',
  'ended',
  'http',
  'recorded',
  'message',
] as const;

// ───────────────────────────── actions ─────────────────────────────

/** One action: an object with exactly one of these keys. */
export type Action = { [K in keyof InlineAction]: Pick<InlineAction, K> }[keyof InlineAction];

/** Who hears a prompt or is the subject of an action. */
export type Audience =
  | 'self' // the participant running this flow (default in participant flows)
  | 'all' // everyone in the conference (default in conference flows)
  | 'others' // everyone but self
  | 'participant' // the participant the current event is about (conference flows)
  | string; // `role:<name>` — every participant with that role

export interface InlineAction {
  /** Answer the call (implicit before the first media action). */
  answer: true | { early?: boolean };
  /** Refuse an unanswered call with a SIP status (400–699). */
  reject: number | { code: number; reason?: string };
  /** End the call (participant flow) — same as `goto: hangup`. */
  hangup: true | { reason?: string };
  /** Speak text (a template) with the TTS engine. */
  say: Template | SayOptions;
  /** Play an audio file (path relative to the YAML file) or http(s) URL. */
  play: string | PlayOptions;
  /** Stop what this flow is playing (prompts, music). */
  stop: 'play' | 'record' | 'all';
  /** Collect DTMF digits; raises `collected` (with `digits`) or `exhausted`. */
  collect: CollectOptions;
  /** Join a conference (default: the one the route named). Raises `joined` or `full`. */
  join: true | JoinOptions;
  /** Leave the conference; the call goes on. */
  leave: true;
  mute: Audience | true;
  unmute: Audience | true;
  deaf: Audience | true;
  undeaf: Audience | true;
  /** Flip mute or deaf of self. */
  toggle: 'mute' | 'deaf';
  /** Start recording; raises `recorded` when the file is closed. */
  record: RecordOptions;
  /** Dial a participant out; raises `answered`, `busy`, `no-answer` or `failed`. */
  dial: DialOptions;
  /** Connect this conference with another one (in-process). */
  link: LinkOptions;
  unlink: Template;
  /** Send an in-call text message (SIP MESSAGE). */
  send: Template | SendOptions;
  /** Answer the HTTP request that raised the current `http` event. */
  respond: RespondOptions;
  /** Assign flow variables from CEL expressions. */
  set: Record<string, Expression>;
  /** Raise a custom event in other flows of the conference. */
  notify: NotifyOptions;
  /** End the conference: every participant is hung up. */
  end: true | 'conference';
  /** Write a line to the server log (template). */
  log: Template;
}

export interface SayOptions {
  text: Template;
  voice?: string;
  to?: Audience;
}

export interface PlayOptions {
  file?: string;
  url?: Template;
  loop?: boolean;
  to?: Audience;
}

export interface CollectOptions {
  prompt?: { say: Template | SayOptions } | { play: string | PlayOptions };
  /** Maximum digits; collection ends when reached. */
  digits: number;
  /** Minimum digits for an entry to count. Default 1. */
  min?: number;
  /** Key that ends an entry early, e.g. `#`. */
  end?: string;
  /** Time allowed for an entry (first digit and between digits). Default 5s. */
  timeout?: Duration;
  /** Attempts before `exhausted`; the prompt is replayed for each. Default 1. */
  tries?: number;
  /** Variable that receives the digits (always also `digits`). */
  into?: string;
}

export interface JoinOptions {
  /** Conference name (template); default: the routed conference, or the flow's own local conference. */
  conference?: Template;
  muted?: boolean;
  deaf?: boolean;
  /** Role name, used by audiences (`role:moderator`) and media routing. Default `participant`. */
  role?: string;
  /** One-way media: `false` = listen only; `{ to: [audiences] }` = heard only by those (whisper/coach). */
  speak?: boolean | { to: Audience[] };
  /** `false` = speak only (hears nothing); `{ from: [audiences] }` = hears only those. */
  hear?: boolean | { from: Audience[] };
  /** Played to this participant while it is alone, or until `moderator` joins (music on hold). */
  music?: string;
}

export interface RecordOptions {
  /** `conference` = the mix; `self` / `participant` = one participant. */
  what: 'conference' | 'self' | 'participant';
  /** For one participant: in = what it says, out = what it hears, both = stereo. Default in. */
  direction?: RecordDirection;
  file?: Template;
}

export interface DialOptions {
  /** SIP URI (template). Must match `dialout.allow`. */
  to: Template;
  from?: Template;
  trunk?: string;
  /** Ring time before `no-answer`. Default 30s. */
  timeout?: Duration;
  /** Conference the dialled leg joins; default: this flow's conference. */
  conference?: Template;
  /** State of the participant flow where the dialled leg starts. Default: the flow's start. */
  start?: string;
  /** Variables for the dialled leg's flow. */
  vars?: Record<string, Template | number | boolean>;
}

export interface LinkOptions {
  conference: Template;
  /** both (default), in (hear the other conference), out (be heard there). */
  direction?: 'both' | 'in' | 'out';
}

export interface SendOptions {
  text: Template;
  to?: Audience;
}

export interface RespondOptions {
  status?: number;
  /** A JSON value whose string leaves are templates. */
  body?: unknown;
}

export interface NotifyOptions {
  event: string;
  /** `conference` (the conference flow), `participants` (every participant flow), or an audience. Default participants. */
  to?: 'conference' | 'participants' | Audience;
}

// ───────────────────────────── tests ─────────────────────────────

export interface TestDocument {
  kind: 'test';
  name: string;
  description?: string;
  /** What the simulated call reaches: through the routes (by `call.to`), or a conference/scenario directly. */
  target?: { route: true } | { conference: string } | { scenario: string; vars?: Record<string, unknown> };
  /** Default call parties for `call` in the script. */
  call?: { from?: string; to?: string; source?: string };
  /** Script, `;` or newline separated (see simulate). */
  script: string;
  /** Transcript entries that must appear, in this order (others may come between). */
  expect?: TranscriptMatcher[];
  /** Transcript entries that must not appear anywhere. */
  absent?: TranscriptMatcher[];
}

/** Matches one transcript entry: every given field must equal (strings: or match `/re/`). */
export type TranscriptMatcher = Record<string, string | number | boolean>;
