/**
 * pin.yaml's lockout with real calls: `limits: { pinFailures: 5, lockout: 15m }` counts
 * wrong codes per source address across calls. Three wrong codes in one call (hung up by
 * the server) and two in the next reach the limit; the next call from that address is
 * refused with 403 before any prompt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { type E2eParley, sleep, startParley } from './parley.js';

const enabled = haveBaresip();

describe.skipIf(!enabled)('PIN lockout across calls', () => {
  let parley: E2eParley;
  beforeAll(async () => {
    parley = await startParley({ portMin: 11600, portMax: 11799 });
  });
  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
  });

  /** One call entering wrong codes, each after its prompt. */
  async function wrongCodes(user: string, codes: string[]): Promise<Baresip> {
    const client = await Baresip.start({ user });
    await client.dial(parley.uri('secure-300'));
    await parley.established(client);
    for (const [i, code] of codes.entries()) {
      await parley.waitCallEvent(user, 'collect', i + 1, 15_000);
      await sleep(i === 0 ? 4500 : 3000);
      await client.sendDtmf(code);
      await parley.waitCallEvent(user, 'collected', i + 1);
    }
    return client;
  }

  it('refuses an address after five wrong codes', { timeout: 55_000 }, async () => {
    const first = await wrongCodes('first', ['1111#', '2222#', '3333#']);
    await first.closed(10_000); // the flow says goodbye and hangs up
    const second = await wrongCodes('second', ['4444#', '5555#']);
    await second.hangup();
    const lockout = await parley.waitEvent(
      (e) => e.source === 'conference:secure-300' && e.type === 'lockout',
      'the lockout',
    );
    expect(lockout.fields.source).toBe('127.0.0.1');

    const third = await Baresip.start({ user: 'third' });
    await third.dial(parley.uri('secure-300'));
    const closed = await third.closed();
    expect(third.events.some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
    expect(closed.param, third.logTail()).toMatch(/403/);
    const reject = await parley.waitCallEvent('third', 'reject');
    expect(reject.fields).toMatchObject({ code: 403, reason: 'locked out' });
    // Other rooms from the same address are not affected.
    const other = await Baresip.start({ user: 'other' });
    await other.dial(parley.uri('conf-1234'));
    await parley.established(other);
    await other.hangup();
  });
});
