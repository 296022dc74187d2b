import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Pcm } from '../../../src/media/pcm.js';
import { PromptLibrary } from '../../../src/media/prompt-library.js';
import type { TtsEngine } from '../../../src/media/tts.js';
import { EngineMediaPort, recordingFileName } from '../../../src/runtime/live/engine-media.js';
import type {
  EndpointMediaConfig,
  EngineRouting,
  MediaEngineApi,
  PlayTarget,
  RecordTarget,
} from '../../../src/runtime/live/media-api.js';
import { endpointConfig, type SipCallLeg } from '../../../src/runtime/live/sip-leg.js';
import type { Logger } from '../../../src/runtime/ports.js';

/** Records what the port asks of the engine; ids count up from 1. */
class EngineDouble implements MediaEngineApi {
  readonly calls: string[] = [];
  readonly routing = new Map<string, EngineRouting>();
  private next = 1;
  createEndpoint() {
    const id = this.next++;
    return { id, port: 20000 + 2 * id };
  }
  configureEndpoint(id: number, c: EndpointMediaConfig) {
    this.calls.push(`configure ${id} ${c.send.codec}`);
  }
  destroyEndpoint(id: number) {
    this.calls.push(`destroy ${id}`);
  }
  createConference(name: string, o: { rate: number; loudest: number }) {
    this.calls.push(`conference ${name} ${o.rate} ${o.loudest}`);
  }
  destroyConference(name: string) {
    this.calls.push(`close ${name}`);
  }
  join(conf: string, ep: number, r: EngineRouting) {
    this.routing.set(`${conf}/${ep}`, r);
    this.calls.push(`join ${conf} ${ep}`);
  }
  updateRouting(conf: string, ep: number, r: EngineRouting) {
    this.routing.set(`${conf}/${ep}`, r);
    this.calls.push(`route ${conf} ${ep}`);
  }
  leave(conf: string, ep: number) {
    this.calls.push(`leave ${conf} ${ep}`);
  }
  play(t: PlayTarget, pcm: Int16Array, rate: number, o: { loop: boolean }) {
    const id = this.next++;
    this.calls.push(
      `play ${id} ${'endpoint' in t ? `ep${t.endpoint}` : t.conference} ${pcm.length}@${rate}${o.loop ? ' loop' : ''}`,
    );
    return id;
  }
  stopPlayer(id: number) {
    this.calls.push(`stop ${id}`);
  }
  record(t: RecordTarget, path: string) {
    const id = this.next++;
    this.calls.push(
      `record ${id} ${'endpoint' in t ? `ep${t.endpoint}/${t.direction}` : t.conference} ${path}`,
    );
    return id;
  }
  stopRecorder(id: number) {
    this.calls.push(`stoprec ${id}`);
    return 1234;
  }
  link() {}
  unlink() {}
  sendDtmf() {}
  close() {}
}

const recDir = mkdtempSync(path.join(os.tmpdir(), 'parley-rec-'));
afterAll(() => rmSync(recDir, { recursive: true, force: true }));

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const tts: TtsEngine = {
  synthesize: async (text: string): Promise<Pcm> => ({
    samples: new Int16Array(text.length * 100),
    rate: 8000,
  }),
  close: async () => {},
};

function setup() {
  const engine = new EngineDouble();
  const port = new EngineMediaPort(engine, new PromptLibrary({ root: '/nonexistent', tts }), recDir, quiet);
  const legs = new Map<string, { endpoint: number; events: string[] }>();
  const addLeg = (id: string, endpoint: number) => {
    const events: string[] = [];
    const leg = {
      id,
      endpoint,
      deliver: (e: { type: string; digit?: string }) =>
        events.push(e.digit ? `${e.type} ${e.digit}` : e.type),
      mediaTimeout: () => events.push('timeout'),
    } as unknown as SipCallLeg;
    port.trackLeg(leg, endpoint);
    legs.set(id, { endpoint, events });
    return events;
  };
  return { engine, port, addLeg };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('EngineMediaPort', () => {
  it('plays a prompt to each leg and resolves when every player has finished', async () => {
    const { engine, port, addLeg } = setup();
    addLeg('a', 7);
    addLeg('b', 9);
    let result: string | undefined;
    const p = port
      .prompt(
        { legs: ['a', 'b', 'ghost'], audience: 'all' },
        { kind: 'tts', text: 'hello' },
        {
          loop: false,
          signal: new AbortController().signal,
          purpose: 'prompt',
        },
      )
      .then((r) => {
        result = r;
      });
    await tick();
    await tick();
    expect(engine.calls).toEqual(['play 1 ep7 500@8000', 'play 2 ep9 500@8000']);
    port.onEngineEvent({ type: 'player', player: 1, state: 'finished' });
    await tick();
    expect(result).toBeUndefined();
    port.onEngineEvent({ type: 'player', player: 2, state: 'finished' });
    await p;
    expect(result).toBe('finished');
  });

  it('stops the players when the prompt is aborted, and says cancelled', async () => {
    const { engine, port, addLeg } = setup();
    addLeg('a', 3);
    const abort = new AbortController();
    const p = port.prompt(
      { legs: [], conference: 'room', audience: 'all' },
      { kind: 'tts', text: 'music' },
      {
        loop: true,
        signal: abort.signal,
        purpose: 'music',
      },
    );
    await tick();
    await tick();
    expect(engine.calls).toEqual(['play 1 room 500@8000 loop']);
    abort.abort();
    expect(engine.calls).toContain('stop 1');
    port.onEngineEvent({ type: 'player', player: 1, state: 'stopped' });
    await expect(p).resolves.toBe('cancelled');
  });

  it('skips a prompt whose audio cannot be loaded instead of failing the flow', async () => {
    const { engine, port, addLeg } = setup();
    addLeg('a', 3);
    await expect(
      port.prompt(
        { legs: ['a'], audience: 'self' },
        { kind: 'file', path: 'missing.wav' },
        {
          loop: false,
          signal: new AbortController().signal,
          purpose: 'prompt',
        },
      ),
    ).resolves.toBe('finished');
    expect(engine.calls).toEqual([]);
  });

  it('maps member routing from leg ids to endpoints, and updates listeners when a named leg joins', async () => {
    const { engine, port, addLeg } = setup();
    addLeg('mod', 11);
    addLeg('agent', 12);
    await port.openConference('room', { rate: 48000, vad: true, denoise: false, loudest: 2 } as never);
    await port.addMember('room', 'agent', { muted: false, deaf: false, speakTo: ['mod'], hearFrom: 'all' });
    expect(engine.routing.get('room/12')).toEqual({
      muted: false,
      deaf: false,
      speakTo: [11],
      hearFrom: null,
    });
    await port.addMember('room', 'mod', {
      muted: true,
      deaf: false,
      speakTo: 'all',
      hearFrom: ['agent', 'gone'],
    });
    expect(engine.routing.get('room/11')).toEqual({
      muted: true,
      deaf: false,
      speakTo: null,
      hearFrom: [12],
    });
    expect(engine.calls).toEqual([
      'conference room 48000 2',
      'join room 12',
      'join room 11',
      'route room 12',
    ]);
    await port.removeMember('room', 'agent');
    expect(engine.calls.at(-1)).toBe('leave room 12');
  });

  it('routes DTMF, talking and RTP timeouts to the leg that owns the endpoint', () => {
    const { port, addLeg } = setup();
    const events = addLeg('a', 5);
    port.onEngineEvent({ type: 'dtmf', endpoint: 5, digit: '7', durationMs: 100 });
    port.onEngineEvent({ type: 'talking', endpoint: 5, talking: true, level: -20 });
    port.onEngineEvent({ type: 'talking', endpoint: 5, talking: false, level: -60 });
    port.onEngineEvent({ type: 'dtmf', endpoint: 99, digit: '1', durationMs: 100 });
    port.onEngineEvent({ type: 'rtp-timeout', endpoint: 5 });
    expect(events).toEqual(['dtmf 7', 'talking', 'silent', 'timeout']);
  });

  it('records under the recordings folder and resolves done with the duration on stop', async () => {
    const { engine, port, addLeg } = setup();
    addLeg('a', 4);
    await port.openConference('room', { rate: 16000 } as never);
    const mix = await port.startRecording({
      conference: 'room',
      direction: 'both',
      file: '../../etc/passwd',
    });
    expect(mix.file).toBe('_/_/etc/passwd.wav');
    const one = await port.startRecording({ conference: 'room', leg: 'a', direction: 'in', file: 'a' });
    expect(engine.calls.filter((c) => c.startsWith('record'))).toEqual([
      `record 1 room ${recDir}/_/_/etc/passwd.wav`,
      `record 2 ep4/in ${recDir}/a.wav`,
    ]);
    await expect(mix.stop()).resolves.toEqual({ file: '_/_/etc/passwd.wav', durationMs: 1234 });
    // The engine closes a participant's recording when the participant goes.
    port.onEngineEvent({ type: 'recorder', recorder: 2, state: 'closed', durationMs: 900 });
    await expect(one.done).resolves.toEqual({ file: 'a.wav', durationMs: 900 });
  });
});

describe('recordingFileName', () => {
  it('keeps names inside the folder and adds .wav', () => {
    expect(recordingFileName('team/standup-c12')).toBe('team/standup-c12.wav');
    expect(recordingFileName('x.wav')).toBe('x.wav');
    expect(recordingFileName('/abs/../x y')).toBe('abs/_/x_y.wav');
    expect(recordingFileName('')).toBe('recording.wav');
  });
});

describe('endpointConfig', () => {
  it('uses the PCM rate of G.722, not its RTP clock, and carries telephone-event', () => {
    const config = endpointConfig({
      remote: {
        address: '127.0.0.1',
        port: 4000,
        rtcpPort: 4001,
        rtcpMux: false,
        direction: 'sendrecv',
        codecs: [],
        telephoneEvents: [],
      },
      codec: { id: 'g722', payloadType: 9, name: 'G722', rate: 8000, channels: 1 },
      telephoneEvent: { payloadType: 101, rate: 8000 },
      direction: 'sendrecv',
      ptime: 20,
      rtcpMux: false,
    });
    expect(config).toEqual({
      remote: { address: '127.0.0.1', port: 4000, rtcpPort: 4001 },
      send: { codec: 'g722', payloadType: 9, rate: 16000, ptime: 20 },
      receive: {
        payloadTypes: { 9: { codec: 'g722', rate: 16000 } },
        telephoneEvent: { payloadType: 101, rate: 8000 },
      },
      direction: 'sendrecv',
    });
  });
});
