/**
 * The RFC 4475 torture messages sent to a running SipServer over UDP and TCP, byte for byte except
 * the top Via's sent-by (and transport), rewritten to this test's own socket so the answers reach
 * it. Each answer is held against expected.tsv; over TCP a framing error closes the connection
 * within 1 s; after every message the server still answers a valid OPTIONS with 200.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipServer } from '../../src/sip/index.js';
import {
  acceptable,
  callIdOf,
  isResponse,
  loadTortureCases,
  optionsProbe,
  rewriteTopVia,
  TCP_CLOSES,
  type TortureCase,
} from '../unit/sip/rfc4475-corpus.js';
import { connectTcp, ResponseInbox } from '../unit/sip/rfc4475-inbox.js';

const CASES = loadTortureCases();

let server: SipServer;

/** `it`, or `it.fails` for a known server gap. */
function caseTest(c: TortureCase): (name: string, fn: () => Promise<void>) => void {
  return SERVER_GAPS[c.name] ? it.fails : it;
}

/**
 * A fresh server for each transport: the same messages sent twice to one server would be
 * retransmissions of transactions it still remembers, answered where the first copy came from.
 */
async function startServer(): Promise<void> {
  server = await SipServer.listen({
    address: '127.0.0.1',
    udpPort: 0,
    tcpPort: 0,
    // One source sends all 49 messages plus probes quickly; a short slow-sender clock lets the
    // incomplete ones (clerr, baddn) close within the test's 1 s.
    limits: { transactionsPerSecond: 10_000, transactionBurst: 10_000, messageTimeoutMs: 500 },
  });
  // An application that takes no calls: INVITEs still go through the server's own checks (Require,
  // Content-Type, SDP) before reaching it.
  server.onInvite((call) => call.reject(480, 'Temporarily Unavailable'));
}

/** Answers Parley's server does not give yet; each `it.fails` turns red once it does. */
const SERVER_GAPS: Record<string, string> = {};

describe('RFC 4475 against a running server over UDP', () => {
  let socket: dgram.Socket;
  let port: number;
  const inbox = new ResponseInbox();

  beforeAll(async () => {
    await startServer();
    socket = dgram.createSocket('udp4');
    socket.on('message', (data) => inbox.addDatagram(data));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    port = socket.address().port;
  });

  afterAll(async () => {
    socket.close();
    await server.close();
  });

  for (const c of CASES) {
    caseTest(c)(SERVER_GAPS[c.name] ? `${c.name} (known gap: ${SERVER_GAPS[c.name]})` : c.name, async () => {
      socket.send(rewriteTopVia(c.bytes, 'UDP', port), server.udpPort, '127.0.0.1');
      const callId = callIdOf(c.bytes);
      const expectsDrop = c.expected.length === 1 && c.expected[0] === 'drop';
      const answer = await inbox.final(callId, expectsDrop ? 400 : 2000);
      if (expectsDrop || isResponse(c)) {
        expect(answer, 'a response gets no answer').toBeUndefined();
      } else {
        expect(answer, 'an answer arrives').toBeDefined();
        const status = answer?.status ?? 0;
        expect(acceptable(c, status), `answered ${status}; expected ${c.expected.join('|')}`).toBe(true);
      }
      const probe = `probe-udp-${c.name}`;
      socket.send(optionsProbe(probe, 'UDP', port), server.udpPort, '127.0.0.1');
      expect((await inbox.final(probe, 2000))?.status, 'OPTIONS answered afterwards').toBe(200);
    });
  }
});

describe('RFC 4475 against a running server over TCP', () => {
  beforeAll(startServer);
  afterAll(async () => {
    await server.close();
  });

  const connect = () => connectTcp(server.tcpPort);

  for (const c of CASES) {
    caseTest(c)(SERVER_GAPS[c.name] ? `${c.name} (known gap: ${SERVER_GAPS[c.name]})` : c.name, async () => {
      const conn = await connect();
      const local = conn.socket.localPort as number;
      const sentAt = Date.now();
      conn.socket.write(rewriteTopVia(c.bytes, 'TCP', local));
      const callId = callIdOf(c.bytes);
      let stillOpen = true;
      if (TCP_CLOSES.has(c.name)) {
        const closedAt = await Promise.race([
          conn.closed,
          new Promise<number>((r) => setTimeout(() => r(-1), 1500)),
        ]);
        expect(closedAt, 'the server closes the connection').toBeGreaterThan(0);
        expect(closedAt - sentAt, 'within 1 s').toBeLessThanOrEqual(1000);
        stillOpen = false;
        const refusal = conn.inbox.responses.find((r) => r.status >= 400 && r.callId === callId);
        if (refusal && c.name !== 'dblreq') expect(refusal.status).toBe(400);
      } else if (isResponse(c) || (c.expected.length === 1 && c.expected[0] === 'drop')) {
        expect(await conn.inbox.final(callId, 300)).toBeUndefined();
      } else {
        const answer = await conn.inbox.final(callId, 2000);
        expect(answer, 'an answer arrives').toBeDefined();
        const status = answer?.status ?? 0;
        expect(acceptable(c, status), `answered ${status}; expected ${c.expected.join('|')}`).toBe(true);
      }
      const probeConn = stillOpen ? conn : await connect();
      const probe = `probe-tcp-${c.name}`;
      probeConn.socket.write(optionsProbe(probe, 'TCP', probeConn.socket.localPort as number));
      expect((await probeConn.inbox.final(probe, 2000))?.status, 'OPTIONS answered afterwards').toBe(200);
      conn.socket.destroy();
      probeConn.socket.destroy();
    });
  }
});
