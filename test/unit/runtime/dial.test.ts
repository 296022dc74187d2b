// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Parley templates are written with ${...}
import { describe, expect, it } from 'vitest';
import type { CompiledScenario } from '../../../src/compiler/ir.js';
import { simulate, type TranscriptEntry } from '../../../src/runtime/sim/index.js';
import { act, compiledSet, conference, flow, guard, route, src } from './helpers.js';

const of = (t: TranscriptEntry[], who: string, type?: string) =>
  t.filter((e) => e.who === who && (type === undefined || e.type === type));

const dialFlow = flow('callout/flow', 'dial', {
  dial: {
    entry: [
      act('dial', {
        to: 'sip:${vars.number}@example.com',
        timeoutMs: 20_000,
        conference: 'huddle',
        vars: { greeting: 'Hello ${vars.number}' },
      }),
    ],
    on: {
      answered: 'talking',
      busy: { actions: [act('log', { text: 'busy ${dial.to}' })], target: '$end' },
      'no-answer': { actions: [act('log', { text: 'no answer ${dial.status}' })], target: '$end' },
      failed: { actions: [act('log', { text: 'failed' })], target: '$end' },
    },
  },
  talking: { after: { '5000': '$end' } },
});

const scenario: CompiledScenario = {
  src: src(1),
  name: 'callout',
  vars: { number: { required: true } },
  flow: dialFlow,
};

const huddle = conference(
  'huddle',
  flow('huddle/participant', 'hello', {
    hello: {
      entry: [act('say', { text: '${vars.greeting}', to: 'self' })],
      on: { 'parley.entry.done': 'in' },
    },
    in: { entry: [act('join', { muted: false, deaf: false, role: 'participant', speak: true, hear: true })] },
  }),
  { type: 'local' },
);

const set = compiledSet({
  scenarios: [scenario],
  conferences: [huddle],
  dialout: { allow: ['^sip:[a-z]+@example\\.com$'], trunks: {} },
});

describe('dial-out (simulated)', () => {
  it('answered: the dialled leg runs the local conference flow with the dial vars; the session end ends it', async () => {
    const { transcript, errors } = await simulate(set, {
      script: 'start scenario callout number=bob; wait 10s',
    });
    expect(errors).toEqual([]);
    const s = 'scenario:callout';
    expect(of(transcript, s, 'dial')).toEqual([expect.objectContaining({ t: 0, to: 'sip:bob@example.com' })]);
    expect(of(transcript, s, 'answered')).toEqual([expect.objectContaining({ t: 1000 })]);
    expect(of(transcript, 'bob', 'say')).toEqual([expect.objectContaining({ text: 'Hello bob', t: 1000 })]);
    expect(of(transcript, 'bob', 'joined')).toEqual([expect.objectContaining({ conference: 'huddle' })]);
    // The scenario ends 5 s after the answer; its local conference ends with it and hangs bob up.
    expect(of(transcript, 'conference:huddle', 'end')).toEqual([expect.objectContaining({ t: 6000 })]);
    expect(of(transcript, 'bob', 'hangup')).toEqual([expect.objectContaining({ t: 6000 })]);
  });

  it('busy, no-answer and fail outcomes come from the script; disallowed destinations fail', async () => {
    const busy = await simulate(set, { script: 'busy ^sip:bob@; start scenario callout number=bob' });
    expect(of(busy.transcript, 'scenario:callout', 'busy')).toHaveLength(1);
    expect(of(busy.transcript, 'scenario:callout', 'log')[0]).toMatchObject({
      text: 'busy sip:bob@example.com',
    });

    const na = await simulate(set, { script: 'no-answer bob; start scenario callout number=bob' });
    expect(of(na.transcript, 'scenario:callout', 'no-answer')).toEqual([
      expect.objectContaining({ t: 20_000 }),
    ]);

    const fail = await simulate(set, {
      script:
        'fail .; answer carol; start scenario callout number=carol; wait 2s; start scenario callout number=dave',
    });
    expect(of(fail.transcript, 'carol', 'joined')).toHaveLength(1);
    expect(of(fail.transcript, 'scenario:callout', 'failed')).toHaveLength(1);

    const refused = await simulate(set, { script: 'start scenario callout number=B0B' });
    expect(of(refused.transcript, 'scenario:callout', 'failed')[0]?.reason).toMatch(/not allowed/);
    expect(of(refused.transcript, 'scenario:callout', 'dial')).toHaveLength(0);
  });

  it('reports a missing required scenario variable as a script error', async () => {
    const { errors } = await simulate(set, { script: 'start scenario callout' });
    expect(errors).toEqual([expect.stringMatching(/script line 1: .*needs the variable "number"/)]);
  });
});

describe('call flows: http, messages, talking', () => {
  const desk = conference(
    'desk',
    flow('desk/participant', 'wait', {
      wait: {
        on: {
          http: {
            actions: [
              act('respond', { status: 202, body: { from: '${call.from}', q: '${request.query.x}' } }),
            ],
            target: 'joined',
          },
          message: { actions: [act('send', { text: 'You said: ${message.text}', to: 'self' })] },
          talking: { actions: [act('log', { text: 'talking' })] },
        },
      },
      joined: {
        entry: [act('join', { muted: false, deaf: false, role: 'participant', speak: true, hear: true })],
      },
    }),
  );
  const deskSet = compiledSet({ conferences: [desk] });

  it('an HTTP request to a call raises http; respond answers it; a later one gets 404', async () => {
    const { transcript } = await simulate(deskSet, {
      target: { conference: 'desk' },
      script:
        'call from ann@example.com; message "hi; there"; talk; http POST /go?x=1 {"a": [1, 2]}; http GET /again',
    });
    expect(of(transcript, 'caller', 'message')).toEqual([expect.objectContaining({ text: 'hi; there' })]);
    expect(of(transcript, 'caller', 'send')).toEqual([
      expect.objectContaining({ text: 'You said: hi; there', to: 'self' }),
    ]);
    expect(of(transcript, 'caller', 'log')).toEqual([expect.objectContaining({ text: 'talking' })]);
    expect(of(transcript, 'caller', 'respond')).toEqual([
      expect.objectContaining({ status: 202, body: '{"from":"ann@example.com","q":"1"}' }),
      expect.objectContaining({ status: 404 }),
    ]);
    expect(of(transcript, 'caller', 'joined')).toHaveLength(1);
  });
});

describe('local conferences and links', () => {
  it('a routed scenario joins a local conference, dials someone in; the call ending ends both', async () => {
    const gate: CompiledScenario = {
      src: src(1),
      name: 'gate',
      vars: {},
      flow: flow('gate/flow', 'enter', {
        enter: {
          entry: [
            act('join', {
              conference: 'huddle',
              muted: false,
              deaf: false,
              role: 'host',
              speak: true,
              hear: true,
            }),
            act('dial', { to: 'sip:bob@example.com', timeoutMs: 20_000, vars: { greeting: 'Hi bob' } }),
          ],
          on: { answered: { actions: [act('say', { text: 'Connected.', to: 'all' })] } },
        },
      }),
    };
    const s = compiledSet({
      routes: [route({ to: '^help$' }, { kind: 'scenario', name: 'gate' })],
      scenarios: [gate],
      conferences: [huddle],
      dialout: { allow: ['^sip:'], trunks: {} },
    });
    const { transcript, errors } = await simulate(s, {
      script: 'call to help; wait 5s; caller: hangup; wait 1s',
    });
    expect(errors).toEqual([]);
    expect(of(transcript, 'caller', 'joined')).toEqual([
      expect.objectContaining({ conference: 'huddle', role: 'host' }),
    ]);
    expect(of(transcript, 'bob', 'joined')).toEqual([
      expect.objectContaining({ conference: 'huddle', t: 1000 + 600 }),
    ]);
    expect(of(transcript, 'caller', 'say')).toEqual([
      expect.objectContaining({ text: 'Connected.', to: 'all' }),
    ]);
    expect(of(transcript, 'caller', 'hear').map((e) => `${e.t}:${e.hears}`)).toEqual(['0:none', '1600:bob']);
    expect(of(transcript, 'conference:huddle', 'end')).toEqual([expect.objectContaining({ t: 5000 })]);
    expect(of(transcript, 'bob', 'hangup')).toEqual([expect.objectContaining({ t: 5000 })]);
  });

  it('link and unlink two running conferences', async () => {
    const a = conference(
      'hall',
      flow('hall/participant', 'in', {
        in: {
          entry: [
            act('join', { muted: false, deaf: false, role: 'participant', speak: true, hear: true }),
            act('link', { conference: 'overflow', direction: 'in' }),
          ],
          dtmf: ['0'],
          on: { 'dtmf:0': { actions: [act('unlink', { conference: 'overflow' })] } },
        },
      }),
    );
    const b = conference('overflow', flow('overflow/participant', 'in', { in: {} }));
    const s = compiledSet({ conferences: [a, b] });
    const ok = await simulate(s, {
      target: { conference: 'hall' },
      script: 'start conference overflow; call; dtmf 0',
    });
    expect(of(ok.transcript, 'conference:hall', 'link')).toEqual([
      expect.objectContaining({ conference: 'overflow', direction: 'in' }),
    ]);
    expect(of(ok.transcript, 'conference:hall', 'unlink')).toHaveLength(1);
    const missing = await simulate(s, { target: { conference: 'hall' }, script: 'call' });
    expect(missing.errors).toEqual([expect.stringMatching(/link: conference "overflow" is not running/)]);
  });
});

describe('dial into a standalone conference', () => {
  it('the dialled leg stays when the caller who dialled hangs up', async () => {
    const room = conference(
      'room',
      flow('room/participant', 'in', {
        in: {
          entry: [act('join', { muted: false, deaf: false, role: 'participant', speak: true, hear: true })],
          dtmf: ['5'],
          on: {
            'dtmf:5': {
              actions: [act('dial', { to: 'sip:carol@example.com', timeoutMs: 10_000, vars: {} })],
            },
          },
        },
      }),
    );
    const s = compiledSet({ conferences: [room], dialout: { allow: ['^sip:'], trunks: {} } });
    const { transcript } = await simulate(s, {
      target: { conference: 'room' },
      script: 'call; dtmf 5; wait 2s; caller: hangup; wait 5s',
    });
    expect(of(transcript, 'carol', 'joined')).toHaveLength(1);
    expect(of(transcript, 'carol', 'hangup')).toHaveLength(0);
    expect(of(transcript, 'conference:room', 'end')).toHaveLength(0);
  });
});

describe('call control actions', () => {
  it('dial.start starts the dialled leg in the named state', async () => {
    const room = conference(
      'room',
      flow('room/participant', 'pin', {
        pin: { entry: [act('say', { text: 'PIN please', to: 'self' })] },
        direct: {
          entry: [act('join', { muted: false, deaf: false, role: 'guest', speak: true, hear: true })],
        },
      }),
    );
    const caller: CompiledScenario = {
      src: src(1),
      name: 'invite',
      vars: {},
      flow: flow('invite/flow', 'go', {
        go: {
          entry: [
            act('dial', {
              to: 'sip:dan@example.com',
              timeoutMs: 5000,
              conference: 'room',
              start: 'direct',
              vars: {},
            }),
          ],
        },
      }),
    };
    const s = compiledSet({
      conferences: [room],
      scenarios: [caller],
      dialout: { allow: ['^sip:'], trunks: {} },
    });
    const { transcript, errors } = await simulate(s, { script: 'start scenario invite; wait 2s' });
    expect(errors).toEqual([]);
    expect(of(transcript, 'dan', 'state')[0]).toMatchObject({ state: 'direct' });
    expect(of(transcript, 'dan', 'joined')).toEqual([expect.objectContaining({ role: 'guest' })]);
    expect(of(transcript, 'dan', 'say')).toEqual([]);
  });

  it('a flow can check caller ID and reject, or answer early', async () => {
    const gate = conference(
      'gate',
      flow('gate/participant', 'check', {
        check: {
          entry: [act('answer', { early: true })],
          on: {
            'parley.entry.done': [
              { guard: guard("call.from.endsWith('@trusted.example')"), target: 'in' },
              { target: 'no' },
            ],
          },
        },
        no: { entry: [act('reject', { code: 603, reason: 'Declined' })] },
        in: { entry: [act('answer', { early: false }), act('say', { text: 'Welcome.', to: 'self' })] },
      }),
    );
    const s = compiledSet({ conferences: [gate] });
    const { transcript } = await simulate(s, {
      target: { conference: 'gate' },
      script: 'call a from a@trusted.example; call b from b@elsewhere.example',
    });
    expect(of(transcript, 'a', 'answer').map((e) => e.early ?? false)).toEqual([true, false]);
    expect(of(transcript, 'a', 'say')).toHaveLength(1);
    expect(of(transcript, 'b', 'reject')).toEqual([
      expect.objectContaining({ code: 603, reason: 'Declined' }),
    ]);
  });
});
