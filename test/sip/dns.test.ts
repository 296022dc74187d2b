/**
 * Locating SIP servers in DNS (RFC 3263) against a real DNS server (dnsmasq on loopback):
 * NAPTR picks the transport, SRV the host and port by priority, A the address; then real
 * calls from one Parley SIP server to another, found only through DNS, over UDP, TCP and TLS.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InboundCall, SipServer } from '../../src/sip/index.js';
import {
  orderSrv,
  pickSrv,
  resolveHop,
  resolveHops,
  resolverFor,
  type SipResolver,
} from '../../src/sip/resolve.js';
import { Dnsmasq, haveDnsmasq } from '../support/dnsmasq.js';

const CERTS = path.resolve(import.meta.dirname, '../fixtures/tls');
const pem = (name: string): Buffer => readFileSync(path.join(CERTS, name));

describe('SRV selection (RFC 2782)', () => {
  const rec = (name: string, priority: number, weight: number) => ({ name, port: 5060, priority, weight });

  it('takes the lowest priority, shares by weight within it, and skips "."', () => {
    const list = [rec('backup', 20, 100), rec('a', 10, 30), rec('b', 10, 70), rec('.', 0, 0)];
    expect(pickSrv(list, () => 0)?.name).toBe('a');
    expect(pickSrv(list, () => 0.29)?.name).toBe('a');
    expect(pickSrv(list, () => 0.31)?.name).toBe('b');
    expect(pickSrv(list, () => 0.999)?.name).toBe('b');
    expect(pickSrv([rec('x', 5, 0), rec('y', 5, 0)], () => 0.6)?.name).toBe('y');
    expect(pickSrv([rec('.', 0, 0)])).toBeUndefined();
    expect(pickSrv([])).toBeUndefined();
  });

  it('falls back to the name itself when DNS fails, after one SRV question, not all of them', async () => {
    const asked: string[] = [];
    const timeout = (): never => {
      throw Object.assign(new Error('queryNaptr ETIMEOUT'), { code: 'ETIMEOUT' });
    };
    const flaky: SipResolver = {
      naptr: async (name) => {
        asked.push(`naptr ${name}`);
        return timeout();
      },
      srv: async (name) => {
        asked.push(`srv ${name}`);
        return timeout();
      },
      address: async (name) => {
        asked.push(`a ${name}`);
        return '127.0.0.1';
      },
    };
    expect(await resolveHops('sip:room@flaky.test', { resolver: flaky })).toEqual([
      { protocol: 'UDP', address: '127.0.0.1', port: 5060 },
    ]);
    expect(asked).toEqual(['naptr flaky.test', 'srv _sip._udp.flaky.test', 'a flaky.test']);
  });

  it('orders every target for failing over: priorities in turn, weights within each', () => {
    const list = [rec('backup', 20, 0), rec('a', 10, 30), rec('b', 10, 70), rec('.', 0, 0)];
    expect(orderSrv(list, () => 0).map((r) => r.name)).toEqual(['a', 'b', 'backup']);
    expect(orderSrv(list, () => 0.5).map((r) => r.name)).toEqual(['b', 'a', 'backup']);
  });
});

describe.skipIf(!haveDnsmasq())('SIP servers found in DNS', () => {
  let dns: Dnsmasq;
  let resolver: SipResolver;
  let callee: SipServer;
  let caller: SipServer;
  let lastInbound: InboundCall | undefined;
  /** A TCP port with nothing listening: connecting to it is refused at once. */
  let deadPort: number;

  beforeAll(async () => {
    callee = await SipServer.listen({
      address: '127.0.0.1',
      udpPort: 0,
      tcpPort: 0,
      tls: { port: 0, cert: pem('server.pem'), key: pem('server-key.pem') },
    });
    callee.onInvite((call) => {
      lastInbound = call;
      void call.answer({ address: '127.0.0.1', port: 41500 }).catch(() => {});
    });
    deadPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    dns = await Dnsmasq.start({
      naptr: [
        // TCP is ordered before UDP: the NAPTR order decides, not our preference.
        'naptr.test,20,10,s,SIP+D2U,,_sip._udp.naptr.test',
        'naptr.test,10,10,s,SIP+D2T,,_sip._tcp.naptr.test',
      ],
      srv: [
        `_sip._udp.naptr.test,host.naptr.test,${callee.udpPort},0,0`,
        `_sip._tcp.naptr.test,host.naptr.test,${callee.tcpPort},0,0`,
        // Priority 10 wins over 20 (whose port has nothing listening).
        `_sip._udp.srv.test,backup.srv.test,9,20,0`,
        `_sip._udp.srv.test,main.srv.test,${callee.udpPort},10,0`,
        `_sips._tcp.pbx.test,tls-1.pbx.test,${callee.tlsPort},0,0`,
        // The preferred server is down; the second one answers.
        `_sip._tcp.fo.test,down.fo.test,${deadPort},10,0`,
        `_sip._tcp.fo.test,up.fo.test,${callee.tcpPort},20,0`,
      ],
      hosts: [
        'host.naptr.test,127.0.0.1',
        'main.srv.test,127.0.0.1',
        'backup.srv.test,127.0.0.1',
        'srv.test,127.0.0.1',
        'plain.test,127.0.0.1',
        'tls-1.pbx.test,127.0.0.1',
        'down.fo.test,127.0.0.1',
        'up.fo.test,127.0.0.1',
      ],
    });
    resolver = resolverFor([dns.server]);
    caller = await SipServer.listen({
      address: '127.0.0.1',
      udpPort: 0,
      tcpPort: 0,
      tls: { port: 0, cert: pem('self-signed.pem'), key: pem('self-signed-key.pem'), ca: pem('ca.pem') },
      dnsServers: [dns.server],
    });
  });

  afterAll(async () => {
    await caller?.close();
    await callee?.close();
    await dns?.stop();
  });

  it('follows NAPTR to the transport, SRV to the port, A to the address', async () => {
    expect(await resolveHop('sip:room@naptr.test', { resolver })).toEqual({
      protocol: 'TCP',
      address: '127.0.0.1',
      port: callee.tcpPort,
    });
    // Without NAPTR, SRV per transport we speak; the lowest priority target.
    expect(await resolveHop('sip:room@srv.test', { resolver })).toEqual({
      protocol: 'UDP',
      address: '127.0.0.1',
      port: callee.udpPort,
    });
    // A transport we do not speak in NAPTR is passed over.
    expect(await resolveHop('sip:room@naptr.test', { resolver, supported: ['UDP'] })).toEqual({
      protocol: 'UDP',
      address: '127.0.0.1',
      port: callee.udpPort,
    });
  }, 15_000);

  it('uses the name itself, on the default port, when it has no SRV for the transport', async () => {
    expect(await resolveHop('sip:room@srv.test;transport=tcp', { resolver })).toEqual({
      protocol: 'TCP',
      address: '127.0.0.1',
      port: 5060,
    });
    expect(await resolveHop('sip:room@plain.test', { resolver })).toEqual({
      protocol: 'UDP',
      address: '127.0.0.1',
      port: 5060,
    });
    // A port in the URI means no NAPTR or SRV at all.
    expect(await resolveHop('sip:room@plain.test:5099', { resolver })).toEqual({
      protocol: 'UDP',
      address: '127.0.0.1',
      port: 5099,
    });
    await expect(resolveHop('sip:room@missing.test', { resolver })).rejects.toThrow(/missing\.test/);
  }, 15_000);

  it('dials servers found only through DNS, over UDP, TCP and TLS', async () => {
    for (const [uri, transport] of [
      ['sip:room@srv.test', 'UDP'],
      ['sip:room@naptr.test', 'TCP'],
      // The certificate must name pbx.test, the domain dialled, not the SRV target.
      ['sip:room@pbx.test;transport=tls', 'TLS'],
    ] as const) {
      lastInbound = undefined;
      const outcome = await caller.dial({
        uri,
        timeoutMs: 3000,
        local: { address: '127.0.0.1', port: 42500 },
      });
      expect(outcome.status, `${uri}: ${JSON.stringify(outcome)}\n${dns.logTail()}`).toBe('answered');
      if (outcome.status !== 'answered') continue;
      expect(outcome.call.transport).toBe(transport);
      expect((lastInbound as InboundCall | undefined)?.transport).toBe(transport);
      await outcome.call.hangup();
    }
  }, 30_000);

  it('moves on to the next SRV target when the first one cannot be reached', async () => {
    expect((await resolveHops('sip:room@fo.test;transport=tcp', { resolver })).map((h) => h.port)).toEqual([
      deadPort,
      callee.tcpPort,
    ]);
    lastInbound = undefined;
    const outcome = await caller.dial({
      uri: 'sip:room@fo.test;transport=tcp',
      timeoutMs: 3000,
      local: { address: '127.0.0.1', port: 42700 },
    });
    expect(outcome.status, JSON.stringify(outcome)).toBe('answered');
    if (outcome.status !== 'answered') return;
    expect(outcome.call.source.port).toBe(callee.tcpPort);
    await outcome.call.hangup();
  }, 15_000);

  it('fails a dial to a name DNS does not know, saying so', async () => {
    const outcome = await caller.dial({
      uri: 'sip:room@missing.test',
      timeoutMs: 3000,
      local: { address: '127.0.0.1', port: 42600 },
    });
    expect(outcome).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/cannot resolve sip:room@missing\.test/),
    });
  }, 15_000);
});
