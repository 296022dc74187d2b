import { afterEach, describe, expect, it } from 'vitest';
import type { CodecName } from '../../src/media/native.js';
import {
  ABSENT,
  type Harness,
  HEARD,
  openEngine,
  type Party,
  party,
  share,
  teardown,
} from '../support/rtp-engine.js';
import { sleep } from '../support/rtp-peer.js';

const TONES = [440, 880, 1320];
let h: Harness | undefined;
afterEach(async () => {
  if (h) await teardown(h);
  h = undefined;
});

/** Each party hears the other two tones and not its own. */
function expectNMinusOne(parties: Party[], from: number): void {
  parties.forEach((p, i) => {
    TONES.forEach((f, j) => {
      const s = share(p, f, from);
      if (i === j) expect(s, `party ${i} must not hear its own ${f} Hz`).toBeLessThan(ABSENT);
      else expect(s, `party ${i} hears ${f} Hz`).toBeGreaterThan(HEARD);
    });
  });
}

describe('engine conference over loopback RTP', () => {
  const cases: Array<[string, CodecName[], 8000 | 16000 | 48000]> = [
    ['PCMU', ['pcmu', 'pcmu', 'pcmu'], 8000],
    ['G.722', ['g722', 'g722', 'g722'], 16000],
    ['Opus', ['opus', 'opus', 'opus'], 48000],
    ['PCMU + G.722 + Opus at 16 kHz', ['pcmu', 'g722', 'opus'], 16000],
    ['PCMU + G.722 + Opus at 48 kHz', ['pcmu', 'g722', 'opus'], 48000],
  ];
  for (const [name, codecs, rate] of cases) {
    it(`3 parties in ${name}: each hears the other two tones, not its own`, async () => {
      h = openEngine();
      h.engine.createConference('c', { rate, loudest: 3 });
      const harness = h;
      const parties = await Promise.all(codecs.map((c, i) => party(harness, c, TONES[i], 'c')));
      await sleep(600);
      const from = performance.now();
      await sleep(1000);
      expectNMinusOne(parties, from);
      const stats = h.engine.endpointStats(parties[0]!.id);
      expect(stats.packetsIn).toBeGreaterThan(50);
      expect(stats.packetsOut).toBeGreaterThan(50);
      expect(stats.codec).toBe(codecs[0]);
      expect(h.engine.conferenceStats('c').members).toBe(3);
    });
  }
});
