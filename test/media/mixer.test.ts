import { describe, expect, it } from 'vitest';
import { loadNativeEngine, type NativeMixer } from '../../src/media/native.js';
import { goertzel, tone } from '../support/goertzel.js';

const { Mixer } = loadNativeEngine();
const RATE = 16000;
const FRAME = RATE / 50;
const TONES: Record<number, number> = { 1: 440, 2: 880, 3: 1320 };

/** Runs `ticks` ticks with every id in `talking` sending its tone; returns what each listener heard. */
function run(mixer: NativeMixer, talking: number[], ticks = 10) {
  const heard = new Map<number, number[]>();
  let groups = 0;
  for (let t = 0; t < ticks; t++) {
    const tick = mixer.mix(talking.map((id) => [id, tone(TONES[id] ?? 200, RATE, FRAME, 6000, t * FRAME)]));
    groups = tick.mixes.length;
    for (const [id, g] of Object.entries(tick.groupOf)) {
      const samples = heard.get(Number(id)) ?? [];
      samples.push(...(tick.mixes[g] as Int16Array));
      heard.set(Number(id), samples);
    }
  }
  const hears = (id: number, freq: number) => {
    const s = heard.get(id);
    return s ? goertzel(Int16Array.from(s), freq, RATE) > 0.1 : false;
  };
  return { hears, heard, groups };
}

function threeParty(): NativeMixer {
  const m = new Mixer(RATE, 3);
  for (const id of [1, 2, 3]) m.set(id, {});
  return m;
}

describe('native mixer', () => {
  it('each party hears the other two and not itself (N−1)', () => {
    const { hears } = run(threeParty(), [1, 2, 3]);
    for (const me of [1, 2, 3]) {
      for (const other of [1, 2, 3])
        expect(hears(me, TONES[other] as number), `${me} hears ${other}`).toBe(me !== other);
    }
  });

  it('a muted party is not heard; a deaf party hears nothing', () => {
    const m = threeParty();
    m.set(2, { muted: true });
    m.set(3, { deaf: true });
    const r = run(m, [1, 2, 3]);
    expect(r.hears(1, 880)).toBe(false);
    expect(r.hears(3, 440)).toBe(false);
    expect(r.heard.has(3)).toBe(false);
    expect(r.hears(2, 440)).toBe(true);
    expect(r.hears(2, 1320)).toBe(true);
  });

  it('one-way media: a whisper reaches only its target; listen-only and hear-from restrict', () => {
    const m = threeParty();
    m.set(3, { speakTo: [1] }); // 3 whispers to 1
    const r = run(m, [1, 2, 3]);
    expect(r.hears(1, 1320)).toBe(true);
    expect(r.hears(2, 1320)).toBe(false);
    expect(r.hears(2, 440)).toBe(true);

    const m2 = threeParty();
    m2.set(2, { hearFrom: [1] }); // 2 hears only 1
    const r2 = run(m2, [1, 2, 3]);
    expect(r2.hears(2, 440)).toBe(true);
    expect(r2.hears(2, 1320)).toBe(false);
  });

  it('mixes only the loudest N talkers', () => {
    const m = new Mixer(RATE, 1);
    for (const id of [1, 2, 3, 4]) m.set(id, {});
    m.set(2, { inGain: 2 }); // the loudest
    const tick = m.mix([1, 2, 3].map((id) => [id, tone(TONES[id] as number, RATE, FRAME, 4000)]));
    expect(tick.mixed).toEqual([2]);
    const r = run(m, [1, 2, 3]);
    expect(r.hears(4, 880)).toBe(true);
    expect(r.hears(4, 440)).toBe(false);
    expect(r.hears(4, 1320)).toBe(false);
  });

  it('listeners hearing the same mix share one group', () => {
    const m = new Mixer(RATE, 3);
    for (let id = 1; id <= 100; id++) m.set(id, {});
    const tick = m.mix([1, 2].map((id) => [id, tone(TONES[id] as number, RATE, FRAME)]));
    // 1 hears 2, 2 hears 1, the 98 others hear 1+2.
    expect(tick.mixes).toHaveLength(3);
    expect(new Set(Object.values(tick.groupOf)).size).toBe(3);
  });

  it('limits loud sums softly instead of wrapping around', () => {
    const m = new Mixer(RATE, 3);
    for (const id of [1, 2, 3, 4]) m.set(id, {});
    const loud = new Int16Array(FRAME).fill(30000);
    const tick = m.mix([
      [1, loud],
      [2, loud],
      [3, loud],
    ]);
    const heard = tick.mixes[tick.groupOf['4'] as number] as Int16Array;
    expect(Math.min(...heard)).toBeGreaterThan(30000);
    expect(Math.max(...heard)).toBeLessThanOrEqual(32767);
  });

  it('refuses bad arguments', () => {
    expect(() => new Mixer(44100 as 16000, 3)).toThrow(/rate must be 8000, 16000 or 48000/);
    const m = new Mixer(RATE, 3);
    m.set(1, {});
    expect(() => m.mix([[1, new Int16Array(10)]])).toThrow(/320 samples/);
    expect(() => m.set(1, { inGain: 100 })).toThrow(/gains/);
    expect(() => m.set(1, { speakTo: 'all' as unknown as number[] })).toThrow(/speakTo/);
  });
});
