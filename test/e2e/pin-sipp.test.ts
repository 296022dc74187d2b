/**
 * pin.yaml with sipp as the caller: PCMA with RFC 4733 key presses replayed from the
 * captures sipp ships (/usr/share/sip-tester/dtmf_2833_*.pcap, sent from the media port
 * the SDP names, so they pass the strict source check). The captures come from one
 * session, so their sequence numbers only ascend for keys in ascending order: the room's
 * code is set to 1234 in a copy of conferences/ (the flow is the shipped one).
 */
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, freePort, haveSipp, runSipp } from '../support/sipp.js';
import { conferencesCopy, type E2eParley, startParley } from './parley.js';

const PCAPS = '/usr/share/sip-tester/dtmf_2833_1.pcap';

describe.skipIf(!haveSipp())('PIN room with sipp sending RFC 4733 from pcap', () => {
  let parley: E2eParley;
  let config: string;

  beforeAll(async () => {
    if (!existsSync(PCAPS)) throw new Error(`${PCAPS} missing: sip-tester ships the DTMF captures`);
    config = conferencesCopy({ 'pin.yaml': [['pin: "4321"', 'pin: "1234"']] });
    parley = await startParley({ portMin: 10800, portMax: 10999 }, { config });
  });
  afterAll(async () => {
    await parley?.stop();
    if (config) rmSync(config, { recursive: true, force: true });
  });

  async function call(scenario: string) {
    const run = await runSipp({
      scenario,
      target: `127.0.0.1:${parley.server.sip.udpPort}`,
      service: 'secure-100',
      timeoutS: 40,
      extraArgs: ['-mi', '127.0.0.1', '-mp', String(await freePort())],
    });
    return run.done;
  }

  it('the right code, keyed as RFC 4733 events, joins the room', async () => {
    const result = await call('uac-pin-right.xml');
    const why = `${describeRun(result)}\nevents: ${parley.eventSummary()}\n${parley.logTail(30)}`;
    expect(result.code, why).toBe(0);
    const collected = parley.events.filter(
      (e) => e.type === 'collected' && e.source === parley.callOf('sipp'),
    );
    expect(
      collected.map((e) => e.fields.digits),
      why,
    ).toEqual(['1234']);
    expect(
      parley.events.some((e) => e.type === 'joined' && e.source === parley.callOf('sipp')),
      why,
    ).toBe(true);
  }, 45_000);

  it('a wrong code is refused and asked for again; the caller does not join', async () => {
    // One try only: the captures' sequence numbers would run backwards on a second try.
    // Three wrong tries ending in the server's BYE are proven with baresip (pin.test.ts).
    const result = await call('uac-pin-wrong.xml');
    const source = parley.callOf('sipp');
    const why = `${describeRun(result)}\nevents: ${parley.eventSummary()}\n${parley.logTail(30)}`;
    expect(result.code, why).toBe(0);
    const mine = parley.events.filter((e) => e.source === source);
    expect(
      mine.filter((e) => e.type === 'collected').map((e) => e.fields.digits),
      why,
    ).toEqual(['5678']);
    const said = mine.filter((e) => e.type === 'say').map((e) => e.fields.text);
    expect(said, why).toEqual([
      'Enter the access code, then pound.',
      'That code is not valid.',
      'Enter the access code, then pound.',
    ]);
    expect(
      mine.some((e) => e.type === 'joined'),
      why,
    ).toBe(false);
  }, 45_000);
});
