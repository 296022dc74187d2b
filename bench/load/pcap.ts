/**
 * The benchmark's caller audio, a PCMU tone, in two forms: raw 160-byte frames for the RTP
 * peer (rtp-sink.c), and the RTP stream sipp plays into every call with `play_pcap_audio`
 * (`--rtp sipp`): Ethernet/IPv4/UDP/RTP records in a libpcap file, one packet every 20 ms.
 * sipp keeps only the UDP part and the record times; it rewrites addresses and ports per
 * call, so the ones written here are placeholders.
 */
import { writeFileSync } from 'node:fs';

const SAMPLES_PER_PACKET = 160; // 20 ms at 8 kHz
const PACKET_MS = 20;

/** G.711 μ-law of one 16-bit linear sample (ITU-T G.711, the usual bias-and-segment form). */
export function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function ipChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface ToneOptions {
  /** Length of the stream in seconds (whole packets; sipp stops at the end of the file). */
  seconds: number;
  /** Tone frequency in Hz; default 440. */
  frequency?: number;
  /** Peak amplitude as a fraction of full scale; default 0.25 (about −12 dBFS). */
  amplitude?: number;
  ssrc?: number;
}

/** 160-byte PCMU frames of the tone, back to back (what the RTP peer sends in a loop). */
export function toneFrames(options: Omit<ToneOptions, 'ssrc'>): Buffer {
  const packets = Math.max(1, Math.ceil((options.seconds * 1000) / PACKET_MS));
  const frequency = options.frequency ?? 440;
  const amplitude = (options.amplitude ?? 0.25) * 32767;
  const out = Buffer.alloc(packets * SAMPLES_PER_PACKET);
  for (let n = 0; n < out.length; n++)
    out[n] = linearToUlaw(amplitude * Math.sin((2 * Math.PI * frequency * n) / 8000));
  return out;
}

/** The pcap file's bytes: a global header and one record per 20 ms RTP packet. */
export function tonePcap(options: ToneOptions): Buffer {
  const packets = Math.max(1, Math.ceil((options.seconds * 1000) / PACKET_MS));
  const frequency = options.frequency ?? 440;
  const amplitude = (options.amplitude ?? 0.25) * 32767;
  const ssrc = options.ssrc ?? 0x5a17b00c;
  const rtpLen = 12 + SAMPLES_PER_PACKET;
  const udpLen = 8 + rtpLen;
  const ipLen = 20 + udpLen;
  const frameLen = 14 + ipLen;
  const out = Buffer.alloc(24 + packets * (16 + frameLen));

  // Global header: microsecond timestamps, snaplen 65535, link type 1 (Ethernet).
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(65535, 16);
  out.writeUInt32LE(1, 20);

  let off = 24;
  for (let p = 0; p < packets; p++) {
    const us = p * PACKET_MS * 1000;
    out.writeUInt32LE(Math.floor(us / 1e6), off);
    out.writeUInt32LE(us % 1e6, off + 4);
    out.writeUInt32LE(frameLen, off + 8);
    out.writeUInt32LE(frameLen, off + 12);
    off += 16;
    // Ethernet: locally administered placeholder MACs, EtherType IPv4.
    out.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1], off);
    out.writeUInt16BE(0x0800, off + 12);
    const ip = off + 14;
    out.writeUInt8(0x45, ip);
    out.writeUInt16BE(ipLen, ip + 2);
    out.writeUInt16BE(p & 0xffff, ip + 4);
    out.writeUInt8(64, ip + 8);
    out.writeUInt8(17, ip + 9);
    out.set([127, 0, 0, 1], ip + 12);
    out.set([127, 0, 0, 1], ip + 16);
    out.writeUInt16BE(ipChecksum(out.subarray(ip, ip + 20)), ip + 10);
    const udp = ip + 20;
    out.writeUInt16BE(6000, udp);
    out.writeUInt16BE(6000, udp + 2);
    out.writeUInt16BE(udpLen, udp + 4);
    // UDP checksum 0 (none): sipp recomputes it for the ports it writes.
    const rtp = udp + 8;
    out.writeUInt8(0x80, rtp);
    out.writeUInt8(p === 0 ? 0x80 : 0x00, rtp + 1); // marker on the first packet, PT 0 (PCMU)
    out.writeUInt16BE(p & 0xffff, rtp + 2);
    out.writeUInt32BE((p * SAMPLES_PER_PACKET) >>> 0, rtp + 4);
    out.writeUInt32BE(ssrc >>> 0, rtp + 8);
    const payload = rtp + 12;
    for (let i = 0; i < SAMPLES_PER_PACKET; i++) {
      const n = p * SAMPLES_PER_PACKET + i;
      out.writeUInt8(linearToUlaw(amplitude * Math.sin((2 * Math.PI * frequency * n) / 8000)), payload + i);
    }
    off += frameLen;
  }
  return out;
}

export function writeToneFrames(file: string, options: Omit<ToneOptions, 'ssrc'>): void {
  writeFileSync(file, toneFrames(options));
}

export function writeTonePcap(file: string, options: ToneOptions): void {
  writeFileSync(file, tonePcap(options));
}
