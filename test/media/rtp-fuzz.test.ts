/**
 * Fuzzing the receive path: mutated RTP, RTCP and telephone-event packets, seeded from
 * valid ones, into the RTP parser, the RTCP parser and live receive streams (PCMU and
 * Opus, with pulls in between). Nothing may throw or crash, and whatever the parsers
 * accept must lie inside the datagram.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadNativeEngine } from '../../src/media/native.js';
import { prng, rtpPacket, toneStream } from '../support/rtp-script.js';

const engine = loadNativeEngine();
const { rtp, rtcp } = engine;

function seeds(): Buffer[] {
  const out: Buffer[] = [];
  for (const s of toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 4 })) out.push(s.packet);
  for (const s of toneStream(engine, { codec: 'opus', pt: 111, ptimeMs: 20, packets: 4 })) out.push(s.packet);
  out.push(rtpPacket({ pt: 101, seq: 9, ts: 800, ssrc: 0x1234, marker: true }, Buffer.from([1, 10, 0, 160])));
  out.push(rtpPacket({ pt: 101, seq: 10, ts: 800, ssrc: 0x1234 }, Buffer.from([1, 0x8a, 3, 0x20])));
  // CSRCs, an RFC 8285 extension and padding.
  const ext = Buffer.from([
    0x92, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0xbe, 0xde, 0, 1, 0x10, 0x7f, 0, 0, 0xff,
    0xff, 0, 2,
  ]);
  ext[1] = 0;
  out.push(ext);
  out.push(
    rtcp.buildReport({
      ssrc: 5,
      sender: { ntp: rtcp.ntpFromUnixMs(1e12), rtpTs: 1, packets: 2, octets: 3 },
      blocks: [{ ssrc: 1, fractionLost: 2, cumulativeLost: 3, extHighestSeq: 4, jitter: 5, lsr: 6, dlsr: 7 }],
      cname: 'fuzz',
    }),
  );
  out.push(Buffer.concat([rtcp.buildReport({ ssrc: 6, blocks: [], cname: 'b' }), rtcp.buildBye(6)]));
  return out;
}

type Mutation = { op: 0 | 1 | 2 | 3 | 4 | 5; at: number; value: number };

/** Byte flips, overwrites, truncation, extension, splicing two seeds, header-field stress. */
function mutate(base: Buffer, other: Buffer, muts: Mutation[]): Buffer {
  let b = Buffer.from(base);
  for (const m of muts) {
    const i = b.length === 0 ? 0 : m.at % b.length;
    switch (m.op) {
      case 0:
        if (b.length) b[i] = b[i]! ^ (1 << (m.value & 7));
        break;
      case 1:
        if (b.length) b[i] = m.value & 0xff;
        break;
      case 2:
        b = b.subarray(0, i);
        break;
      case 3:
        b = Buffer.concat([b, Buffer.alloc(m.value % 64, m.value & 0xff)]);
        break;
      case 4:
        b = Buffer.concat([b.subarray(0, i), other.subarray(m.value % Math.max(other.length, 1))]);
        break;
      case 5:
        // The bits the parsers branch on: P, X, CC, the length fields.
        if (b.length > 3) {
          b[0] = (b[0]! & 0xc0) | (m.value & 0x3f);
          b[3] = (m.value >> 6) & 0xff;
        }
        break;
    }
  }
  return Buffer.from(b); // an exact-size copy: a read past it is a real overread
}

const mutation = fc.record({
  op: fc.constantFrom(0, 1, 2, 3, 4, 5) as fc.Arbitrary<Mutation['op']>,
  at: fc.nat(),
  value: fc.nat(),
});

describe('fuzzing the RTP receive path', () => {
  it('survives hundreds of thousands of mutated packets', () => {
    const base = seeds();
    const streams = [
      new engine.ReceiveStream({ payloadTypes: { 0: { codec: 'pcmu' } }, telephoneEventPt: 101 }),
      new engine.ReceiveStream({
        payloadTypes: { 111: { codec: 'opus' }, 9: { codec: 'g722' } },
        telephoneEventPt: 101,
        jitter: { slots: 8 },
      }),
    ];
    let now = 0;
    let total = 0;
    fc.assert(
      fc.property(fc.integer(), fc.array(mutation, { minLength: 1, maxLength: 4 }), (seed, muts) => {
        const rnd = prng(seed);
        // Each property run derives 150 variants, so fast-check's own cost stays small.
        for (let n = 0; n < 150; n++) {
          const a = base[Math.floor(rnd() * base.length)]!;
          const b = base[Math.floor(rnd() * base.length)]!;
          const shifted = muts.map((m) => ({
            ...m,
            at: m.at + n,
            value: m.value ^ Math.floor(rnd() * 0x10000),
          }));
          const pkt = mutate(a, b, shifted);
          const r = rtp.parse(pkt);
          // Plain checks: vitest's expect costs more than the parsing under test.
          if (r.error === undefined && 12 + 4 * r.csrcs.length + r.payload.length + r.padding > pkt.length)
            throw new Error(`parse_rtp accepted more than the datagram: ${pkt.toString('hex')}`);
          const c = rtcp.parse(pkt);
          if (c.blocks.length > 31) throw new Error(`too many report blocks: ${pkt.toString('hex')}`);
          rtp.extension(pkt, n & 15);
          const stream = streams[n & 1]!;
          stream.push(pkt, now);
          if (n % 3 === 0) {
            now += 20;
            const f = stream.pull(now);
            if (f.pcm.length !== stream.rate / 50) throw new Error(`frame of ${f.pcm.length} samples`);
          }
          total++;
        }
      }),
      { seed: 20261201, numRuns: 2000 },
    );
    expect(total).toBe(2000 * 150);
    for (const s of streams) {
      const st = s.stats();
      expect(st.packets + st.discarded.invalid + st.discarded.unknownPt).toBeGreaterThan(0);
    }
  }, 30_000);

  it('survives random bytes and a stream of valid packets with random headers', () => {
    const s = new engine.ReceiveStream({ payloadTypes: { 0: { codec: 'pcmu' }, 8: { codec: 'pcma' } } });
    const rnd = prng(99);
    for (let n = 0; n < 50_000; n++) {
      const len = Math.floor(rnd() * 200);
      const b = Buffer.alloc(len);
      for (let i = 0; i < len; i++) b[i] = Math.floor(rnd() * 256);
      if (len > 1 && rnd() < 0.7) b[0] = 0x80; // mostly version 2, to get past the first check
      if (len > 1 && rnd() < 0.5) b[1] = rnd() < 0.5 ? 0 : 8;
      s.push(b, n);
      rtcp.parse(b);
      if (n % 20 === 0) s.pull(n);
    }
    expect(s.stats().discarded.invalid).toBeGreaterThan(0);
  });
});
