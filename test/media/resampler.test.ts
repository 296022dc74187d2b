import { describe, expect, it } from 'vitest';
import { loadNativeEngine } from '../../src/media/native.js';
import { goertzel, tone } from '../support/goertzel.js';

const { Resampler } = loadNativeEngine();

/** Resamples a 1 kHz tone in 20 ms chunks; returns the output after the filter settles. */
function convert(inRate: number, outRate: number): Int16Array {
  const rs = new Resampler(inRate, outRate);
  const frame = inRate / 50;
  const out: number[] = [];
  let total = 0;
  for (let f = 0; f < 50; f++) {
    const chunk = rs.process(tone(1000, inRate, frame, 8000, f * frame));
    total += chunk.length;
    if (f >= 5) out.push(...chunk);
  }
  // Over a second the output length matches the rate ratio, give or take the filter delay.
  expect(Math.abs(total - outRate)).toBeLessThan(outRate / 50);
  return Int16Array.from(out);
}

describe('speexdsp resampler', () => {
  for (const [from, to] of [
    [8000, 48000],
    [48000, 8000],
    [16000, 48000],
    [48000, 16000],
    [8000, 16000],
  ] as const) {
    it(`keeps a 1 kHz tone at 1 kHz from ${from} to ${to} Hz`, () => {
      const pcm = convert(from, to);
      const at1k = goertzel(pcm, 1000, to);
      expect(at1k).toBeGreaterThan(20 * goertzel(pcm, 1500, to));
      expect(at1k).toBeGreaterThan(20 * goertzel(pcm, 700, to));
    });
  }

  it('refuses bad rates and non-Int16Array input', () => {
    expect(() => new Resampler(0, 8000)).toThrow(RangeError);
    const rs = new Resampler(8000, 16000);
    // @ts-expect-error: a Float32Array is the mistake under test
    expect(() => rs.process(new Float32Array(160))).toThrow(TypeError);
  });
});
