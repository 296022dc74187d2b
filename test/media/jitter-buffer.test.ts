/**
 * Jitter buffer scenarios on a virtual clock: a deterministic packet script goes in,
 * one 20 ms frame per pull comes out. A 1 kHz tone makes continuity visible: its phase
 * is the same at every 20 ms frame boundary, so any gap, repeat or misordering inside
 * audio frames shows up as a phase jump.
 */
import { describe, expect, it } from 'vitest';
import { loadNativeEngine } from '../../src/media/native.js';
import { goertzel } from '../support/goertzel.js';
import {
  angleDiff,
  type Frame,
  phase,
  play,
  prng,
  type Scheduled,
  toneStream,
} from '../support/rtp-script.js';

const engine = loadNativeEngine();

const CODECS = [
  { codec: 'pcmu', pt: 0, rate: 8000 },
  { codec: 'opus', pt: 111, rate: 48000 },
  // G.722: 16 kHz PCM on an 8 kHz RTP clock, two samples per timestamp unit.
  { codec: 'g722', pt: 9, rate: 16000 },
] as const;

/**
 * A receive stream; `steady` keeps the target delay at 40 ms so that no frame is dropped
 * as the target shrinks, for the tests where exact frame accounting is the point.
 */
function stream(codec: 'pcmu' | 'opus' | 'g722', pt: number, steady = true) {
  return new engine.ReceiveStream({
    payloadTypes: { [pt]: { codec } },
    jitter: steady ? { minDelayMs: 40, initialDelayMs: 40 } : {},
  });
}

/** Arrival 1 ms after the send time (plus whatever a scenario adds). */
function arrive(s: Scheduled[], extra: (k: number) => number = () => 0): Scheduled[] {
  return s.map((p, k) => ({ ...p, at: p.at + 1 + extra(k) }));
}

/**
 * Every frame has rate/50 samples; every audio frame carries the tone (Goertzel) at the
 * phase the tone has at that moment, counted from the audio frame before it, so a
 * missing, repeated or misplaced piece of audio inside audio frames shows. With
 * `freq` 1030 Hz the phase moves 0.6 turns per frame, so even a whole frame too many
 * or too few shows; 1000 Hz hides whole-frame shifts, for the tests where dropping or
 * stretching a frame is the point. Opus gets `settle` frames after a start or a
 * concealment: its decoder has a warm-up.
 */
function expectContinuousTone(
  frames: Frame[],
  rate: number,
  settle: number,
  freq = 1030,
  spoiled = 0,
): number {
  let prev: { phase: number; index: number } | null = null;
  let sinceGap = 0;
  let checked = 0;
  let bad = 0;
  const tolerance = settle > 0 ? 0.6 : 0.3;
  frames.forEach((f, index) => {
    expect(f.pcm.length).toBe(rate / 50);
    if (f.kind !== 'audio') {
      sinceGap = 0;
      return;
    }
    if (sinceGap++ < settle) return;
    const p = phase(f.pcm, freq, rate);
    const inPhase =
      prev === null ||
      angleDiff(p, prev.phase + 2 * Math.PI * freq * 0.02 * (index - prev.index)) < tolerance;
    if (goertzel(f.pcm, freq, rate) > 0.9 && inPhase) {
      prev = { phase: p, index };
      checked++;
    } else {
      bad++;
    }
  });
  // Opus FEC recovers a lost frame from a low-bitrate copy: audio, but not always a clean tone.
  expect(bad).toBeLessThanOrEqual(spoiled);
  return checked;
}

const count = (k: string, c: string) => k.split(c).length - 1;

const kinds = (frames: Frame[]) => frames.map((f) => f.kind[0]).join('');

describe.each(CODECS)('jitter buffer with $codec', ({ codec, pt, rate }) => {
  // Frames after a start or a gap that may still be off: Opus warms up, and G.722's
  // ADPCM state diverges from the encoder's over a lost packet and re-adapts.
  const settle = codec === 'opus' ? 2 : codec === 'g722' ? 1 : 0;

  it('plays an in-order stream gap-free after the initial delay', () => {
    const s = stream(codec, pt);
    const frames = play(
      s,
      arrive(toneStream(engine, { codec, pt, ptimeMs: 20, packets: 200, freq: 1030 })),
      0,
      4100,
    );
    // 40 ms initial delay: two frames of silence, then 200 frames of audio.
    expect(kinds(frames).slice(0, 202)).toBe(`ss${'a'.repeat(200)}`);
    expect(expectContinuousTone(frames, rate, settle)).toBeGreaterThan(190);
    const st = s.stats();
    expect(st).toMatchObject({
      packets: 200,
      lost: 0,
      late: 0,
      duplicates: 0,
      reordered: 0,
      droppedFrames: 0,
    });
    // Only the pulls after the stream's end conceal.
    expect(st.concealedFrames).toBe(count(kinds(frames), 'c'));
    expect(kinds(frames).slice(202)).toMatch(/^c+$/);
    expect(st.jitterMs).toBe(0);
    expect(st.targetDelayMs).toBeGreaterThanOrEqual(20);
    expect(st.currentDelayMs).toBeLessThanOrEqual(st.targetDelayMs + 20);
  });

  it('puts reordered packets back in order', () => {
    const s = stream(codec, pt);
    // Every 10th packet is held up 25 ms and overtaken by the next.
    const frames = play(
      s,
      arrive(toneStream(engine, { codec, pt, ptimeMs: 20, packets: 200, freq: 1030 }), (k) =>
        k % 10 === 4 ? 25 : 0,
      ),
      0,
      4100,
    );
    expect(kinds(frames).slice(2, 202)).toBe('a'.repeat(200));
    expectContinuousTone(frames, rate, settle);
    expect(s.stats()).toMatchObject({ packets: 200, lost: 0, reordered: 20, late: 0 });
  });

  it('drops duplicates, counted', () => {
    const s = stream(codec, pt);
    const base = arrive(toneStream(engine, { codec, pt, ptimeMs: 20, packets: 200, freq: 1030 }));
    const dup = base.map((p) => ({ ...p, at: p.at + 3 }));
    const frames = play(s, [...base, ...dup], 0, 4100);
    expect(kinds(frames).slice(2, 202)).toBe('a'.repeat(200));
    expectContinuousTone(frames, rate, settle);
    expect(s.stats()).toMatchObject({
      packets: 200,
      lost: 0,
      duplicates: 200,
      discarded: { duplicate: 200 },
    });
  });

  it('conceals 5 % random loss, one frame per lost packet', () => {
    const s = stream(codec, pt);
    const rnd = prng(7);
    const all = arrive(toneStream(engine, { codec, pt, ptimeMs: 20, packets: 500, freq: 1030 }));
    // Keep the last packet so every loss is followed by a packet (no tail).
    const kept = all.filter((_, k) => k === 0 || k === 499 || rnd() > 0.05);
    const dropped = all.length - kept.length;
    const frames = play(s, kept, 0, 10_020);
    const st = s.stats();
    expect(st.lost).toBe(dropped);
    // Every lost 20 ms is either recovered by Opus FEC or concealed, one frame each.
    const k = kinds(frames);
    expect(st.concealedFrames).toBe(count(k, 'c'));
    expect(st.concealedFrames + st.fecFrames).toBe(dropped);
    if (codec === 'opus') expect(st.fecFrames).toBeGreaterThan(dropped / 2);
    else expect(st.fecFrames).toBe(0);
    expect(k.slice(2)).toMatch(/^[ac]{500}$/);
    expect(expectContinuousTone(frames, rate, settle, 1030, st.fecFrames)).toBeGreaterThan(400);
  });

  it('fades a burst of loss to silence instead of repeating it', () => {
    const s = stream(codec, pt);
    const all = arrive(toneStream(engine, { codec, pt, ptimeMs: 20, packets: 200, freq: 1030 }));
    const frames = play(
      s,
      all.filter((_, k) => k < 50 || k >= 60),
      0,
      4100,
    );
    // Five concealed frames, then silence until the stream resumes on time.
    expect(kinds(frames).slice(2, 202)).toBe(`${'a'.repeat(50)}cccccsssss${'a'.repeat(140)}`);
    expect(s.stats()).toMatchObject({ lost: 10, concealedFrames: count(kinds(frames), 'c') });
    expectContinuousTone(frames, rate, settle);
  });

  it('plays 40 and 60 ms packets as 20 ms frames', () => {
    for (const ptimeMs of codec === 'opus' ? [40, 60] : [30, 60]) {
      const s = stream(codec, pt);
      const packets = Math.floor(4020 / ptimeMs);
      const frames = play(
        s,
        arrive(toneStream(engine, { codec, pt, ptimeMs, packets, freq: 1030 })),
        0,
        5000,
      );
      const k = kinds(frames);
      const first = k.indexOf('a');
      expect(first).toBeGreaterThan(0);
      expect(k.slice(first, first + 200)).toBe('a'.repeat(200));
      expectContinuousTone(frames, rate, settle);
      expect(s.stats()).toMatchObject({ packets, lost: 0, late: 0 });
    }
  });

  it('holds the delay within bounds against ±1 % clock skew over 60 s', () => {
    for (const clock of [1.01, 0.99]) {
      const s = stream(codec, pt, false);
      const sched = arrive(toneStream(engine, { codec, pt, ptimeMs: 20, packets: 2900, clock }));
      const frames: Frame[] = [];
      const delays: number[] = [];
      // Play in 1 s slices, sampling the delay after each.
      for (let t = 0; t < 58_000; t += 1000) {
        frames.push(
          ...play(
            s,
            sched.filter((p) => p.at > t - 20 && p.at <= t + 980),
            t,
            t + 980,
          ),
        );
        delays.push(s.stats().currentDelayMs);
      }
      const st = s.stats();
      // 1 % of 58 s is 580 ms: about 29 frames dropped (fast sender) or stretched (slow).
      const steered = clock > 1 ? st.droppedFrames : st.stretchedFrames;
      expect(steered).toBeGreaterThanOrEqual(25);
      expect(steered).toBeLessThanOrEqual(35);
      expect(st.late).toBe(0);
      expect(Math.max(...delays.slice(5))).toBeLessThanOrEqual(80);
      expect(Math.min(...delays.slice(5))).toBeGreaterThanOrEqual(0);
      expectContinuousTone(frames, rate, settle, 1000);
    }
  });

  it('absorbs 0–30 ms of arrival jitter without late packets', () => {
    const s = stream(codec, pt, false);
    const rnd = prng(3);
    const frames = play(
      s,
      arrive(toneStream(engine, { codec, pt, ptimeMs: 20, packets: 500, freq: 1030 }), () => rnd() * 30),
      0,
      10_100,
    );
    const st = s.stats();
    expect(st.late).toBe(0);
    expect(st.targetDelayMs).toBeGreaterThanOrEqual(40);
    expect(st.jitterMs).toBeGreaterThan(5);
    expect(kinds(frames).slice(2, 502)).toBe('a'.repeat(500));
    expectContinuousTone(frames, rate, settle);
  });

  it('raises the target at a delay spike at once and lowers it slowly', () => {
    const s = stream(codec, pt, false);
    // 200 ms of extra delay on packets 100–104 (a stall that clears in a burst).
    const sched = arrive(toneStream(engine, { codec, pt, ptimeMs: 20, packets: 1000 }), (k) =>
      k >= 100 && k < 105 ? 100 - (k - 100) * 20 : 0,
    );
    play(s, sched, 0, 2200);
    const after = s.stats().targetDelayMs;
    expect(after).toBeGreaterThanOrEqual(100);
    play(s, sched, 2220, 12_000);
    const later = s.stats().targetDelayMs;
    expect(later).toBeLessThan(after);
    expect(later).toBeGreaterThan(after - 40);
  });

  it('plays silence in a DTX gap, with no burst of concealment when the stream resumes', () => {
    const s = stream(codec, pt);
    // 50 packets, 2 s without any (sequence numbers continue), 50 more.
    const a = toneStream(engine, { codec, pt, ptimeMs: 20, packets: 50, freq: 1030 });
    const clockRate = codec === 'opus' ? 48000 : 8000;
    const b = toneStream(engine, {
      codec,
      pt,
      ptimeMs: 20,
      packets: 50,
      seq0: 1050,
      ts0: 5000 + (2000 + 50 * 20) * (clockRate / 1000),
      start: 3000,
      freq: 1030,
    });
    const frames = play(s, arrive([...a, ...b]), 0, 4200);
    const k = kinds(frames);
    // The underrun at the gap's start conceals a little, then silence until the stream resumes.
    expect(k.slice(2, 52)).toBe('a'.repeat(50));
    expect(k.slice(52, 152)).toMatch(/^c{0,5}s+$/);
    expect(k.slice(152, 202)).toBe('a'.repeat(50));
    const st = s.stats();
    expect(st).toMatchObject({ lost: 0, late: 0, timestampJumps: 0 });
    // At most five at the gap's start and five at the stream's end.
    expect(st.concealedFrames).toBeLessThanOrEqual(10);
  });
});

describe('jitter buffer under bursts', () => {
  const pcmuStream = (slots: number) =>
    new engine.ReceiveStream({ payloadTypes: { 0: { codec: 'pcmu' } }, jitter: { slots, minDelayMs: 40 } });

  it('after a 600 ms network stall drops what is stale as late and plays on from the fresh packets', () => {
    const s = pcmuStream(16);
    // Packets 50–79 are held up and all arrive at 1601 ms; by then 50–78 were due.
    const sched = toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 150, freq: 1030 }).map(
      (p, k) => ({ ...p, at: k >= 50 && k < 80 ? 1601 : p.at + 1 }),
    );
    const frames = play(s, sched, 0, 3500);
    const st = s.stats();
    expect(st).toMatchObject({
      late: 29,
      lost: 0,
      timestampJumps: 0,
      resyncs: 0,
      discarded: { late: 29, overflow: 0 },
    });
    const k = kinds(frames);
    // The stall: five concealed frames fading out, then silence, then audio again.
    expect(k.slice(2, 52)).toBe('a'.repeat(50));
    expect(k.slice(52)).toMatch(/^c{5}s+a{70}/);
    // The late packets pushed the target up and the playout back, within the maximum delay.
    expect(st.targetDelayMs).toBe(200);
    expect(st.stretchedFrames).toBeGreaterThan(0);
    expect(st.stretchedFrames).toBeLessThanOrEqual(8);
  });

  it('re-anchors when the path delay grows for good, after lateness that lasts', () => {
    const s = pcmuStream(48);
    // From packet 50 on, every packet takes 500 ms longer.
    const sched = toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 200, freq: 1030 }).map(
      (p, k) => ({ ...p, at: p.at + 1 + (k >= 50 ? 500 : 0) }),
    );
    const frames = play(s, sched, 0, 5000);
    const st = s.stats();
    // Ten late packets over more than 200 ms, then the playout starts over from the next.
    expect(st).toMatchObject({ resyncs: 1, late: 10, discarded: { late: 10 }, timestampJumps: 0 });
    const k = kinds(frames);
    expect(k.slice(2, 52)).toBe('a'.repeat(50));
    // The gap: the old timeline runs dry, then everything from the re-anchor on plays.
    expect(k.slice(52)).toMatch(/^c{5}s+a{130}/);
  });

  it('bounds its size: a burst of more packets than slots evicts the oldest, counted, and the delay comes back down', () => {
    const s = pcmuStream(16);
    // 30 packets (600 ms) arrive 580 ms ahead of their time, all at once.
    const sched = toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 150, freq: 1030 }).map(
      (p, k) => ({ ...p, at: k >= 50 && k < 80 ? 1001 : p.at + 1 }),
    );
    const frames = play(s, sched, 0, 3500);
    const st = s.stats();
    expect(st.discarded.overflow).toBeGreaterThan(0);
    expect(st.discarded.overflow).toBeLessThanOrEqual(30 - 16 + 2);
    expect(frames.every((f) => f.pcm.length === 160)).toBe(true);
    // Afterwards it plays on, with the delay back near its target.
    expect(kinds(frames).slice(110, 150)).toMatch(/^[ac]+$/);
    expect(st.currentDelayMs).toBeLessThanOrEqual(st.targetDelayMs + 40);
  });
});
