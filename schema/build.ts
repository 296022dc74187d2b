// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Parley templates use ${...} in plain strings.
// biome-ignore-all lint/suspicious/noThenProperty: `then` is a keyword of JSON Schema and of the language; these objects are data, never awaited.
/**
 * Builds `schema/parley.schema.json`, the published JSON Schema (2020-12) of Parley's
 * YAML language. The schema is written here as code because its action rules repeat
 * per action (any state may hold at most one inline action; a `do:` item exactly one),
 * and writing those pairs by hand invites drift.
 *
 * Conventions the validator relies on:
 * - every union of a scalar and an object is one flat schema (`type: [string, object]`
 *   plus the object keywords), never `oneOf`, so errors stay about the branch written;
 * - `errorMessage` (also read by yaml-language-server) words type, pattern, enum, const
 *   and format errors of the schema that carries it, phrased "expected ...".
 *
 * Run `node --import tsx schema/build.ts` after editing; a unit test keeps the JSON in step.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFERENCE_EVENTS, PARTICIPANT_EVENTS } from '../src/compiler/ast.js';

// JSON Schema values are open-ended JSON; the object below is the shape we write.
type Schema = { [keyword: string]: unknown };

export const SCHEMA_ID = 'https://parley.dev/schema/parley.schema.json';
export const KINDS = ['routes', 'conference', 'scenario', 'test'] as const;

// ───────────────────────────── patterns ─────────────────────────────

const DURATION = '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$';
const IDENTIFIER = '^[A-Za-z_][A-Za-z0-9_]*$';
const STATE_NAME = '^[A-Za-z_][A-Za-z0-9_-]*$';
const KEBAB = '^[a-z][a-z0-9]*(-[a-z0-9]+)*$';
const EVENT_NAME = '^([a-z][a-z0-9]*(-[a-z0-9]+)*|dtmf "[0-9A-D*#]+"|after [0-9]+(\\.[0-9]+)?(ms|s|m|h))$';
/** `sip:`/`sips:` URI, or a template producing one; `${...}` may hold spaces, nothing else may. */
const SIP_URI = '^(sips?:|(?=\\$\\{))([^\\s$]|\\$(?!\\{)|\\$\\{[^}]*\\})+$';
const AUDIO_FILE = '^(https?://\\S+|.*\\S\\.[wW][aA][vV])$';
const HTTP_URL = '^https?://\\S+$';
const AUDIENCE = '^(self|all|others|participant|role:[A-Za-z0-9_-]+)$';
const CONFERENCE_NAME = '^[A-Za-z0-9_.*-]+$';
const SCENARIO_NAME = '^[A-Za-z0-9_.-]+$';
const CIDR = '^(([0-9]{1,3}\\.){3}[0-9]{1,3}(/[0-9]{1,2})?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(/[0-9]{1,3})?)$';
const HEADER_NAME = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$";
const DTMF_KEY = '^[0-9A-D*#]$';

/** The built-in events, from the language's own types (one list for schema, checker and runtime). */
export const PARTICIPANT_EVENT_NAMES: readonly string[] = PARTICIPANT_EVENTS;
export const CONFERENCE_EVENT_NAMES: readonly string[] = CONFERENCE_EVENTS;

const ref = (name: string, description: string, examples: unknown[], extra: Schema = {}): Schema => ({
  $ref: `#/$defs/${name}`,
  description,
  examples,
  ...extra,
});

const str = (description: string, examples: unknown[], extra: Schema = {}): Schema => ({
  type: 'string',
  description,
  examples,
  ...extra,
});

const bool = (description: string, examples: unknown[] = [true, false], extra: Schema = {}): Schema => ({
  type: 'boolean',
  description,
  examples,
  ...extra,
});

const int = (description: string, examples: unknown[], extra: Schema = {}): Schema => ({
  type: 'integer',
  description,
  examples,
  ...extra,
});

/** An object schema with closed properties. */
const obj = (description: string, properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: 'object',
  description,
  properties,
  additionalProperties: false,
  ...extra,
});

/** Keywords that make `keys` mutually exclusive (error: the second key is a `false` schema). */
function exclusive(keys: readonly string[]): Schema {
  return Object.fromEntries(
    keys.map((k) => [
      k,
      { properties: Object.fromEntries(keys.filter((o) => o !== k).map((o) => [o, false])) },
    ]),
  );
}

/**
 * At most one inline action in a state or branch: each action's key forbids the others.
 * The rules live once in `$defs/inline-<action>` (shared by states, branches and
 * handlers), which halves the time ajv takes to compile the schema.
 */
const INLINE_PREFIX = 'inline-';
const inlineActionRule = (): Schema =>
  Object.fromEntries(ACTION_NAMES.map((a) => [a, { $ref: `#/$defs/${INLINE_PREFIX}${a}` }]));
const inlineActionDefs = (): Record<string, Schema> =>
  Object.fromEntries(
    Object.entries(exclusive(ACTION_NAMES)).map(([a, rule]) => [
      `${INLINE_PREFIX}${a}`,
      {
        description: `With \`${a}\` written inline, no other action may be.`,
        type: 'object',
        ...(rule as Schema),
      },
    ]),
  );

/** `anyOf` of `required` lists: at least one of `keys` must be present. */
const oneRequired = (keys: readonly string[]): Schema[] => keys.map((k) => ({ required: [k] }));

/** The object keywords of an object schema, to merge into a flat scalar-or-object union. */
function objectPart(s: Schema): Schema {
  const { type: _t, description: _d, examples: _e, ...rest } = s;
  return rest;
}

const varsOf = (description: string, values: Schema, examples: unknown[]): Schema => ({
  type: 'object',
  description,
  examples,
  propertyNames: {
    pattern: IDENTIFIER,
    errorMessage: 'expected a variable name (letters, digits and _, not starting with a digit)',
  },
  additionalProperties: values,
});

const scalarValue: Schema = {
  type: ['string', 'number', 'boolean'],
  errorMessage: 'expected a string, a number or true/false',
};

// ───────────────────────────── shared value types ─────────────────────────────

const sharedDefs: Record<string, Schema> = {
  Duration: {
    type: 'string',
    description: 'A duration: a number and a unit, ms, s, m or h (`500ms`, `10s`, `1.5m`, `2h`).',
    examples: ['500ms', '10s', '2m', '1h'],
    pattern: DURATION,
    errorMessage: 'expected a duration like 500ms, 10s or 2m',
  },
  Template: {
    type: 'string',
    description: 'Text that may contain `${expression}` placeholders (CEL inside), e.g. `room-${room}`.',
    examples: ['Welcome to ${conference.name}.', 'room-${room}'],
    errorMessage: 'expected text (a template, may contain ${...} placeholders)',
  },
  Expression: {
    type: 'string',
    description: 'A CEL expression, e.g. `digits == conference.vars.pin` or `vars.count + 1`.',
    examples: ['digits == conference.vars.pin', 'visits < 3', 'vars.count + 1'],
    errorMessage: 'expected a CEL expression in quotes, e.g. "vars.count + 1"',
  },
  Target: {
    type: 'string',
    description:
      'A state of the same flow, or a built-in target: `hangup` (end the call) or `end` (end the flow).',
    examples: ['join', 'pin', 'hangup', 'end'],
    pattern: STATE_NAME,
    errorMessage: 'expected a state name (letters, digits, _ and -) or hangup/end',
  },
  Regex: {
    type: 'string',
    description: 'A JavaScript regular expression (named groups `(?<name>...)` become template variables).',
    examples: ['^conf-(?<room>\\d{4})$', '^\\+?49'],
    format: 'regex',
    errorMessage: 'expected a valid regular expression',
  },
  SipUri: {
    type: 'string',
    description: 'A `sip:` or `sips:` URI; may be a template such as `sip:${vars.number}@trunk`.',
    examples: ['sip:alice@example.com', 'sip:${vars.number}@trunk.example.com', 'sips:bob@example.com:5061'],
    pattern: SIP_URI,
    errorMessage: 'expected a SIP URI like sip:alice@example.com (templates allowed)',
  },
  AudioFile: {
    type: 'string',
    description: 'A `.wav` file, relative to this YAML file, or an http(s) URL.',
    examples: ['audio/welcome.wav', 'https://example.com/hold.wav'],
    pattern: AUDIO_FILE,
    errorMessage: 'expected a .wav file or an http(s) URL',
  },
  Audience: {
    type: 'string',
    description:
      'Who hears or is affected: `self` (default in participant flows), `all` (default in conference flows), `others`, `participant` (the one the event is about), or `role:<name>`.',
    examples: ['self', 'all', 'others', 'participant', 'role:moderator'],
    pattern: AUDIENCE,
    errorMessage: 'expected an audience: self, all, others, participant or role:<name>',
  },
  RecordDirection: {
    type: 'string',
    description: 'in = what the participant says, out = what it hears, both = stereo (in left, out right).',
    examples: ['in', 'out', 'both'],
    enum: ['in', 'out', 'both'],
  },
};

// ───────────────────────────── actions ─────────────────────────────

const sayOptions = obj(
  'Options of `say`.',
  {
    text: ref('Template', 'What to say (a template).', ['Welcome, ${participant.from}.']),
    voice: str('TTS voice name; default: the engine default.', ['en-us', 'de']),
    to: ref('Audience', 'Who hears it.', ['self', 'all']),
  },
  { required: ['text'] },
);

const playOptions = obj(
  'Options of `play`: exactly one of `file` or `url`.',
  {
    file: ref('AudioFile', 'Audio file, relative to this YAML file.', ['audio/welcome.wav']),
    url: {
      type: 'string',
      description: 'http(s) URL of a .wav file (a template).',
      examples: ['https://example.com/prompts/${vars.lang}/welcome.wav'],
      pattern: HTTP_URL,
      errorMessage: 'expected an http(s) URL',
    },
    loop: bool('Repeat until stopped. Default false.', [true]),
    to: ref('Audience', 'Who hears it.', ['self', 'all']),
  },
  { anyOf: oneRequired(['file', 'url']), dependentSchemas: exclusive(['file', 'url']) },
);

const sayValue: Schema = {
  type: ['string', 'object'],
  description: 'Speak text with the TTS engine: a template, or `{ text, voice, to }`.',
  examples: ['Welcome to the conference.', { text: 'The meeting starts now.', to: 'all' }],
  ...objectPart(sayOptions),
  errorMessage: 'expected text or { text, voice, to }',
};

const playValue: Schema = {
  type: ['string', 'object'],
  description:
    'Play a .wav file (relative to this YAML file) or an http(s) URL, or `{ file | url, loop, to }`.',
  examples: ['audio/welcome.wav', { file: 'audio/hold.wav', loop: true }],
  pattern: AUDIO_FILE,
  ...objectPart(playOptions),
  errorMessage: 'expected a .wav file, an http(s) URL, or { file | url, loop, to }',
};

const reasonText = str('Reason phrase sent with the status.', ['Busy Here']);

const rejectValue: Schema = {
  type: ['integer', 'object'],
  description: 'A SIP status code 400–699, or `{ code, reason }`.',
  examples: [403, 486, { code: 503, reason: 'Maintenance' }],
  minimum: 400,
  maximum: 699,
  properties: {
    code: int('SIP status code 400–699.', [403, 486, 603], { minimum: 400, maximum: 699 }),
    reason: reasonText,
  },
  required: ['code'],
  additionalProperties: false,
  errorMessage: 'expected a SIP status code 400–699 or { code, reason }',
};

const audienceOrTrue = (description: string): Schema => ({
  type: ['string', 'boolean'],
  description: `${description} \`true\` means self.`,
  examples: [true, 'others', 'role:listener'],
  pattern: AUDIENCE,
  not: { const: false },
  errorMessage: 'expected true or an audience: self, all, others, participant or role:<name>',
});

const audienceList = (description: string): Schema => ({
  type: 'array',
  description,
  examples: [['role:moderator']],
  items: { $ref: '#/$defs/Audience' },
  minItems: 1,
});

// The join action is `true` or JoinOptions; written flat so errors name the option at fault.
const joinOptions = obj('Options of `join`.', {
  conference: ref(
    'Template',
    'Conference name (a template). Default: the routed conference, or the flow’s local one.',
    ['room-${vars.room}'],
  ),
  muted: bool('Join muted. Default false.'),
  deaf: bool('Join deaf (hears nothing). Default false.'),
  role: str(
    'Role name, used by audiences (`role:moderator`) and media routing. Default `participant`.',
    ['moderator', 'listener'],
    { pattern: STATE_NAME, errorMessage: 'expected a role name (letters, digits, _ and -)' },
  ),
  speak: {
    type: ['boolean', 'object'],
    description:
      '`false` = listen only; `{ to: [audiences] }` = heard only by those (whisper, coaching). Default true.',
    examples: [false, { to: ['role:agent'] }],
    properties: { to: audienceList('Who hears this participant.') },
    required: ['to'],
    additionalProperties: false,
    errorMessage: 'expected true/false or { to: [audiences] }',
  },
  hear: {
    type: ['boolean', 'object'],
    description:
      '`false` = speak only (hears nothing); `{ from: [audiences] }` = hears only those. Default true.',
    examples: [false, { from: ['role:moderator'] }],
    properties: { from: audienceList('Whom this participant hears.') },
    required: ['from'],
    additionalProperties: false,
    errorMessage: 'expected true/false or { from: [audiences] }',
  },
  music: ref('AudioFile', 'Music on hold: played while alone, or until a moderator is present.', [
    'audio/hold.wav',
  ]),
});
const sendOptions = obj(
  'Options of `send`.',
  {
    text: ref('Template', 'Message text (a template).', ['Hello ${participant.from}']),
    to: ref('Audience', 'Who receives it. Default self.', ['self', 'all']),
  },
  { required: ['text'] },
);

const ACTIONS: Record<string, Schema> = {
  answer: {
    type: ['boolean', 'object'],
    description:
      'Answer the call (implicit before the first media action). `{ early: true }` answers with early media (183).',
    examples: [true, { early: true }],
    not: { const: false },
    properties: {
      early: bool('Answer with early media (SIP 183) instead of 200 OK. Default false.', [true]),
    },
    additionalProperties: false,
    errorMessage: 'expected true or { early }',
  },
  reject: { ...rejectValue, description: 'Refuse an unanswered call with a SIP status 400–699.' },
  hangup: {
    type: ['boolean', 'object'],
    description: 'End the call (participant flows); the same as `goto: hangup`.',
    examples: [true, { reason: 'Conference closed' }],
    not: { const: false },
    properties: { reason: str('Reason sent in the BYE (Reason header).', ['Conference closed']) },
    additionalProperties: false,
    errorMessage: 'expected true or { reason }',
  },
  say: sayValue,
  play: playValue,
  stop: {
    type: 'string',
    description: 'Stop what this flow is playing: `play` (prompts and music), `record`, or `all`.',
    examples: ['play', 'record', 'all'],
    enum: ['play', 'record', 'all'],
  },
  collect: ref(
    'CollectOptions',
    'Collect DTMF digits; raises `collected` (with `digits`) or `exhausted` when the tries run out.',
    [
      {
        prompt: { say: 'Enter the access code, then pound.' },
        digits: 6,
        end: '#',
        timeout: '10s',
        tries: 3,
      },
    ],
  ),
  join: {
    type: ['boolean', 'object'],
    description:
      'Join a conference (default: the one the route named, or the flow’s own local conference). Raises `joined`, or `full` when the limit is reached.',
    examples: [true, { muted: true, role: 'listener' }, { role: 'moderator', music: 'audio/hold.wav' }],
    not: { const: false },
    ...objectPart(joinOptions),
    errorMessage: 'expected true or join options such as { muted: true, role: moderator }',
  },
  leave: {
    type: 'boolean',
    description: 'Leave the conference; the call goes on.',
    examples: [true],
    const: true,
    errorMessage: 'expected true',
  },
  mute: audienceOrTrue('Mute someone (they are no longer heard).'),
  unmute: audienceOrTrue('Unmute someone.'),
  deaf: audienceOrTrue('Make someone deaf (they hear nothing).'),
  undeaf: audienceOrTrue('Let someone hear again.'),
  toggle: {
    type: 'string',
    description: 'Flip mute or deaf of this participant.',
    examples: ['mute', 'deaf'],
    enum: ['mute', 'deaf'],
  },
  record: ref('RecordOptions', 'Start recording; raises `recorded` when the file is closed.', [
    { what: 'conference' },
    { what: 'self', direction: 'both', file: 'interview-${call.id}.wav' },
  ]),
  dial: ref(
    'DialOptions',
    'Dial a participant out; raises `answered`, `busy`, `no-answer` or `failed` (with `dial`).',
    [{ to: 'sip:${vars.number}@trunk.example.com', trunk: 'main', timeout: '30s' }],
  ),
  link: ref('LinkOptions', 'Connect this conference with another one (in-process).', [
    { conference: 'overflow-${vars.room}', direction: 'both' },
  ]),
  unlink: ref('Template', 'Disconnect a linked conference (its name, a template).', [
    'overflow-${vars.room}',
  ]),
  send: {
    type: ['string', 'object'],
    description: 'Send an in-call text message (SIP MESSAGE): a template, or `{ text, to }`.',
    examples: ['Recording has started.', { text: 'You are muted.', to: 'participant' }],
    ...objectPart(sendOptions),
    errorMessage: 'expected text or { text, to }',
  },
  respond: ref('RespondOptions', 'Answer the HTTP request that raised the current `http` event.', [
    { status: 200, body: { ok: true, room: '${conference.name}' } },
  ]),
  set: {
    type: 'object',
    description: 'Assign flow variables (`vars.*`) from CEL expressions, in order.',
    examples: [{ count: 'vars.count + 1', greeted: 'true' }],
    minProperties: 1,
    propertyNames: {
      pattern: IDENTIFIER,
      errorMessage: 'expected a variable name (letters, digits and _, not starting with a digit)',
    },
    additionalProperties: { $ref: '#/$defs/Expression' },
  },
  notify: ref('NotifyOptions', 'Raise a custom event in other flows of the conference.', [
    { event: 'moderator-arrived', to: 'participants' },
  ]),
  end: {
    type: ['boolean', 'string'],
    description: 'End the conference: every participant is hung up. `true` or `conference`.',
    examples: [true, 'conference'],
    enum: [true, 'conference'],
  },
  log: ref('Template', 'Write a line to the server log (a template).', ['PIN accepted for ${call.from}']),
};

const ACTION_NAMES = Object.keys(ACTIONS);

const actionDefs: Record<string, Schema> = {
  SayOptions: sayOptions,
  PlayOptions: playOptions,
  SendOptions: sendOptions,
  CollectOptions: obj(
    'Options of `collect`.',
    {
      prompt: obj(
        'Prompt played before each try: `{ say: ... }` or `{ play: ... }`.',
        { say: sayValue, play: playValue },
        {
          examples: [{ say: 'Enter the access code, then pound.' }, { play: 'audio/enter-pin.wav' }],
          minProperties: 1,
          maxProperties: 1,
        },
      ),
      digits: int('Maximum digits; collection ends when reached.', [4, 6], { minimum: 1, maximum: 64 }),
      min: int('Minimum digits for an entry to count. Default 1.', [1, 4], { minimum: 1, maximum: 64 }),
      end: str('Key that ends an entry early.', ['#'], {
        pattern: DTMF_KEY,
        errorMessage: 'expected one DTMF key: 0-9, *, # or A-D (in quotes: a bare # starts a comment)',
      }),
      timeout: ref('Duration', 'Time allowed for an entry (first digit and between digits). Default 5s.', [
        '5s',
        '10s',
      ]),
      tries: int('Attempts before `exhausted`; the prompt is replayed for each. Default 1.', [3], {
        minimum: 1,
        maximum: 100,
      }),
      into: str('Variable that also receives the digits (`vars.<into>`); `digits` always does.', ['pin'], {
        pattern: IDENTIFIER,
        errorMessage: 'expected a variable name',
      }),
    },
    { required: ['digits'] },
  ),
  JoinOptions: joinOptions,
  RecordOptions: obj(
    'Options of `record`.',
    {
      what: {
        type: 'string',
        description: '`conference` = the mix; `self` / `participant` = one participant.',
        examples: ['conference', 'self', 'participant'],
        enum: ['conference', 'self', 'participant'],
      },
      direction: ref('RecordDirection', 'For one participant: in, out or both. Default in.', ['in', 'both']),
      file: ref('Template', 'File name template under the server’s recordings folder.', [
        '${conference.name}-${call.id}.wav',
      ]),
    },
    { required: ['what'] },
  ),
  DialOptions: obj(
    'Options of `dial`.',
    {
      to: ref('SipUri', 'SIP URI to call (a template). Must match `dialout.allow`.', [
        'sip:${vars.number}@trunk.example.com',
      ]),
      from: ref('Template', 'From URI of the outgoing call (a template).', ['sip:conference@example.com']),
      trunk: str('Name of a trunk in `dialout.trunks`.', ['main'], {
        pattern: STATE_NAME,
        errorMessage: 'expected a trunk name',
      }),
      timeout: ref('Duration', 'Ring time before `no-answer`. Default 30s.', ['30s']),
      conference: ref('Template', 'Conference the dialled leg joins. Default: this flow’s conference.', [
        'room-${vars.room}',
      ]),
      start: str(
        'State of the participant flow where the dialled leg starts. Default: the flow’s start.',
        ['greet'],
        { pattern: STATE_NAME, errorMessage: 'expected a state name' },
      ),
      vars: varsOf('Variables for the dialled leg’s flow (templates).', scalarValue, [
        { invitedBy: '${call.from}' },
      ]),
    },
    { required: ['to'] },
  ),
  LinkOptions: obj(
    'Options of `link`.',
    {
      conference: ref('Template', 'The other conference (a template).', ['overflow-${vars.room}']),
      direction: {
        type: 'string',
        description: 'both (default), in (hear the other conference), out (be heard there).',
        examples: ['both', 'in', 'out'],
        enum: ['both', 'in', 'out'],
      },
    },
    { required: ['conference'] },
  ),
  RespondOptions: obj('Options of `respond`.', {
    status: int('HTTP status. Default 200.', [200, 404], { minimum: 100, maximum: 599 }),
    body: {
      description: 'A JSON value whose string leaves are templates.',
      examples: [{ ok: true, participants: '${conference.participants}' }],
    },
  }),
  NotifyOptions: obj(
    'Options of `notify`.',
    {
      event: str('Custom event name (lower kebab-case, not a built-in event).', ['moderator-arrived'], {
        pattern: KEBAB,
        errorMessage: 'expected an event name in lower kebab-case, e.g. moderator-arrived',
      }),
      to: {
        type: 'string',
        description:
          '`conference` (the conference flow), `participants` (every participant flow, default) or an audience.',
        examples: ['participants', 'conference', 'role:moderator'],
        pattern: '^(conference|participants|self|all|others|participant|role:[A-Za-z0-9_-]+)$',
        errorMessage: 'expected conference, participants or an audience',
      },
    },
    { required: ['event'] },
  ),
};

/** Properties of states and branches: every action, written inline. */
const inlineActionProps = (): Record<string, Schema> =>
  Object.fromEntries(ACTION_NAMES.map((a) => [a, { $ref: `#/$defs/action-${a}` }]));

const actionListProp: Schema = {
  type: 'array',
  description:
    'Actions run in order; each waits for the previous one when it takes time (say, play, collect, dial).',
  examples: [[{ say: 'Welcome.' }, { join: true }]],
  items: { $ref: '#/$defs/Action' },
};

// ───────────────────────────── flows ─────────────────────────────

const branchProps = (): Record<string, Schema> => ({
  if: ref('Expression', 'CEL guard; the branch is taken when it holds. Absent = always.', [
    'digits == conference.vars.pin',
    'visits < 3',
  ]),
  do: actionListProp,
  goto: ref('Target', 'State entered after the actions. Absent = stay.', ['join', 'hangup']),
  ...inlineActionProps(),
});

/** Branch keywords, merged into the flat Handler unions. */
const branchObject: Schema = {
  properties: branchProps(),
  additionalProperties: false,
  dependentSchemas: inlineActionRule(),
};

const flowDefs: Record<string, Schema> = {
  Flow: obj(
    'A flow: named `states`, entered at `start`; or the short form `{ on: ..., do: ... }`, a single state.',
    {
      description: str('What this flow does.', ['Greets, asks for the PIN, joins.']),
      start: str('The state entered first. Default: the first state listed.', ['greet'], {
        pattern: STATE_NAME,
        errorMessage: 'expected a state name',
      }),
      vars: varsOf('Flow variables (`vars.*`) with their initial values.', scalarValue, [{ count: 0 }]),
      states: {
        type: 'object',
        description: 'The states of this flow, by name.',
        examples: [{ greet: { say: 'Welcome.', then: 'join' }, join: { join: true } }],
        minProperties: 1,
        propertyNames: {
          pattern: STATE_NAME,
          not: { enum: ['hangup', 'end'] },
          errorMessage: 'expected a state name (letters, digits, _ and -; hangup and end are reserved)',
        },
        additionalProperties: { $ref: '#/$defs/State' },
      },
      on: ref('Handlers', 'Short form: the single state’s event handlers.', [{ joined: { say: 'Hello.' } }]),
      do: { ...actionListProp, description: 'Short form: the single state’s entry actions.' },
    },
    {
      anyOf: oneRequired(['states', 'on', 'do']),
      dependentSchemas: { states: { properties: { on: false, do: false } } },
      dependentRequired: { start: ['states'] },
    },
  ),
  State: {
    type: 'object',
    description:
      'A state: its entry actions (one inline, or several under `do`), then `then`, and event handlers under `on`.',
    examples: [
      { say: 'Goodbye.', then: 'hangup' },
      { join: true, on: { 'dtmf "*6"': { toggle: 'mute' } } },
    ],
    properties: {
      description: str('What this state is for.', ['Asks for the PIN.']),
      do: actionListProp,
      then: ref(
        'Handler',
        'Taken when the entry actions have all finished: a state name, or branches like an event handler’s (the first whose `if` holds is taken).',
        ['join', 'hangup', [{ if: "call.from.startsWith('alice@')", goto: 'chair' }, 'member']],
      ),
      on: ref('Handlers', 'Event handlers, by event name.', [{ collected: 'join', exhausted: 'hangup' }]),
      ...inlineActionProps(),
    },
    additionalProperties: false,
    dependentSchemas: inlineActionRule(),
  },
  Handlers: {
    type: 'object',
    description: `Event handlers by event name: built-in events, \`dtmf "<keys>"\` (a key sequence such as \`dtmf "*6"\`), \`after <duration>\`, or custom lower-kebab-case events sent by \`notify\`. Participant flows receive ${PARTICIPANT_EVENT_NAMES.join(', ')}; conference flows receive ${CONFERENCE_EVENT_NAMES.join(', ')}.`,
    examples: [
      { collected: 'join', 'dtmf "*6"': { toggle: 'mute' }, 'after 30s': { say: 'Still waiting.' } },
    ],
    propertyNames: {
      pattern: EVENT_NAME,
      // The built-in events; editors offer them and the validator suggests the closest.
      examples: [...new Set([...PARTICIPANT_EVENT_NAMES, ...CONFERENCE_EVENT_NAMES])],
      errorMessage:
        'expected an event: a built-in or custom lower-kebab-case name, dtmf "<keys>" or after <duration>',
    },
    additionalProperties: { $ref: '#/$defs/Handler' },
  },
  Handler: {
    type: ['string', 'object', 'array'],
    description:
      'What happens on an event: a state name; a branch `{ if, do/action, goto }`; or a list of those, the first whose `if` holds is taken.',
    examples: ['join', { say: 'Muted.', goto: 'muted' }, [{ if: 'visits < 3', goto: 'pin' }, 'hangup']],
    pattern: STATE_NAME,
    ...branchObject,
    items: { $ref: '#/$defs/Branch' },
    errorMessage: 'expected a state name, a branch { if, goto, ... } or a list of branches',
  },
  Branch: {
    type: ['string', 'object'],
    description: 'One branch: a state name, or `{ if, do/action, goto }`.',
    examples: ['hangup', { if: 'digits == conference.vars.pin', goto: 'join' }],
    pattern: STATE_NAME,
    ...branchObject,
    errorMessage: 'expected a state name or a branch { if, goto, ... }',
  },
  Action: {
    type: 'object',
    description: 'One action: a mapping with exactly one action key.',
    examples: [{ say: 'Welcome.' }, { join: { muted: true } }],
    properties: inlineActionProps(),
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    errorMessage: 'expected an action, a mapping such as { say: "Hello" }',
  },
};

// ───────────────────────────── documents ─────────────────────────────

const kindProp = (kind: string): Schema => ({
  const: kind,
  description: 'The document kind.',
  examples: [kind],
});
const descriptionProp = str('Free text for people reading the file.', ['Weekly team call']);

const documentDefs: Record<string, Schema> = {
  RoutesDocument: obj(
    'Routes send incoming calls to a conference or a scenario, or reject them. The first matching route wins.',
    {
      kind: kindProp('routes'),
      name: str('Optional name, unique among routes documents.', ['main']),
      description: descriptionProp,
      dialout: ref('DialoutPolicy', 'Dial-out policy for every flow of this configuration set.', [
        { allow: ['^sip:\\+49'], trunks: { main: { proxy: 'sip:trunk.example.com' } } },
      ]),
      routes: {
        type: 'array',
        description: 'Routes, tried in order.',
        examples: [[{ match: { to: '^conf-(?<room>\\d{4})$' }, conference: 'room-${room}' }]],
        items: { $ref: '#/$defs/Route' },
      },
    },
    { required: ['kind', 'routes'] },
  ),
  DialoutPolicy: obj(
    'Which destinations flows may dial, and through which trunks.',
    {
      allow: {
        type: 'array',
        description:
          'Regexes a dial-out destination URI must match; nothing matches → refused. Default: none.',
        examples: [['^sip:\\+4930', '@example\\.com$']],
        items: { $ref: '#/$defs/Regex' },
      },
      trunks: {
        type: 'object',
        description: 'Named trunks that `dial.trunk` may refer to.',
        examples: [{ main: { proxy: 'sip:trunk.example.com:5060', password: '${env.TRUNK_PASSWORD}' } }],
        propertyNames: {
          pattern: STATE_NAME,
          errorMessage: 'expected a trunk name (letters, digits, _ and -)',
        },
        additionalProperties: { $ref: '#/$defs/Trunk' },
      },
    },
    { required: ['allow'] },
  ),
  Trunk: obj(
    'A SIP trunk for dial-out.',
    {
      proxy: ref('SipUri', 'SIP URI of the proxy/registrar.', ['sip:trunk.example.com:5060']),
      username: ref('Template', 'Digest user name (a template over `env`).', ['${env.TRUNK_USER}']),
      password: ref('Template', 'Digest password; keep secrets out of YAML with `${env.NAME}`.', [
        '${env.TRUNK_PASSWORD}',
      ]),
      from: ref('Template', 'From URI for calls through this trunk.', ['sip:+493012345@trunk.example.com']),
    },
    { required: ['proxy'] },
  ),
  Route: obj(
    'One route: conditions under `match`, and exactly one of `conference`, `scenario`, `reject`.',
    {
      description: descriptionProp,
      match: ref('RouteMatch', 'Conditions; all given must hold. Absent = every call.', [
        { to: '^conf-(?<room>\\d{4})$' },
      ]),
      conference: ref('Template', 'Send the call to this conference (a template over the named captures).', [
        'room-${room}',
      ]),
      scenario: ref('Template', 'Run this scenario for the call.', ['ivr']),
      reject: {
        ...rejectValue,
        description: 'Refuse the call with a SIP status 400–699, or `{ code, reason }`.',
      },
      vars: varsOf(
        'Variables handed to the flow (`vars.*`); strings are templates over the captures.',
        scalarValue,
        [{ room: '${room}', vip: true }],
      ),
    },
    {
      anyOf: oneRequired(['conference', 'scenario', 'reject']),
      dependentSchemas: exclusive(['conference', 'scenario', 'reject']),
    },
  ),
  RouteMatch: obj('Conditions of a route; all given must hold.', {
    to: ref('Regex', 'Regex on the request-URI user part.', ['^conf-(?<room>\\d{4})$']),
    from: ref('Regex', 'Regex on the From URI (user@host, without the scheme).', ['^anonymous@']),
    headers: {
      type: 'object',
      description: 'Regex per SIP header name (names are case-insensitive).',
      examples: [{ 'X-Tenant': '^acme$' }],
      propertyNames: { pattern: HEADER_NAME, errorMessage: 'expected a SIP header name' },
      additionalProperties: { $ref: '#/$defs/Regex' },
    },
    source: {
      type: ['string', 'array'],
      description: 'Source address: an IPv4/IPv6 address or CIDR, or a list of them.',
      examples: ['10.0.0.0/8', ['192.168.1.0/24', '::1']],
      pattern: CIDR,
      items: {
        type: 'string',
        pattern: CIDR,
        errorMessage: 'expected an IP address or CIDR like 10.0.0.0/8',
      },
      minItems: 1,
      errorMessage: 'expected an IP address or CIDR like 10.0.0.0/8, or a list of them',
    },
    transport: {
      type: ['string', 'array'],
      description: 'Transport: udp, tcp, tls, ws, wss or webrtc, or a list of them.',
      examples: ['udp', 'tcp', 'tls', 'ws', 'wss', 'webrtc'],
      pattern: '^(udp|tcp|tls|ws|wss|webrtc)$',
      items: {
        type: 'string',
        enum: ['udp', 'tcp', 'tls', 'ws', 'wss', 'webrtc'],
      },
      minItems: 1,
      errorMessage: 'expected a transport: udp, tcp, tls, ws, wss or webrtc (or a list)',
    },
  }),
  ConferenceDocument: obj(
    'A conference: settings, a flow run per participant, and a flow run once per conference.',
    {
      kind: kindProp('conference'),
      name: str(
        'Name, or a pattern with `*` wildcards (`room-*` serves any `room-NNNN`).',
        ['room-*', 'support'],
        {
          pattern: CONFERENCE_NAME,
          errorMessage: 'expected a conference name (letters, digits, _, ., - and * wildcards)',
        },
      ),
      description: descriptionProp,
      type: {
        type: 'string',
        description:
          '`standalone` (default): reachable by routes and HTTP. `local`: lives in one call’s or scenario’s session.',
        examples: ['standalone', 'local'],
        enum: ['standalone', 'local'],
        default: 'standalone',
      },
      audio: ref('AudioSettings', 'Mixing settings.', [{ rate: 48000, vad: true, denoise: true }]),
      limits: ref('Limits', 'Limits on size and lifetime.', [{ participants: 50, idle: '60s' }]),
      record: ref('RecordSettings', 'Recording from the conference’s start.', [{ mix: true }]),
      vars: varsOf('Conference variables (`conference.vars.*`).', scalarValue, [{ pin: '123456' }]),
      participant: ref('Flow', 'Flow run once per participant (inbound calls and dialled legs).', [
        { states: { join: { join: true } } },
      ]),
      conference: ref('Flow', 'Flow run once per conference.', [
        { on: { joined: { say: { text: 'Hello.', to: 'all' } } } },
      ]),
    },
    { required: ['kind', 'name'] },
  ),
  AudioSettings: obj('Mixing settings.', {
    rate: {
      type: 'integer',
      description: 'Mixing rate in Hz: 8000, 16000 (default) or 48000.',
      examples: [8000, 16000, 48000],
      enum: [8000, 16000, 48000],
      default: 16000,
    },
    vad: bool(
      'Voice activity detection: talking events, loudest-talker selection. Default true.',
      [true, false],
      {
        default: true,
      },
    ),
    denoise: bool('Noise suppression before mixing. Default false.', [true], { default: false }),
    codecs: {
      type: 'array',
      description: 'Codec preference, best first. Default [opus, g722, pcmu, pcma].',
      examples: [['opus', 'g722', 'pcmu', 'pcma']],
      items: { type: 'string', enum: ['opus', 'g722', 'pcmu', 'pcma', 'l16'] },
      minItems: 1,
      uniqueItems: true,
      default: ['opus', 'g722', 'pcmu', 'pcma'],
    },
    loudest: int('How many loudest talkers are mixed. Default 3.', [3], {
      minimum: 1,
      maximum: 64,
      default: 3,
    }),
  }),
  Limits: obj('Limits on size and lifetime.', {
    participants: int('Maximum participants; further joins raise `full`.', [50, 500], { minimum: 1 }),
    idle: ref('Duration', 'How long a standalone conference lives with nobody in it. Default 60s.', ['60s']),
    duration: ref('Duration', 'Longest a conference may run. Default unlimited.', ['2h']),
    pinFailures: int(
      'Failed PIN attempts per source address before calls from it are refused for `lockout`.',
      [5],
      {
        minimum: 1,
      },
    ),
    lockout: ref('Duration', 'How long a source address stays refused after `pinFailures`.', ['15m']),
  }),
  RecordSettings: obj('Recording from the conference’s start.', {
    mix: bool('Record the conference mix. Default false.', [true]),
    participants: {
      type: ['boolean', 'object'],
      description: 'Record every participant separately: `true` (incoming audio only) or `{ direction }`.',
      examples: [true, { direction: 'both' }],
      properties: { direction: ref('RecordDirection', 'Which audio of each participant.', ['both']) },
      required: ['direction'],
      additionalProperties: false,
      errorMessage: 'expected true/false or { direction: in | out | both }',
    },
    file: ref('Template', 'File name template under the server’s recordings folder.', [
      '${conference.name}-${conference.started}.wav',
    ]),
  }),
  ScenarioDocument: obj(
    'A scenario: a flow started by a route or over HTTP, e.g. to create a local conference and dial people into it.',
    {
      kind: kindProp('scenario'),
      name: str('Scenario name.', ['callback', 'ivr'], {
        pattern: SCENARIO_NAME,
        errorMessage: 'expected a scenario name (letters, digits, _, . and -)',
      }),
      description: descriptionProp,
      vars: {
        type: 'object',
        description: 'Declared variables: defaults, and which ones the starter must pass.',
        examples: [{ number: { required: true, description: 'Who to call' } }],
        propertyNames: { pattern: IDENTIFIER, errorMessage: 'expected a variable name' },
        additionalProperties: { $ref: '#/$defs/ScenarioVar' },
      },
      flow: ref('Flow', 'The scenario’s flow.', [
        { states: { call: { dial: { to: 'sip:${vars.number}@pbx' } } } },
      ]),
    },
    { required: ['kind', 'name', 'flow'] },
  ),
  ScenarioVar: obj('A declared scenario variable.', {
    description: str('What the variable means.', ['Number to call']),
    default: {
      type: ['string', 'number', 'boolean'],
      description: 'Value when the starter passes none.',
      examples: ['en', 30, false],
      errorMessage: 'expected a string, a number or true/false',
    },
    required: bool('The starter must pass it. Default false.', [true]),
  }),
  TestDocument: obj(
    'A test: a simulated call through the configuration, with the transcript entries it must (not) produce.',
    {
      kind: kindProp('test'),
      name: str('Test name.', ['PIN accepted'], { minLength: 1 }),
      description: descriptionProp,
      target: ref('TestTarget', 'What the call reaches. Default: the routes (by `call.to`).', [
        { route: true },
        { conference: 'room-1234' },
      ]),
      call: obj(
        'Default call parties for `call` in the script.',
        {
          from: str('Caller URI or user.', ['alice@example.com']),
          to: str('Called user (request-URI user part).', ['conf-1234']),
          source: str('Source address.', ['192.0.2.10']),
        },
        { examples: [{ from: 'alice@example.com', to: 'conf-1234' }] },
      ),
      script: str(
        'The simulation script: steps separated by `;` or newlines.',
        ['call; dtmf 123456#; wait 5s; hangup'],
        {
          minLength: 1,
          errorMessage: 'expected the script as text',
        },
      ),
      expect: {
        type: 'array',
        description: 'Transcript entries that must appear, in this order (others may come between).',
        examples: [[{ say: 'Welcome.' }, { event: 'joined' }]],
        items: { $ref: '#/$defs/TranscriptMatcher' },
      },
      absent: {
        type: 'array',
        description: 'Transcript entries that must not appear anywhere.',
        examples: [[{ event: 'full' }]],
        items: { $ref: '#/$defs/TranscriptMatcher' },
      },
    },
    { required: ['kind', 'name', 'script'] },
  ),
  TestTarget: obj(
    'What a test call reaches: exactly one of `route`, `conference`, `scenario`.',
    {
      route: {
        const: true,
        description: 'Through the routes, by `call.to`.',
        examples: [true],
        errorMessage: 'expected true',
      },
      conference: str('A conference directly, by name.', ['room-1234']),
      scenario: str('A scenario directly, by name.', ['callback']),
      vars: {
        type: 'object',
        description: 'Variables passed to the scenario.',
        examples: [{ number: '+4930123456' }],
      },
    },
    {
      anyOf: oneRequired(['route', 'conference', 'scenario']),
      dependentSchemas: exclusive(['route', 'conference', 'scenario']),
      dependentRequired: { vars: ['scenario'] },
    },
  ),
  TranscriptMatcher: {
    type: 'object',
    description: 'Matches one transcript entry: every field given must equal (strings: or match `/re/`).',
    examples: [{ say: '/code is not valid/' }, { event: 'joined', participant: 'alice' }],
    minProperties: 1,
    additionalProperties: scalarValue,
  },
};

// ───────────────────────────── root ─────────────────────────────

const kindDoc: Record<(typeof KINDS)[number], string> = {
  routes: 'RoutesDocument',
  conference: 'ConferenceDocument',
  scenario: 'ScenarioDocument',
  test: 'TestDocument',
};

export function buildSchema(): Schema {
  const $defs: Record<string, Schema> = {
    ...documentDefs,
    ...flowDefs,
    ...Object.fromEntries(Object.entries(ACTIONS).map(([name, s]) => [`action-${name}`, s])),
    ...actionDefs,
    ...sharedDefs,
    ...inlineActionDefs(),
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: 'Parley configuration document',
    description:
      'One YAML document of a Parley configuration: routes, a conference, a scenario or a test, told apart by `kind`.',
    type: 'object',
    errorMessage: 'expected a mapping with a "kind"',
    required: ['kind'],
    properties: {
      kind: {
        type: 'string',
        description: 'What this document is: routes, conference, scenario or test.',
        examples: [...KINDS],
        enum: [...KINDS],
      },
    },
    allOf: KINDS.map((kind) => ({
      if: { type: 'object', properties: { kind: { const: kind } }, required: ['kind'] },
      then: { $ref: `#/$defs/${kindDoc[kind]}` },
    })),
    $defs,
  };
}

/** Every action name, in schema order. */
export const actionNames = (): string[] => [...ACTION_NAMES];

export const DRAFT_07_ID = 'https://parley.dev/schema/parley.draft-07.schema.json';

/**
 * The same schema in draft-07 terms, for editors whose validator stops at draft-07
 * (yaml-language-server): `$defs` → `definitions`, `dependentSchemas` and
 * `dependentRequired` → `dependencies`. Nothing else in the schema needs a newer draft.
 */
export function toDraft07(schema: Schema): Schema {
  const convert = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(convert);
    if (typeof node !== 'object' || node === null) return node;
    const out: Schema = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'examples' || k === 'default' || k === 'const' || k === 'enum') out[k] = v;
      else if (k === '$ref' && typeof v === 'string') out[k] = v.replace('#/$defs/', '#/definitions/');
      else if (k === '$defs') out.definitions = convert(v);
      else if (k === 'dependentSchemas' || k === 'dependentRequired') {
        out.dependencies = { ...(out.dependencies as Schema | undefined), ...(convert(v) as Schema) };
      } else out[k] = convert(v);
    }
    return out;
  };
  return {
    ...(convert(schema) as Schema),
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: DRAFT_07_ID,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const schema = buildSchema();
  for (const [name, value] of [
    ['parley.schema.json', schema],
    ['parley.draft-07.schema.json', toDraft07(schema)],
  ] as const) {
    const out = new URL(`./${name}`, import.meta.url);
    writeFileSync(out, `${JSON.stringify(value, null, 2)}\n`);
    process.stdout.write(`wrote ${fileURLToPath(out)}\n`);
  }
}
