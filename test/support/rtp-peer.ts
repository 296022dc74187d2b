/**
 * A test RTP peer on node:dgram: sends a tone encoded with the native Encoder every
 * 20 ms (or nothing), sends RFC 4733 keys, and decodes what it receives with the
 * native Decoder, keeping the audio with its arrival time.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import {
  type CodecName,
  loadNativeEngine,
  type NativeDecoder,
  type NativeEncoder,
} from '../../src/media/native.js';
import { tone } from './goertzel.js';

const RATES: Record<CodecName, number> = { pcmu: 8000, pcma: 8000, g722: 16000, opus: 48000, l16: 16000 };
/** RTP clock per codec: G.722 keeps 8000 (RFC 3551), Opus 48000 (RFC 7587). */
const CLOCKS: Record<CodecName, number> = { pcmu: 8000, pcma: 8000, g722: 8000, opus: 48000, l16: 16000 };

export interface RtpPeerOptions {
  codec: CodecName;
  payloadType: number;
  /** Tone sent every 20 ms; absent: send nothing until setTone(). */
  freq?: number;
  amplitude?: number;
  telephoneEventPayloadType?: number;
}

export interface Received {
  at: number;
  pcm: Int16Array;
  pt: number;
  seq: number;
  ts: number;
}

export class RtpPeer {
  readonly rate: number;
  readonly received: Received[] = [];
  readonly dtmfPackets: Buffer[] = [];
  /** RTCP compound packets received (rtcp-mux). */
  readonly rtcpPackets: Buffer[] = [];
  #socket: dgram.Socket;
  #encoder: NativeEncoder;
  #decoder: NativeDecoder;
  #opts: RtpPeerOptions;
  #target?: { address: string; port: number };
  #timer?: NodeJS.Timeout;
  #seq = Math.floor(Math.random() * 65536);
  #ts = Math.floor(Math.random() * 2 ** 32);
  #ssrc = Math.floor(Math.random() * 2 ** 32) >>> 0;
  #sample = 0;
  #freq?: number;
  #pendingDtmf: Array<() => Buffer> = [];
  #started = 0;
  #ticks = 0;

  private constructor(socket: dgram.Socket, opts: RtpPeerOptions) {
    const { Encoder, Decoder } = loadNativeEngine();
    this.#socket = socket;
    this.#opts = opts;
    this.rate = RATES[opts.codec];
    this.#encoder = new Encoder(opts.codec, this.rate);
    this.#decoder = new Decoder(opts.codec, this.rate);
    this.#freq = opts.freq;
    socket.on('message', (msg) => this.#onMessage(msg));
  }

  static async open(opts: RtpPeerOptions): Promise<RtpPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new RtpPeer(socket, opts);
  }

  get port(): number {
    return (this.#socket.address() as AddressInfo).port;
  }

  get ssrc(): number {
    return this.#ssrc;
  }

  /** Where to send (the engine endpoint). */
  target(address: string, port: number): void {
    this.#target = { address, port };
  }

  setTone(freq: number | undefined): void {
    this.#freq = freq;
  }

  /** Starts the 20 ms send loop, on absolute deadlines so the rate does not drift. */
  start(): void {
    this.#started = performance.now();
    this.#ticks = 0;
    const step = () => {
      this.#sendFrame();
      this.#ticks++;
      const next = this.#started + this.#ticks * 20;
      this.#timer = setTimeout(step, Math.max(0, next - performance.now()));
    };
    step();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #header(pt: number, marker: boolean, seq: number, ts: number): Buffer {
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = (marker ? 0x80 : 0) | pt;
    h.writeUInt16BE(seq & 0xffff, 2);
    h.writeUInt32BE(ts >>> 0, 4);
    h.writeUInt32BE(this.#ssrc, 8);
    return h;
  }

  #sendFrame(): void {
    const samples = this.rate / 50;
    const clockStep = CLOCKS[this.#opts.codec] / 50;
    const dtmf = this.#pendingDtmf.shift();
    if (dtmf) {
      this.sendRaw(dtmf());
    } else if (this.#freq !== undefined) {
      const pcm = tone(this.#freq, this.rate, samples, this.#opts.amplitude ?? 6000, this.#sample);
      const payload = this.#encoder.encode(pcm);
      this.sendRaw(
        Buffer.concat([this.#header(this.#opts.payloadType, false, this.#seq++, this.#ts), payload]),
      );
    }
    this.#sample += samples;
    this.#ts += clockStep;
  }

  /**
   * Queues one RFC 4733 key: a start packet with the marker, updates every 20 ms, then
   * the end packet three times, all with the key's start timestamp.
   */
  sendDtmf(digit: string, durationMs: number): void {
    const pt = this.#opts.telephoneEventPayloadType;
    if (pt === undefined) throw new Error('no telephone-event payload type');
    const event = '0123456789*#ABCD'.indexOf(digit);
    if (event < 0) throw new Error(`not a key: ${digit}`);
    const frames = Math.max(1, Math.round(durationMs / 20));
    // The key's timestamp is the media time when its first packet goes out, not when it was queued.
    const key = { startTs: 0 };
    const packet = (i: number, end: boolean, duration: number) => () => {
      if (i === 1) key.startTs = this.#ts;
      const body = Buffer.from([event, (end ? 0x80 : 0) | 10, (duration >> 8) & 0xff, duration & 0xff]);
      return Buffer.concat([this.#header(pt, i === 1, this.#seq++, key.startTs), body]);
    };
    for (let i = 1; i <= frames; i++) this.#pendingDtmf.push(packet(i, false, i * 160));
    for (let i = 0; i < 3; i++) this.#pendingDtmf.push(packet(0, true, frames * 160));
  }

  sendRaw(buf: Buffer): void {
    if (!this.#target) return;
    this.#socket.send(buf, this.#target.port, this.#target.address);
  }

  #onMessage(msg: Buffer): void {
    if (msg.length < 12 || msg[0]! >> 6 !== 2) return;
    const pt = msg[1]! & 0x7f;
    if (pt >= 72 && pt <= 95) {
      this.rtcpPackets.push(msg); // RTCP (rtcp-mux, RFC 5761)
      return;
    }
    if (pt === this.#opts.telephoneEventPayloadType) {
      this.dtmfPackets.push(msg);
      return;
    }
    const cc = msg[0]! & 0x0f;
    const payload = msg.subarray(12 + cc * 4);
    try {
      const pcm = this.#decoder.decode(Buffer.from(payload));
      this.received.push({
        at: performance.now(),
        pcm,
        pt,
        seq: msg.readUInt16BE(2),
        ts: msg.readUInt32BE(4),
      });
    } catch {
      // A payload our decoder refuses is simply not audio we heard.
    }
  }

  /** Audio received from `fromMs` (performance.now()) on, concatenated. */
  heard(fromMs = 0, toMs = Number.POSITIVE_INFINITY): Int16Array {
    const parts = this.received.filter((r) => r.at >= fromMs && r.at < toMs).map((r) => r.pcm);
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  async close(): Promise<void> {
    this.stop();
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
