/**
 * The RFC 4475 torture messages against the whole server, ParleyServer, over UDP and TCP: unlike
 * test/sip/rfc4475-server.test.ts (the SIP server with an application that refuses every call),
 * here a catch-all route sends every INVITE that passes the wire layer into a conference, so the
 * torture SDPs go through routing, offer/answer and the media engine.
 *
 * Per message: the wire layer's answers (400, 413, 416, 505, or none) are those expected.tsv
 * names; everything else gets some answer; framing errors on TCP close the connection within
 * 1 s; a valid OPTIONS is answered 200 afterwards. Over the whole run: no error in the server's
 * log (a call whose media cannot be set up logs one), and no engine error.
 */
import dgram from 'node:dgram';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptable,
  callIdOf,
  isResponse,
  loadTortureCases,
  optionsProbe,
  rewriteTopVia,
  TCP_CLOSES,
  type TortureCase,
  WIRE_STATUSES,
} from '../unit/sip/rfc4475-corpus.js';
import { connectTcp, ResponseInbox } from '../unit/sip/rfc4475-inbox.js';
import { LiveServer } from './live-server.js';

const CASES = loadTortureCases();
const CONFIG = path.join(import.meta.dirname, 'fixtures/catch-all');
/** Final responses by Call-ID, read by pattern (a 400 may echo headers too broken to parse). */
/** Holds an answer against expected.tsv: the wire layer's codes exactly, the application's loosely. */
function judge(c: TortureCase, status: number | undefined): void {
  const expectsDrop = c.expected.length === 1 && c.expected[0] === 'drop';
  if (expectsDrop || isResponse(c)) {
    expect(status, 'no answer').toBeUndefined();
    return;
  }
  expect(status, 'an answer arrives').toBeDefined();
  const outcome = WIRE_STATUSES.has(status!) ? status! : 'app';
  expect(acceptable(c, outcome), `answered ${status}; expected ${c.expected.join('|')}`).toBe(true);
}

async function startLive(): Promise<LiveServer> {
  return LiveServer.start({
    config: CONFIG,
    tcp: true,
    rtp: { portMin: 33700, portMax: 33899 },
    // One source sends every message and probe at once; a short slow-sender clock lets the
    // incomplete messages (clerr, baddn) close within 1 s.
    limits: { transactionsPerSecond: 10_000, transactionBurst: 10_000, messageTimeoutMs: 500 },
  });
}

function serverHealthy(live: LiveServer): void {
  const errors = live.log.filter((e) => e.level === 'error');
  expect(errors.map((e) => `${e.msg} ${JSON.stringify(e.fields)}`)).toEqual([]);
  expect(live.engineStats()?.internalErrors ?? 0).toBe(0);
}

describe('RFC 4475 against ParleyServer over UDP', () => {
  let live: LiveServer;
  let socket: dgram.Socket;
  const inbox = new ResponseInbox();

  beforeAll(async () => {
    live = await startLive();
    socket = dgram.createSocket('udp4');
    socket.on('message', (data) => inbox.addLenient(data.toString('latin1')));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  });

  // Calls answered 200 whose ACK never comes (the torture INVITEs) hold the stop until their
  // 64·T1 timeout: about 32 s.
  afterAll(async () => {
    socket?.close();
    await live?.stop();
  }, 60_000);

  for (const c of CASES) {
    it(c.name, async () => {
      const port = socket.address().port;
      socket.send(rewriteTopVia(c.bytes, 'UDP', port), live.sipPort, '127.0.0.1');
      const expectsDrop = c.expected.length === 1 && c.expected[0] === 'drop';
      judge(c, (await inbox.final(callIdOf(c.bytes), expectsDrop || isResponse(c) ? 400 : 3000))?.status);
      const probe = `probe-udp-${c.name}`;
      socket.send(optionsProbe(probe, 'UDP', port), live.sipPort, '127.0.0.1');
      expect((await inbox.final(probe, 2000))?.status, 'OPTIONS answered afterwards').toBe(200);
    });
  }

  it('logged no error and the engine had none', () => serverHealthy(live));
});

describe('RFC 4475 against ParleyServer over TCP', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLive();
  });
  afterAll(async () => {
    await live?.stop();
  }, 60_000);

  const connect = () => connectTcp(live.tcpPort);

  for (const c of CASES) {
    it(c.name, async () => {
      const conn = await connect();
      const sentAt = Date.now();
      conn.socket.write(rewriteTopVia(c.bytes, 'TCP', conn.socket.localPort as number));
      let probeConn = conn;
      if (TCP_CLOSES.has(c.name)) {
        const closedAt = await Promise.race([
          conn.closed,
          new Promise<number>((r) => setTimeout(() => r(-1), 1500)),
        ]);
        expect(closedAt, 'the server closes the connection').toBeGreaterThan(0);
        expect(closedAt - sentAt, 'within 1 s').toBeLessThanOrEqual(1000);
        probeConn = await connect();
      } else {
        const expectsDrop = c.expected.length === 1 && c.expected[0] === 'drop';
        judge(
          c,
          (await conn.inbox.final(callIdOf(c.bytes), expectsDrop || isResponse(c) ? 300 : 3000))?.status,
        );
      }
      const probe = `probe-tcp-${c.name}`;
      probeConn.socket.write(optionsProbe(probe, 'TCP', probeConn.socket.localPort as number));
      expect((await probeConn.inbox.final(probe, 2000))?.status, 'OPTIONS answered afterwards').toBe(200);
      conn.socket.destroy();
      probeConn.socket.destroy();
    });
  }

  it('logged no error and the engine had none', () => serverHealthy(live));
});
