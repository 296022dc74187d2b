/**
 * play-and-say.yaml (`briefing`) with real clients: each newcomer is greeted by TTS to
 * itself only, and everyone in hears a chime (audio/chime.wav) when someone joins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, slice, speechSeconds, toneShare } from '../support/wav.js';
import { type E2eParley, sleep, startParley } from './parley.js';

const enabled = haveBaresip();

describe.skipIf(!enabled)('private greeting and a chime for everyone', () => {
  let parley: E2eParley;
  beforeAll(async () => {
    parley = await startParley({ portMin: 13600, portMax: 13799 });
  });
  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
  });

  it('greets only the newcomer and chimes to all', { timeout: 50_000 }, async () => {
    const alice = await Baresip.start({ user: 'alice', tone: 440 });
    const bob = await Baresip.start({ user: 'bob', tone: 880 });
    await alice.dial(parley.uri('briefing'));
    await parley.established(alice);
    const aliceAnswered = Date.now();
    await parley.waitCallEvent('alice', 'joined', 1, 15_000);
    await sleep(3000);
    await bob.dial(parley.uri('briefing'));
    await parley.established(bob);
    const bobAnswered = Date.now();
    const bobJoined = parley.timeOf(await parley.waitCallEvent('bob', 'joined', 1, 15_000));
    await sleep(3000);
    await bob.hangup();
    await alice.hangup();

    const heardA = await alice.received();
    const heardB = await bob.received();
    const atA = (wall: number): number => (wall - aliceAnswered) / 1000;
    const atB = (wall: number): number => (wall - bobAnswered) / 1000;
    const why = `alice heard:\n${describePcm(heardA, [440, 880], 0.5)}\nbob heard:\n${describePcm(heardB, [440, 880], 0.5)}\n${parley.logTail(30)}`;
    const says = parley.events.filter((e) => e.type === 'say').map((e) => e.fields);
    expect(says).toEqual([
      { text: 'Welcome to the briefing, alice@127.0.0.1.', to: 'self' },
      { text: 'Welcome to the briefing, bob@127.0.0.1.', to: 'self' },
    ]);
    // Bob's greeting (from his answer to his join) is his alone.
    expect(bobJoined - bobAnswered, why).toBeGreaterThan(1500);
    expect(speechSeconds(slice(heardB, 0, atB(bobJoined)), [440, 880]), why).toBeGreaterThan(1);
    expect(speechSeconds(slice(heardA, atA(bobAnswered) + 0.3, atA(bobJoined) - 0.1), [440, 880]), why).toBe(
      0,
    );
    // The chime (0.8 s) when bob joins, heard by alice and by bob, over the tones.
    expect(speechSeconds(slice(heardA, atA(bobJoined), atA(bobJoined) + 2), [440, 880]), why).toBeGreaterThan(
      0.3,
    );
    expect(speechSeconds(slice(heardB, atB(bobJoined), atB(bobJoined) + 2), [440, 880]), why).toBeGreaterThan(
      0.3,
    );
    // And then each other.
    expect(toneShare(slice(heardA, atA(bobJoined) + 2, atA(bobJoined) + 4.5), 880), why).toBeGreaterThan(0.8);
  });
});
