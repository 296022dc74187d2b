// biome-ignore-all lint/suspicious/noTemplateCurlyInString: YAML and IR strings carry the language's own `${...}` placeholders
import { describe, expect, it } from 'vitest';
import { createActor, setup } from 'xstate';
import { canonicalJson, sha256, versionOf } from '../../../src/compiler/canonical.js';
import { compileUnits } from '../../../src/compiler/compile.js';
import type { CompiledFlow, CompiledSet } from '../../../src/compiler/ir.js';
import { ACTION_NAMES } from '../../../src/compiler/model.js';
import { unitsOf } from './check-helpers.js';

const CONFIG = `kind: routes
dialout:
  allow: ["^sip:"]
  trunks: { main: { proxy: "sip:trunk.example.com" } }
routes:
  - match: { to: "^conf-(?<room>\\\\d{4})$", headers: { X-Tenant: "^acme$" }, source: 10.0.0.0/8 }
    conference: "room-\${room}"
    vars: { tenant: acme }
  - reject: { code: 404, reason: Nowhere }
---
kind: conference
name: room-*
limits: { idle: 2m, lockout: 1.5s }
record: { participants: true }
vars: { pin: "1234" }
participant:
  start: pin
  states:
    pin:
      collect: { prompt: { play: sounds/enter.wav }, digits: 4 }
      on:
        collected:
          - { if: "digits == conference.vars.pin", goto: join }
          - { if: "visits < 3", say: "Wrong code.", goto: pin }
          - bye
        exhausted: bye
    join:
      join: { music: ../moh/music.wav }
      on:
        dtmf "*6": { toggle: mute }
        after 5s: { say: "Still there?" }
        hangup: end
    bye: { say: "Goodbye.", then: hangup }
conference:
  on:
    joined: { say: "Someone joined." }
    empty: { mute: true }
---
kind: scenario
name: callout
vars: { who: { required: true } }
flow:
  do: [ { dial: { to: "sip:\${vars.who}", timeout: 20s } } ]
  on: { answered: { log: "answered" }, failed: end }
---
kind: test
name: pin works
target: { conference: room-1234 }
script: "dtmf 1234#"
`;

function compile(text = CONFIG): CompiledSet {
  return compileUnits(unitsOf(text, '/cfg/conf/main.yaml'), {
    root: '/cfg',
    files: [{ file: 'main.yaml', sha256: 'x' }],
  });
}

describe('compileUnits', () => {
  const set = compile();
  const conf = set.conferences[0];
  const p = conf?.participant.machine;

  it('compiles routes with defaults and lower-case header names', () => {
    expect(set.routes.map(({ src: _src, ...r }) => r)).toEqual([
      {
        match: { to: '^conf-(?<room>\\d{4})$', headers: { 'x-tenant': '^acme$' }, source: ['10.0.0.0/8'] },
        action: { kind: 'conference', name: 'room-${room}' },
        vars: { tenant: 'acme' },
      },
      { match: {}, action: { kind: 'reject', code: 404, reason: 'Nowhere' }, vars: {} },
    ]);
    expect(set.routes[0]?.src).toEqual({ file: '/cfg/conf/main.yaml', line: 6, col: 5 });
    expect(set.dialout).toEqual({ allow: ['^sip:'], trunks: { main: { proxy: 'sip:trunk.example.com' } } });
  });

  it('applies conference defaults and converts durations', () => {
    expect(conf).toMatchObject({
      name: 'room-*',
      pattern: '^room-.*$',
      type: 'standalone',
      audio: { rate: 16000, vad: true, denoise: false, codecs: ['opus', 'g722', 'pcmu', 'pcma'], loudest: 3 },
      limits: { idleMs: 120_000, lockoutMs: 1500 },
      record: { mix: false, participants: { direction: 'in' } },
      vars: { pin: '1234' },
    });
  });

  it('compiles states, guards, then, dtmf sequences, timers and built-in targets', () => {
    expect(p?.initial).toBe('pin');
    expect(p?.states.pin?.entry).toEqual([
      {
        type: 'collect',
        params: {
          prompt: { play: { file: 'conf/sounds/enter.wav' } },
          digits: 4,
          min: 1,
          timeoutMs: 5000,
          tries: 1,
        },
        src: { file: '/cfg/conf/main.yaml', line: 20, col: 7 },
      },
    ]);
    const collected = p?.states.pin?.on.collected ?? [];
    expect(collected.map((t) => [t.target, t.guard?.params.expr, t.actions.map((a) => a.type)])).toEqual([
      ['join', 'digits == conference.vars.pin', []],
      ['pin', 'visits < 3', ['say']],
      ['bye', undefined, []],
    ]);
    expect(p?.states.bye?.on['parley.entry.done']?.[0]?.target).toBe('$hangup');
    expect(p?.states.join?.on['dtmf:*6']?.[0]?.actions[0]).toMatchObject({
      type: 'toggle',
      params: { what: 'mute' },
    });
    expect(p?.states.join?.on['dtmf:*6']?.[0]?.target).toBeUndefined();
    expect(p?.states.join?.meta.dtmf).toEqual(['*6']);
    expect(Object.keys(p?.states.join?.after ?? {})).toEqual(['5000']);
    expect(p?.states.join?.entry[0]?.params).toEqual({
      muted: false,
      deaf: false,
      role: 'participant',
      speak: true,
      hear: true,
      music: 'moh/music.wav',
    });
    expect(p?.states.join?.on.hangup?.[0]?.target).toBe('$end');
    expect(p?.states.$hangup).toMatchObject({ type: 'final', entry: [{ type: 'hangup', params: {} }] });
    expect(p?.states.$end).toMatchObject({ type: 'final', entry: [] });
  });

  it('compiles the short form to a single state "main" with flow-kind defaults', () => {
    const c = conf?.conference?.machine;
    expect(c?.initial).toBe('main');
    expect(Object.keys(c?.states ?? {})).toEqual(['main']);
    expect(c?.states.main?.on.joined?.[0]?.actions[0]?.params).toEqual({
      text: 'Someone joined.',
      to: 'all',
    });
    expect(c?.states.main?.on.empty?.[0]?.actions[0]?.params).toEqual({ who: 'participant' });
    const s = set.scenarios[0];
    expect(s?.vars).toEqual({ who: { required: true } });
    expect(s?.flow.machine.states.main?.entry[0]?.params).toEqual({
      to: 'sip:${vars.who}',
      timeoutMs: 20_000,
      vars: {},
    });
  });

  it('compiles tests with default call parties', () => {
    expect(set.tests[0]).toMatchObject({
      name: 'pin works',
      target: { conference: 'room-1234' },
      call: { from: 'caller@127.0.0.1', to: 'room-1234', source: '127.0.0.1' },
      expect: [],
      absent: [],
    });
  });

  it('is deterministic and versioned by content', () => {
    const again = compile();
    expect(canonicalJson(again)).toBe(canonicalJson(set));
    const { version, ...body } = set;
    // The set's hash covers each flow through the flow's own hash of its machine.
    const asVersions = JSON.parse(JSON.stringify(body), (key, v) =>
      (key === 'participant' || key === 'conference' || key === 'flow') && v?.machine
        ? { id: v.id, version: v.version }
        : v,
    );
    expect(version).toBe(versionOf(asVersions));
    expect(conf?.participant.version).toBe(sha256(canonicalJson(conf?.participant.machine)));
    const changed = compile(CONFIG.replace('"Goodbye."', '"Bye."'));
    expect(changed.version).not.toBe(set.version);
    expect(changed.conferences[0]?.conference?.version).toBe(conf?.conference?.version);
  });

  it('emits plain JSON', () => {
    expect(JSON.parse(JSON.stringify(set))).toEqual(set);
  });
});

describe('xstate accepts the machines', () => {
  function run(
    flow: CompiledFlow,
    events: Array<{ type: string }>,
    guard: (expr: string) => boolean,
  ): string {
    const actions = Object.fromEntries(ACTION_NAMES.map((n) => [n, () => {}]));
    const machine = setup({
      actions: actions as never,
      guards: { expr: (_: unknown, params: { expr: string }) => guard(params.expr) } as never,
    }).createMachine(flow.machine as never);
    const actor = createActor(machine).start();
    for (const e of events) actor.send(e);
    const value = actor.getSnapshot().value;
    actor.stop();
    return String(value);
  }

  it('runs the PIN flow', () => {
    const flow = compile().conferences[0]?.participant as CompiledFlow;
    expect(run(flow, [], () => true)).toBe('pin');
    expect(run(flow, [{ type: 'collected' }], (e) => e.startsWith('digits'))).toBe('join');
    expect(run(flow, [{ type: 'collected' }], (e) => e.startsWith('visits'))).toBe('pin');
    expect(run(flow, [{ type: 'collected' }, { type: 'parley.entry.done' }], () => false)).toBe('$hangup');
    expect(
      run(flow, [{ type: 'collected' }, { type: 'dtmf:*6' }, { type: 'hangup' }], (e) =>
        e.startsWith('digits'),
      ),
    ).toBe('$end');
  });
});

describe('every action', () => {
  const text = `kind: routes
dialout: { allow: ["^sip:"], trunks: { main: { proxy: "sip:t.example.com" } } }
routes: []
---
kind: conference
name: all
participant:
  vars: { n: 0 }
  do:
    - answer: { early: true }
    - reject: { code: 486, reason: Busy }
    - hangup: { reason: done }
    - say: { text: "Hi \${call.from}", voice: en-gb, to: others }
    - play: { url: "https://example.com/a.wav", loop: true }
    - stop: all
    - collect: { prompt: { say: { text: PIN, voice: en } }, digits: 4, min: 4, end: "#", timeout: 1.5s, tries: 2, into: pin }
    - join: { conference: all, muted: true, deaf: true, role: moderator, speak: { to: [ "role:coach" ] }, hear: false }
    - leave: true
    - mute: others
    - unmute: true
    - deaf: "role:listener"
    - undeaf: true
    - toggle: deaf
    - record: { what: self, direction: both, file: "rec-\${call.id}" }
    - dial: { to: "sip:bob@example.com", from: "sip:me@example.com", trunk: main, conference: all, start: main, vars: { a: 1 } }
    - link: { conference: all, direction: in }
    - unlink: all
    - send: { text: hello, to: all }
    - set: { n: "vars.n + 1" }
    - notify: { event: ping, to: conference }
    - end: true
    - log: "n=\${vars.n}"
  on:
    http: { respond: { status: 201, body: { ok: true, path: "\${request.path}" } } }
conference:
  on: { ping: { mute: true } }
`;

  it('maps each action to its IR params with defaults', () => {
    const set = compileUnits(unitsOf(text, '/cfg/all.yaml'), { root: '/cfg', files: [] });
    const flow = set.conferences[0]?.participant.machine;
    const entry = flow?.states.main?.entry.map((a) => [a.type, a.params]);
    expect(entry).toEqual([
      ['answer', { early: true }],
      ['reject', { code: 486, reason: 'Busy' }],
      ['hangup', { reason: 'done' }],
      ['say', { text: 'Hi ${call.from}', voice: 'en-gb', to: 'others' }],
      ['play', { url: 'https://example.com/a.wav', loop: true, to: 'self' }],
      ['stop', { what: 'all' }],
      [
        'collect',
        {
          prompt: { say: { text: 'PIN', voice: 'en' } },
          digits: 4,
          min: 4,
          end: '#',
          timeoutMs: 1500,
          tries: 2,
          into: 'pin',
        },
      ],
      [
        'join',
        {
          conference: 'all',
          muted: true,
          deaf: true,
          role: 'moderator',
          speak: { to: ['role:coach'] },
          hear: false,
        },
      ],
      ['leave', {}],
      ['mute', { who: 'others' }],
      ['unmute', { who: 'self' }],
      ['deaf', { who: 'role:listener' }],
      ['undeaf', { who: 'self' }],
      ['toggle', { what: 'deaf' }],
      ['record', { what: 'self', direction: 'both', file: 'rec-${call.id}' }],
      [
        'dial',
        {
          to: 'sip:bob@example.com',
          from: 'sip:me@example.com',
          trunk: 'main',
          timeoutMs: 30_000,
          conference: 'all',
          start: 'main',
          vars: { a: 1 },
        },
      ],
      ['link', { conference: 'all', direction: 'in' }],
      ['unlink', { conference: 'all' }],
      ['send', { text: 'hello', to: 'all' }],
      ['set', { assignments: { n: 'vars.n + 1' } }],
      ['notify', { event: 'ping', to: 'conference' }],
      ['end', {}],
      ['log', { text: 'n=${vars.n}' }],
    ]);
    expect(flow?.states.main?.on.http?.[0]?.actions[0]?.params).toEqual({
      status: 201,
      body: { ok: true, path: '${request.path}' },
    });
    expect(set.conferences[0]?.conference?.machine.states.main?.on.ping?.[0]?.actions[0]?.params).toEqual({
      who: 'participant',
    });
    // Every action of the language is covered (respond, in the http handler).
    const types = new Set([...(flow?.states.main?.entry.map((a) => a.type) ?? []), 'respond']);
    expect([...types].sort()).toEqual([...ACTION_NAMES].sort());
  });
});
