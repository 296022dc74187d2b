import { afterEach, describe, expect, it } from 'vitest';
import { tone } from '../support/goertzel.js';
import {
  ABSENT,
  endpointConfig,
  type Harness,
  HEARD,
  openEngine,
  party,
  share,
  teardown,
} from '../support/rtp-engine.js';
import { sleep } from '../support/rtp-peer.js';

let h: Harness | undefined;
afterEach(async () => {
  if (h) await teardown(h);
  h = undefined;
});

async function threeParties(harness: Harness) {
  harness.engine.createConference('c', { rate: 16000, loudest: 3 });
  const a = await party(harness, 'pcmu', 440, 'c');
  const b = await party(harness, 'pcmu', 880, 'c');
  const c = await party(harness, 'pcmu', 1320, 'c');
  return { a, b, c };
}

/** Lets a routing change settle (jitter buffer and one tick), then measures one second. */
async function window(): Promise<number> {
  await sleep(300);
  const from = performance.now();
  await sleep(800);
  return from;
}

describe('engine routing', () => {
  it('mute: the others stop hearing that tone; unmute brings it back', async () => {
    h = openEngine();
    const { a, b, c } = await threeParties(h);
    await sleep(300);
    h.engine.updateRouting('c', a.id, { muted: true });
    const from = await window();
    expect(share(b, 440, from)).toBeLessThan(ABSENT);
    expect(share(c, 440, from)).toBeLessThan(ABSENT);
    expect(share(b, 1320, from)).toBeGreaterThan(HEARD);
    expect(share(a, 880, from)).toBeGreaterThan(HEARD);
    h.engine.updateRouting('c', a.id, { muted: false });
    const again = await window();
    expect(share(b, 440, again)).toBeGreaterThan(HEARD);
  });

  it('deaf: that party hears nothing while the others still hear it', async () => {
    h = openEngine();
    const { a, b } = await threeParties(h);
    h.engine.updateRouting('c', a.id, { deaf: true });
    const from = await window();
    const heard = a.peer.heard(from);
    let energy = 0;
    for (const s of heard) energy += s * s;
    expect(heard.length).toBeGreaterThan(4000); // silence still flows, so the phone keeps its stream
    expect(Math.sqrt(energy / heard.length)).toBeLessThan(50);
    expect(share(b, 440, from)).toBeGreaterThan(HEARD);
  });

  it('one-way: A speaks only to B; C hears only B', async () => {
    h = openEngine();
    const { a, b, c } = await threeParties(h);
    h.engine.updateRouting('c', a.id, { speakTo: [b.id] });
    h.engine.updateRouting('c', c.id, { hearFrom: [b.id] });
    const from = await window();
    expect(share(b, 440, from)).toBeGreaterThan(HEARD);
    expect(share(c, 440, from)).toBeLessThan(ABSENT);
    expect(share(c, 880, from)).toBeGreaterThan(HEARD);
    expect(share(a, 1320, from)).toBeGreaterThan(HEARD);
  });

  it('play to one participant: only it hears the prompt; finished event at its end', async () => {
    h = openEngine();
    const { a, b, c } = await threeParties(h);
    const prompt = tone(2000, 8000, 8000 * 1.5, 6000);
    const player = h.engine.play({ endpoint: b.id }, prompt, 8000);
    const done = h.engine.playerDone(player);
    const from = await window();
    expect(share(b, 2000, from)).toBeGreaterThan(HEARD);
    expect(share(b, 440, from)).toBeGreaterThan(HEARD);
    expect(share(a, 2000, from)).toBeLessThan(ABSENT);
    expect(share(c, 2000, from)).toBeLessThan(ABSENT);
    expect(await done).toBe('finished');
    expect(h.events).toContainEqual({ type: 'player', player, state: 'finished' });
  });

  it('play to the conference: everyone hears it, even a member who hears only one other; stop ends it', async () => {
    h = openEngine();
    const { a, b, c } = await threeParties(h);
    h.engine.updateRouting('c', c.id, { hearFrom: [b.id] });
    const player = h.engine.play({ conference: 'c' }, tone(2000, 16000, 1600, 6000), 16000, { loop: true });
    const done = h.engine.playerDone(player);
    const from = await window();
    for (const p of [a, b, c]) expect(share(p, 2000, from)).toBeGreaterThan(HEARD);
    h.engine.stopPlayer(player);
    expect(await done).toBe('stopped');
    const after = await window();
    for (const p of [a, b, c]) expect(share(p, 2000, after)).toBeLessThan(ABSENT);
  });

  it('an endpoint outside any conference still gets its prompt and delivers DTMF', async () => {
    h = openEngine();
    const lone = await party(h, 'pcmu', undefined);
    h.engine.play({ endpoint: lone.id }, tone(1000, 8000, 8000, 6000), 8000);
    const from = await window();
    expect(share(lone, 1000, from)).toBeGreaterThan(HEARD);
    lone.peer.sendDtmf('5', 100);
    lone.peer.sendDtmf('#', 100);
    await sleep(600);
    const keys = h.events.filter((e) => e.type === 'dtmf');
    expect(keys.map((e) => (e.type === 'dtmf' ? e.digit : ''))).toEqual(['5', '#']);
    expect(keys.every((e) => e.type === 'dtmf' && e.endpoint === lone.id && e.durationMs >= 80)).toBe(true);
  });
});

describe('engine talking detection', () => {
  it('talking events with the level when a party starts and stops; level and talking in its stats', async () => {
    h = openEngine();
    h.engine.createConference('c', { rate: 16000 });
    const a = await party(h, 'pcmu', undefined, 'c');
    await party(h, 'pcmu', undefined, 'c');
    // Quiet first, so the detector learns the noise floor of silence.
    a.peer.setTone(undefined);
    await sleep(300);
    a.peer.setTone(440);
    await sleep(500);
    const during = h.engine.endpointStats(a.id);
    expect(during.talking).toBe(true);
    expect(during.level).toBeGreaterThan(-30);
    a.peer.setTone(undefined);
    await sleep(800);
    const talk = h.events.filter((e) => e.type === 'talking');
    expect(talk.map((e) => (e.type === 'talking' ? [e.endpoint, e.talking] : []))).toEqual([
      [a.id, true],
      [a.id, false],
    ]);
    const start = talk[0];
    expect(start?.type === 'talking' && start.level > -30).toBe(true);
    expect(h.engine.endpointStats(a.id).talking).toBe(false);
  });
});

describe('engine gain and direction', () => {
  it('per-participant gain scales that voice in the mix', async () => {
    h = openEngine();
    const harness = h;
    h.engine.createConference('c', { rate: 8000 });
    const a = await party(harness, 'l16', 440, 'c');
    const b = await party(harness, 'l16', undefined, 'c');
    const rms = (from: number) => {
      const pcm = b.peer.heard(from);
      let e = 0;
      for (const x of pcm) e += x * x;
      return Math.sqrt(e / Math.max(1, pcm.length));
    };
    const full = await window();
    const loud = rms(full);
    h.engine.updateRouting('c', a.id, { gain: 0.25 });
    const quiet = rms(await window());
    expect(loud).toBeGreaterThan(3000);
    expect(quiet / loud).toBeGreaterThan(0.2);
    expect(quiet / loud).toBeLessThan(0.3);
  });

  it('recvonly gets nothing sent; sendonly is not mixed and its packets are counted as discarded', async () => {
    h = openEngine();
    h.engine.createConference('c', { rate: 8000 });
    const a = await party(h, 'pcmu', 440, 'c');
    const b = await party(h, 'pcmu', 880, 'c');
    const c = await party(h, 'pcmu', 1320, 'c');
    h.engine.configureEndpoint(a.id, endpointConfig('pcmu', a.peer.port, 'recvonly'));
    h.engine.configureEndpoint(b.id, endpointConfig('pcmu', b.peer.port, 'sendonly'));
    const from = await window();
    expect(a.peer.heard(from).length).toBe(0);
    expect(share(c, 440, from)).toBeGreaterThan(HEARD);
    expect(share(c, 880, from)).toBeLessThan(ABSENT);
    expect(share(b, 440, from)).toBeGreaterThan(HEARD);
    expect(h.engine.endpointStats(b.id).discarded.direction).toBeGreaterThan(20);
    h.engine.configureEndpoint(c.id, endpointConfig('pcmu', c.peer.port, 'inactive'));
    const later = await window();
    expect(c.peer.heard(later).length).toBe(0);
    expect(share(b, 1320, later)).toBeLessThan(ABSENT);
  });
});

describe('engine PCM buffers', () => {
  it('one buffer played to several endpoints and into the conference; releasing it while playing is safe', async () => {
    h = openEngine();
    const { a, b, c } = await threeParties(h);
    const buffer = h.engine.createBuffer(tone(2000, 8000, 8000 * 2, 6000), 8000);
    expect(buffer.durationMs).toBe(2000);
    const pa = h.engine.play({ endpoint: a.id }, buffer, buffer.rate);
    const pb = h.engine.play({ endpoint: b.id }, buffer, buffer.rate);
    h.engine.releaseBuffer(buffer);
    const from = await window();
    expect(share(a, 2000, from)).toBeGreaterThan(HEARD);
    expect(share(b, 2000, from)).toBeGreaterThan(HEARD);
    expect(share(c, 2000, from)).toBeLessThan(ABSENT);
    expect(pa).not.toBe(pb);
    expect(() => h?.engine.play({ conference: 'c' }, buffer, 8000)).toThrow(/no PCM buffer/);
    expect(() => h?.engine.releaseBuffer(buffer)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_BUFFER' }),
    );
  });
});
