// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Parley templates are written with ${...}
/**
 * The simulator on real YAML: compiled by the compiler, run by the runtime, with
 * `kind: test` documents checked by runTest.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSources } from '../../src/compiler/index.js';
import type { CompiledSet } from '../../src/compiler/ir.js';
import { formatTranscript, runTest, simulate } from '../../src/runtime/sim/index.js';

function compile(text: string, dir = '/virtual/conferences'): CompiledSet {
  const r = compileSources([{ file: join(dir, 'config.yaml'), text }], { root: dir, fileExists: () => true });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length || !r.set)
    throw new Error(errors.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n'));
  return r.set;
}

const PIN = `
kind: routes
routes:
  - match: { to: "^conf-(?<room>\\\\d{4})$" }
    conference: "room-\${room}"
  - match: { from: "^anonymous@" }
    reject: 403
---
kind: conference
name: room-*
vars: { pin: "1234" }
participant:
  start: pin
  states:
    pin:
      collect: { prompt: { say: "Enter the access code, then pound." }, digits: 6, end: "#", timeout: 10s, tries: 3 }
      on:
        collected:
          - { if: "digits == conference.vars.pin", goto: join }
          - { if: "visits < 3", say: "That code is not valid.", goto: pin }
          - bye
        exhausted: bye
    join:
      join: { muted: false }
      on:
        dtmf "*6": { toggle: mute }
    bye: { say: "Goodbye.", then: hangup }
conference:
  on:
    joined: { say: { text: "New participant has joined the conference.", to: all } }
    left:   { say: { text: "Participant has left the conference.", to: all } }
---
kind: test
name: wrong twice, then right
call: { to: conf-1234 }
script: |
  call
  wait 3s; dtmf 1111#
  wait 3s; dtmf 2222#
  wait 3s; dtmf 1234#
  wait 1s
expect:
  - { type: say, text: "That code is not valid." }
  - { type: say, text: "That code is not valid." }
  - { who: caller, type: joined, conference: room-1234 }
  - { who: "conference:room-1234", type: say, text: "/has joined/" }
absent:
  - { type: hangup }
---
kind: test
name: wrong three times
call: { to: conf-1234 }
script: "call; dtmf 1#; wait 1s; dtmf 2#; wait 1s; dtmf 3#; wait 3s"
expect:
  - { type: say, text: Goodbye. }
  - { who: caller, type: hangup }
absent:
  - { type: joined }
---
kind: test
name: star six toggles mute
call: { to: conf-1234 }
script: "call; dtmf 1234#; dtmf *6; wait 1s; dtmf *6"
expect:
  - { type: mute, participant: caller }
  - { type: unmute, participant: caller }
`;

describe('simulator on compiled YAML', () => {
  it('runs the kind: test documents of a PIN conference', async () => {
    const set = compile(PIN);
    expect(set.tests.map((t) => t.name)).toEqual([
      'wrong twice, then right',
      'wrong three times',
      'star six toggles mute',
    ]);
    for (const test of set.tests) {
      const result = await runTest(set, test);
      expect(result.failures, `${test.name}\n${formatTranscript(result.transcript)}`).toEqual([]);
      expect(result.passed).toBe(true);
    }
  });

  it('a failing expectation is reported, not thrown', async () => {
    const set = compile(PIN);
    const test = { ...set.tests[0]!, script: 'call; wait 1s', expect: [{ type: 'joined' }], absent: [] };
    const result = await runTest(set, test);
    expect(result.passed).toBe(false);
    expect(result.failures).toEqual([expect.stringMatching(/^expect\[0\] \{ type: "joined" \} not found/)]);
  });

  it('moderator-led conference: music until the moderator joins, ends when the moderator leaves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-sim-'));
    // 2.5 s of 8 kHz mono 16-bit silence: the simulator reads its duration from the header.
    const bytes = 2.5 * 8000 * 2;
    const wav = Buffer.alloc(44 + bytes);
    wav.write('RIFF', 0, 'ascii');
    wav.writeUInt32LE(36 + bytes, 4);
    wav.write('WAVEfmt ', 8, 'ascii');
    wav.writeUInt32LE(16, 16);
    wav.writeUInt16LE(1, 20);
    wav.writeUInt16LE(1, 22);
    wav.writeUInt32LE(8000, 24);
    wav.writeUInt32LE(16000, 28);
    wav.writeUInt16LE(2, 32);
    wav.writeUInt16LE(16, 34);
    wav.write('data', 36, 'ascii');
    wav.writeUInt32LE(bytes, 40);
    writeFileSync(join(dir, 'welcome.wav'), wav);
    const simple = `
kind: conference
name: townhall
participant:
  start: greet
  states:
    greet:
      play: welcome.wav
      then: choose
    choose:
      on:
        dtmf "1": moderator
        dtmf "2": member
    moderator:
      join: { role: moderator }
    member:
      join: { role: participant, speak: false, music: welcome.wav }
conference:
  on:
    left:
      - { if: "participant.role == 'moderator'", end: true }
`;
    const r = compileSources([{ file: join(dir, 'townhall.yaml'), text: simple }], { root: dir });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const set = r.set!;
    const { transcript, errors } = await simulate(set, {
      target: { conference: 'townhall' },
      root: dir,
      script: 'call a; wait 3s; dtmf 2; wait 5s; call boss; wait 3s; dtmf 1; wait 5s; boss: hangup; wait 1s',
    });
    expect(errors).toEqual([]);
    const a = transcript.filter((e) => e.who === 'a');
    // The welcome file is 2.5 s long; then the choice.
    expect(a.find((e) => e.type === 'state' && e.state === 'choose')?.t).toBe(2500);
    const music = transcript.filter((e) => e.type === 'music' || e.type === 'music-stop');
    expect(music.map((e) => `${e.type}:${e.participant}`).slice(0, 2)).toEqual(['music:a', 'music-stop:a']);
    // Keys are pressed at the command's time, 100 ms apart.
    expect(music[0]?.t).toBe(3000);
    expect(music[1]?.t).toBe(3000 + 100 + 5000 + 3000);
    // The listen-only member hears the moderator; the moderator hears nobody.
    expect(transcript.filter((e) => e.who === 'boss' && e.type === 'hear').at(-1)?.hears).toBe('none');
    expect(a.filter((e) => e.type === 'hear').map((e) => e.hears)).toEqual(['none', 'boss', 'none']);
    const end = transcript.find((e) => e.who === 'conference:townhall' && e.type === 'end');
    expect(end?.t).toBe(3000 + 100 + 5000 + 3000 + 100 + 5000);
    expect(a.find((e) => e.type === 'hangup')?.t).toBe(end?.t);
  });
});

const SUPPORT = `
kind: routes
dialout:
  allow: ["^sip:[a-z]+@example\\\\.com$"]
routes:
  - match: { to: "^support$", from: "^(?<user>[a-z0-9]+)@example\\\\.com$" }
    conference: support
    vars: { user: "\${user}" }
  - match: { to: "^callout$" }
    scenario: callout
---
kind: conference
name: support
participant:
  start: route
  vars: { count: 0 }
  states:
    route:
      say: "Press 1 for agent, 2 for coach, 3 for customer."
      on:
        dtmf "1": agent
        dtmf "2": coach
        dtmf "3": customer
    agent:
      join: { role: agent }
    coach:
      join: { role: coach, speak: { to: ["role:agent"] } }
      on:
        dtmf "#": { notify: { event: hand-raised, to: conference } }
    customer:
      do:
        - say: "Welcome \${vars.user}."
        - join: { role: customer, music: hold.wav }
      on:
        after 30s: { do: [ { say: "Thank you for waiting." }, { set: { count: "vars.count + 1" } } ], goto: customer }
        message: { send: "You wrote \${message.text}" }
conference:
  on:
    hand-raised: { log: "hand raised by \${event.from}" }
    joined: { log: "joined \${participant.role}" }
---
kind: scenario
name: callout
vars:
  who: { default: "bob" }
flow:
  start: ring
  states:
    ring:
      dial: { to: "sip:\${vars.who}@example.com", conference: support, timeout: 10s }
      on:
        answered: { log: "answered \${dial.to}", goto: end }
        busy: { log: busy, goto: end }
        no-answer: end
        failed: end
`;

describe('support desk on compiled YAML', () => {
  const set = compile(SUPPORT);

  it('whisper, periodic announcements, messages and notify', async () => {
    const { transcript, errors } = await simulate(set, {
      script: [
        'call agent from agent1@example.com to support; dtmf 1',
        'call boss from boss@example.com to support; dtmf 2',
        'call cust from carol@example.com to support; dtmf 3',
        'wait 31s',
        'message "hi"',
        'boss: dtmf #',
        'wait 1s',
      ].join('\n'),
      until: 40_000,
    });
    expect(errors).toEqual([]);
    const hears = (who: string) => transcript.filter((e) => e.who === who && e.type === 'hear').at(-1)?.hears;
    expect(hears('agent')).toBe('boss,cust');
    expect(hears('cust')).toBe('agent');
    expect(hears('boss')).toBe('agent,cust');
    const cust = transcript.filter((e) => e.who === 'cust');
    expect(cust.filter((e) => e.type === 'say').map((e) => `${e.t}:${e.text}`)).toEqual([
      '200:Press 1 for agent, 2 for coach, 3 for customer.',
      '200:Welcome carol.',
      '30200:Thank you for waiting.',
      '31740:Welcome carol.',
    ]);
    expect(cust.find((e) => e.type === 'send')).toMatchObject({ text: 'You wrote hi' });
    const conf = transcript
      .filter((e) => e.who === 'conference:support' && e.type === 'log')
      .map((e) => e.text);
    expect(conf).toEqual([
      'joined agent',
      'joined coach',
      'joined customer',
      'hand raised by boss@example.com',
    ]);
  });

  it('a scenario dials out through the dial-out policy', async () => {
    const { transcript, errors } = await simulate(set, {
      script:
        'start scenario callout; wait 3s; start scenario callout who=B; busy carol; start scenario callout who=carol',
    });
    expect(errors).toEqual([]);
    const s = transcript.filter((e) => e.who === 'scenario:callout');
    expect(
      s.filter((e) => ['answered', 'busy', 'failed'].includes(e.type)).map((e) => `${e.type}:${e.to}`),
    ).toEqual(['answered:sip:bob@example.com', 'failed:sip:B@example.com', 'busy:sip:carol@example.com']);
    expect(transcript.find((e) => e.who === 'bob' && e.type === 'state')).toMatchObject({
      t: 1000,
      state: 'route',
    });
  });
});
