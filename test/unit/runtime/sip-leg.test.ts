import { describe, expect, it } from 'vitest';
import { MediaEngineError } from '../../../src/media/engine.js';
import type { MediaEngineApi } from '../../../src/runtime/live/media-api.js';
import { bareAddress, SipCallLeg, userPart } from '../../../src/runtime/live/sip-leg.js';
import type { Logger } from '../../../src/runtime/ports.js';
import type { InboundCall } from '../../../src/sip/inbound.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** An inbound call that records the final response it was told to send. */
function fakeCall(offer = true) {
  const sent: string[] = [];
  let ended = false;
  const call = {
    callId: 'abc@host',
    offer: offer ? {} : undefined,
    get isEnded() {
      return ended;
    },
    on() {
      return call;
    },
    reject(status: number, reason: string) {
      sent.push(`${status} ${reason}`);
      ended = true;
    },
    ringing() {
      sent.push('180');
    },
    earlyMedia() {
      throw Object.assign(new Error('no common codec'), { status: 488 });
    },
    answer: async () => {
      throw new Error('not reached');
    },
  };
  return { call: call as unknown as InboundCall, sent };
}

function engineWithoutPorts(): MediaEngineApi {
  return {
    createEndpoint() {
      throw new MediaEngineError('PORTS_EXHAUSTED', 'no free RTP port in 31600-31799');
    },
  } as unknown as MediaEngineApi;
}

function leg(call: InboundCall, engine: MediaEngineApi) {
  return new SipCallLeg(
    'c1',
    call,
    engine,
    { advertise: '127.0.0.1', latching: false },
    quiet,
    () => {},
    { from: 'alice@example.com', to: 'conf-1', source: '127.0.0.1', transport: 'udp', headers: {} },
    'inbound',
  );
}

describe('SipCallLeg', () => {
  it('refuses the call with 503 when no RTP port is free, instead of leaving it at 100 Trying', async () => {
    const { call, sent } = fakeCall();
    const l = leg(call, engineWithoutPorts());
    await expect(l.answer({ early: false })).rejects.toThrow(/no free RTP port/);
    expect(sent).toEqual(['503 Service Unavailable']);
    expect(l.state).toBe('ended');
  });

  it('refuses with the SDP status when early media cannot be answered', async () => {
    const { call, sent } = fakeCall();
    const engine = {
      createEndpoint: () => ({ id: 1, port: 30000 }),
      destroyEndpoint() {},
    } as unknown as MediaEngineApi;
    await expect(leg(call, engine).answer({ early: true })).rejects.toThrow(/no common codec/);
    expect(sent).toEqual(['488 no common codec']);
  });

  it('only rings for early media when the INVITE had no offer', async () => {
    const { call, sent } = fakeCall(false);
    await leg(call, engineWithoutPorts()).answer({ early: true });
    expect(sent).toEqual(['180']);
  });
});

describe('caller addresses', () => {
  it('drops scheme, port and parameters', () => {
    expect(bareAddress('sip:alice@example.com:5060;transport=tcp')).toBe('alice@example.com');
    expect(bareAddress('<sips:bob@10.0.0.1>')).toBe('bob@10.0.0.1');
    expect(userPart('sip:conf-1234@127.0.0.1:5099')).toBe('conf-1234');
  });
});

describe('staticSpeech', () => {
  it('lists the fixed sentences of the shipped examples once each, without templates', async () => {
    const { compilePaths } = await import('../../../src/compiler/index.js');
    const { staticSpeech } = await import('../../../src/runtime/live/prewarm.js');
    const set = compilePaths(['conferences/']).set;
    if (!set) throw new Error('the examples must compile');
    const texts = staticSpeech(set).map((s) => s.text);
    expect(texts).toContain('Goodbye.');
    expect(texts).toContain('That code is not valid.');
    expect(texts.some((t) => t.includes('${'))).toBe(false);
    expect(new Set(texts).size).toBe(texts.length);
    expect(staticSpeech(set, 3)).toHaveLength(3);
  });
});
