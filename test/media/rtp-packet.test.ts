import { describe, expect, it } from 'vitest';
import { loadNativeEngine } from '../../src/media/native.js';

const { rtp } = loadNativeEngine();

/** Hand-built packet: header fields, then optional CSRCs, extension and padding. */
function build(o: {
  pt?: number;
  marker?: boolean;
  seq?: number;
  ts?: number;
  ssrc?: number;
  csrcs?: number[];
  ext?: { profile: number; body: number[] };
  payload?: number[];
  padding?: number;
}): Buffer {
  const bytes: number[] = [];
  const cc = o.csrcs?.length ?? 0;
  bytes.push(0x80 | (o.padding ? 0x20 : 0) | (o.ext ? 0x10 : 0) | cc);
  bytes.push((o.marker ? 0x80 : 0) | (o.pt ?? 0));
  const seq = o.seq ?? 1;
  bytes.push(seq >> 8, seq & 0xff);
  const u32 = (v: number) => bytes.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  u32(o.ts ?? 0);
  u32(o.ssrc ?? 0);
  for (const c of o.csrcs ?? []) u32(c);
  if (o.ext) {
    bytes.push(o.ext.profile >> 8, o.ext.profile & 0xff);
    const words = o.ext.body.length / 4;
    bytes.push(words >> 8, words & 0xff, ...o.ext.body);
  }
  bytes.push(...(o.payload ?? []));
  if (o.padding) {
    for (let i = 0; i < o.padding - 1; i++) bytes.push(0);
    bytes.push(o.padding);
  }
  return Buffer.from(bytes);
}

describe('RTP parser (RFC 3550 5.1)', () => {
  it('reads the fixed header fields and the payload', () => {
    const p = rtp.parse(
      build({ pt: 8, marker: true, seq: 0xfffe, ts: 0xdeadbeef, ssrc: 0x01020304, payload: [1, 2, 3] }),
    );
    expect(p).toMatchObject({
      pt: 8,
      marker: true,
      seq: 0xfffe,
      ts: 0xdeadbeef,
      ssrc: 0x01020304,
      padding: 0,
    });
    expect(p.error).toBeUndefined();
    if (p.error === undefined) expect([...p.payload]).toEqual([1, 2, 3]);
  });

  it('skips the CSRC list and reports it', () => {
    const p = rtp.parse(build({ csrcs: [0xaabbccdd, 7], payload: [9] }));
    if (p.error !== undefined) throw new Error(p.error);
    expect(p.csrcs).toEqual([0xaabbccdd, 7]);
    expect([...p.payload]).toEqual([9]);
  });

  it('skips a header extension and finds RFC 8285 one-byte and two-byte elements', () => {
    // One-byte form: id 1 (audio level, 1 byte), padding, id 3 (3 bytes).
    const one = build({
      ext: { profile: 0xbede, body: [0x10, 0x85, 0x00, 0x32, 0xaa, 0xbb, 0xcc, 0x00] },
      payload: [5],
    });
    const p = rtp.parse(one);
    if (p.error !== undefined) throw new Error(p.error);
    expect(p.extProfile).toBe(0xbede);
    expect([...p.payload]).toEqual([5]);
    expect([...rtp.extension(one, 1)!]).toEqual([0x85]);
    expect([...rtp.extension(one, 3)!]).toEqual([0xaa, 0xbb, 0xcc]);
    expect(rtp.extension(one, 2)).toBeNull();
    // Two-byte form: id 7 with 2 bytes, id 9 with 0 bytes.
    const two = build({ ext: { profile: 0x1000, body: [7, 2, 0xde, 0xad, 9, 0, 0, 0] }, payload: [6] });
    expect([...rtp.extension(two, 7)!]).toEqual([0xde, 0xad]);
    expect([...rtp.extension(two, 9)!]).toEqual([]);
    // Any other profile is opaque but skipped correctly.
    const other = rtp.parse(build({ ext: { profile: 0x1234, body: [1, 2, 3, 4] }, payload: [8] }));
    if (other.error !== undefined) throw new Error(other.error);
    expect([...other.payload]).toEqual([8]);
  });

  it('removes padding, including CSRCs and an extension before it', () => {
    const p = rtp.parse(
      build({ csrcs: [1], ext: { profile: 0xbede, body: [0x10, 1, 0, 0] }, payload: [1, 2], padding: 4 }),
    );
    if (p.error !== undefined) throw new Error(p.error);
    expect(p.padding).toBe(4);
    expect([...p.payload]).toEqual([1, 2]);
  });

  it('rejects each kind of malformed packet with its reason', () => {
    expect(rtp.parse(Buffer.alloc(11, 0x80)).error).toBe('too-short');
    expect(rtp.parse(Buffer.alloc(0)).error).toBe('too-short');
    const v1 = build({ payload: [1] });
    v1[0] = 0x40;
    expect(rtp.parse(v1).error).toBe('bad-version');
    // CSRC count says 3, only 1 present.
    expect(rtp.parse(build({ csrcs: [1] }).fill(0x83, 0, 1)).error).toBe('bad-csrc');
    // Extension header cut short, and extension length past the end.
    const extCut = build({ ext: { profile: 0xbede, body: [0x10, 1, 0, 0] } }).subarray(0, 14);
    expect(rtp.parse(extCut).error).toBe('bad-extension');
    const extLong = build({ ext: { profile: 0xbede, body: [0x10, 1, 0, 0] } });
    extLong.writeUInt16BE(5, 14);
    expect(rtp.parse(extLong).error).toBe('bad-extension');
    // An RFC 8285 element that runs past its block.
    expect(rtp.parse(build({ ext: { profile: 0xbede, body: [0x1f, 1, 2, 3] } })).error).toBe('bad-extension');
    expect(rtp.parse(build({ ext: { profile: 0x1000, body: [7, 9, 1, 2] } })).error).toBe('bad-extension');
    // Padding count 0, and padding larger than the payload.
    const pad0 = build({ payload: [1, 2, 3, 0], padding: 0 });
    pad0[0] = 0xa0;
    expect(rtp.parse(pad0).error).toBe('bad-padding');
    const padBig = build({ payload: [1, 2, 3, 50] });
    padBig[0] = 0xa0;
    expect(rtp.parse(padBig).error).toBe('bad-padding');
  });

  it('accepts padding that eats the whole payload (an empty payload)', () => {
    const p = rtp.parse(build({ payload: [], padding: 4 }));
    if (p.error !== undefined) throw new Error(p.error);
    expect(p.payload.length).toBe(0);
  });

  it('parses every truncation of a full packet without reading past its end', () => {
    const full = build({
      csrcs: [1, 2],
      ext: { profile: 0xbede, body: [0x11, 1, 2, 0] },
      payload: [1, 2, 3, 4, 5],
      padding: 3,
    });
    for (let n = 0; n < full.length; n++) {
      // A copy of exactly n bytes: a read past it would see other memory (valgrind/ASan), not this packet.
      const cut = Buffer.from(full.subarray(0, n));
      const p = rtp.parse(cut);
      if (p.error === undefined) expect(12 + p.payload.length + p.padding).toBeLessThanOrEqual(n);
    }
  });
});

describe('rtcp-mux demultiplexing (RFC 5761 section 4)', () => {
  it('tells RTCP packet types 192–223 from RTP payload types', () => {
    for (const type of [200, 201, 202, 203, 204, 205, 206, 207]) {
      const b = Buffer.from([0x81, type, 0, 1, 0, 0, 0, 0]);
      expect(rtp.isRtcp(b)).toBe(true);
      expect(rtp.parse(Buffer.concat([b, Buffer.alloc(8)])).error).toBe('rtcp');
    }
    for (const pt of [0, 8, 9, 96, 101, 127]) {
      expect(rtp.isRtcp(build({ pt }))).toBe(false);
      expect(rtp.isRtcp(build({ pt, marker: true }))).toBe(pt >= 64 && pt <= 95);
    }
    expect(rtp.isRtcp(Buffer.from([0x80]))).toBe(false);
  });
});

describe('RTP header writer', () => {
  it('writes what the parser reads back', () => {
    const h = rtp.header({ pt: 111, marker: true, seq: 65535, ts: 0xffffffff, ssrc: 0x80000001 });
    expect(h.length).toBe(12);
    expect(rtp.parse(Buffer.concat([h, Buffer.from([42])]))).toMatchObject({
      pt: 111,
      marker: true,
      seq: 65535,
      ts: 0xffffffff,
      ssrc: 0x80000001,
    });
  });
});
