/** ConferenceActor against a recording media port: what the media plane is told. */
import { describe, expect, it } from 'vitest';
import type { CompiledConference } from '../../../src/compiler/ir.js';
import { VirtualClock } from '../../../src/runtime/clock.js';
import { ConferenceActor, type Participant } from '../../../src/runtime/conference/actor.js';
import type { FlowEvent } from '../../../src/runtime/flow/types.js';
import type {
  MediaPort,
  MemberRouting,
  PromptResult,
  RecordingHandle,
  RecordingRequest,
} from '../../../src/runtime/ports.js';
import { celEngine, conference, flow, MemoryLogger, RecordingSink, tick } from './helpers.js';

class RecordingMedia implements MediaPort {
  readonly calls: string[] = [];
  readonly routing = new Map<string, MemberRouting>();
  async prompt(): Promise<PromptResult> {
    return 'finished';
  }
  async openConference(name: string) {
    this.calls.push(`open ${name}`);
  }
  async closeConference(name: string) {
    this.calls.push(`close ${name}`);
  }
  async addMember(c: string, leg: string, r: MemberRouting) {
    this.routing.set(leg, r);
    this.calls.push(`add ${c} ${leg}`);
  }
  async updateMember(c: string, leg: string, r: MemberRouting) {
    this.routing.set(leg, r);
    this.calls.push(`update ${c} ${leg}`);
  }
  async removeMember(c: string, leg: string) {
    this.routing.delete(leg);
    this.calls.push(`remove ${c} ${leg}`);
  }
  async startRecording(r: RecordingRequest): Promise<RecordingHandle> {
    const result = { file: r.file, durationMs: 0 };
    return { file: r.file, stop: async () => result, done: Promise.resolve(result) };
  }
  async link() {}
  async unlink() {}
}

class Member implements Participant {
  readonly events: FlowEvent[] = [];
  ended = false;
  constructor(
    readonly id: string,
    readonly from = `${id}@example.com`,
  ) {}
  deliver(e: FlowEvent) {
    this.events.push(e);
  }
  conferenceEnded() {
    this.ended = true;
  }
  async sendMessage() {}
}

function setup(doc: CompiledConference) {
  const media = new RecordingMedia();
  const clock = new VirtualClock();
  const events = new RecordingSink();
  const actor = new ConferenceActor({
    name: doc.name,
    doc,
    ports: {
      clock,
      logger: new MemoryLogger(),
      media,
      calls: { dial: async () => ({ status: 'failed' }) },
      events,
      expressions: celEngine,
    },
    registry: { find: () => undefined, removed: () => {} },
  });
  return { media, clock, events, actor };
}

const opts = { muted: false, deaf: false, role: 'participant', speak: true as const, hear: true as const };

describe('ConferenceActor', () => {
  it('tells the media plane about members and recomputes role-based routing as roles come and go', async () => {
    const { media, actor } = setup(conference('c', flow('c/participant', 'a', { a: {} })));
    await actor.open();
    const coach = new Member('coach');
    await actor.join(coach, { ...opts, role: 'coach', speak: { to: ['role:agent'] } });
    expect(media.routing.get('coach')?.speakTo).toEqual([]);
    await actor.join(new Member('agent'), { ...opts, role: 'agent' });
    expect(media.routing.get('coach')?.speakTo).toEqual(['agent']);
    await actor.join(new Member('customer'), { ...opts, hear: { from: ['role:agent'] } });
    expect(media.routing.get('customer')?.hearFrom).toEqual(['agent']);
    await actor.setFlag(['agent'], 'muted', true);
    expect(media.routing.get('agent')?.muted).toBe(true);
    await actor.toggle('agent', 'mute');
    expect(media.routing.get('agent')?.muted).toBe(false);
    await actor.leave('agent');
    expect(media.routing.get('coach')?.speakTo).toEqual([]);
    expect(media.calls).toEqual([
      'open c',
      'add c coach',
      'add c agent',
      'update c coach',
      'add c customer',
      'update c agent',
      'update c agent',
      'remove c agent',
      'update c coach',
      'update c customer',
    ]);
  });

  it('end: members are removed and told, the mixer closes, later joins are refused', async () => {
    const { media, actor, events } = setup(conference('d', flow('d/participant', 'a', { a: {} })));
    await actor.open();
    const a = new Member('a');
    await actor.join(a, opts);
    await actor.end('test');
    await tick();
    expect(a.ended).toBe(true);
    expect(media.calls.slice(-2)).toEqual(['remove d a', 'close d']);
    expect(await actor.join(new Member('b'), opts)).toBe('ended');
    expect(events.of('end')).toHaveLength(1);
  });
});

describe('ConferenceActor recordings', () => {
  it('a recording that closes at once still reports recorded, without errors', async () => {
    const { actor, events } = setup(conference('r', flow('r/participant', 'a', { a: {} })));
    await actor.open();
    await actor.join(new Member('a'), opts);
    const done: Array<{ file: string; handle: unknown }> = [];
    const handle = await actor.record({ what: 'self', direction: 'in', file: 'x.wav' }, 'a', (r, h) => {
      done.push({ file: r.file, handle: h });
    });
    await tick();
    expect(done).toEqual([{ file: 'x.wav', handle }]);
    expect(events.of('recorded')).toEqual([
      expect.objectContaining({ fields: { file: 'x.wav', duration: 0 } }),
    ]);
  });
});
