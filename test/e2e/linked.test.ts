/**
 * linked.yaml with real clients: `hall-east` links itself both ways to `hall-west` when it
 * starts, so a caller in each hall hears the one in the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, slice, toneShare } from '../support/wav.js';
import { type E2eParley, sleep, startParley } from './parley.js';

const enabled = haveBaresip();

describe.skipIf(!enabled)('two linked conferences', () => {
  let parley: E2eParley;
  beforeAll(async () => {
    parley = await startParley({ portMin: 11800, portMax: 11999 });
  });
  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
  });

  it('carries audio both ways between the halls', { timeout: 40_000 }, async () => {
    const west = await Baresip.start({ user: 'west', tone: 880 });
    const east = await Baresip.start({ user: 'east', tone: 440 });
    await west.dial(parley.uri('hall-west'));
    await parley.established(west);
    await parley.waitCallEvent('west', 'joined');
    await east.dial(parley.uri('hall-east'));
    await parley.established(east);
    await parley.waitCallEvent('east', 'joined');
    const link = await parley.waitEvent(
      (e) => e.source === 'conference:hall-east' && e.type === 'link',
      'link',
    );
    expect(link.fields).toMatchObject({ conference: 'hall-west', direction: 'both' });
    const from = Date.now() + 500;
    await sleep(3500);
    const to = Date.now();
    await east.hangup();
    const eastEnd = Date.now();
    await west.hangup();
    const westEnd = Date.now();

    const heardE = await east.received();
    const heardW = await west.received();
    const stretch = (pcm: typeof heardE, end: number) =>
      slice(
        pcm,
        pcm.samples.length / pcm.rate - (end - from) / 1000,
        pcm.samples.length / pcm.rate - (end - to) / 1000,
      );
    const why = `east heard:\n${describePcm(heardE, [440, 880])}\nwest heard:\n${describePcm(heardW, [440, 880])}\n${parley.logTail(20)}`;
    expect(toneShare(stretch(heardE, eastEnd), 880), why).toBeGreaterThan(0.8);
    expect(toneShare(stretch(heardE, eastEnd), 440), why).toBeLessThan(0.02);
    expect(toneShare(stretch(heardW, westEnd), 440), why).toBeGreaterThan(0.8);
    expect(toneShare(stretch(heardW, westEnd), 880), why).toBeLessThan(0.02);
  });
});
