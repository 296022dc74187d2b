/**
 * The baresip harness on its own, before any Parley is involved: two real clients call each
 * other directly on loopback and each one's recording must hold the other's tone and not its
 * own; DTMF sent by one arrives at the other as RFC 4733 events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Baresip, type BaresipCodec, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, discontinuities, durationS, rmsDb, slice, toneShare } from '../support/wav.js';

const enabled = haveBaresip();

describe.skipIf(!enabled)('baresip harness', () => {
  afterEach(async () => {
    await stopAllBaresip();
  });

  const cases: Array<[BaresipCodec, number]> = [
    ['pcmu', 8000],
    ['pcma', 8000],
    ['g722', 16000],
    ['opus', 48000],
  ];
  it.each(cases)('two clients hear each other over %s', async (codec, rate) => {
    const alice = await Baresip.start({ user: 'alice', tone: 440, codecs: [codec] });
    const bob = await Baresip.start({ user: 'bob', tone: 880, codecs: [codec], autoAnswer: true });
    bob.resetEvents();
    await alice.dial(bob.uri);
    await alice.established();
    await bob.established();
    await new Promise((r) => setTimeout(r, 3000));
    await alice.hangup();
    await bob.closed();

    const heardByAlice = await alice.received();
    const heardByBob = await bob.received();
    expect(heardByAlice.rate).toBe(rate);
    expect(heardByBob.rate).toBe(rate);
    // About 3 s of call; the first half second may still be filling the jitter buffer.
    expect(durationS(heardByAlice)).toBeGreaterThan(2);
    expect(durationS(heardByBob)).toBeGreaterThan(2);
    // What each sent is its tone at full level (a sine of amplitude 8000 is -15.2 dBFS RMS):
    // the harness itself must not colour the audio the tests judge Parley by.
    for (const [x, tone] of [
      [alice, 440],
      [bob, 880],
    ] as const) {
      const sent = slice(await x.sent(), 0.5);
      expect(toneShare(sent, tone)).toBeGreaterThan(0.99);
      expect(Math.abs(rmsDb(sent.samples) + 15.2)).toBeLessThan(1);
    }
    const a = slice(heardByAlice, 0.5);
    const b = slice(heardByBob, 0.5);
    const why = `alice heard:\n${describePcm(heardByAlice, [440, 880])}\nbob heard:\n${describePcm(heardByBob, [440, 880])}`;
    expect(toneShare(a, 880), why).toBeGreaterThan(0.8);
    expect(toneShare(a, 440), why).toBeLessThan(0.01);
    expect(toneShare(b, 440), why).toBeGreaterThan(0.8);
    expect(toneShare(b, 880), why).toBeLessThan(0.01);
    // A direct call has no jitter buffer in between that could drop or stretch frames: the
    // tones arrive unbroken, which is the baseline the Parley tests compare against.
    expect(discontinuities(a, 880), why).toBeLessThan(0.5);
    expect(discontinuities(b, 440), why).toBeLessThan(0.5);
  });

  it('sends DTMF as RFC 4733 events the far end reports key by key', async () => {
    const alice = await Baresip.start({ user: 'alice', tone: 440 });
    const bob = await Baresip.start({ user: 'bob', tone: 880, autoAnswer: true });
    bob.resetEvents();
    await alice.dial(bob.uri);
    await alice.established();
    await bob.established();
    await alice.sendDtmf('1234#');
    await bob.waitEvent(
      (e) => e.type === 'CALL_DTMF_END' && bob.dtmfReceived().length >= 5,
      'five DTMF keys',
    );
    expect(bob.dtmfReceived(), bob.eventSummary()).toBe('1234#');
    await bob.hangup();
    const closed = await alice.closed();
    expect(closed.type).toBe('CALL_CLOSED');
  });

  it('reports a call the far end refuses as closed, never established', async () => {
    const alice = await Baresip.start({ user: 'alice' });
    const bob = await Baresip.start({ user: 'bob', codecs: ['opus'], autoAnswer: true });
    // No codec in common: bob answers 488 and alice's call closes.
    await alice.dial(bob.uri);
    await expect(alice.established()).rejects.toThrow(/closed before it was established/);
  });
});
