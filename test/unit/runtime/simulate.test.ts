// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Parley templates are written with ${...}
import { describe, expect, it } from 'vitest';
import type { ActionParams, CompiledFlow, CompiledTest } from '../../../src/compiler/ir.js';
import { formatTranscript, runTest, simulate, type TranscriptEntry } from '../../../src/runtime/sim/index.js';
import { act, compiledSet, conference, flow, guard, route } from './helpers.js';

const joinParams = (over: Partial<ActionParams['join']> = {}): ActionParams['join'] => ({
  muted: false,
  deaf: false,
  role: 'participant',
  speak: true,
  hear: true,
  ...over,
});

const pinFlow: CompiledFlow = flow('room-*/participant', 'pin', {
  pin: {
    entry: [
      act('collect', {
        prompt: { say: { text: 'Enter the access code, then pound.' } },
        digits: 6,
        min: 1,
        end: '#',
        timeoutMs: 10_000,
        tries: 3,
      }),
    ],
    on: {
      collected: [
        { guard: guard('digits == conference.vars.pin'), target: 'join' },
        {
          guard: guard('visits < 3'),
          target: 'pin',
          actions: [act('say', { text: 'That code is not valid.', to: 'self' })],
        },
        { target: 'bye' },
      ],
      exhausted: 'bye',
    },
  },
  join: {
    entry: [act('join', joinParams())],
    dtmf: ['*6'],
    on: { 'dtmf:*6': { actions: [act('toggle', { what: 'mute' })] } },
  },
  bye: { entry: [act('say', { text: 'Goodbye.', to: 'self' })], on: { 'parley.entry.done': '$hangup' } },
});

const pinSet = compiledSet({
  routes: [
    route({ to: '^conf-(?<room>\\d{4})$' }, { kind: 'conference', name: 'room-${room}' }),
    route({ from: '^anonymous@' }, { kind: 'reject', code: 403 }),
  ],
  conferences: [conference('room-*', pinFlow, { vars: { pin: '1234' } })],
});

const pick = (t: TranscriptEntry[], type: string) => t.filter((e) => e.type === type);

describe('simulate: PIN conference through the routes', () => {
  it('wrong twice, then right: joined', async () => {
    const { transcript, errors } = await simulate(pinSet, {
      script: 'call to conf-1234; wait 3s; dtmf 1111#; wait 3s; dtmf 2222#; wait 3s; dtmf 1234#; wait 1s',
    });
    expect(errors).toEqual([]);
    const says = pick(transcript, 'say').map((e) => e.text);
    expect(says).toEqual([
      'Enter the access code, then pound.',
      'That code is not valid.',
      'Enter the access code, then pound.',
      'That code is not valid.',
      'Enter the access code, then pound.',
    ]);
    expect(pick(transcript, 'joined')).toContainEqual(
      expect.objectContaining({ who: 'caller', conference: 'room-1234', role: 'participant' }),
    );
    expect(pick(transcript, 'hangup')).toEqual([]);
    expect(transcript[0]).toMatchObject({ t: 0, who: 'caller', type: 'state', state: 'pin' });
  });

  it('wrong three times: Goodbye. and hangup', async () => {
    const { transcript } = await simulate(pinSet, {
      script: 'call to conf-1234; wait 3s; dtmf 1#; wait 3s; dtmf 2#; wait 3s; dtmf 3#; wait 5s',
    });
    const last = transcript.filter((e) => e.who === 'caller').slice(-3);
    expect(last.map((e) => e.type)).toEqual(['say', 'state', 'hangup']);
    expect(last[0]).toMatchObject({ text: 'Goodbye.' });
    expect(pick(transcript, 'joined')).toEqual([]);
    // The prompt takes 70 ms per character: "Goodbye." (8 chars) is at least 600 ms.
    const bye = transcript.find((e) => e.text === 'Goodbye.')!;
    const hangup = transcript.find((e) => e.type === 'hangup')!;
    expect(hangup.t - bye.t).toBe(600);
  });

  it('times out three times: exhausted, Goodbye.', async () => {
    const { transcript } = await simulate(pinSet, { script: 'call to conf-1234' });
    expect(pick(transcript, 'exhausted')).toHaveLength(1);
    expect(pick(transcript, 'collect').map((e) => e.try)).toEqual([1, 2, 3]);
    expect(pick(transcript, 'hangup')).toHaveLength(1);
  });

  it('*6 toggles mute', async () => {
    const { transcript } = await simulate(pinSet, {
      script: 'call to conf-1234; dtmf 1234#; wait 1s; dtmf *6; wait 1s; dtmf *6; dtmf 9*6',
    });
    const conf = transcript.filter((e) => e.who === 'conference:room-1234').map((e) => e.type);
    expect(conf.filter((t) => t === 'mute' || t === 'unmute')).toEqual(['mute', 'unmute', 'mute']);
  });

  it('names calls by `call NAME` or a `NAME:` prefix', async () => {
    const { transcript } = await simulate(pinSet, {
      script: 'call ann to conf-1234; bob: call to conf-1234; call to 1',
    });
    expect([...new Set(transcript.map((e) => e.who))]).toEqual(['ann', 'bob', 'caller']);
  });

  it('rejects by route and refuses unknown destinations with 404', async () => {
    const a = await simulate(pinSet, { script: 'call from anonymous@example.com to 555' });
    expect(pick(a.transcript, 'reject')).toEqual([expect.objectContaining({ who: 'caller', code: 403 })]);
    const b = await simulate(pinSet, { script: 'call to 555' });
    expect(pick(b.transcript, 'reject')).toEqual([expect.objectContaining({ code: 404 })]);
  });

  it('formats one readable line per entry', async () => {
    const { transcript } = await simulate(pinSet, { script: 'call to conf-1234; wait 1s', until: 1000 });
    expect(formatTranscript(transcript)).toBe(
      [
        't=0.000s caller state pin',
        't=0.000s caller collect digits=6 try=1',
        't=0.000s caller answer',
        't=0.000s caller say "Enter the access code, then pound." to=self',
        '',
      ].join('\n'),
    );
  });

  it('runTest checks expect (ordered) and absent', async () => {
    const test: CompiledTest = {
      src: { file: 't.yaml', line: 1, col: 1 },
      name: 'pin ok',
      target: { route: true },
      call: { from: 'alice@example.com', to: 'conf-1234', source: '127.0.0.1' },
      script: 'call; dtmf 1234#; wait 1s',
      expect: [
        { type: 'say', text: '/access code/' },
        { who: 'caller', type: 'joined', conference: 'room-1234' },
      ],
      absent: [{ type: 'hangup' }],
    };
    const ok = await runTest(pinSet, test);
    expect(ok.failures).toEqual([]);
    expect(ok.passed).toBe(true);
    const bad = await runTest(pinSet, {
      ...test,
      expect: [
        { type: 'joined', who: 'caller' },
        { type: 'say', text: '/access code/' },
      ],
      absent: [{ type: 'state', state: 'join' }],
    });
    expect(bad.passed).toBe(false);
    expect(bad.failures).toHaveLength(2);
    expect(bad.failures[0]).toMatch(/expect\[1\].*order differs/);
    expect(bad.failures[1]).toMatch(/absent\[0\]/);
  });
});

describe('PIN lockout', () => {
  it('refuses a source after limits.pinFailures failed entries, until the lockout has passed', async () => {
    const set = compiledSet({
      routes: pinSet.routes,
      conferences: [
        conference('room-*', pinFlow, {
          vars: { pin: '1234' },
          limits: { idleMs: 60_000, pinFailures: 3, lockoutMs: 60_000 },
        }),
      ],
    });
    const { transcript } = await simulate(set, {
      script: [
        // Keys pressed while "That code is not valid." plays are not an entry: wait for the prompt.
        'call a to conf-1234 source 198.51.100.7; dtmf 1#; wait 3s; dtmf 2#; hangup',
        'call b to conf-1234 source 198.51.100.7; dtmf 3#; hangup',
        'call c to conf-1234 source 198.51.100.7',
        'call d to conf-1234 source 203.0.113.1; dtmf 1234#',
        'wait 61s',
        'call e to conf-1234 source 198.51.100.7; dtmf 1234#',
      ].join('\n'),
    });
    expect(pick(transcript, 'lockout')).toEqual([expect.objectContaining({ source: '198.51.100.7' })]);
    expect(transcript.filter((e) => e.who === 'c' && e.type === 'reject')).toEqual([
      expect.objectContaining({ code: 403, reason: 'locked out' }),
    ]);
    expect(
      transcript.filter((e) => e.type === 'joined' && e.conference === 'room-1234').map((e) => e.who),
    ).toEqual(['d', 'e']);
  });
});

describe('simulation bounds', () => {
  const ticking = compiledSet({
    conferences: [
      conference(
        'tick',
        flow('tick/participant', 'a', {
          a: { after: { '10': { target: 'a', actions: [act('log', { text: 'tick' })] } } },
        }),
      ),
    ],
  });

  it('stops at until, even inside a wait', async () => {
    const { transcript } = await simulate(ticking, {
      target: { conference: 'tick' },
      script: 'call; wait 10m',
      until: 1000,
    });
    expect(transcript.at(-1)!.t).toBeLessThanOrEqual(1000);
    expect(transcript.filter((e) => e.type === 'log')).toHaveLength(100);
  });

  it('caps the number of steps and says so', async () => {
    const { errors } = await simulate(ticking, {
      target: { conference: 'tick' },
      script: 'call',
      maxSteps: 50,
    });
    expect(errors).toEqual([expect.stringMatching(/stopped after 50 steps/)]);
  });
});
