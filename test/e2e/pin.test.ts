/**
 * pin.yaml with real clients: `secure-NNN` asks for the access code (4321), which baresip
 * sends as RFC 4733 telephone-events. The right code joins the room (two callers then hear
 * each other); a wrong code three times is answered "That code is not valid." twice, then
 * "Goodbye.", and the server hangs up.
 *
 * Every call comes from 127.0.0.1 and the room locks an address out after 5 failures, so
 * the right-code test runs first and the wrong-code test uses one call (3 failures).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, type Pcm, slice, speechRuns, toneShare } from '../support/wav.js';
import { type E2eParley, sleep, startParley } from './parley.js';

const enabled = haveBaresip();

describe.skipIf(!enabled)('PIN-protected room with baresip sending RFC 4733 DTMF', () => {
  let parley: E2eParley;
  beforeAll(async () => {
    parley = await startParley({ portMin: 12200, portMax: 12399 });
  });
  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
  });

  const why = (name: string, pcm: Pcm, tones: number[]): string =>
    `${name} heard:\n${describePcm(pcm, tones, 0.5)}\nevents: ${parley.eventSummary()}\n${parley.logTail(40)}`;

  /** Dials the room and waits until the code prompt has been said. */
  async function enterRoom(client: Baresip, room: string): Promise<number> {
    await client.dial(parley.uri(room));
    await parley.established(client);
    const answered = Date.now();
    await parley.waitCallEvent(client.user, 'collect', 1);
    // The prompt is about 2 s of speech, after the TTS engine's first load.
    await sleep(4500);
    return answered;
  }

  it('joins callers who enter the right code, and they hear each other', { timeout: 45_000 }, async () => {
    const alice = await Baresip.start({ user: 'alice', tone: 440 });
    const bob = await Baresip.start({ user: 'bob', tone: 880 });
    await enterRoom(alice, 'secure-100');
    await alice.sendDtmf('4321#');
    const joinedA = await parley.waitCallEvent('alice', 'joined');
    expect(joinedA.fields.conference).toBe('secure-100');
    await enterRoom(bob, 'secure-100');
    await bob.sendDtmf('4321#');
    await parley.waitCallEvent('bob', 'joined');
    const bothIn = Date.now();
    await sleep(3000);
    const bothTo = Date.now();
    expect(alice.isClosed() || bob.isClosed()).toBe(false);
    await bob.hangup();
    await alice.hangup();

    const collected = parley.events.filter((e) => e.type === 'collected').map((e) => e.fields.digits);
    expect(collected).toEqual(['4321', '4321']);
    const heardA = await alice.received();
    const heardB = await bob.received();
    // Measure from the end of each call backwards: the last 3 s were both in the room.
    const lastA = slice(heardA, heardA.samples.length / heardA.rate - (bothTo - bothIn) / 1000 + 0.5);
    const lastB = slice(heardB, heardB.samples.length / heardB.rate - (bothTo - bothIn) / 1000 + 0.5);
    expect(toneShare(lastA, 880), why('alice', heardA, [440, 880])).toBeGreaterThan(0.8);
    expect(toneShare(lastA, 440), why('alice', heardA, [440, 880])).toBeLessThan(0.02);
    expect(toneShare(lastB, 440), why('bob', heardB, [440, 880])).toBeGreaterThan(0.8);
    expect(toneShare(lastB, 880), why('bob', heardB, [440, 880])).toBeLessThan(0.02);
  });

  it('hangs up after three wrong codes, saying why', { timeout: 50_000 }, async () => {
    const carol = await Baresip.start({ user: 'carol', tone: 440 });
    const answered = await enterRoom(carol, 'secure-200');
    const sentAt: number[] = [];
    for (const [i, code] of ['1111#', '2222#', '3333#'].entries()) {
      if (i > 0) {
        await parley.waitCallEvent('carol', 'collect', i + 1, 15_000);
        await sleep(3000);
      }
      sentAt.push(Date.now());
      await carol.sendDtmf(code);
    }
    // The server ends the call: baresip reports the far end's BYE.
    const closed = await carol.closed(10_000);
    const closedAt = Date.now();
    const hangup = await parley.waitCallEvent('carol', 'hangup');
    expect(hangup.fields.by).toBe('flow');
    const collected = parley.events
      .filter((e) => e.source === parley.callOf('carol') && e.type === 'collected')
      .map((e) => e.fields.digits);
    expect(collected).toEqual(['1111', '2222', '3333']);
    expect(parley.events.some((e) => e.source === parley.callOf('carol') && e.type === 'joined')).toBe(false);
    expect(closed.param ?? '').not.toMatch(/488|403|timeout/i);

    const heard = await carol.received();
    const runs = speechRuns(heard, [440]);
    const after = (wall: number, within: number): number =>
      runs
        .filter((r) => r.at >= (wall - answered) / 1000 - 0.2 && r.at < (wall - answered) / 1000 + within)
        .reduce((s, r) => s + r.seconds, 0);
    // "That code is not valid." after the first two codes, "Goodbye." after the third.
    expect(after(sentAt[0]!, 3), why('carol', heard, [440])).toBeGreaterThan(0.8);
    expect(after(sentAt[1]!, 3), why('carol', heard, [440])).toBeGreaterThan(0.8);
    expect(after(sentAt[2]!, (closedAt - sentAt[2]!) / 1000), why('carol', heard, [440])).toBeGreaterThan(
      0.4,
    );
    // Carol never hears a tone: she was never in a room.
    expect(toneShare(heard, 440)).toBeLessThan(0.02);
  });
});
