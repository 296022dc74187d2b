// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Parley templates use ${...} in plain strings.
import { describe, expect, it } from 'vitest';
import { compareDiagnostics } from '../../../src/compiler/diagnostics.js';
import { loadText } from '../../../src/compiler/load.js';
import { regexError, validateDocument } from '../../../src/compiler/validate.js';
import { VALID_SAMPLES } from './schema-samples.js';

/** Schema diagnostics of YAML text as `line:col code: message`. */
function errs(text: string, mode: 'auto' | 'runtime' = 'auto'): string[] {
  const loaded = loadText('c.yaml', text);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return loaded.documents
    .flatMap((d) => validateDocument(d, mode))
    .sort(compareDiagnostics)
    .map((d) => `${d.line}:${d.col} ${d.code}: ${d.message}`);
}

const conf = (participant: string): string =>
  `kind: conference\nname: room\nparticipant:\n${participant
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;

describe('valid documents', () => {
  it.each(Object.entries(VALID_SAMPLES))('%s has no diagnostics', (_name, text) => {
    expect(errs(text)).toEqual([]);
  });

  it('accepts the PIN pattern of the semantics page', () => {
    const text = conf(`start: pin
states:
  pin:
    collect: { prompt: { say: "Enter the access code, then pound." }, digits: 6, end: "#", timeout: 10s, tries: 3 }
    on:
      collected:
        - { if: "digits == conference.vars.pin", goto: join }
        - { if: "visits < 3", say: "That code is not valid.", goto: pin }
        - bye
      exhausted: bye
  join: { join: true }
  bye: { say: "Goodbye.", then: hangup }`);
    expect(errs(text)).toEqual([]);
  });

  it('returns the same answer on repeated use (the schema is compiled once)', () => {
    const [doc] = loadText('c.yaml', 'kind: test\nname: x\n').documents;
    const first = validateDocument(doc!);
    expect(validateDocument(doc!)).toEqual(first);
    expect(first.map((d) => d.message)).toEqual(['missing required property "script"']);
  });
});

describe('document kinds', () => {
  it('names the allowed kinds and suggests the closest', () => {
    expect(errs('kind: conferense\nname: x\n')).toEqual([
      '1:7 invalid-kind: "kind" must be one of routes, conference, scenario, test, got "conferense" — did you mean "conference"?',
    ]);
  });

  it('reports a missing kind with the choices', () => {
    expect(errs('name: x\n')).toEqual([
      '1:1 missing-property: missing required property "kind" (routes, conference, scenario or test)',
    ]);
  });

  it('refuses a document that is not a mapping', () => {
    expect(errs('- kind: test\n')).toEqual([
      '1:1 invalid-document: expected a mapping with a "kind", got a list',
    ]);
    expect(errs('just text\n')).toEqual([
      '1:1 invalid-document: expected a mapping with a "kind", got "just text"',
    ]);
  });

  it('checks each kind against its own properties only', () => {
    expect(errs('kind: routes\nroutes: []\nparticipant: {}\n')).toEqual([
      '3:1 unknown-property: unknown property "participant"',
    ]);
    expect(errs('kind: scenario\nname: s\n')).toEqual([
      '1:1 missing-property: missing required property "flow"',
    ]);
  });
});

describe('unknown keys', () => {
  it('suggests an action for a misspelt inline action, at the key', () => {
    expect(errs(conf('states:\n  a:\n    sya: hello'))).toEqual([
      '6:7 unknown-action: unknown action "sya" — did you mean "say"?',
    ]);
  });

  it('suggests inside do: items and branches', () => {
    expect(
      errs(
        conf(
          'states:\n  a:\n    do: [ { colect: { digits: 4 } } ]\n    on: { joined: { goto: a, muet: self } }',
        ),
      ),
    ).toEqual([
      '6:15 unknown-action: unknown action "colect" — did you mean "collect"?',
      '7:32 unknown-action: unknown action "muet" — did you mean "mute"?',
    ]);
  });

  it('calls a misspelt non-action key a property', () => {
    expect(errs(conf('states:\n  a:\n    descripton: x'))).toEqual([
      '6:7 unknown-property: unknown property "descripton" — did you mean "description"?',
    ]);
    expect(errs('kind: conference\nnmae: x\n')).toEqual([
      '2:1 unknown-property: unknown property "nmae" — did you mean "name"?',
    ]);
  });

  it('carries the suggestion as a hint too', () => {
    const [doc] = loadText('c.yaml', conf('states:\n  a:\n    sya: hello')).documents;
    expect(validateDocument(doc!)[0]!.hint).toBe('did you mean "say"?');
  });
});

describe('values', () => {
  it('explains a bad duration', () => {
    expect(errs('kind: conference\nname: x\nlimits: { idle: 10 seconds }\n')).toEqual([
      '3:17 invalid-duration: expected a duration like 500ms, 10s or 2m, got "10 seconds"',
    ]);
  });

  it('explains wrong types in plain words', () => {
    expect(errs(conf('states:\n  a:\n    collect: { digits: six }'))).toEqual([
      '6:26 wrong-type: "digits" must be a whole number, got "six"',
    ]);
    expect(errs('kind: conference\nname: x\naudio: { vad: "yes" }\n')).toEqual([
      '3:15 wrong-type: "vad" must be true or false, got "yes"',
    ]);
  });

  it('lists enum choices', () => {
    expect(errs('kind: conference\nname: x\naudio: { rate: 44100 }\n')).toEqual([
      '3:16 invalid-value: "rate" must be one of 8000, 16000, 48000, got 44100',
    ]);
    expect(errs(conf('states:\n  a:\n    stop: plya'))).toEqual([
      '6:13 invalid-value: "stop" must be one of play, record, all, got "plya" — did you mean "play"?',
    ]);
  });

  it('checks ranges', () => {
    expect(errs(conf('states:\n  a:\n    reject: 302'))).toEqual([
      '6:15 out-of-range: "reject" must be between 400 and 699, got 302',
    ]);
    expect(errs('kind: conference\nname: x\nlimits: { participants: -3 }\n')).toEqual([
      '3:25 out-of-range: "participants" must be at least 1, got -3',
    ]);
  });

  it('validates regexes with the engine’s own complaint', () => {
    expect(
      errs('kind: routes\nroutes:\n  - match: { to: "^conf-(?<room>\\\\d{4}$" }\n    conference: x\n'),
    ).toEqual([
      '3:18 invalid-regex: invalid regular expression "^conf-(?<room>\\\\d{4}$": unterminated group',
    ]);
  });

  it('validates SIP URIs, allowing templates', () => {
    const dial = (to: string) => errs(conf(`states:\n  a:\n    dial: { to: "${to}" }`));
    expect(dial('sip:alice@example.com')).toEqual([]);
    expect(dial('sips:${vars.who}@example.com')).toEqual([]);
    expect(dial('${vars.uri}')).toEqual([]);
    expect(dial('sip:${vars.a + vars.b}@x')).toEqual([]);
    expect(dial('alice@example.com')).toEqual([
      '6:19 invalid-sip-uri: expected a SIP URI like sip:alice@example.com (templates allowed), got "alice@example.com"',
    ]);
    expect(dial('sip:alice @example.com')).toHaveLength(1);
  });

  it('validates audio files and URLs', () => {
    const play = (v: string) => errs(conf(`states:\n  a:\n    play: ${v}`));
    expect(play('audio/hi.wav')).toEqual([]);
    expect(play('https://example.com/a.mp3')).toEqual([]);
    expect(play('audio/hi.mp3')).toEqual([
      '6:13 invalid-audio-file: expected a .wav file, an http(s) URL, or { file | url, loop, to }, got "audio/hi.mp3"',
    ]);
    expect(play('{ file: a.ogg }')).toEqual([
      '6:21 invalid-audio-file: expected a .wav file or an http(s) URL, got "a.ogg"',
    ]);
  });

  it('explains scalar-or-object unions by the branch written', () => {
    expect(errs(conf('states:\n  a:\n    say: { txt: hi }'))).toEqual([
      '6:14 unknown-property: unknown property "txt" — did you mean "text"?',
    ]);
    expect(errs(conf('states:\n  a:\n    join: false'))).toEqual([
      '6:13 invalid-value: expected true or join options such as { muted: true, role: moderator }, got false',
    ]);
    expect(errs(conf('states:\n  a:\n    mute: everyone'))).toEqual([
      '6:13 invalid-audience: expected true or an audience: self, all, others, participant or role:<name>, got "everyone"',
    ]);
  });

  it('checks event and state names', () => {
    expect(errs(conf('states:\n  a:\n    on: { dtmf *6: a }'))).toEqual([
      '6:13 invalid-name: invalid name "dtmf *6": expected an event: a built-in or custom lower-kebab-case name, dtmf "<keys>" or after <duration> — did you mean dtmf "*6"?',
    ]);
    expect(errs(conf('states:\n  hangup: { say: x }'))).toHaveLength(1);
  });
});

describe('actions', () => {
  it('allows one inline action per state and names both', () => {
    expect(errs(conf('states:\n  a:\n    say: hi\n    play: a.wav'))).toEqual([
      '7:7 too-many-actions: only one action can be written inline here, found "say" and "play"; list several under do:',
    ]);
  });

  it('names three inline actions in one message, at the second, in both validators', () => {
    const text = conf('states:\n  a:\n    say: hi\n    play: a.wav\n    hangup: true');
    const expected = [
      '7:7 too-many-actions: only one action can be written inline here, found "say", "play" and "hangup"; list several under do:',
    ];
    expect(errs(text)).toEqual(expected);
    expect(errs(text, 'runtime')).toEqual(expected);
  });

  it('allows one action per do: item', () => {
    expect(errs(conf('states:\n  a:\n    do:\n      - { say: hi, hangup: true }'))).toEqual([
      '7:11 too-many-actions: an item of do: holds exactly one action, found "say" and "hangup"; write each as its own item',
    ]);
    expect(errs(conf('states:\n  a:\n    do: [ {} ]'))).toEqual([
      '6:13 missing-action: empty action: write one action key',
    ]);
  });

  it('refuses exclusive route targets together', () => {
    expect(errs('kind: routes\nroutes:\n  - conference: a\n    reject: 403\n')).toEqual([
      '4:5 conflicting-properties: "conference" and "reject" cannot be used together',
    ]);
    expect(errs('kind: routes\nroutes:\n  - match: { to: x }\n')).toEqual([
      '3:5 missing-property: "routes[0]" needs one of "conference", "scenario", "reject"',
    ]);
  });

  it('prefers a typo over a missing-property report', () => {
    expect(errs('kind: routes\nroutes:\n  - conferece: a\n')).toEqual([
      '3:5 unknown-property: unknown property "conferece" — did you mean "conference"?',
    ]);
  });
});

describe('other shapes', () => {
  it('words handlers of the wrong shape', () => {
    expect(errs(conf('states:\n  a:\n    on:\n      joined: 5\n      left: [ { goto: 1 }, 7 ]'))).toEqual([
      '7:17 wrong-type: expected a state name, a branch { if, goto, ... } or a list of branches, got 5',
      '8:25 wrong-type: expected a state name (letters, digits, _ and -) or hangup/end, got 1',
      '8:30 wrong-type: expected a state name or a branch { if, goto, ... }, got 7',
    ]);
  });

  it('names the choices of a one-of mapping', () => {
    expect(errs(conf('states:\n  a:\n    collect: { digits: 4, prompt: { say: x, play: y.wav } }'))).toEqual([
      '6:37 conflicting-properties: "prompt" takes only one of "say", "play", found "say" and "play"',
    ]);
  });

  it('reports an empty state and empty states', () => {
    expect(errs(conf('states:\n  a:\n  b: { join: true }'))).toEqual([
      '5:5 wrong-type: "a" must be a mapping, got an empty value',
    ]);
    expect(errs(conf('states: {}'))).toEqual(['4:11 empty: "states" must not be empty']);
  });

  it('checks test targets', () => {
    expect(errs('kind: test\nname: t\nscript: x\ntarget: { route: true, conference: x }\n')).toEqual([
      '4:24 conflicting-properties: "route" and "conference" cannot be used together',
    ]);
    expect(errs('kind: test\nname: t\nscript: x\ntarget: {}\n')).toEqual([
      '4:1 missing-property: "target" needs one of "route", "conference", "scenario"',
    ]);
  });

  it('returns diagnostics sorted by position', () => {
    const [doc] = loadText('c.yaml', 'kind: conference\nname: a b\naudio: { rate: 1 }\nnmae: x\n').documents;
    const list = validateDocument(doc!);
    expect(list.map((d) => d.line)).toEqual([2, 3, 4]);
  });
});

describe('regexError', () => {
  it('accepts JS regexes with named groups and words syntax errors', () => {
    expect(regexError('^conf-(?<room>\\d{4})$')).toBeUndefined();
    expect(regexError('(')).toBe('unterminated group');
    expect(regexError('[')).toBe('unterminated character class');
  });
});
