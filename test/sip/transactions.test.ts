/**
 * Transaction and transport behaviour seen from a raw UDP peer: retransmissions absorbed, the
 * 2xx retransmitted until ACK, rport, malformed input, 481 and 491.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type InboundCall, SipServer } from '../../src/sip/index.js';
import { describeRun, haveSipp, runSipp } from '../support/sipp.js';
import { RawPeer } from './raw-peer.js';

const LOCAL = { address: '127.0.0.1', port: 40004 };

const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 5004 RTP/AVP 0 101',
  'a=rtpmap:101 telephone-event/8000',
  '',
].join('\r\n');

function invite(
  peer: RawPeer,
  server: SipServer,
  o: {
    branch: string;
    callId: string;
    viaPort?: number;
    cseq?: number;
    toTag?: string;
    sdp?: string;
    extra?: string[];
  },
): string {
  const body = o.sdp ?? SDP;
  return [
    `INVITE sip:room@127.0.0.1:${server.udpPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${o.viaPort ?? peer.port};branch=${o.branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:raw@127.0.0.1:${peer.port}>;tag=rawtag`,
    `To: <sip:room@127.0.0.1>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq ?? 1} INVITE`,
    `Contact: <sip:raw@127.0.0.1:${peer.port}>`,
    ...(o.extra ?? []),
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

function ack(peer: RawPeer, server: SipServer, o: { callId: string; toTag: string; cseq?: number }): string {
  return [
    `ACK sip:parley@127.0.0.1:${server.udpPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKack${Math.random().toString(36).slice(2)};rport`,
    'Max-Forwards: 70',
    `From: <sip:raw@127.0.0.1:${peer.port}>;tag=rawtag`,
    `To: <sip:room@127.0.0.1>;tag=${o.toTag}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq ?? 1} ACK`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const toTagOf = (msg: string): string => /^To:.*;tag=([^;\s]+)/m.exec(msg)?.[1] ?? '';

describe('SIP transactions from a raw UDP peer', () => {
  let server: SipServer;
  let peer: RawPeer;
  let calls: InboundCall[];

  beforeEach(async () => {
    server = await SipServer.listen({ address: '127.0.0.1', udpPort: 0, tcpPort: 0, mediaPrefs: ['pcmu'] });
    peer = await RawPeer.open();
    calls = [];
  });
  afterEach(async () => {
    peer.close();
    await server.close();
  });

  it('absorbs a retransmitted INVITE and retransmits the 200 until the ACK', async () => {
    server.onInvite((call) => {
      calls.push(call);
      call.ringing();
      setTimeout(() => void call.answer(LOCAL), 150);
    });
    const text = invite(peer, server, { branch: 'z9hG4bKretr1', callId: 'retr-1' });
    peer.send(text, server.udpPort);
    await peer.next(/^SIP\/2.0 180/);
    peer.send(text, server.udpPort); // a retransmission: answered again, not a new call
    await new Promise((r) => setTimeout(r, 100));
    expect(peer.count(/^SIP\/2.0 180/)).toBe(2);
    expect(calls).toHaveLength(1);
    // 200 at once, again after T1 and 2·T1 while no ACK arrives.
    await new Promise((r) => setTimeout(r, 1900));
    const oks = peer.count(/^SIP\/2.0 200/);
    expect(oks).toBeGreaterThanOrEqual(3);
    const ok = await peer.next(/^SIP\/2.0 200/);
    peer.send(ack(peer, server, { callId: 'retr-1', toTag: toTagOf(ok) }), server.udpPort);
    await new Promise((r) => setTimeout(r, 2500));
    expect(peer.count(/^SIP\/2.0 200/)).toBeLessThanOrEqual(oks + 1);
    expect(calls[0]?.state).toBe('answered');
  });

  it('answers where rport says, with received and rport filled in', async () => {
    server.onInvite((call) => call.reject(486, 'Busy Here'));
    peer.send(
      invite(peer, server, { branch: 'z9hG4bKrport', callId: 'rport-1', viaPort: 9 }),
      server.udpPort,
    );
    const busy = await peer.next(/^SIP\/2.0 486/);
    expect(busy).toMatch(new RegExp(`^Via: SIP/2.0/UDP 127.0.0.1:9;.*rport=${peer.port}`, 'm'));
    expect(busy).toMatch(/received=127\.0\.0\.1/);
  });

  it('refuses new calls with 503 and Retry-After once asked to (shutdown)', async () => {
    server.onInvite((call) => calls.push(call));
    server.refuseNewCalls(503, 'Shutting Down');
    peer.send(invite(peer, server, { branch: 'z9hG4bKdrain', callId: 'drain-1' }), server.udpPort);
    const refused = await peer.next(/^SIP\/2.0 503 Shutting Down/);
    expect(refused).toMatch(/^Retry-After: \d+/m);
    expect(refused).toMatch(/^To: .*;tag=/m);
    expect(calls).toHaveLength(0);
  });

  it('answers 481 to in-dialog requests of unknown dialogs and survives garbage', async () => {
    peer.send('\u0000\u0001garbage\r\n\r\n', server.udpPort);
    peer.send('NOT SIP AT ALL', server.udpPort);
    const info = [
      `INFO sip:parley@127.0.0.1:${server.udpPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKinfo481;rport`,
      'Max-Forwards: 70',
      `From: <sip:raw@127.0.0.1>;tag=a`,
      `To: <sip:room@127.0.0.1>;tag=nosuchdialog`,
      'Call-ID: nobody',
      'CSeq: 7 INFO',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    peer.send(info, server.udpPort);
    expect(await peer.next(/^SIP\/2.0 481/)).toMatch(/CSeq: 7 INFO/);
  });

  it('answers 491 to a re-INVITE while our own re-INVITE is pending', async () => {
    server.onInvite((call) => {
      calls.push(call);
      void call.answer(LOCAL);
    });
    peer.send(invite(peer, server, { branch: 'z9hG4bKglare1', callId: 'glare-1' }), server.udpPort);
    const ok = await peer.next(/^SIP\/2.0 200/);
    const toTag = toTagOf(ok);
    peer.send(ack(peer, server, { callId: 'glare-1', toTag }), server.udpPort);
    await new Promise((r) => setTimeout(r, 100));
    const call = calls[0]!;
    const before = peer.received.length;
    const ours = call.updateMedia({ ...LOCAL, direction: 'sendonly' });
    ours.catch(() => {});
    const reinvite = await peer.next(/^INVITE /, before);
    expect(reinvite).toMatch(/a=sendonly/);
    peer.send(
      invite(peer, server, { branch: 'z9hG4bKglare2', callId: 'glare-1', cseq: 2, toTag }),
      server.udpPort,
    );
    expect(await peer.next(/^SIP\/2.0 491/)).toMatch(/CSeq: 2 INVITE/);
    // The peer answers our re-INVITE with 491 as well: ours fails, the call stays up.
    const via = /^Via: .*$/m.exec(reinvite)![0];
    const cseq = /^CSeq: .*$/m.exec(reinvite)![0];
    const from = /^From: .*$/m.exec(reinvite)![0];
    const to = /^To: .*$/m.exec(reinvite)![0];
    peer.send(
      [
        `SIP/2.0 491 Request Pending`,
        via,
        from,
        to,
        'Call-ID: glare-1',
        cseq,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      server.udpPort,
    );
    await expect(ours).rejects.toThrow(/491/);
    expect(call.isEnded).toBe(false);
  });

  it('ends the call with BYE when no ACK arrives within 64·T1', async () => {
    const quick = await SipServer.listen({ address: '127.0.0.1', udpPort: 0, tcpPort: false, t1Ms: 20 });
    try {
      const ended: string[] = [];
      const outcomes: string[] = [];
      quick.onInvite((call) => {
        call.on('ended', (e) => ended.push(e.by));
        call.answer(LOCAL).then(
          () => outcomes.push('confirmed'),
          (err: Error) => outcomes.push(err.message),
        );
      });
      peer.send(invite(peer, quick, { branch: 'z9hG4bKnoack', callId: 'noack-1' }), quick.udpPort);
      const bye = await peer.next(/^BYE /, 0, 4000);
      expect(bye).toMatch(/Call-ID: noack-1/);
      expect(peer.count(/^SIP\/2.0 200/)).toBeGreaterThanOrEqual(5);
      expect(ended).toEqual(['timeout']);
      await new Promise((r) => setImmediate(r));
      expect(outcomes).toEqual(['answer: the call ended before the ACK']);
    } finally {
      await quick.close();
    }
  });

  it('refuses a call over the per-source cap with 503 while another address still gets in', async () => {
    const limited = await SipServer.listen({
      address: '127.0.0.1',
      udpPort: 0,
      tcpPort: false,
      limits: { maxDialogs: 10, maxDialogsPerSource: 1 },
    });
    const other = await RawPeer.open('127.0.0.2');
    try {
      const ringing: string[] = [];
      limited.onInvite((call) => ringing.push(call.callId)); // left ringing: each holds its slot
      peer.send(invite(peer, limited, { branch: 'z9hG4bKsrc1', callId: 'src-1' }), limited.udpPort);
      await peer.next(/^SIP\/2.0 100[\s\S]*Call-ID: src-1/);
      peer.send(invite(peer, limited, { branch: 'z9hG4bKsrc2', callId: 'src-2' }), limited.udpPort);
      const refused = await peer.next(/^SIP\/2.0 503[\s\S]*Call-ID: src-2/);
      expect(refused).toMatch(/^Retry-After: 30/m);
      expect(refused).toMatch(/^Warning: 399 parley "too many calls from this address"/m);
      other.send(invite(other, limited, { branch: 'z9hG4bKsrc3', callId: 'src-3' }), limited.udpPort);
      await other.next(/^SIP\/2.0 100[\s\S]*Call-ID: src-3/);
      await new Promise((r) => setTimeout(r, 100));
      expect(other.received.some((m) => /^SIP\/2.0 503/.test(m))).toBe(false);
      expect(ringing).toEqual(['src-1', 'src-3']);
    } finally {
      other.socket.close();
      await limited.close();
    }
  });

  it('refuses new transactions over the rate limit and calls over the dialog cap with 503', async () => {
    const limited = await SipServer.listen({
      address: '127.0.0.1',
      udpPort: 0,
      tcpPort: false,
      limits: { transactionsPerSecond: 0.5, transactionBurst: 3, maxDialogs: 1 },
    });
    try {
      limited.onInvite(() => {}); // leave the first call ringing: it holds the only dialog slot
      peer.send(invite(peer, limited, { branch: 'z9hG4bKcap1', callId: 'cap-1' }), limited.udpPort);
      await peer.next(/^SIP\/2.0 100/);
      peer.send(invite(peer, limited, { branch: 'z9hG4bKcap2', callId: 'cap-2' }), limited.udpPort);
      const full = await peer.next(/^SIP\/2.0 503[\s\S]*Call-ID: cap-2/);
      expect(full).toMatch(/^Retry-After: 30/m);
      const options = (n: number): string =>
        [
          `OPTIONS sip:room@127.0.0.1:${limited.udpPort} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKopt${n};rport`,
          'Max-Forwards: 70',
          'From: <sip:raw@127.0.0.1>;tag=o',
          'To: <sip:room@127.0.0.1>',
          `Call-ID: opt-${n}`,
          `CSeq: ${n} OPTIONS`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n');
      // Two INVITEs and this OPTIONS use the burst of 3; the next one is over the rate.
      peer.send(options(1), limited.udpPort);
      await peer.next(/^SIP\/2.0 200[\s\S]*Call-ID: opt-1/);
      peer.send(options(2), limited.udpPort);
      const limitedAnswer = await peer.next(/^SIP\/2.0 503[\s\S]*Call-ID: opt-2/);
      expect(limitedAnswer).toMatch(/^Retry-After: \d+/m);
    } finally {
      await limited.close();
    }
  });

  it('keeps a call up through unusable in-dialog requests and answers each precisely', async () => {
    const events: string[] = [];
    server.onInvite((call) => {
      calls.push(call);
      call.on('dtmf', (e) => events.push(`dtmf ${e.digit}`));
      call.on('media-changed', (e) => events.push(`media ${e.direction}`));
      call.on('ended', (e) => events.push(`ended ${e.by}`));
      void call.answer(LOCAL);
    });
    peer.send(invite(peer, server, { branch: 'z9hG4bKhost0', callId: 'hostile' }), server.udpPort);
    const ok = await peer.next(/^SIP\/2.0 200/);
    const toTag = toTagOf(ok);
    peer.send(ack(peer, server, { callId: 'hostile', toTag }), server.udpPort);
    let cseq = 10;
    const inDialog = (method: string, body: string, type: string, seq = ++cseq): string =>
      [
        `${method} sip:parley@127.0.0.1:${server.udpPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKh${seq}${method};rport`,
        'Max-Forwards: 70',
        `From: <sip:raw@127.0.0.1:${peer.port}>;tag=rawtag`,
        `To: <sip:room@127.0.0.1>;tag=${toTag}`,
        'Call-ID: hostile',
        `CSeq: ${seq} ${method}`,
        `Contact: <sip:raw@127.0.0.1:${peer.port}>`,
        ...(body ? [`Content-Type: ${type}`] : []),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n');
    const expectAnswer = async (text: string, status: number): Promise<string> => {
      const from = peer.received.length;
      peer.send(text, server.udpPort);
      const seq = /^CSeq: (\d+ \w+)/m.exec(text)![1];
      return peer.next(new RegExp(`^SIP/2.0 ${status} [\\s\\S]*CSeq: ${seq}`), from);
    };
    const badSdp =
      'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio port RTP/AVP 0\r\n';
    expect(await expectAnswer(inDialog('INVITE', badSdp, 'application/sdp'), 400)).toMatch(/SDP line 6/);
    await expectAnswer(
      inDialog('UPDATE', SDP.replace('RTP/AVP 0 101', 'RTP/AVP 18'), 'application/sdp'),
      488,
    );
    await expectAnswer(inDialog('INFO', 'Signal=Z\r\n', 'application/dtmf-relay'), 200);
    await expectAnswer(inDialog('INFO', 'x', 'application/octet-stream'), 415);
    await expectAnswer(inDialog('MESSAGE', 'x', 'application/octet-stream'), 415);
    await expectAnswer(inDialog('INFO', 'Signal=1', 'application/dtmf-relay', 3), 500); // CSeq went backwards
    await expectAnswer(inDialog('REFER', '', ''), 405);
    await expectAnswer(inDialog('OPTIONS', '', ''), 200);
    await expectAnswer(inDialog('INFO', 'Signal=9\r\nDuration=abc\r\n', 'application/dtmf-relay'), 200);
    expect(calls[0]?.isEnded).toBe(false);
    await expectAnswer(inDialog('BYE', '', ''), 200);
    expect(events).toEqual(['dtmf 9', 'ended remote']);
  });

  describe('session timers (RFC 4028)', () => {
    let timed: SipServer;
    beforeEach(async () => {
      timed = await SipServer.listen({
        address: '127.0.0.1',
        udpPort: 0,
        tcpPort: false,
        minSessionExpires: 1,
      });
    });
    afterEach(async () => {
      await timed.close();
    });

    const establish = async (callId: string, sessionExpires: string): Promise<string> => {
      timed.onInvite((call) => {
        calls.push(call);
        void call.answer(LOCAL);
      });
      const extra = ['Supported: timer', `Session-Expires: ${sessionExpires}`];
      peer.send(invite(peer, timed, { branch: `z9hG4bK${callId}`, callId, extra }), timed.udpPort);
      const ok = await peer.next(/^SIP\/2.0 200/);
      peer.send(ack(peer, timed, { callId, toTag: toTagOf(ok) }), timed.udpPort);
      return ok;
    };

    it('refreshes with a re-INVITE at half the interval when we are the refresher', async () => {
      const ok = await establish('st-uas', '2;refresher=uas');
      expect(ok).toMatch(/^Session-Expires: 2;refresher=uas/m);
      const before = peer.received.length;
      const refresh = await peer.next(/^INVITE /, before, 2500);
      expect(refresh).toMatch(/^Session-Expires: 2;refresher=uac/m);
      expect(refresh).toMatch(/^m=audio 40004 /m);
      const copy = (name: string): string => new RegExp(`^${name}: .*$`, 'm').exec(refresh)![0];
      const answer = SDP;
      peer.send(
        [
          'SIP/2.0 200 OK',
          copy('Via'),
          copy('From'),
          copy('To'),
          copy('Call-ID'),
          copy('CSeq'),
          `Contact: <sip:raw@127.0.0.1:${peer.port}>`,
          'Session-Expires: 2;refresher=uac',
          'Content-Type: application/sdp',
          `Content-Length: ${answer.length}`,
          '',
          answer,
        ].join('\r\n'),
        timed.udpPort,
      );
      const cseq = /^CSeq: (\d+)/m.exec(refresh)![1];
      expect(await peer.next(new RegExp(`^ACK [\\s\\S]*CSeq: ${cseq} ACK`), before)).toMatch(
        /Call-ID: st-uas/,
      );
      expect(calls[0]?.isEnded).toBe(false);
    });

    it('hangs up when the other side, the refresher, lets the session expire', async () => {
      const ended: string[] = [];
      await establish('st-uac', '2;refresher=uac');
      calls[0]!.on('ended', (e) => ended.push(e.by));
      const bye = await peer.next(/^BYE /, 0, 3000);
      expect(bye).toMatch(/Call-ID: st-uac/);
      expect(ended).toEqual(['timeout']);
    });
  });

  describe.skipIf(!haveSipp())('with sipp', () => {
    it('answers 400 to a request without CSeq while a concurrent sipp call completes', async () => {
      server.onInvite((call) => {
        calls.push(call);
        // uac-call.xml checks for this port in the answer.
        setTimeout(() => void call.answer({ address: '127.0.0.1', port: 40000 }), 200);
      });
      const run = await runSipp({ scenario: 'uac-call.xml', target: `127.0.0.1:${server.udpPort}` });
      const broken = [
        `OPTIONS sip:room@127.0.0.1:${server.udpPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKnocseq;rport`,
        'Max-Forwards: 70',
        `From: <sip:raw@127.0.0.1>;tag=b`,
        `To: <sip:room@127.0.0.1>`,
        'Call-ID: no-cseq',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      await new Promise((r) => setTimeout(r, 50));
      peer.send(broken, server.udpPort);
      expect(await peer.next(/^SIP\/2.0 400/)).toMatch(/Call-ID: no-cseq/);
      const result = await run.done;
      expect(result.code, describeRun(result)).toBe(0);
      expect(calls).toHaveLength(1);
    });
  });
});
