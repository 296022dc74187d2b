/** ReceiveStream: source changes, timestamp and sequence discontinuities, payload types, discards, keys. */
import { describe, expect, it } from 'vitest';
import { loadNativeEngine } from '../../src/media/native.js';
import { goertzel } from '../support/goertzel.js';
import { type Frame, play, rtpPacket, type Scheduled, toneStream } from '../support/rtp-script.js';

const engine = loadNativeEngine();
const kinds = (frames: Frame[]) => frames.map((f) => f.kind[0]).join('');
const count = (k: string, c: string) => k.split(c).length - 1;
const arrive = (s: Scheduled[]) => s.map((p) => ({ ...p, at: p.at + 1 }));
const pcmu = () =>
  new engine.ReceiveStream({
    payloadTypes: { 0: { codec: 'pcmu' } },
    telephoneEventPt: 101,
    jitter: { minDelayMs: 40 },
  });

/** The frames after the first `skip` carry the tone, and no frame is anything but audio. */
function toneFrames(frames: Frame[], freq: number, rate: number): number {
  return frames.filter((f) => f.kind === 'audio' && goertzel(f.pcm, freq, rate) > 0.9).length;
}

describe('ReceiveStream', () => {
  it('resets cleanly on a new SSRC: playout resumes within the target delay, stats restart', () => {
    const s = pcmu();
    const a = toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 100, ssrc: 1, freq: 1000 });
    // The new source starts right after, with unrelated sequence numbers and timestamps, another tone.
    const b = toneStream(engine, {
      codec: 'pcmu',
      pt: 0,
      ptimeMs: 20,
      packets: 100,
      ssrc: 2,
      seq0: 40000,
      ts0: 999_999,
      start: 2000,
      freq: 600,
    });
    const frames = play(s, arrive([...a, ...b]), 0, 4100);
    const k = kinds(frames);
    // The new source is on probation for its first three packets (held, not yet played), so
    // the old source's last packet still plays; a frame or two of concealment or silence while
    // the switch confirms, then the new tone from its first packet on.
    expect(k.slice(2, 101)).toBe('a'.repeat(99));
    expect(k.slice(101)).toMatch(/^a[sc]{1,3}a{98}/);
    expect(toneFrames(frames.slice(105, 201), 600, 8000)).toBe(96);
    const st = s.stats();
    expect(st).toMatchObject({ ssrcChanges: 1, ssrc: 2, lost: 0, packets: 200, late: 0 });
    expect(st.extHighestSeq).toBe(40099);
  });

  it('treats a straggler of the previous source as late, and switches back only when it keeps sending', () => {
    const s = pcmu();
    const a = toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 60, ssrc: 1 });
    const b = toneStream(engine, {
      codec: 'pcmu',
      pt: 0,
      ptimeMs: 20,
      packets: 60,
      ssrc: 2,
      seq0: 9000,
      start: 1200,
    });
    // Packet 59 of the first source is overtaken by the second source's first packets.
    a[59] = { ...a[59]!, at: 1250 };
    const frames = play(s, arrive([...a, ...b]), 0, 2600);
    expect(s.stats()).toMatchObject({ ssrcChanges: 1, ssrc: 2, late: 1, discarded: { late: 1 } });
    expect(kinds(frames).slice(64, 120)).toBe('a'.repeat(56));
    // Three packets in a row from the old source: it is back for real.
    const c = toneStream(engine, {
      codec: 'pcmu',
      pt: 0,
      ptimeMs: 20,
      packets: 3,
      ssrc: 1,
      seq0: 1060,
      start: 2600,
    });
    play(s, arrive(c), 2620, 2700);
    expect(s.stats()).toMatchObject({ ssrcChanges: 2, ssrc: 1 });
  });

  it('ignores a single forged packet of another SSRC: the stream and its stats go on', () => {
    const s = pcmu();
    const a = toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 100, ssrc: 1, freq: 1000 });
    // Garbage with a valid payload type from the legitimate address, mid-stream (what a spoofer can send).
    const forged = rtpPacket({ pt: 0, seq: 31337, ts: 123_456_789, ssrc: 0xbad }, Buffer.alloc(160, 0x5a));
    const frames = play(s, arrive([...a, { at: 1010, packet: forged }]), 0, 2100);
    expect(kinds(frames).slice(2, 101)).toBe('a'.repeat(99));
    expect(toneFrames(frames.slice(3, 101), 1000, 8000)).toBe(98);
    expect(s.stats()).toMatchObject({
      ssrcChanges: 0,
      ssrc: 1,
      packets: 100,
      lost: 0,
      discarded: { invalid: 1 },
    });
  });

  it('ignores forged packets that are not one in-sequence run, or that the real source interrupts', () => {
    const s = pcmu();
    const a = toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 150, ssrc: 1, freq: 1000 });
    const junk = Buffer.alloc(160, 0xff);
    const forged: Scheduled[] = [
      // One SSRC, sequence numbers that do not follow each other, in a burst.
      ...[10, 12, 11, 40, 39].map((seq, i) => ({
        at: 500 + i,
        packet: rtpPacket({ pt: 0, seq, ts: seq * 160, ssrc: 0xbad }, junk),
      })),
      // Different SSRCs in sequence.
      ...[0xb1, 0xb2, 0xb3, 0xb4].map((ssrc, i) => ({
        at: 1100 + i,
        packet: rtpPacket({ pt: 0, seq: 7 + i, ts: 0, ssrc }, junk),
      })),
      // An in-sequence run, one packet between each two of the real source's.
      ...[0, 1, 2, 3, 4].map((i) => ({
        at: 2005 + 20 * i,
        packet: rtpPacket({ pt: 0, seq: 500 + i, ts: 80_000 + 160 * i, ssrc: 0xbad }, junk),
      })),
    ];
    const frames = play(s, arrive([...a, ...forged]), 0, 3100);
    expect(kinds(frames).slice(2, 151)).toBe('a'.repeat(149));
    expect(toneFrames(frames.slice(3, 151), 1000, 8000)).toBe(148);
    expect(s.stats()).toMatchObject({
      ssrcChanges: 0,
      ssrc: 1,
      packets: 150,
      lost: 0,
      discarded: { invalid: forged.length },
    });
  });

  it('resynchronises on a timestamp jump instead of waiting seconds for it', () => {
    const s = pcmu();
    const a = toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 100, freq: 1000 });
    // Sequence numbers continue, the timestamp leaps 10 s ahead (a sender that restarted its clock).
    const b = toneStream(engine, {
      codec: 'pcmu',
      pt: 0,
      ptimeMs: 20,
      packets: 100,
      seq0: 1100,
      ts0: 5000 + 100 * 160 + 80_000,
      start: 2000,
      freq: 1000,
    });
    const frames = play(s, arrive([...a, ...b]), 0, 4100);
    const k = kinds(frames);
    // As with a new source: the buffered last packet of the old timeline goes, a frame or two of silence.
    expect(k.slice(2, 101)).toBe('a'.repeat(99));
    expect(k.slice(101)).toMatch(/^[sc]{1,3}a{98}/);
    expect(s.stats()).toMatchObject({ timestampJumps: 1, lost: 0, late: 0 });
  });

  it('resynchronises on a backward timestamp jump that comes with a sequence jump', () => {
    const s = pcmu();
    const a = toneStream(engine, {
      codec: 'pcmu',
      pt: 0,
      ptimeMs: 20,
      packets: 100,
      ts0: 1_000_000,
      freq: 1000,
    });
    const b = toneStream(engine, {
      codec: 'pcmu',
      pt: 0,
      ptimeMs: 20,
      packets: 100,
      seq0: 30000,
      ts0: 100,
      start: 2000,
      freq: 1000,
    });
    const frames = play(s, arrive([...a, ...b]), 0, 4100);
    const k = kinds(frames);
    expect(k.slice(2, 102)).toBe('a'.repeat(100));
    // RFC 3550 A.1: the first packet after the jump is held as suspect, the second confirms it.
    expect(k.slice(102, 106)).toMatch(/^[sca]{4}$/);
    expect(k.slice(106, 199)).toBe('a'.repeat(93));
    const st = s.stats();
    expect(st.sequenceRestarts).toBe(1);
    expect(st.discarded.invalid).toBe(1);
    expect(st.lost).toBe(0);
  });

  it('counts across the 16-bit sequence wrap (RFC 3550 A.1 cycles)', () => {
    const s = pcmu();
    const frames = play(
      s,
      arrive(toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 200, seq0: 65436 })),
      0,
      4100,
    );
    expect(kinds(frames).slice(2, 202)).toBe('a'.repeat(200));
    expect(s.stats()).toMatchObject({ lost: 0, packets: 200, extHighestSeq: 65536 + 99 });
  });

  it('discards what it cannot use, by reason, without throwing', () => {
    const s = pcmu();
    s.push(Buffer.from([1, 2, 3]), 0); // too short
    s.push(rtpPacket({ pt: 9, seq: 1, ts: 0, ssrc: 5 }, Buffer.alloc(160)), 0); // G.722 not negotiated
    s.push(Buffer.from([0x80, 200, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]), 0); // RTCP on the RTP path
    s.push(rtpPacket({ pt: 0, seq: 2, ts: 0, ssrc: 5 }, Buffer.alloc(2000)), 0); // larger than any slot
    expect(s.stats().discarded).toEqual({ invalid: 2, unknownPt: 1, late: 0, duplicate: 0, overflow: 1 });
    expect(() => s.push(Buffer.alloc(0), 0)).not.toThrow();
    // @ts-expect-error: a string is the mistake under test
    expect(() => s.push('x', 0)).toThrow(TypeError);
  });

  it('drops a packet that arrives after its playout time as late', () => {
    const s = pcmu();
    const all = arrive(toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 100 }));
    // Packet 50 arrives 300 ms late: its audio was concealed by then.
    all[50] = { ...all[50]!, at: all[50]!.at + 300 };
    const frames = play(s, all, 0, 2500);
    const st = s.stats();
    expect(st.late).toBe(1);
    expect(st.discarded.late).toBe(1);
    expect(st.lost).toBe(0); // RFC 3550 counts a late packet as received
    // Its frame was concealed. When it turns up 300 ms late (13 frames on), the target
    // jumps to its 200 ms maximum and the playout is held back at once by the difference:
    // eight stretched frames on top of the 40 ms it was waiting.
    expect(st.stretchedFrames).toBe(8);
    expect(st.droppedFrames).toBe(0);
    expect(st.targetDelayMs).toBe(200);
    expect(kinds(frames).slice(2, 110)).toBe(
      `${'a'.repeat(50)}c${'a'.repeat(13)}${'c'.repeat(8)}${'a'.repeat(36)}`,
    );
  });

  it('switches codec and PCM rate on a re-INVITE, keeping the counters', () => {
    const s = pcmu();
    expect(s.rate).toBe(8000);
    play(s, arrive(toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 50 })), 0, 1000);
    s.reconfigure({ payloadTypes: { 9: { codec: 'g722' } }, telephoneEventPt: 101 });
    expect(s.rate).toBe(16000);
    const g = toneStream(engine, { codec: 'g722', pt: 9, ptimeMs: 20, packets: 50, seq0: 1050, start: 1020 });
    const frames = play(s, arrive(g), 1020, 2100);
    expect(frames.every((f) => f.pcm.length === 320)).toBe(true);
    expect(toneFrames(frames, 1000, 16000)).toBeGreaterThanOrEqual(45);
    expect(s.stats().packets).toBe(100);
  });

  it('plays silence, not concealment, while the audio pauses for a key', () => {
    const s = pcmu();
    const before = toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 50 });
    // A 100 ms key: eight telephone-event packets take sequence numbers 1050–1057.
    const tx = new engine.DtmfSender();
    tx.start('4', 100);
    const keys: Scheduled[] = [];
    for (let p = tx.next(), i = 0; p; p = tx.next(), i++) {
      const packet = rtpPacket(
        { pt: 101, seq: 1050 + i, ts: 5000 + 50 * 160, ssrc: 0x1234, marker: p.marker },
        p.payload,
      );
      keys.push({ at: 1000 + 20 * i, packet });
    }
    // Audio resumes after the key, on the same clock.
    const after = toneStream(engine, {
      codec: 'pcmu',
      pt: 0,
      ptimeMs: 20,
      packets: 50,
      seq0: 1058,
      ts0: 5000 + 58 * 160,
      start: 1160,
    });
    const frames = play(s, arrive([...before, ...keys, ...after]), 0, 2300);
    const k = kinds(frames);
    expect(k.slice(2, 52)).toBe('a'.repeat(50));
    expect(k.slice(52, 60)).toBe('s'.repeat(8));
    expect(k.slice(60, 110)).toBe('a'.repeat(50));
    expect(s.stats()).toMatchObject({ lost: 0, concealedFrames: count(k, 'c'), dtmfPackets: 8 });
    expect(s.takeDtmf()).toEqual([{ digit: '4', duration: 800 }]);
  });

  it('plays silence after a comfort-noise packet (RFC 3389) until speech resumes', () => {
    const s = pcmu();
    const before = toneStream(engine, { codec: 'pcmu', pt: 0, ptimeMs: 20, packets: 50 });
    const cn = {
      at: 1000,
      packet: rtpPacket({ pt: 13, seq: 1050, ts: 5000 + 50 * 160, ssrc: 0x1234 }, Buffer.from([40])),
    };
    // One second of silence suppression; the next speech packet has the marker bit.
    const after = toneStream(engine, {
      codec: 'pcmu',
      pt: 0,
      ptimeMs: 20,
      packets: 50,
      seq0: 1051,
      ts0: 5000 + 100 * 160,
      start: 2000,
    });
    const frames = play(s, arrive([...before, cn, ...after]), 0, 3100);
    const k = kinds(frames);
    expect(k.slice(2, 52)).toBe('a'.repeat(50));
    expect(k.slice(52, 102)).toBe('s'.repeat(50));
    expect(k.slice(102, 152)).toBe('a'.repeat(50));
    expect(s.stats()).toMatchObject({
      lost: 0,
      comfortNoisePackets: 1,
      timestampJumps: 0,
      concealedFrames: count(k, 'c'),
    });
  });

  it('reports RFC 4733 keys sent by the DtmfSender once each, with their duration', () => {
    const s = pcmu();
    const tx = new engine.DtmfSender();
    let seq = 7;
    let t = 0;
    const startTs = [16000, 32000, 48000];
    ['1', '#', '9'].forEach((digit, i) => {
      tx.start(digit, 100 + 40 * i);
      for (let p = tx.next(); p; p = tx.next()) {
        s.push(
          rtpPacket(
            { pt: 101, seq: seq++, ts: startTs[i]! + p.tsOffset, ssrc: 77, marker: p.marker },
            p.payload,
          ),
          t,
        );
        t += 20;
      }
    });
    expect(s.takeDtmf()).toEqual([
      { digit: '1', duration: 800 },
      { digit: '#', duration: 1120 },
      { digit: '9', duration: 1440 },
    ]);
    expect(s.takeDtmf()).toEqual([]);
    expect(s.stats()).toMatchObject({ dtmfPackets: 5 + 3 + (7 + 3) + (9 + 3), lost: 0 });
  });
});
