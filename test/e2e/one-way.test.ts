/**
 * one-way.yaml (`lecture`) with real clients choosing their role by DTMF: the presenter
 * (1, 440 Hz) speaks and hears everyone; the listener (2, 880 Hz) is listen-only, so nobody
 * hears it; the coach (3, 1320 Hz) whispers: only the presenter hears it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, type Pcm, slice, toneShare } from '../support/wav.js';
import { type E2eParley, sleep, startParley } from './parley.js';

const enabled = haveBaresip();
const TONES = [440, 880, 1320];

describe.skipIf(!enabled)('listen-only and whisper', () => {
  let parley: E2eParley;
  const heard = new Map<string, { pcm: Pcm; end: number }>();
  let quiet = { from: 0, to: 0 };

  beforeAll(async () => {
    parley = await startParley({ portMin: 13000, portMax: 13199 });
    const roles = [
      { user: 'presenter', tone: 440, key: '1', role: 'presenter' },
      { user: 'listener', tone: 880, key: '2', role: 'listener' },
      { user: 'coach', tone: 1320, key: '3', role: 'coach' },
    ];
    const clients: Baresip[] = [];
    for (const r of roles) {
      const client = await Baresip.start({ user: r.user, tone: r.tone });
      clients.push(client);
      await client.dial(parley.uri('lecture'));
      await parley.established(client);
      await parley.waitCallEvent(r.user, 'collect', 1, 15_000);
      // "Press 1 to present, 2 to listen, 3 to coach." is about 3 s.
      await sleep(3500);
      await client.sendDtmf(r.key);
      const joined = await parley.waitCallEvent(r.user, 'joined', 1, 10_000);
      expect(joined.fields.role).toBe(r.role);
    }
    await sleep(1000);
    quiet = { from: Date.now(), to: Date.now() + 3000 };
    await sleep(3000);
    for (const [i, client] of clients.entries()) {
      await client.hangup();
      heard.set(roles[i]!.user, { pcm: await client.received(), end: Date.now() });
    }
  }, 60_000);

  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
  });

  /** The quiet stretch in `user`'s recording, located from the end of the file. */
  function stretch(user: string): { pcm: Pcm; why: string } {
    const h = heard.get(user)!;
    const len = h.pcm.samples.length / h.pcm.rate;
    // received() waits 200 ms after the hang-up before `end` is taken.
    const at = (wall: number): number => len - (h.end - 200 - wall) / 1000;
    return {
      pcm: slice(h.pcm, at(quiet.from) + 0.3, at(quiet.to) - 0.3),
      why: `${user} heard:\n${describePcm(h.pcm, TONES)}\n${parley.eventSummary()}\n${parley.logTail(30)}`,
    };
  }

  it('lets the presenter hear the coach but not the listen-only caller', () => {
    const { pcm, why } = stretch('presenter');
    expect(toneShare(pcm, 1320), why).toBeGreaterThan(0.8);
    expect(toneShare(pcm, 880), why).toBeLessThan(0.02);
    expect(toneShare(pcm, 440), why).toBeLessThan(0.02);
  });

  it('lets the listener hear the presenter only (the coach whispers to presenters)', () => {
    const { pcm, why } = stretch('listener');
    expect(toneShare(pcm, 440), why).toBeGreaterThan(0.8);
    expect(toneShare(pcm, 1320), why).toBeLessThan(0.02);
    expect(toneShare(pcm, 880), why).toBeLessThan(0.02);
  });

  it('lets the coach hear the presenter but not the listen-only caller', () => {
    const { pcm, why } = stretch('coach');
    expect(toneShare(pcm, 440), why).toBeGreaterThan(0.8);
    expect(toneShare(pcm, 880), why).toBeLessThan(0.02);
    expect(toneShare(pcm, 1320), why).toBeLessThan(0.02);
  });
});
