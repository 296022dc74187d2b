/**
 * mute-dtmf.yaml (`standup`) with real clients: `*6` sent as RFC 4733 toggles the sender's
 * mute, so the other caller stops and starts hearing it; `*7` mutes with "You are muted.",
 * `*8` unmutes with "You are live." (said to the sender only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, type Pcm, slice, speechSeconds, toneShare } from '../support/wav.js';
import { type E2eParley, sleep, startParley } from './parley.js';

const enabled = haveBaresip();

describe.skipIf(!enabled)('mute and unmute by DTMF', () => {
  let parley: E2eParley;
  beforeAll(async () => {
    parley = await startParley({ portMin: 12800, portMax: 12999 });
  });
  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
  });

  it('*6 toggles, *7 mutes and *8 unmutes with spoken feedback', { timeout: 55_000 }, async () => {
    const alice = await Baresip.start({ user: 'alice', tone: 440 });
    const bob = await Baresip.start({ user: 'bob', tone: 880 });
    await alice.dial(parley.uri('standup'));
    await parley.established(alice);
    await parley.waitCallEvent('alice', 'joined');
    await bob.dial(parley.uri('standup'));
    await parley.established(bob);
    const bobAnswered = Date.now();
    await parley.waitCallEvent('bob', 'joined');

    /** Wall-clock stretches [from, to] and what bob must hear of alice in each. */
    const stretches: Array<{ name: string; from: number; to: number; hearsAlice: boolean }> = [];
    const hold = async (name: string, hearsAlice: boolean, ms = 3000): Promise<void> => {
      const from = Date.now() + 700; // the key's event and the mixer's next tick
      await sleep(ms);
      stretches.push({ name, from, to: Date.now(), hearsAlice });
    };
    await hold('both live', true);
    await alice.sendDtmf('*6');
    await hold('after *6', false);
    await alice.sendDtmf('*6');
    await hold('after second *6', true);
    const muteAt = Date.now();
    await alice.sendDtmf('*7');
    // "You are muted." is this server's first TTS prompt: it waits for the engine to load
    // (3–6 s measured on two busy cores).
    await hold('after *7', false, 7000);
    const liveAt = Date.now();
    await alice.sendDtmf('*8');
    await hold('after *8', true);
    await bob.hangup();
    await alice.hangup();
    const aliceEnd = Date.now();

    const heardB = await bob.received();
    const heardA = await alice.received();
    const at = (wall: number): number => (wall - bobAnswered) / 1000;
    const why = (pcm: Pcm): string =>
      `${describePcm(pcm, [440, 880], 0.5)}\nevents: ${parley.eventSummary()}\n${parley.logTail(30)}`;
    for (const s of stretches) {
      const share = toneShare(slice(heardB, at(s.from), at(s.to)), 440);
      if (s.hearsAlice) expect(share, `bob should hear alice ${s.name}\n${why(heardB)}`).toBeGreaterThan(0.8);
      else expect(share, `bob should not hear alice ${s.name}\n${why(heardB)}`).toBeLessThan(0.02);
      // Muting alice never mutes bob: alice hears him throughout.
    }
    const keys = parley.events.filter((e) => e.source === parley.callOf('alice') && e.type === 'dtmf');
    expect(keys.map((e) => e.fields.digit).join('')).toBe('*6*6*7*8');
    // Alice hears bob all along, and her own feedback after *7 and *8 (alice's file starts
    // earlier than bob's: measure from its end).
    const atA = (wall: number): number => heardA.samples.length / heardA.rate - (aliceEnd - wall) / 1000;
    expect(
      toneShare(slice(heardA, atA(stretches[0]!.from), atA(stretches[4]!.to)), 880),
      why(heardA),
    ).toBeGreaterThan(0.5);
    expect(speechSeconds(slice(heardA, atA(muteAt), atA(liveAt)), [880]), why(heardA)).toBeGreaterThan(0.25);
    expect(speechSeconds(slice(heardA, atA(liveAt), atA(liveAt) + 3), [880]), why(heardA)).toBeGreaterThan(
      0.25,
    );
    // The feedback is for alice only: bob hears no speech then.
    expect(speechSeconds(slice(heardB, at(muteAt), at(liveAt) + 3), [440, 880]), why(heardB)).toBe(0);
  });
});
