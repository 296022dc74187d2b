/**
 * The guard limits as a running SipServer applies them: a request flood from one source gets 503
 * with Retry-After while another source is still served; garbage floods leave the server answering;
 * on TCP a slow sender, an oversized message and too many connections are cut off.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SipLimits } from '../../src/sip/guard/index.js';
import { SipServer } from '../../src/sip/index.js';

function options(callId: string, transport: 'UDP' | 'TCP', port: number, contentLength = 0): Buffer {
  return Buffer.from(
    `OPTIONS sip:parley@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/${transport} 127.0.0.1:${port};branch=z9hG4bK-${callId}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:flood@127.0.0.1>;tag=f1\r\nTo: <sip:parley@127.0.0.1>\r\nCall-ID: ${callId}\r\n` +
      `CSeq: 1 OPTIONS\r\nContent-Length: ${contentLength}\r\n\r\n`,
  );
}

let server: SipServer | undefined;

async function start(limits: Partial<SipLimits>): Promise<SipServer> {
  server = await SipServer.listen({ address: '127.0.0.1', udpPort: 0, tcpPort: 0, limits });
  return server;
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A UDP client on its own loopback address, collecting answers by Call-ID. */
async function udpClient(address = '127.0.0.1'): Promise<{
  socket: dgram.Socket;
  port: number;
  answers: Map<string, string>;
}> {
  const socket = dgram.createSocket('udp4');
  const answers = new Map<string, string>();
  socket.on('error', () => {});
  socket.on('message', (data) => {
    const text = data.toString('latin1');
    const callId = /^Call-ID: (.*)$/im.exec(text)?.[1]?.trim();
    if (callId && !text.startsWith('SIP/2.0 100 ')) answers.set(callId, text);
  });
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return { socket, port: socket.address().port, answers };
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

describe('SIP floods against a running server', () => {
  it('answers a request flood from one source with 503 + Retry-After, and serves another source', async () => {
    const s = await start({ transactionsPerSecond: 5, transactionBurst: 10 });
    const a = await udpClient('127.0.0.1');
    const b = await udpClient('127.0.0.2');
    try {
      for (let i = 0; i < 60; i++)
        a.socket.send(options(`flood-${i}`, 'UDP', a.port), s.udpPort, '127.0.0.1');
      expect(await until(() => a.answers.size === 60, 3000), `${a.answers.size} of 60 answered`).toBe(true);
      const statuses = [...a.answers.values()].map((t) => Number(t.slice(8, 11)));
      const ok = statuses.filter((x) => x === 200).length;
      const busy = [...a.answers.values()].filter((t) => t.startsWith('SIP/2.0 503 '));
      expect(ok).toBeGreaterThanOrEqual(10);
      expect(ok).toBeLessThanOrEqual(20);
      expect(busy.length).toBe(60 - ok);
      for (const t of busy) expect(t).toMatch(/\r\nRetry-After: [1-9]\d*\r\n/i);
      b.socket.send(options('other-source', 'UDP', b.port), s.udpPort, '127.0.0.1');
      expect(await until(() => b.answers.has('other-source'), 2000)).toBe(true);
      expect(b.answers.get('other-source')?.startsWith('SIP/2.0 200 ')).toBe(true);
    } finally {
      a.socket.close();
      b.socket.close();
    }
  });

  it('keeps answering after a flood of garbage datagrams', async () => {
    const s = await start({});
    const c = await udpClient();
    try {
      let seed = 1;
      const rand = (): number => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed;
      };
      for (let i = 0; i < 3000; i++) {
        const junk = Buffer.alloc(1 + (rand() % 1400));
        for (let j = 0; j < junk.length; j++) junk[j] = rand() & 0xff;
        if (i % 3 === 0) junk.write('INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP ', 0, 'latin1');
        c.socket.send(junk, s.udpPort, '127.0.0.1');
        if (i % 200 === 0) await new Promise((r) => setImmediate(r));
      }
      // UDP may lose the probe behind the flood in the socket buffer: resend it, as a UAC would.
      let answered = false;
      for (let tries = 0; tries < 10 && !answered; tries++) {
        c.socket.send(options('after-garbage', 'UDP', c.port), s.udpPort, '127.0.0.1');
        answered = await until(() => c.answers.has('after-garbage'), 300);
      }
      expect(answered).toBe(true);
      expect(c.answers.get('after-garbage')?.startsWith('SIP/2.0 200 ')).toBe(true);
    } finally {
      c.socket.close();
    }
  });
});

describe('TCP limits against a running server', () => {
  async function connect(
    port: number,
  ): Promise<{ socket: net.Socket; closed: Promise<number>; data: () => string }> {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => {
      received += d.toString('latin1');
    });
    socket.on('error', () => {});
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return { socket, closed, data: () => received };
  }

  it('closes a slow sender (slowloris) after messageTimeoutMs though bytes keep coming', async () => {
    const s = await start({ messageTimeoutMs: 300 });
    const c = await connect(s.tcpPort);
    const bytes = options('slow', 'TCP', c.socket.localPort as number);
    const started = Date.now();
    let closedAt = 0;
    void c.closed.then((t) => {
      closedAt = t;
    });
    for (let i = 0; i < bytes.length && closedAt === 0; i++) {
      c.socket.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(closedAt, 'closed before the message was complete').toBeGreaterThan(0);
    expect(closedAt - started).toBeGreaterThanOrEqual(250);
    expect(closedAt - started).toBeLessThan(1500);
  });

  it('refuses a message beyond maxMessageBytes and closes the connection within 1 s', async () => {
    const s = await start({ maxMessageBytes: 4096, maxHeaderBytes: 2048, maxBufferedBytes: 8192 });
    const c = await connect(s.tcpPort);
    const sent = Date.now();
    c.socket.write(options('huge', 'TCP', c.socket.localPort as number, 1_000_000));
    const closedAt = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(0), 1500))]);
    expect(closedAt).toBeGreaterThan(0);
    expect(closedAt - sent).toBeLessThanOrEqual(1000);
  });

  it('caps connections per source address', async () => {
    const s = await start({ maxConnectionsPerSource: 3 });
    const open = await Promise.all([1, 2, 3].map(() => connect(s.tcpPort)));
    const fourth = await connect(s.tcpPort);
    const closedAt = await Promise.race([
      fourth.closed,
      new Promise<number>((r) => setTimeout(() => r(0), 1000)),
    ]);
    expect(closedAt, 'the fourth connection is closed').toBeGreaterThan(0);
    // The first three still work.
    const first = open[0] as (typeof open)[number];
    first.socket.write(options('still-open', 'TCP', first.socket.localPort as number));
    expect(await until(() => first.data().includes('SIP/2.0 200 '), 2000)).toBe(true);
    for (const c of open) c.socket.destroy();
  });
});
