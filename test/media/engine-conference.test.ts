import { afterEach, describe, expect, it } from 'vitest';
import type { CodecName } from '../../src/media/native.js';
import { goertzel } from '../support/goertzel.js';
import {
  ABSENT,
  type Harness,
  HEARD,
  openEngine,
  type Party,
  party,
  share,
  teardown,
} from '../support/rtp-engine.js';
import { RtpPeer, sleep } from '../support/rtp-peer.js';

const TONES = [440, 880, 1320];
let h: Harness | undefined;
afterEach(async () => {
  if (h) await teardown(h);
  h = undefined;
});

/** Each party hears the other two tones and not its own. */
function expectNMinusOne(parties: Party[], from: number): void {
  parties.forEach((p, i) => {
    TONES.forEach((f, j) => {
      const s = share(p, f, from);
      if (i === j) expect(s, `party ${i} must not hear its own ${f} Hz`).toBeLessThan(ABSENT);
      else expect(s, `party ${i} hears ${f} Hz`).toBeGreaterThan(HEARD);
    });
  });
}

describe('engine conference over loopback RTP', () => {
  const cases: Array<[string, CodecName[], 8000 | 16000 | 48000]> = [
    ['PCMU', ['pcmu', 'pcmu', 'pcmu'], 8000],
    ['G.722', ['g722', 'g722', 'g722'], 16000],
    ['Opus', ['opus', 'opus', 'opus'], 48000],
    ['PCMU + G.722 + Opus at 16 kHz', ['pcmu', 'g722', 'opus'], 16000],
    ['PCMU + G.722 + Opus at 48 kHz', ['pcmu', 'g722', 'opus'], 48000],
  ];
  for (const [name, codecs, rate] of cases) {
    it(`3 parties in ${name}: each hears the other two tones, not its own`, async () => {
      h = openEngine();
      h.engine.createConference('c', { rate, loudest: 3 });
      const harness = h;
      const parties = await Promise.all(codecs.map((c, i) => party(harness, c, TONES[i], 'c')));
      await sleep(600);
      const from = performance.now();
      await sleep(1000);
      expectNMinusOne(parties, from);
      const stats = h.engine.endpointStats(parties[0]!.id);
      expect(stats.packetsIn).toBeGreaterThan(50);
      expect(stats.packetsOut).toBeGreaterThan(50);
      expect(stats.codec).toBe(codecs[0]);
      expect(h.engine.conferenceStats('c').members).toBe(3);
    });
  }
});

describe('engine re-configuration during a call', () => {
  it('a re-INVITE to another codec keeps the call going; moving to another conference follows', async () => {
    h = openEngine();
    const harness = h;
    h.engine.createConference('c', { rate: 16000 });
    h.engine.createConference('d', { rate: 8000 });
    const a = await party(harness, 'pcmu', 440, 'c');
    const b = await party(harness, 'pcmu', 880, 'c');
    const other = await party(harness, 'pcmu', 1320, 'd');
    await sleep(300);
    // B switches to G.722: a new peer on the same endpoint, as after a re-INVITE with a new offer.
    b.peer.stop();
    const g722 = await RtpPeer.open({ codec: 'g722', payloadType: 9, freq: 880 });
    harness.peers.push(g722);
    h.engine.configureEndpoint(b.id, {
      remote: { address: '127.0.0.1', port: g722.port },
      send: { codec: 'g722', payloadType: 9 },
      receive: { payloadTypes: { 9: { codec: 'g722', rate: 16000 } } },
      direction: 'sendrecv',
    });
    g722.target('127.0.0.1', b.port);
    g722.start();
    await sleep(400);
    let from = performance.now();
    await sleep(800);
    expect(share(a, 880, from)).toBeGreaterThan(HEARD);
    expect(goertzel(g722.heard(from), 440, 16000)).toBeGreaterThan(HEARD);
    expect(h.engine.endpointStats(b.id).codec).toBe('g722');
    // A moves to conference d.
    h.engine.leave('c', a.id);
    h.engine.join('d', a.id);
    await sleep(300);
    from = performance.now();
    await sleep(800);
    expect(share(a, 1320, from)).toBeGreaterThan(HEARD);
    expect(share(a, 880, from)).toBeLessThan(ABSENT);
    expect(share(other, 440, from)).toBeGreaterThan(HEARD);
    expect(h.engine.endpointStats(a.id).conference).toBe('d');
  });
});
