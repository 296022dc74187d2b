/**
 * Dial-out edge cases against a hand-driven UDP callee: a 200 racing our CANCEL, a retransmitted
 * 200 (our ACK was lost), a 200 without a usable answer, and how final statuses map to outcomes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SipServer } from '../../src/sip/index.js';
import { RawPeer } from './raw-peer.js';

const LOCAL = { address: '127.0.0.1', port: 40006 };
const ANSWER = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 5006 RTP/AVP 0',
  '',
].join('\r\n');

describe('dial-out edge cases', () => {
  let server: SipServer;
  let callee: RawPeer;

  beforeEach(async () => {
    server = await SipServer.listen({
      address: '127.0.0.1',
      udpPort: 0,
      tcpPort: false,
      mediaPrefs: ['pcmu'],
    });
    callee = await RawPeer.open();
  });
  afterEach(async () => {
    callee.close();
    await server.close();
  });

  const dial = (timeoutMs = 5000) =>
    server.dial({ uri: `sip:bob@127.0.0.1:${callee.port}`, timeoutMs, local: LOCAL });

  it('a 200 that crosses our CANCEL is ACKed and hung up; the outcome stays no-answer', async () => {
    const outcome = dial(300);
    const invite = await callee.next(/^INVITE /);
    callee.respond(invite, '180 Ringing', server.udpPort, { toTag: 'late' });
    const cancel = await callee.next(/^CANCEL /);
    callee.respond(cancel, '200 OK', server.udpPort);
    callee.respond(invite, '200 OK', server.udpPort, { toTag: 'late', body: ANSWER });
    expect(await outcome).toMatchObject({
      status: 'no-answer',
      reason: 'no-answer; answered late and hung up',
    });
    await callee.next(/^ACK /);
    const bye = await callee.next(/^BYE /);
    expect(bye).toMatch(/;tag=late/);
  });

  it('ACKs a retransmitted 200 again (our first ACK was lost)', async () => {
    const outcome = dial();
    const invite = await callee.next(/^INVITE /);
    callee.respond(invite, '200 OK', server.udpPort, { toTag: 'rtx', body: ANSWER });
    expect((await outcome).status).toBe('answered');
    await callee.next(/^ACK /);
    callee.respond(invite, '200 OK', server.udpPort, { toTag: 'rtx', body: ANSWER });
    await new Promise((r) => setTimeout(r, 200));
    expect(callee.count(/^ACK /)).toBe(2);
  });

  it('a 200 without a usable answer is ACKed, hung up and reported failed', async () => {
    const outcome = dial();
    const invite = await callee.next(/^INVITE /);
    callee.respond(invite, '200 OK', server.udpPort, {
      toTag: 'g729',
      body: ANSWER.replace('RTP/AVP 0', 'RTP/AVP 18'),
    });
    expect(await outcome).toMatchObject({ status: 'failed', code: 200 });
    await callee.next(/^ACK /);
    await callee.next(/^BYE /);
  });

  it('maps 603 to failed and 480 to no-answer, and ACKs each final response', async () => {
    for (const [status, expected] of [
      ['603 Decline', 'failed'],
      ['480 Temporarily Unavailable', 'no-answer'],
      ['600 Busy Everywhere', 'busy'],
    ] as const) {
      const from = callee.received.length;
      const outcome = dial();
      const invite = await callee.next(/^INVITE /, from);
      callee.respond(invite, status, server.udpPort, { toTag: 'x' });
      expect((await outcome).status).toBe(expected);
      expect(await callee.next(/^ACK /, from)).toMatch(/CSeq: 1 ACK/);
    }
  });
});
