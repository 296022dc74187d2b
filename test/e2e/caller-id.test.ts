/**
 * The caller-ID allowlist (routes.yaml + caller-id.yaml) decided by the From user of real
 * SIP calls: alice, bob and carol @example.com reach `board` (alice as moderator, after
 * "Welcome to the board room."), anyone else gets 403, and anonymous callers are turned
 * away by the first route whatever they dial.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, slice, speechSeconds, toneShare } from '../support/wav.js';
import { type E2eParley, sleep, startParley } from './parley.js';

const enabled = haveBaresip();

describe.skipIf(!enabled)('caller-ID allowlist with real From headers', () => {
  let parley: E2eParley;
  beforeAll(async () => {
    parley = await startParley({ portMin: 12600, portMax: 12799 });
  });
  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
  });

  it('admits board members, the chair as moderator, and they hear each other', {
    timeout: 45_000,
  }, async () => {
    const alice = await Baresip.start({ user: 'alice', domain: 'example.com', tone: 440 });
    const bob = await Baresip.start({ user: 'bob', domain: 'example.com', tone: 880 });
    await alice.dial(parley.uri('board'));
    await parley.established(alice);
    const joinedA = await parley.waitCallEvent('alice', 'joined', 1, 15_000);
    await bob.dial(parley.uri('board'));
    await parley.established(bob);
    const joinedB = await parley.waitCallEvent('bob', 'joined', 1, 15_000);
    expect(joinedA.fields).toMatchObject({ conference: 'board', role: 'moderator' });
    expect(joinedB.fields).toMatchObject({ conference: 'board', role: 'member' });
    const bothIn = Date.now();
    await sleep(3000);
    await bob.hangup();
    await alice.hangup();

    const heardA = await alice.received();
    const heardB = await bob.received();
    const why = `alice heard:\n${describePcm(heardA, [440, 880])}\nbob heard:\n${describePcm(heardB, [440, 880])}\n${parley.logTail(30)}`;
    // Each heard "Welcome to the board room." before joining.
    expect(speechSeconds(slice(heardA, 0, 8), [440, 880]), why).toBeGreaterThan(0.8);
    expect(speechSeconds(slice(heardB, 0, 8), [440, 880]), why).toBeGreaterThan(0.8);
    const tail = (bothIn - Date.now()) / 1000 + 2.5; // negative: seconds before the end
    const lastA = slice(heardA, heardA.samples.length / heardA.rate + tail);
    const lastB = slice(heardB, heardB.samples.length / heardB.rate + tail);
    expect(toneShare(lastA, 880), why).toBeGreaterThan(0.8);
    expect(toneShare(lastB, 440), why).toBeGreaterThan(0.8);
  });

  it('refuses a caller not on the list with 403', async () => {
    const mallory = await Baresip.start({ user: 'mallory', domain: 'example.com' });
    await mallory.dial(parley.uri('board'));
    const closed = await mallory.closed();
    expect(mallory.events.some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
    expect(closed.param, mallory.logTail()).toMatch(/403/);
    await mallory.waitLog(/SIP\/2\.0 403 Not on the board list/);
  });

  it('turns anonymous callers away before any other route', async () => {
    const anon = await Baresip.start({ user: 'anonymous', domain: 'anonymous.invalid' });
    await anon.dial(parley.uri('conf-1234'));
    const closed = await anon.closed();
    expect(anon.events.some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
    expect(closed.param, anon.logTail()).toMatch(/403/);
    await anon.waitLog(/SIP\/2\.0 403 Anonymous calls are not accepted/);
    expect(parley.events.some((e) => e.source.startsWith('conference:team-'))).toBe(false);
  });
});
