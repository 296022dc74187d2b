/**
 * Bad input while real calls go on: two baresip clients talk in `conf-4321` while requests
 * with missing or broken headers arrive at the SIP port (answered 400 naming the problem),
 * plus garbage datagrams and an INVITE whose SDP is malformed. The conference keeps mixing
 * throughout and a new call still gets in afterwards.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, slice, toneShare } from '../support/wav.js';
import { type E2eParley, sleep, startParley } from './parley.js';

const enabled = haveBaresip();

/** Sends one datagram and collects what comes back within `ms`. */
async function exchange(port: number, text: string | Buffer, ms = 1500): Promise<string[]> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const got: string[] = [];
  socket.on('message', (m) => got.push(m.toString('utf8')));
  const local = socket.address().port;
  socket.send(
    typeof text === 'string' ? text.replaceAll('LOCALPORT', String(local)) : text,
    port,
    '127.0.0.1',
  );
  await sleep(ms);
  socket.close();
  return got;
}

const request = (lines: string[], body = ''): string =>
  `${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe.skipIf(!enabled)('bad SIP input during live calls', () => {
  let parley: E2eParley;
  beforeAll(async () => {
    parley = await startParley({ portMin: 13800, portMax: 13999 });
  });
  afterAll(async () => {
    await stopAllBaresip();
    await parley?.stop();
  });

  it('answers 400 to malformed requests and keeps the conference going', { timeout: 50_000 }, async () => {
    const alice = await Baresip.start({ user: 'alice', tone: 440 });
    const bob = await Baresip.start({ user: 'bob', tone: 880 });
    for (const c of [alice, bob]) {
      await c.dial(parley.uri('conf-4321'));
      await parley.established(c);
    }
    const port = Number(new URL(parley.uri('x').replace('sip:', 'sip://')).port);
    const via = 'Via: SIP/2.0/UDP 127.0.0.1:LOCALPORT;branch=z9hG4bK-bad-';
    await sleep(6000); // both joined, announcements over

    const start = Date.now();
    // No Call-ID.
    const noCallId = await exchange(
      port,
      request([
        'OPTIONS sip:conf-4321@127.0.0.1 SIP/2.0',
        `${via}1`,
        'From: <sip:eve@127.0.0.1>;tag=e1',
        'To: <sip:conf-4321@127.0.0.1>',
        'CSeq: 1 OPTIONS',
        'Max-Forwards: 70',
      ]),
    );
    // CSeq that is not a number.
    const badCseq = await exchange(
      port,
      request([
        'INVITE sip:conf-4321@127.0.0.1 SIP/2.0',
        `${via}2`,
        'From: <sip:eve@127.0.0.1>;tag=e2',
        'To: <sip:conf-4321@127.0.0.1>',
        'Call-ID: bad-cseq@eve',
        'CSeq: one INVITE',
        'Max-Forwards: 70',
      ]),
    );
    // Well-formed INVITE with a body that is not SDP.
    const badSdp = await exchange(
      port,
      request(
        [
          'INVITE sip:conf-4321@127.0.0.1 SIP/2.0',
          `${via}3`,
          'From: <sip:eve@127.0.0.1>;tag=e3',
          'To: <sip:conf-4321@127.0.0.1>',
          'Call-ID: bad-sdp@eve',
          'CSeq: 1 INVITE',
          'Contact: <sip:eve@127.0.0.1:LOCALPORT>',
          'Max-Forwards: 70',
          'Content-Type: application/sdp',
        ],
        'this is not a session description\r\n',
      ),
      2500,
    );
    // Garbage: no answer expected, no crash either.
    const garbage = await exchange(port, Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]), 500);
    const end = Date.now();
    await sleep(2000);
    for (const c of [alice, bob]) expect(c.isClosed(), c.eventSummary()).toBe(false);
    await bob.hangup();
    await alice.hangup();

    const status = (got: string[]): string => got.map((m) => m.split('\r\n')[0]).join(' | ');
    expect(status(noCallId), parley.logTail(20)).toMatch(/^SIP\/2\.0 400 /);
    expect(noCallId[0]).toMatch(/Call-ID/i);
    expect(status(badCseq), parley.logTail(20)).toMatch(/^SIP\/2\.0 400 /);
    expect(status(badSdp), parley.logTail(20)).toMatch(/SIP\/2\.0 (400|488) /);
    expect(garbage).toEqual([]);

    // The conference mixed on through all of it: alice heard bob in that stretch.
    const heard = await alice.received();
    const len = heard.samples.length / heard.rate;
    const endOfCall = Date.now() - 200; // received() waits 200 ms after the hang-up
    const stretch = slice(heard, len - (endOfCall - start) / 1000, len - (endOfCall - end) / 1000);
    expect(toneShare(stretch, 880), describePcm(heard, [440, 880])).toBeGreaterThan(0.8);

    // And a new caller still gets in.
    const carol = await Baresip.start({ user: 'carol', tone: 1320 });
    await carol.dial(parley.uri('conf-4321'));
    await parley.established(carol);
    await parley.waitCallEvent('carol', 'joined');
    await carol.hangup();
  });
});
