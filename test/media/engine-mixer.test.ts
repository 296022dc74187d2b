import { describe, expect, it } from 'vitest';
import { loadNativeEngine } from '../../src/media/native.js';
import { tone } from '../support/goertzel.js';

const { Mixer } = loadNativeEngine();
const RATE = 8000;
const FRAME = 160;

describe('mixer loudest-N hysteresis', () => {
  it('two similar voices do not swap places every tick; a much louder one takes over at once', () => {
    const m = new Mixer(RATE, 1);
    for (const id of [1, 2, 3, 9]) m.set(id, {});
    const picks: number[] = [];
    for (let t = 0; t < 50; t++) {
      // 1 and 2 alternate being 1 dB louder than the other.
      const a = t % 2 === 0 ? 4000 : 3560;
      const b = t % 2 === 0 ? 3560 : 4000;
      const tick = m.mix([
        [1, tone(440, RATE, FRAME, a, t * FRAME)],
        [2, tone(880, RATE, FRAME, b, t * FRAME)],
      ]);
      picks.push(...tick.mixed);
    }
    // Without hysteresis the pick would change 49 times; with it, the first talker keeps the floor.
    const swaps = picks.filter((p, i) => i > 0 && p !== picks[i - 1]).length;
    expect(swaps).toBe(0);
    // 12 dB louder beats the hold bonus on the first frame.
    const loud = m.mix([
      [1, tone(440, RATE, FRAME, 4000)],
      [3, tone(1320, RATE, FRAME, 16000)],
    ]);
    expect(loud.mixed).toEqual([3]);
  });

  it('a talker who stops is replaced once the hold time is over', () => {
    const m = new Mixer(RATE, 1);
    for (const id of [1, 2, 9]) m.set(id, {});
    m.mix([[1, tone(440, RATE, FRAME, 4000)]]);
    // 1 falls silent: 2 is the only one with audio and is mixed at once (silence is never ranked).
    const next = m.mix([[2, tone(880, RATE, FRAME, 1000)]]);
    expect(next.mixed).toEqual([2]);
  });
});
