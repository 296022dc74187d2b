import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CallEvents, type InboundCall, SipServer } from '../../src/sip/index.js';
import { describeRun, haveSipp, runSipp } from '../support/sipp.js';

const LOCAL = { address: '127.0.0.1', port: 40000 };

describe.skipIf(!haveSipp())('SIP UAS against sipp', () => {
  let server: SipServer;
  let calls: InboundCall[];
  let ended: CallEvents['ended'][];

  beforeEach(async () => {
    server = await SipServer.listen({ address: '127.0.0.1', udpPort: 0, tcpPort: 0, mediaPrefs: ['pcmu', 'pcma'] });
    calls = [];
    ended = [];
  });
  afterEach(async () => {
    await server.close();
  });

  const track = (call: InboundCall): void => {
    calls.push(call);
    call.on('ended', (e) => ended.push(e));
  };

  const target = (): string => `127.0.0.1:${server.udpPort}`;

  it('answers an INVITE with an offer; the caller hangs up', async () => {
    const answered: Promise<unknown>[] = [];
    server.onInvite((call) => {
      track(call);
      call.ringing();
      answered.push(call.answer(LOCAL));
    });
    const run = await runSipp({ scenario: 'uac-call.xml', target: target(), service: 'conf-1234' });
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.requestUri).toMatch(/^sip:conf-1234@127\.0\.0\.1/);
    expect(call.from).toBe(`sip:sipp@127.0.0.1:${run.port}`);
    expect(call.offer?.codecs.map((c) => c.name)).toEqual(['PCMA', 'PCMU']);
    const media = await answered[0];
    expect(media).toMatchObject({ codec: { id: 'pcmu' }, telephoneEvent: { payloadType: 101 }, direction: 'sendrecv' });
    expect(ended).toEqual([{ by: 'remote' }]);
  });

  it('answers over TCP as well', async () => {
    server.onInvite((call) => {
      track(call);
      void call.answer(LOCAL);
    });
    const run = await runSipp({
      scenario: 'uac-call.xml',
      target: `127.0.0.1:${server.tcpPort}`,
      transport: 't1',
      service: 'tcp',
    });
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
    expect(calls[0]?.transport).toBe('TCP');
    expect(ended).toEqual([{ by: 'remote' }]);
  });
});
