/** RFC 4733 sender: packet sequence, and the existing receiver hears each key once with the right duration. */
import { describe, expect, it } from 'vitest';
import { type DtmfSenderPacket, loadNativeEngine } from '../../src/media/native.js';

const { DtmfSender, DtmfReceiver } = loadNativeEngine();

function drain(tx: InstanceType<typeof DtmfSender>): DtmfSenderPacket[] {
  const out: DtmfSenderPacket[] = [];
  for (let p = tx.next(); p; p = tx.next()) out.push(p);
  return out;
}

describe('RFC 4733 telephone-event sender', () => {
  it('sends a marked first packet, growing durations every 20 ms, then three end packets', () => {
    const tx = new DtmfSender();
    tx.start('5', 100);
    expect(tx.active).toBe(true);
    const packets = drain(tx);
    expect(tx.active).toBe(false);
    expect(packets.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false, false]);
    expect(packets.map((p) => p.end)).toEqual([false, false, false, false, false, true, true, true]);
    expect(packets.map((p) => p.payload.readUInt16BE(2))).toEqual([160, 320, 480, 640, 800, 800, 800, 800]);
    expect(
      packets.every((p) => p.payload[0] === 5 && (p.payload[1]! & 0x3f) === 10 && p.tsOffset === 0),
    ).toBe(true);
  });

  it('ends on the exact duration when it is not a whole number of packets', () => {
    const tx = new DtmfSender();
    tx.start('#', 130);
    const durations = drain(tx).map((p) => p.payload.readUInt16BE(2));
    expect(durations).toEqual([160, 320, 480, 640, 800, 960, 1040, 1040, 1040, 1040]);
  });

  it('splits a key longer than the 16-bit duration field into segments (RFC 4733 2.5.1.3)', () => {
    const tx = new DtmfSender();
    tx.start('1', 9000); // 72000 units > 65535
    const packets = drain(tx);
    const offsets = [...new Set(packets.map((p) => p.tsOffset))];
    expect(offsets).toEqual([0, 65440]); // segments end on a packet boundary
    expect(packets.filter((p) => p.marker)).toHaveLength(1);
    const last = packets.at(-1)!;
    expect(last.end).toBe(true);
    expect(last.tsOffset + last.payload.readUInt16BE(2)).toBe(72000);
    expect(packets.every((p) => p.payload.readUInt16BE(2) <= 0xffff)).toBe(true);
  });

  it('is heard by the DtmfReceiver once per key with its duration', () => {
    const tx = new DtmfSender();
    const rx = new DtmfReceiver();
    const heard: Array<{ digit: string; duration: number }> = [];
    const keys = '0123456789*#ABCD';
    [...keys].forEach((digit, i) => {
      tx.start(digit, 60 + 20 * i);
      for (const p of drain(tx)) heard.push(...rx.feed(10_000 * (i + 1) + p.tsOffset, p.payload));
    });
    expect(heard).toEqual([...keys].map((digit, i) => ({ digit, duration: (60 + 20 * i) * 8 })));
  });

  it('refuses what is not a key or not a duration', () => {
    const tx = new DtmfSender();
    expect(() => tx.start('x', 100)).toThrow(RangeError);
    expect(() => tx.start('1', 0)).toThrow(RangeError);
    expect(() => tx.start('12', 100)).toThrow(TypeError);
    expect(tx.next()).toBeNull();
    expect(() => new DtmfSender(0)).toThrow(RangeError);
  });
});
