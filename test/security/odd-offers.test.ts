/**
 * Offers that are valid but unusual, from a SIP client to the whole ParleyServer: a call is
 * either refused (488) or answered with media that flows both ways. What must never happen is a
 * call answered 200 whose media the engine then refuses to set up, leaving the caller in silence
 * (the server only logs "cannot configure media").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveServer } from './live-server.js';
import { SipUac } from './sip-uac.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Known gaps: each runs as `it.fails` and turns red once fixed. (An IPv6 media address, which the
 * IPv4 engine cannot serve, is now refused with 488 before answering.)
 */
const GAPS: Record<string, string> = {};

const OFFERS: Array<{ name: string; attributes?: string[]; connection?: string }> = [
  { name: 'ptime-30', attributes: ['a=ptime:30', 'a=sendrecv'] },
  { name: 'ptime-10', attributes: ['a=ptime:10', 'a=maxptime:10'] },
  { name: 'ptime-0', attributes: ['a=ptime:0'] },
  { name: 'no-ptime', attributes: [] },
  { name: 'rtcp-attribute', attributes: ['a=rtcp:9 IN IP4 127.0.0.1', 'a=sendrecv'] },
  { name: 'rtcp-mux', attributes: ['a=rtcp-mux', 'a=sendrecv'] },
  { name: 'hostname-connection', connection: 'IN IP4 localhost' },
  { name: 'ipv6-connection', connection: 'IN IP6 ::1' },
];

describe('unusual offers get media or a refusal, never a silent call', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await LiveServer.start({ rtp: { portMin: 33900, portMax: 33999 } });
  });
  afterAll(async () => {
    await live?.stop();
  });

  for (const offer of OFFERS) {
    const gap = GAPS[offer.name];
    (gap ? it.fails : it)(gap ? `${offer.name} (known gap: ${gap})` : offer.name, async () => {
      const uac = await SipUac.open({
        server: { address: '127.0.0.1', port: live.sipPort },
        user: offer.name,
        tone: 440,
        ...(offer.attributes ? { attributes: offer.attributes } : {}),
        ...(offer.connection ? { connection: offer.connection } : {}),
      });
      try {
        try {
          await uac.invite('spray');
        } catch (err) {
          expect(uac.answer, String(err)).toMatch(/^SIP\/2\.0 488 /);
          return;
        }
        await sleep(1500);
        const call = live.callsByUser().get(offer.name);
        const errors = live.log.filter((e) => e.level === 'error' && e.fields.call === call);
        expect(errors.map((e) => `${e.msg} ${JSON.stringify(e.fields)}`)).toEqual([]);
        const stats = live.endpointStats().get(offer.name);
        expect(stats?.packetsIn ?? 0, 'the server takes the caller RTP').toBeGreaterThan(40);
        expect(uac.rtp.received.length, 'the caller gets RTP').toBeGreaterThan(40);
      } finally {
        await uac.hangup();
      }
    });
  }
});
