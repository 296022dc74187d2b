/**
 * Parley calling Parley: our UAC against our UAS, over IPv6 and TCP loopback, through the whole
 * life of a call (dial, answer, message, DTMF, hold by re-INVITE, BYE).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type CallEvents, type InboundCall, SipServer } from '../../src/sip/index.js';

describe('Parley to Parley', () => {
  const servers: SipServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  for (const { name, address, transport } of [
    { name: 'IPv6 UDP', address: '::1', transport: '' },
    { name: 'IPv4 TCP', address: '127.0.0.1', transport: ';transport=tcp' },
  ]) {
    it(`carries a whole call over ${name}`, async () => {
      const callee = await SipServer.listen({
        address,
        udpPort: 0,
        tcpPort: 0,
        mediaPrefs: ['opus', 'pcmu'],
      });
      const caller = await SipServer.listen({ address, udpPort: 0, tcpPort: 0 });
      servers.push(callee, caller);
      const seen: string[] = [];
      let inbound: InboundCall | undefined;
      callee.onInvite((call) => {
        inbound = call;
        call.on('message', (m) => seen.push(`message ${m.text}`));
        call.on('dtmf', (d) => seen.push(`dtmf ${d.digit}`));
        call.on('media-changed', (m) => seen.push(`media ${m.direction}`));
        call.ringing();
        void call.answer({ address, port: 41000 });
      });
      const host = address.includes(':') ? `[${address}]` : address;
      const port = transport ? callee.tcpPort : callee.udpPort;
      const outcome = await caller.dial({
        uri: `sip:room@${host}:${port}${transport}`,
        timeoutMs: 3000,
        local: { address, port: 42000, codecs: ['pcmu', 'opus'] },
      });
      expect(outcome.status, JSON.stringify(outcome)).toBe('answered');
      if (outcome.status !== 'answered') return;
      // Our preference (callee) wins over the caller's order.
      expect(outcome.media.codec.id).toBe('opus');
      expect(outcome.media.remote).toMatchObject({ address, port: 41000 });
      expect(inbound?.transport).toBe(transport ? 'TCP' : 'UDP');

      await outcome.call.sendMessage('grüß dich');
      await outcome.call.sendDtmfInfo('#');
      const held = await outcome.call.updateMedia({ address, port: 42000, direction: 'sendonly' });
      expect(held.direction).toBe('sendonly');
      expect(inbound?.media?.direction).toBe('recvonly');

      const ended = new Promise<CallEvents['ended']>((resolve) => inbound?.on('ended', resolve));
      await outcome.call.hangup();
      expect(await ended).toEqual({ by: 'remote' });
      expect(seen).toEqual(['message grüß dich', 'dtmf #', 'media recvonly']);
    });
  }

  it('refuses to listen on a port already taken, without taking the process down', async () => {
    const first = await SipServer.listen({ address: '127.0.0.1', udpPort: 0, tcpPort: 0 });
    servers.push(first);
    await expect(
      SipServer.listen({ address: '127.0.0.1', udpPort: first.udpPort, tcpPort: 0 }),
    ).rejects.toThrow(/EADDRINUSE/);
    await expect(
      SipServer.listen({ address: '127.0.0.1', udpPort: 0, tcpPort: first.tcpPort }),
    ).rejects.toThrow(/EADDRINUSE/);
    // The first server still works.
    const other = await SipServer.listen({ address: '127.0.0.1', udpPort: 0, tcpPort: false });
    servers.push(other);
    const outcome = await other.dial({
      uri: `sip:nobody@127.0.0.1:${first.udpPort}`,
      timeoutMs: 2000,
      local: { address: '127.0.0.1', port: 43000 },
    });
    expect(outcome).toMatchObject({ status: 'no-answer', code: 480 }); // no onInvite handler: 480
  });
});
