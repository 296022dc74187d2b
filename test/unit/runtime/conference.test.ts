// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Parley templates are written with ${...}
import { describe, expect, it } from 'vitest';
import type { ActionParams, CompiledSet } from '../../../src/compiler/ir.js';
import { simulate, type TranscriptEntry } from '../../../src/runtime/sim/index.js';
import { act, compiledSet, conference, flow, guard } from './helpers.js';

const join = (over: Partial<ActionParams['join']> = {}) =>
  act('join', { muted: false, deaf: false, role: 'participant', speak: true, hear: true, ...over });

const of = (t: TranscriptEntry[], who: string, type?: string) =>
  t.filter((e) => e.who === who && (type === undefined || e.type === type));
const last = (t: TranscriptEntry[], who: string, type: string) => of(t, who, type).at(-1);

/** Callers whose From starts with boss@ are moderators; everyone else waits with music. */
function moderated(): CompiledSet {
  const participant = flow('town/participant', 'check', {
    check: {
      on: {
        'parley.entry.done': [
          { guard: guard("call.from.startsWith('boss@')"), target: 'moderator' },
          { target: 'member' },
        ],
      },
    },
    moderator: { entry: [join({ role: 'moderator' })] },
    member: { entry: [join({ music: 'hold.wav' })] },
  });
  const conf = flow('town/conference', 'main', {
    main: {
      on: {
        joined: { actions: [act('say', { text: 'Welcome ${participant.role}', to: 'participant' })] },
        left: { guard: guard("participant.role == 'moderator'"), actions: [act('end', {})] },
      },
    },
  });
  return compiledSet({ conferences: [conference('town', participant, { conference: conf })] });
}

describe('conference semantics (simulated)', () => {
  it('moderator-led: music until the moderator joins; ends when the moderator leaves', async () => {
    const { transcript, errors } = await simulate(moderated(), {
      target: { conference: 'town' },
      script: [
        'call a from a@example.com',
        'call b from b@example.com',
        'wait 2s',
        'call boss from boss@example.com',
        'wait 2s',
        'boss: hangup',
        'wait 1s',
      ].join('\n'),
    });
    expect(errors).toEqual([]);
    const conf = 'conference:town';
    const music = of(transcript, conf).filter((e) => e.type === 'music' || e.type === 'music-stop');
    // Two participants together still hear music: there is no moderator yet. When the
    // moderator leaves, music resumes until the conference flow ends the conference.
    expect(music.map((e) => `${e.t}:${e.type}:${e.participant}`)).toEqual([
      '0:music:a',
      '0:music:b',
      '2000:music-stop:a',
      '2000:music-stop:b',
      '4000:music:a',
      '4000:music:b',
      '4000:music-stop:a',
      '4000:music-stop:b',
    ]);
    const stop = music.find((e) => e.type === 'music-stop')!;
    expect(stop.t).toBe(2000);
    expect(last(transcript, conf, 'end')).toMatchObject({ t: 4000, reason: 'flow' });
    // Everyone is hung up when the conference ends.
    expect(of(transcript, 'a', 'hangup')).toHaveLength(1);
    expect(of(transcript, 'b', 'hangup')).toHaveLength(1);
    // The conference flow greets each participant by role, to that participant only.
    expect(of(transcript, conf, 'say').map((e) => `${e.text}/${e.to}`)).toEqual([
      'Welcome participant/participant',
      'Welcome participant/participant',
      'Welcome moderator/participant',
    ]);
  });

  it('without a moderator role, music plays only while alone', async () => {
    const participant = flow('lobby/participant', 'in', { in: { entry: [join({ music: 'hold.wav' })] } });
    const set = compiledSet({ conferences: [conference('lobby', participant)] });
    const { transcript } = await simulate(set, {
      target: { conference: 'lobby' },
      script: 'call a; wait 1s; call b; wait 1s; b: hangup; wait 1s',
    });
    const music = transcript
      .filter((e) => e.type.startsWith('music'))
      .map((e) => `${e.t}:${e.type}:${e.participant}`);
    expect(music).toEqual(['0:music:a', '1000:music-stop:a', '2000:music:a']);
  });

  it('listen-only and whisper: routing decides who hears whom', async () => {
    const participant = flow('class/participant', 'route', {
      route: {
        on: {
          'parley.entry.done': [
            { guard: guard("call.from.startsWith('teacher@')"), target: 'teacher' },
            { guard: guard("call.from.startsWith('coach@')"), target: 'coach' },
            { target: 'student' },
          ],
        },
      },
      teacher: { entry: [join({ role: 'teacher' })] },
      student: { entry: [join({ role: 'student', speak: false })] },
      coach: { entry: [join({ role: 'coach', speak: { to: ['role:teacher'] } })] },
    });
    const set = compiledSet({ conferences: [conference('class', participant)] });
    const { transcript } = await simulate(set, {
      target: { conference: 'class' },
      script: 'call t from teacher@x; call s1 from s1@x; call s2 from s2@x; call c from coach@x; wait 1s',
    });
    const hears = (who: string) => last(transcript, who, 'hear')?.hears;
    expect(hears('t')).toBe('c'); // students are listen-only; the coach whispers to the teacher
    expect(hears('s1')).toBe('t');
    expect(hears('s2')).toBe('t');
    expect(hears('c')).toBe('t');
  });

  it('limits.participants: the next join raises full', async () => {
    const participant = flow('small/participant', 'in', {
      in: { entry: [join()], on: { full: { target: 'sorry' } } },
      sorry: {
        entry: [act('say', { text: 'The conference is full.', to: 'self' })],
        on: { 'parley.entry.done': '$hangup' },
      },
    });
    const set = compiledSet({
      conferences: [conference('small', participant, { limits: { idleMs: 60_000, participants: 2 } })],
    });
    const { transcript } = await simulate(set, {
      target: { conference: 'small' },
      script: 'call a; call b; call c; wait 2s',
    });
    expect(of(transcript, 'c', 'full')).toHaveLength(1);
    expect(of(transcript, 'conference:small', 'full')).toEqual([
      expect.objectContaining({ participant: 'c', limit: 2 }),
    ]);
    expect(of(transcript, 'c', 'say')[0]).toMatchObject({ text: 'The conference is full.' });
    expect(of(transcript, 'c', 'hangup')).toHaveLength(1);
    expect(of(transcript, 'a', 'hangup')).toHaveLength(0);
  });

  it('idle timeout: an empty standalone conference ends after limits.idle', async () => {
    const participant = flow('idle/participant', 'in', { in: { entry: [join()] } });
    const set = compiledSet({ conferences: [conference('idle', participant, { limits: { idleMs: 5000 } })] });
    const { transcript } = await simulate(set, {
      target: { conference: 'idle' },
      script: 'call a; wait 3s; hangup; wait 4s; ',
    });
    const conf = of(transcript, 'conference:idle');
    expect(conf.find((e) => e.type === 'empty')?.t).toBe(3000);
    expect(conf.find((e) => e.type === 'end')).toMatchObject({ t: 8000, reason: 'idle' });
    const started = await simulate(set, { script: 'start conference idle; wait 10s' });
    expect(of(started.transcript, 'conference:idle', 'end')).toEqual([expect.objectContaining({ t: 5000 })]);
  });

  it('notify: a custom event reaches the other participant flows and the conference flow', async () => {
    const participant = flow('n/participant', 'in', {
      in: {
        entry: [join()],
        dtmf: ['#'],
        on: {
          'dtmf:#': { actions: [act('notify', { event: 'hand-raised', to: 'others' })] },
          'hand-raised': { actions: [act('say', { text: 'A hand from ${event.from}', to: 'self' })] },
        },
      },
    });
    const conf = flow('n/conference', 'main', {
      main: { on: { 'hand-raised': { actions: [act('log', { text: 'hand ${event.name}' })] } } },
    });
    const participant2 = structuredClone(participant);
    const set = compiledSet({ conferences: [conference('n', participant2, { conference: conf })] });
    const { transcript } = await simulate(set, {
      target: { conference: 'n' },
      script: 'call a from a@example.com; call b; a: dtmf #; wait 1s',
    });
    expect(of(transcript, 'conference:n', 'notify')).toEqual([
      expect.objectContaining({ event: 'hand-raised', to: 'others' }),
    ]);
    expect(of(transcript, 'b', 'say')).toEqual([
      expect.objectContaining({ text: 'A hand from a@example.com' }),
    ]);
    expect(of(transcript, 'a', 'say')).toEqual([]);
    // Sent to `others`: the conference flow does not get it.
    expect(of(transcript, 'conference:n', 'log')).toEqual([]);
  });

  it('http to a conference: its flow responds; unhandled requests get 404', async () => {
    const participant = flow('h/participant', 'in', { in: { entry: [join()] } });
    const conf = flow('h/conference', 'main', {
      main: {
        on: {
          http: [
            {
              guard: guard("request.method == 'POST' && request.path == '/mute-all'"),
              actions: [
                act('mute', { who: 'all' }),
                act('respond', { status: 200, body: { muted: '${string(conference.participants)}' } }),
              ],
            },
          ],
        },
      },
    });
    const set = compiledSet({ conferences: [conference('h', participant, { conference: conf })] });
    const { transcript } = await simulate(set, {
      script:
        'start conference h; call a to x; call b to x; h: http POST /mute-all {"why": "quiet"}; h: http GET /nothing',
      target: { conference: 'h' },
    });
    const c = of(transcript, 'conference:h');
    expect(c.filter((e) => e.type === 'mute').map((e) => e.participant)).toEqual(['a', 'b']);
    expect(c.filter((e) => e.type === 'respond')).toEqual([
      expect.objectContaining({ status: 200, body: '{"muted":"2"}' }),
      expect.objectContaining({ status: 404 }),
    ]);
    // A conference created by a join is addressed by its name, too (no space needed after the colon).
    const joined = await simulate(set, {
      target: { conference: 'h' },
      script: 'call a; h:http POST /mute-all',
    });
    expect(of(joined.transcript, 'conference:h', 'respond')).toEqual([
      expect.objectContaining({ status: 200 }),
    ]);
  });

  it('after-timers: a periodic announcement repeats until the flow moves on', async () => {
    const participant = flow('p/participant', 'in', {
      in: {
        entry: [join()],
        after: { '10000': { target: 'in', actions: [act('say', { text: 'Still here.', to: 'self' })] } },
        on: { dtmf: 'out' },
      },
      out: {},
    });
    const set = compiledSet({ conferences: [conference('p', participant)] });
    const { transcript } = await simulate(set, {
      target: { conference: 'p' },
      script: 'call; wait 35s; dtmf 1; wait 30s',
    });
    expect(of(transcript, 'caller', 'say').map((e) => e.t)).toEqual([10_000, 20_000, 30_000]);
  });

  it('leaving a state cancels its prompt to self', async () => {
    const participant = flow('c/participant', 'talk', {
      talk: {
        entry: [act('say', { text: 'x'.repeat(100), to: 'self' }), act('say', { text: 'never', to: 'self' })],
        on: { dtmf: 'next' },
      },
      next: { entry: [act('say', { text: 'Next.', to: 'self' })] },
    });
    const set = compiledSet({ conferences: [conference('c', participant)] });
    const { transcript } = await simulate(set, {
      target: { conference: 'c' },
      script: 'call; wait 1s; dtmf 5; wait 10s',
    });
    expect(of(transcript, 'caller', 'say').map((e) => e.text)).toEqual(['x'.repeat(100), 'Next.']);
  });

  it('records a participant; recorded arrives when the recording is stopped', async () => {
    const participant = flow('r/participant', 'in', {
      in: {
        entry: [join(), act('record', { what: 'self', direction: 'both', file: 'rec-${call.id}.wav' })],
        dtmf: ['9'],
        on: {
          'dtmf:9': { actions: [act('stop', { what: 'record' })] },
          recorded: { actions: [act('log', { text: '${recording.file} ${string(recording.duration)}' })] },
        },
      },
    });
    const set = compiledSet({ conferences: [conference('r', participant)] });
    const { transcript } = await simulate(set, {
      target: { conference: 'r' },
      script: 'call; wait 5s; dtmf 9; wait 1s',
    });
    expect(of(transcript, 'conference:r', 'record')).toEqual([
      expect.objectContaining({
        file: 'rec-call-1.wav',
        what: 'self',
        direction: 'both',
        participant: 'caller',
      }),
    ]);
    expect(of(transcript, 'conference:r', 'recorded')).toEqual([
      expect.objectContaining({ t: 5000, duration: 5 }),
    ]);
    expect(of(transcript, 'caller', 'log')).toEqual([expect.objectContaining({ text: 'rec-call-1.wav 5' })]);
  });

  it('record settings: the mix from the start, every participant on join; files close at the end', async () => {
    const participant = flow('auto/participant', 'in', {
      in: {
        entry: [join()],
        on: { recorded: { actions: [act('log', { text: 'mine: ${recording.file}' })] } },
      },
    });
    const set = compiledSet({
      conferences: [
        conference('auto', participant, {
          record: { mix: true, participants: { direction: 'both' }, file: '${conference.name}-mix.wav' },
          limits: { idleMs: 60_000, durationMs: 10_000 },
        }),
      ],
    });
    const { transcript } = await simulate(set, {
      target: { conference: 'auto' },
      script: 'call; wait 3s; hangup',
    });
    const rec = of(transcript, 'conference:auto', 'record');
    expect(rec).toEqual([
      expect.objectContaining({ t: 0, what: 'conference', file: 'auto-mix.wav' }),
      expect.objectContaining({ t: 0, what: 'self', direction: 'both', participant: 'caller' }),
    ]);
    const done = of(transcript, 'conference:auto', 'recorded');
    expect(done.map((e) => `${e.t}:${e.file}:${e.duration}`)).toEqual([
      `3000:${rec[1]!.file}:3`,
      '10000:auto-mix.wav:10',
    ]);
    expect(of(transcript, 'conference:auto', 'end')).toEqual([
      expect.objectContaining({ reason: 'duration' }),
    ]);
  });
});

describe('played', () => {
  it('a play that finishes raises played; a collect prompt does not', async () => {
    const participant = flow('pl/participant', 'greet', {
      greet: {
        entry: [act('play', { url: 'https://example.com/hi.wav', loop: false, to: 'self' })],
        on: { played: 'ask' },
      },
      ask: {
        entry: [
          act('collect', {
            prompt: { play: { url: 'https://example.com/q.wav' } },
            digits: 1,
            min: 1,
            timeoutMs: 1000,
            tries: 1,
          }),
        ],
        on: { played: 'wrong', exhausted: 'done' },
      },
      wrong: {},
      done: {},
    });
    const set = compiledSet({ conferences: [conference('pl', participant)] });
    const { transcript } = await simulate(set, { target: { conference: 'pl' }, script: 'call; wait 5s' });
    expect(of(transcript, 'caller', 'state').map((e) => `${e.t}:${e.state}`)).toEqual([
      '0:greet',
      '1000:ask',
      '3000:done',
    ]);
  });
});

describe('ended', () => {
  it('the conference flow handles ended before it stops', async () => {
    const participant = flow('e/participant', 'in', { in: { entry: [join()] } });
    const conf = flow('e/conference', 'main', {
      main: { on: { ended: { actions: [act('log', { text: 'over: ${reason}' })] } } },
    });
    const set = compiledSet({
      conferences: [conference('e', participant, { conference: conf, limits: { idleMs: 1000 } })],
    });
    const { transcript } = await simulate(set, { script: 'start conference e; wait 2s' });
    expect(of(transcript, 'conference:e', 'log')).toEqual([
      expect.objectContaining({ t: 1000, text: 'over: idle' }),
    ]);
  });
});

describe('stop', () => {
  it('stop: play ends looping prompts and music on hold of this participant', async () => {
    const participant = flow('s/participant', 'in', {
      in: {
        entry: [
          join({ music: 'hold.wav' }),
          act('play', { url: 'https://example.com/loop.wav', loop: true, to: 'self' }),
        ],
        dtmf: ['0'],
        on: { 'dtmf:0': { actions: [act('stop', { what: 'play' })] } },
      },
    });
    const set = compiledSet({ conferences: [conference('s', participant)] });
    const { transcript } = await simulate(set, {
      target: { conference: 's' },
      script: 'call; wait 2s; dtmf 0; wait 1s; call b; b: hangup',
    });
    const c = of(transcript, 'conference:s').filter((e) => e.type.startsWith('music'));
    expect(c.map((e) => `${e.t}:${e.type}`)).toEqual(['0:music', '2000:music-stop']);
    expect(of(transcript, 'caller', 'stop')).toEqual([expect.objectContaining({ t: 2000, what: 'play' })]);
  });
});

describe('scale', () => {
  it('300 participants join one conference; hear entries stop beyond a small conference', async () => {
    const participant = flow('big/participant', 'in', { in: { entry: [join()] } });
    const set = compiledSet({ conferences: [conference('big', participant)] });
    const script = Array.from({ length: 300 }, (_, i) => `call p${i}`).join('; ');
    const { transcript, errors } = await simulate(set, { target: { conference: 'big' }, script });
    expect(errors).toEqual([]);
    const joined = of(transcript, 'conference:big', 'joined');
    expect(joined).toHaveLength(300);
    expect(joined.at(-1)?.participants).toBe(300);
    expect(transcript.filter((e) => e.type === 'hear' && e.who === 'p20')).toEqual([]);
  });
});
