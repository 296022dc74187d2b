// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Parley templates are written with ${...}
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/runtime/clock.js';
import { FlowActor } from '../../../src/runtime/flow/actor.js';
import type { ActionContext, FlowHost, FlowOutcome, HostAction } from '../../../src/runtime/flow/types.js';
import { act, celEngine, flow, MemoryLogger, RecordingSink, tick } from './helpers.js';

/** A host whose prompts take `promptMs` on the virtual clock and that records what it was asked. */
class TestHost implements FlowHost {
  readonly done: HostAction[] = [];
  readonly cancelled: HostAction[] = [];
  outcome: FlowOutcome | undefined;
  constructor(
    private readonly clock: VirtualClock,
    private readonly promptMs = 1000,
  ) {}
  scope() {
    return { call: { from: 'alice@example.com' } };
  }
  perform(action: HostAction, ctx: ActionContext): Promise<void> {
    if (action.type !== 'say' && action.type !== 'play') {
      this.done.push(action);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const id = this.clock.setTimeout(() => {
        this.done.push(action);
        resolve();
      }, this.promptMs);
      ctx.signal.addEventListener('abort', () => {
        this.clock.clearTimeout(id);
        this.cancelled.push(action);
        resolve();
      });
    });
  }
  finished(o: FlowOutcome) {
    this.outcome = o;
  }
}

async function advance(clock: VirtualClock, ms: number) {
  const until = clock.now() + ms;
  await tick();
  while (clock.fireNext(until)) await tick();
  clock.setTime(until);
  await tick();
}

function make(f: ReturnType<typeof flow>, promptMs = 1000) {
  const clock = new VirtualClock();
  const host = new TestHost(clock, promptMs);
  const events = new RecordingSink();
  const logger = new MemoryLogger();
  const actor = new FlowActor({
    flow: f,
    host,
    clock,
    logger,
    events,
    expressions: celEngine,
    source: 'call:1',
  });
  return { clock, host, events, logger, actor };
}

const says = (h: TestHost) =>
  h.done.filter((a) => a.type === 'say').map((a) => (a.params as { text: string }).text);

describe('FlowActor', () => {
  it('runs entry actions in order, awaiting prompts, then takes then: (parley.entry.done)', async () => {
    const f = flow('t/participant', 'greet', {
      greet: {
        entry: [
          act('say', { text: 'One', to: 'self' }),
          act('say', { text: 'Two ${call.from}', to: 'self' }),
        ],
        on: { 'parley.entry.done': 'bye' },
      },
      bye: { entry: [act('say', { text: 'Goodbye.', to: 'self' })], on: { 'parley.entry.done': '$hangup' } },
    });
    const { clock, host, actor } = make(f);
    actor.start();
    await advance(clock, 1500);
    expect(says(host)).toEqual(['One']);
    await advance(clock, 1000);
    expect(says(host)).toEqual(['One', 'Two alice@example.com']);
    await advance(clock, 1000);
    expect(says(host)).toEqual(['One', 'Two alice@example.com', 'Goodbye.']);
    expect(host.outcome).toBe('hangup');
    expect(host.done.at(-1)?.type).toBe('hangup');
    expect(await actor.done).toBe('hangup');
  });

  it('cancels the rest of the entry list when the state is left', async () => {
    const f = flow('t/participant', 'a', {
      a: {
        entry: [act('say', { text: 'Long', to: 'self' }), act('say', { text: 'Never', to: 'self' })],
        on: { dtmf: 'b' },
      },
      b: { entry: [act('say', { text: 'B', to: 'self' })] },
    });
    const { clock, host, actor } = make(f);
    actor.start();
    await advance(clock, 500);
    actor.dtmf('1');
    await advance(clock, 3000);
    expect(says(host)).toEqual(['B']);
    expect(host.cancelled.map((a) => a.type)).toEqual(['say']);
    expect(actor.state).toBe('b');
  });

  it('runs transition actions before entering the target, and counts visits', async () => {
    const f = flow(
      't/participant',
      'a',
      {
        a: {
          entry: [act('set', { assignments: { n: 'vars.n + 1' } })],
          on: {
            go: [
              {
                guard: { type: 'expr', params: { expr: 'visits < 3' } },
                target: 'a',
                actions: [act('say', { text: 'again ${string(visits)}', to: 'self' })],
              },
              { target: 'done' },
            ],
          },
        },
        done: { entry: [act('say', { text: 'n=${string(vars.n)}', to: 'self' })] },
      },
      { n: 0 },
    );
    const { clock, host, actor } = make(f);
    actor.start();
    for (let i = 0; i < 3; i++) {
      actor.send({ type: 'go' });
      await advance(clock, 2000);
    }
    expect(says(host)).toEqual(['again 1', 'again 2', 'n=3']);
    expect(actor.visitsOf('a')).toBe(3);
  });

  it('matches DTMF sequences from meta.dtmf and stays in the state for targetless transitions', async () => {
    const f = flow('t/participant', 'conf', {
      conf: {
        dtmf: ['*6', '#'],
        on: {
          'dtmf:*6': { actions: [act('toggle', { what: 'mute' })] },
          'dtmf:#': { actions: [act('leave', {})] },
        },
      },
    });
    const { clock, host, actor, events } = make(f);
    actor.start();
    for (const d of '1*6*6#') actor.dtmf(d);
    await advance(clock, 10);
    expect(host.done.map((a) => a.type)).toEqual(['toggle', 'toggle', 'leave']);
    expect(events.of('state')).toHaveLength(1);
  });

  it('fires after-timers on the injected clock and cancels them on exit', async () => {
    const f = flow('t/participant', 'wait', {
      wait: { on: { dtmf: 'other' }, after: { '5000': { target: 'late' } } },
      other: { after: { '2000': { actions: [act('say', { text: 'tick', to: 'self' })] } } },
      late: {},
    });
    const { clock, actor } = make(f);
    actor.start();
    await advance(clock, 4000);
    expect(actor.state).toBe('wait');
    actor.dtmf('1');
    await advance(clock, 5000);
    expect(actor.state).toBe('other');
    const f2 = flow('t/participant', 'wait', { wait: { after: { '5000': 'late' } }, late: {} });
    const b = make(f2);
    b.actor.start();
    await advance(b.clock, 4999);
    expect(b.actor.state).toBe('wait');
    await advance(b.clock, 1);
    expect(b.actor.state).toBe('late');
  });

  it('collects digits with end key, retries on timeout, and raises collected/exhausted', async () => {
    const f = flow('t/participant', 'pin', {
      pin: {
        entry: [
          act('collect', {
            prompt: { say: { text: 'Enter code' } },
            digits: 4,
            min: 1,
            end: '#',
            timeoutMs: 3000,
            tries: 2,
          }),
        ],
        on: {
          collected: { target: 'ok', actions: [act('set', { assignments: { got: 'digits', t: 'tries' } })] },
          exhausted: 'bye',
        },
      },
      ok: {},
      bye: {},
    });
    const { clock, host, actor, events } = make(f);
    actor.start();
    await advance(clock, 1000 + 3000); // prompt, then timeout: try 1 empty
    expect(says(host)).toEqual(['Enter code', 'Enter code'].slice(0, 1));
    await advance(clock, 200);
    actor.dtmf('1'); // barge-in during the second prompt
    actor.dtmf('2');
    actor.dtmf('#');
    await advance(clock, 10);
    expect(actor.state).toBe('ok');
    expect(actor.vars.got).toBe('12');
    expect(Number(actor.vars.t)).toBe(2);
    expect(events.of('collected')[0]?.fields).toEqual({ digits: '12', tries: 2 });

    const b = make(f);
    b.actor.start();
    await advance(b.clock, 2 * 4000 + 10);
    expect(b.actor.state).toBe('bye');
    expect(b.events.of('exhausted')).toHaveLength(1);
  });

  it('logs a failing action with its source position, raises failed and keeps running', async () => {
    const f = flow('t/participant', 'a', {
      a: {
        entry: [act('say', { text: '${nope.x}', to: 'self' }), act('say', { text: 'skipped', to: 'self' })],
        on: { failed: 'b' },
      },
      b: { entry: [act('say', { text: 'recovered', to: 'self' })] },
    });
    const { clock, host, actor, logger } = make(f);
    expect(() => actor.start()).not.toThrow();
    await advance(clock, 2000);
    expect(says(host)).toEqual(['recovered']);
    const err = logger.entries.find((l) => l.level === 'error');
    expect(err?.fields).toMatchObject({ src: 'test.yaml:1:1', action: 'say' });
  });
});

describe('FlowActor loop guard', () => {
  it('stops a flow that keeps entering states without time passing', async () => {
    const f = flow('t/participant', 'a', {
      a: { on: { 'parley.entry.done': 'b' } },
      b: { on: { 'parley.entry.done': 'a' } },
    });
    const { actor, logger, host } = make(f);
    actor.start();
    expect(await actor.done).toBe('stopped');
    expect(host.outcome).toBe('stopped');
    expect(logger.entries.some((l) => l.level === 'error' && /without time passing/.test(l.msg))).toBe(true);
  });
});

describe('FlowActor on the real clock', () => {
  it('fires after-timers with wall time', async () => {
    const { RealClock } = await import('../../../src/runtime/clock.js');
    const f = flow('t/participant', 'wait', { wait: { after: { '30': 'late' } }, late: {} });
    const clock = new RealClock();
    const host = new TestHost(new VirtualClock());
    const actor = new FlowActor({
      flow: f,
      host,
      clock,
      logger: new MemoryLogger(),
      events: new RecordingSink(),
      expressions: celEngine,
      source: 'call:1',
    });
    const started = clock.now();
    actor.start();
    while (actor.state !== 'late' && clock.now() - started < 2000) await new Promise((r) => setTimeout(r, 5));
    expect(actor.state).toBe('late');
    expect(clock.now() - started).toBeGreaterThanOrEqual(25);
    actor.stop();
    expect(await actor.done).toBe('stopped');
  });
});

describe('FlowActor DTMF', () => {
  it('a key that moves the flow on does not also count toward a sequence of the new state', async () => {
    const f = flow('t/participant', 'a', {
      a: { on: { dtmf: 'b' } },
      b: { dtmf: ['1'], on: { 'dtmf:1': 'c' } },
      c: {},
    });
    const { clock, actor } = make(f);
    actor.start();
    actor.dtmf('1');
    await advance(clock, 10);
    expect(actor.state).toBe('b');
    actor.dtmf('1');
    await advance(clock, 10);
    expect(actor.state).toBe('c');
  });
});
