import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CallEvents, type InboundCall, SipServer } from '../../src/sip/index.js';
import { describeRun, haveSipp, runSipp } from '../support/sipp.js';

const LOCAL = { address: '127.0.0.1', port: 40000 };

describe.skipIf(!haveSipp())('SIP UAS against sipp', () => {
  let server: SipServer;
  let calls: InboundCall[];
  let ended: CallEvents['ended'][];

  beforeEach(async () => {
    server = await SipServer.listen({
      address: '127.0.0.1',
      udpPort: 0,
      tcpPort: 0,
      mediaPrefs: ['pcmu', 'pcma'],
    });
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
    expect(media).toMatchObject({
      codec: { id: 'pcmu' },
      telephoneEvent: { payloadType: 101 },
      direction: 'sendrecv',
    });
    expect(ended).toEqual([{ by: 'remote' }]);
  });

  it('sends reliable provisional responses when the INVITE requires 100rel, answering after the PRACK', async () => {
    const answered: Promise<unknown>[] = [];
    server.onInvite((call) => {
      track(call);
      call.ringing();
      // Asked at once: the 200 waits for the PRACK of the 180.
      answered.push(call.answer(LOCAL));
    });
    const run = await runSipp({ scenario: 'uac-100rel.xml', target: target(), service: 'conf-1234' });
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
    await expect(answered[0]).resolves.toMatchObject({ codec: { id: 'pcmu' } });
    expect(ended).toEqual([{ by: 'remote' }]);
  });

  it('refuses a 100rel call whose caller never sends PRACK, after 64·T1', async () => {
    await server.close();
    server = await SipServer.listen({
      address: '127.0.0.1',
      udpPort: 0,
      tcpPort: 0,
      mediaPrefs: ['pcmu', 'pcma'],
      t1Ms: 40,
    });
    let answer: Promise<unknown> | undefined;
    server.onInvite((call) => {
      track(call);
      call.ringing();
      answer = call.answer(LOCAL);
      answer.catch(() => {});
    });
    const run = await runSipp({
      scenario: 'uac-100rel-no-prack.xml',
      target: target(),
      service: 'conf-1234',
    });
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
    expect(ended).toMatchObject([{ by: 'timeout', reason: 'no PRACK' }]);
    await expect(answer).rejects.toThrow(/ended/);
  });

  it('carries 40 overlapping calls from one sipp', async () => {
    server.onInvite((call) => {
      track(call);
      call.ringing();
      setTimeout(() => call.answer(LOCAL).catch(() => {}), 20);
    });
    const run = await runSipp({
      scenario: 'uac-call.xml',
      target: target(),
      calls: 40,
      rate: 40,
      extraArgs: ['-l', '40'],
    });
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
    expect(calls).toHaveLength(40);
    expect(new Set(calls.map((c) => c.callId)).size).toBe(40);
    expect(ended.filter((e) => e.by === 'remote')).toHaveLength(40);
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

  for (const transport of ['u1', 't1'] as const) {
    it(`hangs up from our side: BYE to the caller (${transport === 'u1' ? 'UDP' : 'TCP, on its connection'})`, async () => {
      server.onInvite((call) => {
        track(call);
        call.answer(LOCAL).then(
          () => setTimeout(() => void call.hangup(), 100),
          () => {},
        );
      });
      const port = transport === 'u1' ? server.udpPort : server.tcpPort;
      const run = await runSipp({
        scenario: 'uac-call-server-bye.xml',
        target: `127.0.0.1:${port}`,
        transport,
      });
      const result = await run.done;
      expect(result.code, describeRun(result)).toBe(0);
      expect(ended).toEqual([{ by: 'local' }]);
    });
  }

  it('early media: 183 with the answer, then the same answer in the 200', async () => {
    const early: unknown[] = [];
    server.onInvite((call) => {
      track(call);
      early.push(call.earlyMedia(LOCAL));
      setTimeout(() => void call.answer(LOCAL), 100);
    });
    const result = await (await runSipp({ scenario: 'uac-early-media.xml', target: target() })).done;
    expect(result.code, describeRun(result)).toBe(0);
    expect(early).toMatchObject([{ codec: { id: 'pcmu' } }]);
    expect(ended).toEqual([{ by: 'remote' }]);
  });

  it('late offer: our offer in the 200, the answer in the ACK', async () => {
    let media: unknown;
    server.onInvite((call) => {
      track(call);
      expect(call.offer).toBeUndefined();
      call.answer(LOCAL).then((m) => {
        media = m;
      });
    });
    const result = await (await runSipp({ scenario: 'uac-late-offer.xml', target: target() })).done;
    expect(result.code, describeRun(result)).toBe(0);
    expect(media).toMatchObject({ codec: { id: 'pcmu' }, telephoneEvent: { payloadType: 101, rate: 8000 } });
    expect(ended).toEqual([{ by: 'remote' }]);
  });

  it('CANCEL before the answer: 200 for the CANCEL, 487 for the INVITE', async () => {
    server.onInvite((call) => {
      track(call);
      call.ringing();
    });
    const result = await (await runSipp({ scenario: 'uac-cancel.xml', target: target() })).done;
    expect(result.code, describeRun(result)).toBe(0);
    expect(ended).toEqual([{ by: 'cancel' }]);
    expect(calls[0]?.state).toBe('ended');
  });

  it('re-INVITE hold and unhold, UPDATE to inactive: directions in our answers and media-changed events', async () => {
    const changes: CallEvents['media-changed'][] = [];
    server.onInvite((call) => {
      track(call);
      call.on('media-changed', (e) => changes.push(e));
      void call.answer(LOCAL);
    });
    const result = await (await runSipp({ scenario: 'uac-hold.xml', target: target() })).done;
    expect(result.code, describeRun(result)).toBe(0);
    expect(changes.map((c) => c.direction)).toEqual(['recvonly', 'sendrecv', 'inactive']);
    expect(changes[0]?.remote.direction).toBe('sendonly');
    expect(changes[0]?.codec.name).toBe('PCMU');
    expect(ended).toEqual([{ by: 'remote' }]);
  });

  it('INFO DTMF (dtmf-relay and dtmf) and MESSAGE in the dialog become events', async () => {
    const dtmf: CallEvents['dtmf'][] = [];
    const messages: CallEvents['message'][] = [];
    server.onInvite((call) => {
      track(call);
      call.on('dtmf', (e) => dtmf.push(e));
      call.on('message', (e) => messages.push(e));
      void call.answer(LOCAL);
    });
    const run = await runSipp({ scenario: 'uac-info-message.xml', target: target() });
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(0);
    expect(dtmf).toEqual([
      { digit: '5', durationMs: 160, via: 'info' },
      { digit: '#', durationMs: 100, via: 'info' },
    ]);
    expect(messages).toEqual([
      { text: 'hello from sipp\r\n', contentType: 'text/plain', from: `sip:sipp@127.0.0.1:${run.port}` },
    ]);
  });

  it('488 with a Warning when no offered codec fits; the handler never sees the call', async () => {
    server.onInvite((call) => track(call));
    const result = await (await runSipp({ scenario: 'uac-488.xml', target: target() })).done;
    expect(result.code, describeRun(result)).toBe(0);
    expect(calls).toHaveLength(0);
  });

  it('OPTIONS 200, SUBSCRIBE 405, unknown method 501, BYE outside a dialog 481, small Session-Expires 422', async () => {
    server.onInvite((call) => track(call));
    const result = await (await runSipp({ scenario: 'uac-misc.xml', target: target() })).done;
    expect(result.code, describeRun(result)).toBe(0);
    expect(calls).toHaveLength(0);
  });

  it('confirms Session-Expires with Require: timer', async () => {
    server.onInvite((call) => {
      track(call);
      void call.answer(LOCAL);
    });
    const result = await (await runSipp({ scenario: 'uac-session-timer.xml', target: target() })).done;
    expect(result.code, describeRun(result)).toBe(0);
    expect(ended).toEqual([{ by: 'remote' }]);
  });
});
