/**
 * The stream-transport limits of the whole server (ParleyServer with SIP over TCP), the ones
 * test/sip/flood.test.ts does not drive over a socket: the idle timeout (and CRLF keep-alives
 * holding a connection open), a head that grows past maxHeaderBytes without ever ending, the
 * global cap on connections across source addresses, and pipelined messages far beyond
 * maxBufferedBytes in one write (complete messages are not "buffered": all are answered).
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SipLimits } from '../../src/sip/guard/limits.js';
import { LiveServer } from './live-server.js';

let live: LiveServer | undefined;
const open: net.Socket[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  await live?.stop();
  live = undefined;
});

async function start(limits: Partial<SipLimits>): Promise<LiveServer> {
  live = await LiveServer.start({ tcp: true, rtp: { portMin: 34000, portMax: 34099 }, limits });
  return live;
}

interface Conn {
  socket: net.Socket;
  /** Wall-clock ms of the close, or 0 while open. */
  closedAt: () => number;
  closed: Promise<number>;
  data: () => string;
}

async function connect(port: number, localAddress = '127.0.0.1'): Promise<Conn> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  open.push(socket);
  let received = '';
  let closedAt = 0;
  socket.on('data', (d) => {
    received += d.toString('latin1');
  });
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      closedAt = Date.now();
      resolve(closedAt);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closedAt: () => closedAt, closed, data: () => received };
}

function options(callId: string, port: number): string {
  return (
    `OPTIONS sip:parley@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:${port};branch=z9hG4bK-${callId}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=t1\r\nTo: <sip:parley@127.0.0.1>\r\nCall-ID: ${callId}\r\n` +
    'CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

describe('TCP limits of ParleyServer', () => {
  it('closes an idle connection after idleTimeoutMs; CRLF keep-alives hold it open', async () => {
    const s = await start({ idleTimeoutMs: 400, messageTimeoutMs: 300 });
    const idle = await connect(s.tcpPort);
    const kept = await connect(s.tcpPort);
    const opened = Date.now();
    // RFC 5626 keep-alives: a double CRLF every 150 ms for 1.2 s.
    for (let i = 0; i < 8; i++) {
      kept.socket.write('\r\n\r\n');
      await sleep(150);
    }
    expect(idle.closedAt(), 'the idle connection is closed').toBeGreaterThan(0);
    expect(idle.closedAt() - opened).toBeGreaterThanOrEqual(350);
    expect(idle.closedAt() - opened).toBeLessThan(1100);
    expect(kept.closedAt(), 'keep-alives hold the other open').toBe(0);
    kept.socket.write(options('after-keepalive', kept.socket.localPort as number));
    expect(await until(() => kept.data().includes('SIP/2.0 200 '), 2000)).toBe(true);
    // Then silence: it goes the same way.
    const silentFrom = Date.now();
    await kept.closed;
    expect(kept.closedAt() - silentFrom).toBeLessThan(1100);
  });

  it('closes a head that grows past maxHeaderBytes at once, without waiting for its end', async () => {
    const s = await start({ maxHeaderBytes: 4096, messageTimeoutMs: 10_000 });
    const c = await connect(s.tcpPort);
    const sent = Date.now();
    c.socket.write(
      `INVITE sip:spray@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:${c.socket.localPort};branch=z9hG4bK-hb\r\n`,
    );
    // Header lines that never end the head: 64 KiB in 1 KiB writes.
    for (let i = 0; i < 64 && c.closedAt() === 0; i++) {
      c.socket.write(`X-Filler-${i}: ${'a'.repeat(1000)}\r\n`);
      await sleep(5);
    }
    await Promise.race([c.closed, sleep(1500)]);
    expect(c.closedAt(), 'closed long before the 10 s message timeout').toBeGreaterThan(0);
    expect(c.closedAt() - sent).toBeLessThan(1000);
    // The server still serves a new connection.
    const d = await connect(s.tcpPort);
    d.socket.write(options('after-header-bomb', d.socket.localPort as number));
    expect(await until(() => d.data().includes('SIP/2.0 200 '), 2000)).toBe(true);
  });

  it('caps connections across source addresses (maxConnections) and keeps serving the first ones', async () => {
    const s = await start({ maxConnections: 6, maxConnectionsPerSource: 4 });
    const conns: Conn[] = [];
    for (let i = 0; i < 10; i++) conns.push(await connect(s.tcpPort, `127.0.1.${i + 1}`));
    await sleep(500);
    const closed = conns.filter((c) => c.closedAt() > 0).length;
    expect(closed, 'connections beyond the cap are closed').toBe(4);
    const first = conns[0]!;
    expect(first.closedAt()).toBe(0);
    first.socket.write(options('first-still-served', first.socket.localPort as number));
    expect(await until(() => first.data().includes('SIP/2.0 200 '), 2000)).toBe(true);
    // A closed slot can be taken again.
    first.socket.destroy();
    await sleep(200);
    const again = await connect(s.tcpPort, '127.0.1.200');
    await sleep(300);
    expect(again.closedAt(), 'a freed slot is usable').toBe(0);
  });

  it('answers every pipelined message of a write far larger than maxBufferedBytes', async () => {
    const s = await start({
      maxBufferedBytes: 16_384,
      maxMessageBytes: 8192,
      maxHeaderBytes: 4096,
      transactionsPerSecond: 10_000,
      transactionBurst: 10_000,
    });
    const c = await connect(s.tcpPort);
    const port = c.socket.localPort as number;
    const batch = Array.from({ length: 1000 }, (_, i) => options(`pipe-${i}`, port)).join('');
    expect(batch.length).toBeGreaterThan(12 * 16_384);
    c.socket.write(batch);
    const answered = (): number => (c.data().match(/^SIP\/2\.0 200 /gm) ?? []).length;
    expect(await until(() => answered() === 1000, 5000), `${answered()} of 1000 answered`).toBe(true);
    expect(c.closedAt()).toBe(0);
  });
});
