/** Tone generation and detection for audio tests. */

/** A sine tone as PCM16 samples. `phase0` continues a tone across frames. */
export function tone(freq: number, rate: number, samples: number, amplitude = 8000, phase0 = 0): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) {
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * (phase0 + i)) / rate));
  }
  return out;
}

/**
 * Power of one frequency in a block, relative to the block's total power (0..1):
 * the Goertzel algorithm, which needs no FFT for a handful of frequencies.
 */
export function goertzel(samples: Int16Array, freq: number, rate: number): number {
  const k = (2 * Math.cos((2 * Math.PI * freq) / rate)) as number;
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (const x of samples) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += x * x;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return energy === 0 ? 0 : power / ((energy * samples.length) / 2);
}
