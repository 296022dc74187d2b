/**
 * Cost of the SIP wire layer, printed as JSON: microseconds per parseDatagram for a typical INVITE,
 * a rejected request and the whole RFC 4475 corpus; serialize; StreamFramer throughput.
 * Run: node --import tsx bench/sip/wire.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDatagram, StreamFramer, serialize } from '../../src/sip/wire/index.js';

const corpusDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/testdata/rfc4475');
const corpus = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.dat'))
  .map((f) => readFileSync(resolve(corpusDir, f)));

const sdp =
  'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n';
const invite = Buffer.from(
  'INVITE sip:conf-1234@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\n' +
    'Max-Forwards: 70\r\nTo: <sip:conf-1234@192.0.2.10>\r\nFrom: "Alice" <sip:alice@example.com>;tag=1928301774\r\n' +
    'Call-ID: a84b4c76e66710@pc33.example.com\r\nCSeq: 314159 INVITE\r\nContact: <sip:alice@192.0.2.1:5060>\r\n' +
    `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`,
);
const rejected = Buffer.from(invite.toString().replace('CSeq: 314159 INVITE', 'CSeq: 314159 OPTIONS'));

function perCall(fn: () => void, iterations: number): number {
  for (let i = 0; i < Math.min(iterations, 5000); i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / 1000 / iterations;
}

const parsed = parseDatagram(invite);
if (parsed.kind !== 'message') throw new Error('benchmark INVITE did not parse');
let i = 0;
const stream = Buffer.concat(Array.from({ length: 200 }, () => invite));
const framerUs = perCall(() => new StreamFramer().push(stream), 200);

console.log(
  JSON.stringify({
    parseInviteUs: +perCall(() => parseDatagram(invite), 50_000).toFixed(2),
    parseRejectedUs: +perCall(() => parseDatagram(rejected), 50_000).toFixed(2),
    parseRfc4475AverageUs: +perCall(
      () => parseDatagram(corpus[i++ % corpus.length] as Buffer),
      50_000,
    ).toFixed(2),
    serializeInviteUs: +perCall(() => serialize(parsed.message), 50_000).toFixed(2),
    framerMessagesPerSecond: Math.round((200 / framerUs) * 1e6),
    framerMBPerSecond: +(stream.length / framerUs).toFixed(1),
  }),
);
