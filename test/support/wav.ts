/**
 * WAV files for end-to-end tests: write the tones real clients send, read back what they
 * recorded (baresip's sndfile dumps, Parley's recordings), and measure tones and speech over
 * time windows.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { goertzel } from './goertzel.js';

export interface Pcm {
  rate: number;
  /** Mono samples (multi-channel files are averaged down). */
  samples: Int16Array;
}

/** Writes mono 16-bit PCM as a canonical 44-byte-header WAV file. */
export function writeWav(file: string, pcm: Pcm): void {
  const dataBytes = pcm.samples.length * 2;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(pcm.rate, 24);
  buf.writeUInt32LE(pcm.rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < pcm.samples.length; i++) buf.writeInt16LE(pcm.samples[i]!, 44 + i * 2);
  writeFileSync(file, buf);
}

/** A sine tone file: `seconds` long at `rate`, amplitude about -12 dBFS. */
export function writeToneWav(
  file: string,
  freq: number,
  seconds: number,
  rate = 16000,
  amplitude = 8000,
): void {
  const n = Math.round(seconds * rate);
  const samples = new Int16Array(n);
  const w = (2 * Math.PI * freq) / rate;
  for (let i = 0; i < n; i++) samples[i] = Math.round(amplitude * Math.sin(w * i));
  writeWav(file, { rate, samples });
}

/**
 * Reads a 16-bit PCM or 32-bit float WAV file into mono PCM16. Tolerates files whose writer
 * was killed before it fixed the header (RIFF/data sizes of 0 or past the end): the data
 * then runs to the end of the file.
 */
export function readWav(file: string): Pcm {
  const buf = readFileSync(file);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${file}: not a RIFF/WAVE file`);
  }
  let pos = 12;
  let format = 0;
  let channels = 0;
  let rate = 0;
  let bits = 0;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      format = buf.readUInt16LE(body);
      channels = buf.readUInt16LE(body + 2);
      rate = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
      // WAVE_FORMAT_EXTENSIBLE carries the real format in its sub-format GUID.
      if (format === 0xfffe && size >= 26) format = buf.readUInt16LE(body + 24);
    } else if (id === 'data') {
      if (!rate || !channels) throw new Error(`${file}: data chunk before fmt chunk`);
      const end = size === 0 || body + size > buf.length ? buf.length : body + size;
      return { rate, samples: toMono(buf.subarray(body, end), format, bits, channels, file) };
    }
    pos = body + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

function toMono(data: Buffer, format: number, bits: number, channels: number, file: string): Int16Array {
  let read: (offset: number) => number;
  let width: number;
  if (format === 1 && bits === 16) {
    width = 2;
    read = (o) => data.readInt16LE(o);
  } else if (format === 3 && bits === 32) {
    width = 4;
    read = (o) => Math.max(-32768, Math.min(32767, Math.round(data.readFloatLE(o) * 32767)));
  } else {
    throw new Error(`${file}: unsupported WAV format ${format}/${bits} bits`);
  }
  const frame = width * channels;
  const frames = Math.floor(data.length / frame);
  const out = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += read(f * frame + c * width);
    out[f] = Math.round(sum / channels);
  }
  return out;
}

/** Concatenates recordings of the same rate (a client that re-negotiated writes several files). */
export function concatPcm(parts: readonly Pcm[]): Pcm {
  if (parts.length === 0) throw new Error('no recordings to join');
  const rate = parts[0]!.rate;
  const total = parts.reduce((n, p) => n + p.samples.length, 0);
  const samples = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    if (p.rate !== rate) throw new Error(`recordings differ in rate: ${rate} and ${p.rate}`);
    samples.set(p.samples, at);
    at += p.samples.length;
  }
  return { rate, samples };
}

/** The part of a recording between two times in seconds (clamped to the recording). */
export function slice(pcm: Pcm, fromS: number, toS = Number.POSITIVE_INFINITY): Pcm {
  const a = Math.max(0, Math.round(fromS * pcm.rate));
  const b = Math.min(pcm.samples.length, Math.round(Math.min(toS, pcm.samples.length / pcm.rate) * pcm.rate));
  return { rate: pcm.rate, samples: pcm.samples.subarray(a, Math.max(a, b)) };
}

export function durationS(pcm: Pcm): number {
  return pcm.samples.length / pcm.rate;
}

/** Root-mean-square level in dBFS (-Infinity for digital silence). */
export function rmsDb(samples: Int16Array): number {
  if (samples.length === 0) return Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const x of samples) sum += x * x;
  const rms = Math.sqrt(sum / samples.length);
  return rms === 0 ? Number.NEGATIVE_INFINITY : 20 * Math.log10(rms / 32768);
}

export interface ToneWindow {
  /** Start of the window in seconds from the start of the recording. */
  at: number;
  /** Level of the whole window in dBFS. */
  db: number;
  /** Share of the window's power at each frequency asked for (0..1, Goertzel). */
  share: Record<number, number>;
}

/**
 * Tone content over consecutive windows. Windows are long (default 200 ms) so that the
 * Goertzel bins are narrow enough (5 Hz) to tell 440/880/1320 Hz apart from speech.
 */
export function toneWindows(pcm: Pcm, freqs: readonly number[], windowS = 0.2): ToneWindow[] {
  const n = Math.max(1, Math.round(windowS * pcm.rate));
  const out: ToneWindow[] = [];
  for (let a = 0; a + n <= pcm.samples.length; a += n) {
    const block = pcm.samples.subarray(a, a + n);
    const share: Record<number, number> = {};
    for (const f of freqs) share[f] = goertzel(block, f, pcm.rate);
    out.push({ at: a / pcm.rate, db: rmsDb(block), share });
  }
  return out;
}

/**
 * Power share of a frequency over a stretch: the median over 100 ms windows that are not
 * silent. The median ignores the odd window spoiled by a dropped or concealed frame (a phase
 * jump cancels a tone within its window), which `discontinuities` counts separately.
 */
export function toneShare(pcm: Pcm, freq: number, windowS = 0.1): number {
  const shares = toneWindows(pcm, [freq], windowS)
    .filter((w) => w.db > -60)
    .map((w) => w.share[freq] ?? 0)
    .sort((x, y) => x - y);
  if (shares.length === 0) return 0;
  return shares[Math.floor(shares.length / 2)]!;
}

/**
 * Breaks in a steady tone, per second: 50 ms blocks whose phase against the ideal tone
 * jumps by more than 20 degrees or whose amplitude strays 20% from the median (a frame
 * lost, replaced by silence, or time-shifted by a jitter buffer). 50 ms blocks keep
 * 440/880/1320 Hz orthogonal (all multiples of 20 Hz), so the other tones in a mix do not
 * leak into the measure.
 */
export function discontinuities(pcm: Pcm, freq: number): number {
  const n = Math.round(pcm.rate / 20);
  const blocks: Array<{ phase: number; amp: number }> = [];
  for (let b = 0; b + n <= pcm.samples.length; b += n) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < n; i++) {
      const w = (2 * Math.PI * freq * (b + i)) / pcm.rate;
      re += pcm.samples[b + i]! * Math.cos(w);
      im -= pcm.samples[b + i]! * Math.sin(w);
    }
    blocks.push({ phase: Math.atan2(im, re), amp: (2 * Math.hypot(re, im)) / n });
  }
  if (blocks.length < 2) return 0;
  const amps = blocks.map((x) => x.amp).sort((x, y) => x - y);
  const median = amps[Math.floor(amps.length / 2)]!;
  let breaks = 0;
  let broken = false;
  for (let i = 1; i < blocks.length; i++) {
    let d = blocks[i]!.phase - blocks[i - 1]!.phase;
    while (d > Math.PI) d -= 2 * Math.PI;
    while (d < -Math.PI) d += 2 * Math.PI;
    const bad = Math.abs(d) > Math.PI / 9 || Math.abs(blocks[i]!.amp - median) > 0.2 * median;
    // One break may span several blocks: count the start of each run.
    if (bad && !broken) breaks++;
    broken = bad;
  }
  return breaks / (blocks.length / 20);
}

/**
 * Stretches of sound the given tones do not explain, each at least `minRunS` long: a TTS
 * announcement shows as windows whose residual level (total power minus the tones' share)
 * is above `minDb`, even while the tones go on underneath; a lone window spoiled by a
 * dropped frame does not make a run. Times are seconds from the start of `pcm`.
 */
export function speechRuns(
  pcm: Pcm,
  tones: readonly number[],
  minDb = -40,
  windowS = 0.1,
  minRunS = 0.3,
): Array<{ at: number; seconds: number }> {
  const runs: Array<{ at: number; seconds: number }> = [];
  let start = -1;
  let count = 0;
  const flush = (): void => {
    if (count > 0 && count * windowS >= minRunS - 1e-9) runs.push({ at: start, seconds: count * windowS });
    count = 0;
  };
  for (const w of toneWindows(pcm, tones, windowS)) {
    const explained = Math.min(
      0.999,
      tones.reduce((sum, f) => sum + (w.share[f] ?? 0), 0),
    );
    if (w.db + 10 * Math.log10(1 - explained) > minDb) {
      if (count === 0) start = w.at;
      count++;
    } else flush();
  }
  flush();
  return runs;
}

/** Total seconds of speech (see speechRuns). */
export function speechSeconds(pcm: Pcm, tones: readonly number[], minDb = -40): number {
  return speechRuns(pcm, tones, minDb).reduce((sum, r) => sum + r.seconds, 0);
}

/** A description of a recording's content for assertion messages. */
export function describePcm(pcm: Pcm, freqs: readonly number[], windowS = 1): string {
  return toneWindows(pcm, freqs, windowS)
    .map(
      (w) =>
        `${w.at.toFixed(1)}s ${w.db.toFixed(0)}dB ${freqs.map((f) => `${f}:${(w.share[f] ?? 0).toFixed(2)}`).join(' ')}`,
    )
    .join('\n');
}
