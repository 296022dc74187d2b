/** Deterministic RTP packet scripts for receive-pipeline tests: packets, a seeded PRNG and a virtual clock. */
import type { NativeEncoder, NativeEngine, NativeReceiveStream } from '../../src/media/native.js';
import { tone } from './goertzel.js';

/** A 12-byte RTP header plus payload. */
export function rtpPacket(
  h: { pt: number; seq: number; ts: number; ssrc: number; marker?: boolean },
  payload: Buffer,
): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = (h.marker ? 0x80 : 0) | (h.pt & 0x7f);
  b.writeUInt16BE(h.seq & 0xffff, 2);
  b.writeUInt32BE(h.ts >>> 0, 4);
  b.writeUInt32BE(h.ssrc >>> 0, 8);
  payload.copy(b, 12);
  return b;
}

/** xorshift32: the same sequence for the same seed, so a failure reproduces. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

export interface Scheduled {
  at: number;
  packet: Buffer;
}

export interface ToneStreamOptions {
  codec: 'pcmu' | 'opus' | 'g722';
  pt: number;
  ptimeMs: number;
  packets: number;
  ssrc?: number;
  seq0?: number;
  ts0?: number;
  /** First packet's send time (ms). */
  start?: number;
  freq?: number;
  /** Sender clock relative to ours: 1.01 sends 1 % fast. */
  clock?: number;
}

const RATE: Record<ToneStreamOptions['codec'], number> = { pcmu: 8000, opus: 48000, g722: 16000 };
const CLOCK: Record<ToneStreamOptions['codec'], number> = { pcmu: 8000, opus: 48000, g722: 8000 };

/** A continuous tone, one packet per ptime, sent on the sender's (possibly skewed) clock. */
export function toneStream(engine: NativeEngine, o: ToneStreamOptions): Scheduled[] {
  const rate = RATE[o.codec];
  const clock = CLOCK[o.codec];
  const samples = (rate * o.ptimeMs) / 1000;
  const enc: NativeEncoder = new engine.Encoder(o.codec);
  const out: Scheduled[] = [];
  for (let k = 0; k < o.packets; k++) {
    const pcm = tone(o.freq ?? 1000, rate, samples, 8000, k * samples);
    const payload = enc.encode(pcm);
    out.push({
      at: (o.start ?? 0) + (k * o.ptimeMs) / (o.clock ?? 1),
      packet: rtpPacket(
        {
          pt: o.pt,
          seq: (o.seq0 ?? 1000) + k,
          ts: (o.ts0 ?? 5000) + (k * samples * clock) / rate,
          ssrc: o.ssrc ?? 0x1234,
          marker: k === 0,
        },
        payload,
      ),
    });
  }
  return out;
}

export interface Frame {
  at: number;
  kind: 'audio' | 'concealed' | 'silence';
  pcm: Int16Array;
}

/** Delivers packets in arrival order and pulls one frame every 20 ms from t0 to t1 (virtual clock). */
export function play(stream: NativeReceiveStream, schedule: Scheduled[], t0: number, t1: number): Frame[] {
  const sorted = [...schedule].sort((a, b) => a.at - b.at);
  const frames: Frame[] = [];
  let i = 0;
  for (let t = t0; t <= t1; t += 20) {
    for (; i < sorted.length && sorted[i]!.at <= t; i++)
      stream.push(sorted[i]!.packet, Math.floor(sorted[i]!.at));
    const f = stream.pull(t);
    frames.push({ at: t, ...f });
  }
  return frames;
}

/** Phase (radians) of `freq` in a frame, from one DFT bin. */
export function phase(pcm: Int16Array, freq: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let n = 0; n < pcm.length; n++) {
    const w = (2 * Math.PI * freq * n) / rate;
    re += pcm[n]! * Math.cos(w);
    im -= pcm[n]! * Math.sin(w);
  }
  return Math.atan2(im, re);
}

/** Distance between two angles, 0..π. */
export function angleDiff(a: number, b: number): number {
  const d = Math.abs(a - b) % (2 * Math.PI);
  return d > Math.PI ? 2 * Math.PI - d : d;
}
