import { describe, expect, it } from 'vitest';
import { type CodecName, loadNativeEngine } from '../../src/media/native.js';
import { goertzel, tone } from '../support/goertzel.js';

const { Encoder, Decoder } = loadNativeEngine();

/** Encodes a tone frame by frame and decodes it again; returns the decoded samples after warm-up. */
function roundTrip(codec: CodecName, freq: number, frames = 25): { pcm: Int16Array; bytes: number[] } {
  const enc = new Encoder(codec);
  const dec = new Decoder(codec);
  const frame = enc.rate / 50; // 20 ms
  const out: number[] = [];
  const bytes: number[] = [];
  for (let f = 0; f < frames; f++) {
    const payload = enc.encode(tone(freq, enc.rate, frame, 8000, f * frame));
    bytes.push(payload.length);
    const pcm = dec.decode(payload);
    if (f >= 5) out.push(...pcm); // codecs with look-ahead need a few frames to settle
  }
  return { pcm: Int16Array.from(out), bytes };
}

describe('native codecs', () => {
  const cases: Array<[CodecName, number, number]> = [
    ['pcmu', 8000, 160],
    ['pcma', 8000, 160],
    ['g722', 16000, 160],
    ['l16', 16000, 640],
  ];
  for (const [codec, rate, payloadBytes] of cases) {
    it(`${codec}: ${rate} Hz, ${payloadBytes}-byte payloads, the tone survives and no other appears`, () => {
      const { pcm, bytes } = roundTrip(codec, 440);
      expect(new Set(bytes)).toEqual(new Set([payloadBytes]));
      expect(goertzel(pcm, 440, rate)).toBeGreaterThan(0.8);
      expect(goertzel(pcm, 880, rate)).toBeLessThan(0.02);
      expect(goertzel(pcm, 1320, rate)).toBeLessThan(0.02);
    });
  }

  it('opus: 48 kHz, compressed payloads, the tone survives', () => {
    const { pcm, bytes } = roundTrip('opus', 880, 50);
    expect(Math.max(...bytes)).toBeLessThan(400);
    expect(goertzel(pcm, 880, 48000)).toBeGreaterThan(0.7);
    expect(goertzel(pcm, 440, 48000)).toBeLessThan(0.02);
  });

  it('G.711 matches the reference values of the standard', () => {
    const enc = new Encoder('pcmu');
    // µ-law: 0 → 0xFF, full positive → 0x80, full negative → 0x00.
    expect([...enc.encode(Int16Array.from([0, 32767, -32768]))]).toEqual([0xff, 0x80, 0x00]);
    const alaw = new Encoder('pcma');
    // A-law: the smallest positive step is 0xD5, the smallest negative 0x55.
    expect([...alaw.encode(Int16Array.from([0, -1]))]).toEqual([0xd5, 0x55]);
    const dec = new Decoder('pcmu');
    expect([...dec.decode(Buffer.from([0xff, 0x7f]))]).toEqual([0, 0]);
  });

  it('conceals a lost frame with audio that fades', () => {
    for (const codec of ['pcmu', 'g722', 'opus'] as const) {
      const enc = new Encoder(codec);
      const dec = new Decoder(codec);
      const frame = enc.rate / 50;
      for (let f = 0; f < 5; f++) dec.decode(enc.encode(tone(440, enc.rate, frame, 8000, f * frame)));
      const lost = dec.conceal(frame);
      expect(lost).toHaveLength(frame);
      expect(lost.some((x) => x !== 0)).toBe(true);
    }
  });

  it('refuses bad input with clear errors and never crashes', () => {
    expect(() => new Encoder('g729' as CodecName)).toThrow(/unknown codec "g729"/);
    expect(() => new Decoder('l16', 44100)).toThrow(/L16 rate must be 8000, 16000 or 48000/);
    const dec = new Decoder('opus');
    expect(() => dec.decode(Buffer.alloc(5000))).toThrow(/larger than 4000 bytes/);
    expect(() => (dec as unknown as { decode(x: unknown): unknown }).decode('x')).toThrow(/expects a Buffer/);
    expect(() => new Encoder('pcmu').encode(new Int16Array(6000))).toThrow(/longer than 120 ms/);
    expect(() => dec.conceal(0)).toThrow(/between 1 and 5760/);
  });

  it('survives random payloads in every decoder', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (const codec of ['pcmu', 'pcma', 'g722', 'opus', 'l16'] as const) {
      const dec = new Decoder(codec);
      for (let i = 0; i < 5000; i++) {
        const payload = Buffer.alloc(rnd() % 1500);
        for (let j = 0; j < payload.length; j++) payload[j] = rnd() & 0xff;
        try {
          const pcm = dec.decode(payload);
          expect(pcm.length).toBeLessThanOrEqual(5760);
        } catch (err) {
          expect((err as Error).message).toMatch(/corrupt Opus packet/);
        }
      }
    }
  });
});
