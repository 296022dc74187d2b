/**
 * SIP over TLS (RFC 3261 26.2, 18): Parley calling Parley through a whole call, certificate
 * checks when dialling out, and what a TLS port does with clients that do not speak TLS.
 */
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { contactUri } from '../../src/sip/dialog.js';
import { type CallEvents, type InboundCall, SipServer, type SipServerOptions } from '../../src/sip/index.js';
import { resolveHop } from '../../src/sip/resolve.js';

const CERTS = path.resolve(import.meta.dirname, '../fixtures/tls');
const pem = (name: string): Buffer => readFileSync(path.join(CERTS, name));
/** Signed by the test CA, for 127.0.0.1 and localhost. */
const SIGNED = { cert: pem('server.pem'), key: pem('server-key.pem') };
const SELF_SIGNED = { cert: pem('self-signed.pem'), key: pem('self-signed-key.pem') };
const TEST_CA = pem('ca.pem');

const OPTIONS = (port: number): string =>
  [
    `OPTIONS sip:parley@127.0.0.1:${port};transport=tls SIP/2.0`,
    'Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-tls-options-1;rport',
    'Max-Forwards: 70',
    'From: <sip:probe@127.0.0.1>;tag=probe1',
    `To: <sip:parley@127.0.0.1:${port}>`,
    'Call-ID: tls-options-1@127.0.0.1',
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

/** Opens a TLS connection trusting the test CA, sends `text`, resolves with the first response. */
function askOverTls(port: number, text: string): Promise<{ response: string; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: TEST_CA }, () => socket.write(text));
    let data = '';
    socket.on('data', (d: Buffer) => {
      data += d.toString();
      if (data.includes('\r\n\r\n')) {
        resolve({ response: data, protocol: socket.getProtocol() });
        socket.destroy();
      }
    });
    socket.on('error', reject);
    setTimeout(() => reject(new Error(`no response over TLS; got ${JSON.stringify(data)}`)), 3000).unref();
  });
}

describe('SIP over TLS', () => {
  it('writes TLS into Contact and finds TLS hops on 5061 by default, keeping the name to verify', async () => {
    expect(contactUri({ address: '127.0.0.1', port: 5061, protocol: 'TLS' })).toBe(
      'sip:parley@127.0.0.1:5061;transport=tls',
    );
    // A name with no SRV record: its address, on 5061 (lookups answered here, no network).
    const resolver = {
      naptr: async () => [],
      srv: async () => [],
      address: async (name: string) => (name === 'pbx.test' ? '127.0.0.1' : Promise.reject(new Error(name))),
    };
    expect(await resolveHop('sip:bob@pbx.test;transport=TLS', { resolver })).toEqual({
      protocol: 'TLS',
      address: '127.0.0.1',
      port: 5061,
      serverName: 'pbx.test',
    });
    expect(await resolveHop('sip:bob@127.0.0.1:5070;transport=tcp')).toEqual({
      protocol: 'TCP',
      address: '127.0.0.1',
      port: 5070,
    });
  });

  const servers: SipServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  /** A server on 127.0.0.1 (UDP, no TCP), with TLS when given, closed after the test. */
  const listen = async (extra: Partial<SipServerOptions> = {}): Promise<SipServer> => {
    const server = await SipServer.listen({ address: '127.0.0.1', udpPort: 0, tcpPort: false, ...extra });
    servers.push(server);
    return server;
  };

  it('answers a request over TLS on the connection it came on, with its own TLS Via', async () => {
    const server = await listen({ tls: { port: 0, ...SIGNED } });
    expect(server.tlsPort).toBeGreaterThan(0);
    const { response, protocol } = await askOverTls(server.tlsPort, OPTIONS(server.tlsPort));
    expect(protocol).toMatch(/^TLSv1\.[23]$/);
    expect(response).toMatch(/^SIP\/2\.0 200 /);
    expect(response).toMatch(/^Via: SIP\/2\.0\/TLS 127\.0\.0\.1:5999;branch=z9hG4bK-tls-options-1/im);
  });

  it('carries a whole call between two servers, the callee verified against a trusted CA', async () => {
    const callee = await listen({ tls: { port: 0, ...SIGNED } });
    const caller = await listen({ tls: { port: 0, ...SELF_SIGNED, ca: TEST_CA } });
    let inbound: InboundCall | undefined;
    const seen: string[] = [];
    callee.onInvite((call) => {
      inbound = call;
      call.on('message', (m) => seen.push(`message ${m.text}`));
      call.on('dtmf', (d) => seen.push(`dtmf ${d.digit}`));
      call.ringing();
      void call.answer({ address: '127.0.0.1', port: 41100 });
    });
    const outcome = await caller.dial({
      uri: `sip:room@127.0.0.1:${callee.tlsPort};transport=tls`,
      timeoutMs: 3000,
      local: { address: '127.0.0.1', port: 42100 },
    });
    expect(outcome.status, JSON.stringify(outcome)).toBe('answered');
    if (outcome.status !== 'answered') return;
    expect(inbound?.transport).toBe('TLS');
    expect(outcome.call.transport).toBe('TLS');

    await outcome.call.sendMessage('over TLS');
    await outcome.call.sendDtmfInfo('5');
    const ended = new Promise<CallEvents['ended']>((resolve) => inbound?.on('ended', resolve));
    await outcome.call.hangup();
    expect(await ended).toEqual({ by: 'remote' });
    expect(seen).toEqual(['message over TLS', 'dtmf 5']);
  });

  it('refuses to dial a callee whose certificate nobody trusted signed', async () => {
    const callee = await listen({ tls: { port: 0, ...SELF_SIGNED } });
    // Trusts only the test CA (and the system's), not the callee's self-signed certificate.
    const caller = await listen({ tls: { port: 0, ...SIGNED, ca: TEST_CA } });
    let invited = false;
    callee.onInvite(() => {
      invited = true;
    });
    const outcome = await caller.dial({
      uri: `sip:room@127.0.0.1:${callee.tlsPort};transport=tls`,
      timeoutMs: 3000,
      local: { address: '127.0.0.1', port: 42200 },
    });
    expect(outcome.status).toBe('failed');
    expect(JSON.stringify(outcome)).toMatch(/certificate/i);
    expect(invited).toBe(false);
  });

  it('refuses to dial over TLS when this server has no TLS', async () => {
    const caller = await listen();
    const outcome = await caller.dial({
      uri: 'sip:room@127.0.0.1:5061;transport=tls',
      timeoutMs: 1000,
      local: { address: '127.0.0.1', port: 42300 },
    });
    expect(outcome).toEqual({ status: 'failed', reason: 'SIP over TLS is not configured on this server' });
  });

  it('serves a renewed certificate to new connections and refuses an unusable one', async () => {
    const server = await listen({ tls: { port: 0, ...SIGNED } });
    const peerCertificate = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = tls.connect(
          { host: '127.0.0.1', port: server.tlsPort, rejectUnauthorized: false },
          () => {
            resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
            socket.destroy();
          },
        );
        socket.on('error', reject);
      });
    const signed = new crypto.X509Certificate(SIGNED.cert).fingerprint256;
    const selfSigned = new crypto.X509Certificate(SELF_SIGNED.cert).fingerprint256;
    expect(await peerCertificate()).toBe(signed);
    server.updateTls(SELF_SIGNED);
    expect(await peerCertificate()).toBe(selfSigned);
    // A key that does not belong to the certificate is refused; the last good pair stays.
    expect(() => server.updateTls({ cert: SIGNED.cert, key: SELF_SIGNED.key })).toThrow();
    expect(await peerCertificate()).toBe(selfSigned);
    const plain = await listen();
    expect(() => plain.updateTls(SIGNED)).toThrow(/SIP over TLS is not configured/);
  });

  it('counts TLS connections against the per-address cap before their handshake', async () => {
    const server = await listen({ tls: { port: 0, ...SIGNED }, limits: { maxConnectionsPerSource: 2 } });
    const open = (): Promise<net.Socket> =>
      new Promise((resolve) => {
        const socket = net.connect(server.tlsPort, '127.0.0.1', () => resolve(socket));
        socket.on('error', () => {});
      });
    const [a, b, c] = [await open(), await open(), await open()];
    // The third raw connection is closed at once, before any TLS byte was exchanged.
    await new Promise<void>((resolve) => c.on('close', () => resolve()));
    expect(a.destroyed || b.destroyed).toBe(false);
    a.destroy();
    b.destroy();
    // Once the server has seen the two go, a TLS client is served again.
    let response = '';
    for (const until = Date.now() + 3000; !response && Date.now() < until; ) {
      response = await askOverTls(server.tlsPort, OPTIONS(server.tlsPort)).then(
        (r) => r.response,
        () => '',
      );
    }
    expect(response).toMatch(/^SIP\/2\.0 200 /);
  });

  it('drops clients that do not speak TLS and keeps serving the ones that do', async () => {
    const server = await listen({ tls: { port: 0, ...SIGNED, handshakeTimeoutMs: 300 } });
    // Plain SIP on the TLS port: the handshake fails and the connection is closed.
    const plain = net.connect(server.tlsPort, '127.0.0.1', () => plain.write(OPTIONS(server.tlsPort)));
    const plainClosed = new Promise<string>((resolve) => {
      let got = '';
      plain.on('data', (d: Buffer) => {
        got += d.toString('latin1');
      });
      plain.on('close', () => resolve(got));
      plain.on('error', () => {});
    });
    // A client that connects and never says anything is closed after the handshake timeout.
    const silent = net.connect(server.tlsPort, '127.0.0.1');
    silent.on('error', () => {});
    const silentClosed = new Promise<void>((resolve) => silent.on('close', () => resolve()));
    expect(await plainClosed).not.toContain('SIP/2.0');
    await silentClosed;
    const { response } = await askOverTls(server.tlsPort, OPTIONS(server.tlsPort));
    expect(response).toMatch(/^SIP\/2\.0 200 /);
  });
});
