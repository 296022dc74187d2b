import { describe, expect, it } from 'vitest';
import { loadNativeEngine, type VadFrame } from '../../src/media/native.js';
import { tone } from '../support/goertzel.js';

const { Vad } = loadNativeEngine();
const FRAME = 160; // 20 ms at 8 kHz

/** Low white noise (about -60 dBov) from a fixed-seed generator. */
function noise(seed: number): Int16Array {
  const out = new Int16Array(FRAME);
  let s = seed || 1;
  for (let i = 0; i < FRAME; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = ((s >>> 16) % 61) - 30;
  }
  return out;
}

describe('voice activity detector', () => {
  it('measures level in dBov', () => {
    const vad = new Vad();
    expect(vad.process(tone(1000, 8000, FRAME, 32767)).level).toBeCloseTo(-3, 0);
    expect(vad.process(tone(1000, 8000, FRAME, 3277)).level).toBeCloseTo(-23, 0);
    expect(vad.process(new Int16Array(FRAME)).level).toBe(-96);
  });

  it('starts on speech over noise, holds through short gaps, stops after the hangover', () => {
    const vad = new Vad();
    const frames: VadFrame[] = [];
    for (let f = 0; f < 50; f++) frames.push(vad.process(noise(f)));
    expect(frames.some((r) => r.talking)).toBe(false);

    const speechStart = frames.length;
    for (let f = 0; f < 25; f++) frames.push(vad.process(tone(300, 8000, FRAME, 6000, f * FRAME)));
    // A 100 ms pause between words must not end the talk spurt.
    for (let f = 0; f < 5; f++) frames.push(vad.process(noise(100 + f)));
    for (let f = 0; f < 25; f++) frames.push(vad.process(tone(300, 8000, FRAME, 6000, f * FRAME)));
    const speechEnd = frames.length;
    for (let f = 0; f < 40; f++) frames.push(vad.process(noise(200 + f)));

    const events = frames.flatMap((r, i) => (r.changed ? [{ i, talking: r.talking }] : []));
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({ i: speechStart + 1, talking: true });
    expect(events[1]?.talking).toBe(false);
    expect(events[1]?.i).toBe(speechEnd + 14);
  });

  it('adapts to a steady loud noise floor instead of calling it speech forever', () => {
    const vad = new Vad();
    const hum = (f: number) => tone(50, 8000, FRAME, 800, f * FRAME);
    let last: VadFrame | undefined;
    for (let f = 0; f < 1000; f++) last = vad.process(hum(f));
    expect(last?.talking).toBe(false);
  });
});
