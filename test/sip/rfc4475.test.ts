/**
 * Every RFC 4475 torture message through the wire layer, as a datagram and over a stream, with the
 * verdict held against expected.tsv: the wire layer answers parse errors itself (400, 416, 505) and
 * passes everything else on, where the application gives the answers the table lists (200, 405,
 * 420, 501...). Responses that break the grammar are dropped; valid ones go on to the transaction
 * layer, which drops them for want of a transaction.
 */
import { describe, expect, it } from 'vitest';
import { parseDatagram, StreamFramer, type WireVerdict } from '../../src/sip/wire/index.js';
import { acceptable, loadTortureCases } from '../unit/sip/rfc4475-corpus.js';

const CASES = loadTortureCases();

function outcome(v: WireVerdict): number | 'drop' | 'app' {
  if (v.kind === 'reject') return v.status;
  if (v.kind === 'message') return 'app';
  return 'drop';
}

/** What the stream framer does differently, and why. */
const STREAM_SPECIAL: Record<
  string,
  { verdicts: number; fatal: boolean; last?: number | 'drop'; why: string }
> = {
  clerr: {
    verdicts: 0,
    fatal: false,
    why: 'Content-Length 9999 > body: waits for more bytes (slow-sender clock closes it)',
  },
  baddn: { verdicts: 0, fatal: false, why: 'no blank line after the headers: the head never ends' },
  inv2543: {
    verdicts: 1,
    fatal: true,
    last: 400,
    why: 'no Content-Length, which a stream requires: 400 then close',
  },
  ncl: { verdicts: 1, fatal: true, last: 400, why: 'negative Content-Length: 400 then close' },
  mcl01: { verdicts: 1, fatal: true, last: 400, why: 'two Content-Length headers: 400 then close' },
  dblreq: {
    verdicts: 3,
    fatal: true,
    last: 'drop',
    why: 'REGISTER, INVITE, then leftover bytes without Content-Length or Via: dropped, connection closed',
  },
};

describe('RFC 4475 torture messages', () => {
  it('are all there (49)', () => {
    expect(CASES.length).toBe(49);
  });

  describe.each(CASES)('$name ($note)', (c) => {
    it(`as a datagram gets one of: ${c.expected.join(' | ')}`, () => {
      const v = parseDatagram(c.bytes);
      const isResponse = c.bytes.subarray(0, 4).toString() === 'SIP/';
      if (isResponse) {
        // The wire layer never answers a response; it drops the invalid ones itself.
        expect(v.kind === 'drop' || v.kind === 'message').toBe(true);
        if (!c.valid) expect(v.kind, 'an invalid response is dropped at the wire').toBe('drop');
      } else {
        expect(v.kind, 'every request here carries a Via to answer along').not.toBe('drop');
      }
      expect(
        acceptable(c, outcome(v)),
        `verdict ${JSON.stringify(outcome(v))} ${v.kind === 'reject' ? v.reason : ''}`,
      ).toBe(true);
      if (v.kind === 'reject') {
        expect(v.request.headers.via.length).toBeGreaterThan(0);
        expect(v.reason.length).toBeGreaterThan(0);
      }
    });

    it('over a stream gets the same first verdict, or a framing refusal', () => {
      const framer = new StreamFramer();
      const verdicts = framer.push(c.bytes);
      const special = STREAM_SPECIAL[c.name];
      if (special) {
        expect(verdicts.length, special.why).toBe(special.verdicts);
        expect(framer.fatal !== undefined, special.why).toBe(special.fatal);
        if (special.verdicts === 0) expect(framer.partial).toBe(true);
        if (special.last !== undefined) {
          const last = verdicts[verdicts.length - 1] as WireVerdict;
          expect(last.kind === 'reject' ? last.status : last.kind).toBe(special.last);
        }
        if (c.name === 'dblreq')
          expect(verdicts.slice(0, 2).map((v) => v.kind)).toEqual(['message', 'message']);
        return;
      }
      expect(framer.fatal).toBeUndefined();
      expect(verdicts).toEqual([parseDatagram(c.bytes)]);
      expect(framer.partial).toBe(false);
    });

    it('over a stream in one-byte chunks gives the same verdicts as in one piece', () => {
      const whole = new StreamFramer().push(c.bytes);
      const framer = new StreamFramer();
      const pieces: WireVerdict[] = [];
      for (let i = 0; i < c.bytes.length; i++) pieces.push(...framer.push(c.bytes.subarray(i, i + 1)));
      expect(pieces).toEqual(whole);
    });
  });

  it('answers a valid OPTIONS on the same stream after every message that does not close it', () => {
    const options = Buffer.from(
      'OPTIONS sip:parley@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-after\r\n' +
        'Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:parley@127.0.0.1>\r\nCall-ID: after@t\r\n' +
        'CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
    );
    for (const c of CASES) {
      const framer = new StreamFramer();
      framer.push(c.bytes);
      if (framer.fatal !== undefined || framer.partial) continue;
      const after = framer.push(options);
      expect(
        after.map((v) => v.kind),
        c.name,
      ).toEqual(['message']);
    }
  });
});
