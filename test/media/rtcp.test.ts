/** RTCP: compound build → parse round trips, malformed input, and the report block numbers against RFC 3550 by hand. */
import { describe, expect, it } from 'vitest';
import { loadNativeEngine, type RtcpReportBlock } from '../../src/media/native.js';
import { rtpPacket } from '../support/rtp-script.js';

const { rtcp, ReceiveStream } = loadNativeEngine();

const block = (o: Partial<RtcpReportBlock>): RtcpReportBlock => ({
  ssrc: 0,
  fractionLost: 0,
  cumulativeLost: 0,
  extHighestSeq: 0,
  jitter: 0,
  lsr: 0,
  dlsr: 0,
  ...o,
});

describe('RTCP build and parse', () => {
  it('round-trips an SR with report blocks and SDES CNAME', () => {
    const ntp = rtcp.ntpFromUnixMs(1_700_000_000_123);
    const blocks = [
      block({ ssrc: 0xaaaa0001, fractionLost: 25, cumulativeLost: 1234, extHighestSeq: 0x1fff0, jitter: 77 }),
      block({ ssrc: 0xaaaa0002, cumulativeLost: -5, lsr: 0x12345678, dlsr: 65536 }),
    ];
    const buf = rtcp.buildReport({
      ssrc: 0xcafe,
      sender: { ntp, rtpTs: 0xfffffff0, packets: 1000, octets: 160_000 },
      blocks,
      cname: 'parley@example.org',
    });
    expect(buf.length % 4).toBe(0);
    const p = rtcp.parse(buf);
    expect(p.error).toBeNull();
    expect(p.packets).toBe(2);
    expect(p.sr).toEqual({ ssrc: 0xcafe, ntp, rtpTs: 0xfffffff0, packets: 1000, octets: 160_000 });
    expect(p.blocks).toEqual(blocks);
    expect(p.cname).toEqual({ ssrc: 0xcafe, name: 'parley@example.org' });
  });

  it('builds an RR when nothing was sent, and parses BYE and skips APP in a compound', () => {
    const rr = rtcp.buildReport({ ssrc: 7, blocks: [block({ ssrc: 9, fractionLost: 255 })], cname: 'x' });
    const app = Buffer.from([0x80, 204, 0, 3, 0, 0, 0, 7, 0x61, 0x62, 0x63, 0x64, 1, 2, 3, 4]);
    const p = rtcp.parse(Buffer.concat([rr, app, rtcp.buildBye(7)]));
    expect(p.error).toBeNull();
    expect(p).toMatchObject({
      packets: 4,
      skipped: 1,
      rr: { ssrc: 7 },
      byes: [7],
      cname: { ssrc: 7, name: 'x' },
    });
    expect(p.sr).toBeUndefined();
    expect(p.blocks[0]).toMatchObject({ ssrc: 9, fractionLost: 255 });
  });

  it('reports malformed packets and keeps what came before them', () => {
    const good = rtcp.buildReport({ ssrc: 1, blocks: [], cname: 'a' });
    const longer = Buffer.from([0x80, 201, 0, 9, 0, 0, 0, 1]); // length says 40 bytes, 8 present
    expect(rtcp.parse(Buffer.concat([good, longer]))).toMatchObject({ error: 'bad-length', packets: 2 });
    expect(rtcp.parse(Buffer.from([0x40, 201, 0, 1, 0, 0, 0, 1])).error).toBe('bad-version');
    expect(rtcp.parse(Buffer.from([0x81, 201, 0, 1, 0, 0, 0, 1])).error).toBe('bad-count'); // 1 block, none present
    expect(rtcp.parse(Buffer.from([0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, 0x61, 0])).error).toBe('bad-sdes');
    expect(rtcp.parse(Buffer.from([0x80, 201])).error).toBe('too-short');
    // Padding on the last packet is allowed; a zero padding count is not.
    const padded = Buffer.from([0xa0, 201, 0, 2, 0, 0, 0, 1, 0, 0, 0, 4]);
    expect(rtcp.parse(padded)).toMatchObject({ error: null, rr: { ssrc: 1 } });
    padded[11] = 0;
    expect(rtcp.parse(padded).error).toBe('bad-padding');
  });

  it('computes NTP time and RTT from LSR and DLSR', () => {
    expect(rtcp.ntpFromUnixMs(0)).toBe(2208988800n << 32n);
    expect(rtcp.ntpFromUnixMs(500) & 0xffffffffn).toBe(1n << 31n);
    const sent = rtcp.ntpFromUnixMs(1_000_000);
    const lsr = rtcp.middle32(sent);
    // The peer held our SR 0.5 s; its report reaches us 0.6 s after we sent the SR.
    const arrival = rtcp.middle32(rtcp.ntpFromUnixMs(1_000_600));
    expect(rtcp.rttMs(lsr, 32768, arrival)).toBeCloseTo(100, 1);
    expect(rtcp.rttMs(0, 0, arrival)).toBe(-1);
  });
});

describe('the report block of a receive stream', () => {
  it('has the RFC 3550 A.3 loss and A.8 jitter a hand computation gives', () => {
    const s = new ReceiveStream({ payloadTypes: { 0: { codec: 'pcmu' } } });
    const payload = Buffer.alloc(160, 0xff);
    const arrivals: Array<[number, number]> = []; // [arrival ms, timestamp]
    for (let k = 0; k < 100; k++) {
      if (k >= 10 && k < 13) continue; // three lost
      const ts = 1000 + k * 160;
      // Every odd packet 10 ms late: |D| is 80 timestamp units between neighbours of different parity.
      const at = k * 20 + (k % 2) * 10;
      s.push(rtpPacket({ pt: 0, seq: 500 + k, ts, ssrc: 42 }, payload), at);
      arrivals.push([at, ts]);
    }
    // RFC 3550 A.8, computed independently: J += (|D| - J) / 16 with transit = arrival·8 − ts.
    let j = 0;
    for (let i = 1; i < arrivals.length; i++) {
      const d = Math.abs(
        arrivals[i]![0] * 8 - arrivals[i]![1] - (arrivals[i - 1]![0] * 8 - arrivals[i - 1]![1]),
      );
      j += (d - j) / 16;
    }
    const first = s.reportBlock(2000);
    expect(first).toMatchObject({
      ssrc: 42,
      cumulativeLost: 3,
      fractionLost: Math.floor((3 * 256) / 100),
      extHighestSeq: 599,
      jitter: Math.floor(j),
      lsr: 0,
      dlsr: 0,
    });
    expect(s.stats().jitterMs).toBeCloseTo(j / 8, 6);
    expect(s.stats().lost).toBe(3);

    // An SR from the source; 50 more packets without loss; the next report.
    const ntp = rtcp.ntpFromUnixMs(1_700_000_000_000);
    s.onSenderReport(42, ntp, 2500);
    for (let k = 100; k < 150; k++)
      s.push(rtpPacket({ pt: 0, seq: 500 + k, ts: 1000 + k * 160, ssrc: 42 }, payload), k * 20);
    const second = s.reportBlock(3000);
    expect(second).toMatchObject({
      fractionLost: 0,
      cumulativeLost: 3,
      extHighestSeq: 649,
      lsr: rtcp.middle32(ntp),
      dlsr: 32768, // 500 ms in 1/65536 s
    });
    // And it goes on the wire as it is.
    const wire = rtcp.parse(rtcp.buildReport({ ssrc: 1, blocks: [second], cname: 'me' }));
    expect(wire.blocks[0]).toEqual(second);
  });
});
