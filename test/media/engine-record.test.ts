import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { goertzel, tone } from '../support/goertzel.js';
import { ABSENT, type Harness, HEARD, openEngine, party, share, teardown } from '../support/rtp-engine.js';
import { sleep } from '../support/rtp-peer.js';

let h: Harness | undefined;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-rec-'));
afterEach(async () => {
  if (h) await teardown(h);
  h = undefined;
});

interface Wav {
  rate: number;
  channels: number;
  /** One Int16Array per channel. */
  data: Int16Array[];
}

function readWav(file: string): Wav {
  const buf = fs.readFileSync(file);
  expect(buf.toString('ascii', 0, 4)).toBe('RIFF');
  expect(buf.toString('ascii', 8, 12)).toBe('WAVE');
  const channels = buf.readUInt16LE(22);
  const rate = buf.readUInt32LE(24);
  const bytes = buf.readUInt32LE(40);
  const frames = bytes / 2 / channels;
  const data = Array.from({ length: channels }, () => new Int16Array(frames));
  for (let i = 0; i < frames; i++)
    for (let c = 0; c < channels; c++) data[c]![i] = buf.readInt16LE(44 + 2 * (i * channels + c));
  return { rate, channels, data };
}

/** Share of `freq` in channel `ch` between two times (s) of the file. */
function at(w: Wav, ch: number, fromS: number, toS: number, freq: number): number {
  return goertzel(w.data[ch]!.subarray(Math.round(fromS * w.rate), Math.round(toS * w.rate)), freq, w.rate);
}

describe('engine recorders', () => {
  it('the conference mix WAV holds the tones (and the prompt) at the times they were sent', async () => {
    h = openEngine();
    h.engine.createConference('c', { rate: 16000 });
    await party(h, 'pcmu', 440, 'c');
    const b = await party(h, 'g722', undefined, 'c');
    await sleep(300);
    const file = path.join(dir, 'mix.wav');
    const rec = h.engine.record({ conference: 'c' }, file);
    await sleep(1000);
    b.peer.setTone(880);
    await sleep(1000);
    h.engine.play({ conference: 'c' }, tone(2000, 16000, 16000), 16000);
    await sleep(1200);
    const ms = h.engine.stopRecorder(rec);
    expect(ms).toBeGreaterThan(3000);
    expect(ms).toBeLessThan(3600);
    const w = readWav(file);
    expect(w.rate).toBe(16000);
    expect(w.channels).toBe(1);
    expect(Math.abs((w.data[0]!.length / w.rate) * 1000 - ms)).toBeLessThan(25);
    // First second: A alone. Second second: A and B. Third: A, B and the prompt.
    expect(at(w, 0, 0.2, 0.9, 440)).toBeGreaterThan(HEARD);
    expect(at(w, 0, 0.2, 0.9, 880)).toBeLessThan(ABSENT);
    expect(at(w, 0, 1.3, 1.9, 880)).toBeGreaterThan(HEARD);
    expect(at(w, 0, 1.3, 1.9, 2000)).toBeLessThan(ABSENT);
    expect(at(w, 0, 2.3, 2.9, 2000)).toBeGreaterThan(HEARD);
    await sleep(50); // events arrive through the event loop
    expect(h.events).toContainEqual({ type: 'recorder', recorder: rec, state: 'stopped', durationMs: ms });
  });

  it("one participant's incoming, outgoing and both (stereo: left in, right out)", async () => {
    h = openEngine();
    h.engine.createConference('c', { rate: 8000 });
    const a = await party(h, 'pcmu', 440, 'c');
    await party(h, 'pcmu', 880, 'c');
    await sleep(300);
    const files = {
      in: path.join(dir, 'in.wav'),
      out: path.join(dir, 'out.wav'),
      both: path.join(dir, 'both.wav'),
    };
    const ids = (['in', 'out', 'both'] as const).map((d) =>
      h!.engine.record({ endpoint: a.id }, files[d], { direction: d }),
    );
    await sleep(1200);
    for (const id of ids) h.engine.stopRecorder(id);
    const win = readWav(files.in);
    const wout = readWav(files.out);
    const wboth = readWav(files.both);
    expect(win.channels).toBe(1);
    expect(wboth.channels).toBe(2);
    expect(at(win, 0, 0.2, 1.1, 440)).toBeGreaterThan(HEARD);
    expect(at(win, 0, 0.2, 1.1, 880)).toBeLessThan(ABSENT);
    expect(at(wout, 0, 0.2, 1.1, 880)).toBeGreaterThan(HEARD);
    expect(at(wout, 0, 0.2, 1.1, 440)).toBeLessThan(ABSENT);
    expect(at(wboth, 0, 0.2, 1.1, 440)).toBeGreaterThan(HEARD);
    expect(at(wboth, 0, 0.2, 1.1, 880)).toBeLessThan(ABSENT);
    expect(at(wboth, 1, 0.2, 1.1, 880)).toBeGreaterThan(HEARD);
    expect(at(wboth, 1, 0.2, 1.1, 440)).toBeLessThan(ABSENT);
  });
});

describe('engine links', () => {
  it('linked both ways: each side hears the other, nobody hears themselves back', async () => {
    h = openEngine();
    h.engine.createConference('x', { rate: 16000 });
    h.engine.createConference('y', { rate: 8000 });
    const a = await party(h, 'pcmu', 440, 'x');
    const b = await party(h, 'pcmu', 880, 'x');
    const c = await party(h, 'opus', 1320, 'y');
    h.engine.link('x', 'y', 'both');
    await sleep(400);
    const from = performance.now();
    await sleep(800);
    expect(share(c, 440, from)).toBeGreaterThan(HEARD);
    expect(share(c, 880, from)).toBeGreaterThan(HEARD);
    expect(share(c, 1320, from)).toBeLessThan(ABSENT);
    expect(share(a, 1320, from)).toBeGreaterThan(HEARD);
    expect(share(a, 440, from)).toBeLessThan(ABSENT);
    expect(share(b, 1320, from)).toBeGreaterThan(HEARD);
  });

  it('linked one way: y hears x, x does not hear y; unlink ends it', async () => {
    h = openEngine();
    h.engine.createConference('x', { rate: 8000 });
    h.engine.createConference('y', { rate: 8000 });
    const a = await party(h, 'pcmu', 440, 'x');
    const c = await party(h, 'pcmu', 1320, 'y');
    h.engine.link('x', 'y', 'out');
    await sleep(400);
    const from = performance.now();
    await sleep(800);
    expect(share(c, 440, from)).toBeGreaterThan(HEARD);
    expect(share(a, 1320, from)).toBeLessThan(ABSENT);
    h.engine.unlink('x', 'y');
    await sleep(300);
    const after = performance.now();
    await sleep(600);
    expect(share(c, 440, after)).toBeLessThan(ABSENT);
  });
});
