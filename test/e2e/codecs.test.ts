/**
 * Mixed codecs in one conference: a PCMU (8 kHz), a G.722 (16 kHz) and an Opus (48 kHz)
 * client join `conf-2468` (team.yaml). Each must hear the two others' tones through its own
 * codec, and not its own: decoding, resampling to the conference rate, N−1 mixing and one
 * encode per codec all in one call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, type BaresipCodec, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, type Pcm, slice, toneShare } from '../support/wav.js';
import { type E2eParley, sleep, startParley } from './parley.js';

const enabled = haveBaresip();
const CLIENTS: Array<{ codec: BaresipCodec; tone: number; rate: number }> = [
  { codec: 'pcmu', tone: 440, rate: 8000 },
  { codec: 'g722', tone: 880, rate: 16000 },
  { codec: 'opus', tone: 1320, rate: 48000 },
];
const TONES = CLIENTS.map((c) => c.tone);

describe.skipIf(!enabled)('PCMU, G.722 and Opus clients in one conference', () => {
  let parley: E2eParley;
  const heard: Array<{
    codec: BaresipCodec;
    tone: number;
    rate: number;
    pcm: Pcm;
    quietFrom: number;
    quietTo: number;
  }> = [];

  beforeAll(async () => {
    parley = await startParley({ portMin: 12400, portMax: 12599 });
    const clients = await Promise.all(
      CLIENTS.map((c) => Baresip.start({ user: `caller-${c.codec}`, tone: c.tone, codecs: [c.codec] })),
    );
    const answered: number[] = [];
    for (const client of clients) {
      await client.dial(parley.uri('conf-2468'));
      await parley.established(client);
      answered.push(Date.now());
      await parley.waitCallEvent(client.user, 'joined');
    }
    // The announcements of the three arrivals end within about 8 s of the first (the first
    // one waits for the TTS engine to load); then 3 s with nothing but the tones.
    await sleep(Math.max(0, answered[0]! + 9000 - Date.now()));
    await sleep(4000);
    const quietFrom = Date.now();
    await sleep(3000);
    const quietTo = Date.now();
    for (const client of clients) await client.hangup();
    for (const [i, client] of clients.entries()) {
      heard.push({
        ...CLIENTS[i]!,
        pcm: await client.received(),
        quietFrom: (quietFrom - answered[i]!) / 1000,
        quietTo: (quietTo - answered[i]!) / 1000,
      });
    }
  }, 60_000);

  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
  });

  it('negotiates each client its own codec', () => {
    for (const h of heard) expect(h.pcm.rate, h.codec).toBe(h.rate);
    const answers = parley.events.filter((e) => e.type === 'answer');
    expect(answers).toHaveLength(3);
  });

  it('lets each hear the two others and not itself', () => {
    for (const h of heard) {
      const quiet = slice(h.pcm, h.quietFrom, h.quietTo);
      const why = `${h.codec} client heard:\n${describePcm(h.pcm, TONES)}\n${parley.logTail(30)}`;
      for (const tone of TONES) {
        const share = toneShare(quiet, tone);
        if (tone === h.tone) expect(share, `${h.codec} hears its own ${tone} Hz\n${why}`).toBeLessThan(0.02);
        else expect(share, `${h.codec} misses ${tone} Hz\n${why}`).toBeGreaterThan(0.3);
      }
    }
  });
});
