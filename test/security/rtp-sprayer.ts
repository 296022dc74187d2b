/**
 * An RTP sprayer: from a few UDP sockets (other addresses, or other ports of the callers' own) it sends valid-looking RTP that
 * carries one loud tone at every port of a range (RTP and RTCP ports alike), the way an
 * attacker scans a media server's port range for a stream to inject into or to hijack.
 *
 * Two modes:
 * - `random`: every packet has a fresh random SSRC, sequence number and timestamp, so no two
 *   packets form an in-sequence run (what a latching endpoint must never learn from);
 * - `streams`: every (socket, port) pair is one proper stream, one SSRC with sequence numbers
 *   and timestamps that step by one 20 ms frame, the strongest take-over attempt on a port.
 *
 * Payload types cycle through the static audio types (PCMU, PCMA, G.722), CN,
 * telephone-event and dynamic types; the audio payloads are the tone encoded with the native
 * encoders, so a packet that got in would be heard. Everything the sockets receive is counted:
 * the media server must never send anything to the sprayer.
 */
import dgram from 'node:dgram';
import { type CodecName, loadNativeEngine } from '../../src/media/native.js';
import { tone } from '../support/goertzel.js';

export type SprayMode = 'random' | 'streams';

export interface SprayOptions {
  /**
   * Local address of each sending socket (source port chosen by the system): another address
   * such as 127.0.0.2, or the callers' own address on another port.
   */
  sources: readonly string[];
  /** Target address and the inclusive port range sprayed. */
  target: string;
  portMin: number;
  portMax: number;
  /** The tone carried, in Hz. */
  freq: number;
  /** One round (a packet from every socket to every port) every this many ms. Default 20. */
  intervalMs?: number;
}

/** Payload type → the codec its payload is encoded with (undefined: raw bytes as they come). */
const PAYLOAD_TYPES: ReadonlyArray<{ pt: number; codec?: CodecName }> = [
  { pt: 0, codec: 'pcmu' },
  { pt: 0, codec: 'pcmu' },
  { pt: 8, codec: 'pcma' },
  { pt: 9, codec: 'g722' },
  { pt: 13 },
  { pt: 101 },
  { pt: 96, codec: 'pcmu' },
  { pt: 111, codec: 'pcmu' },
];

/** Twenty-five 20 ms frames (half a second) of the tone per codec, cycled through. */
function encodedTone(codec: CodecName, freq: number): Buffer[] {
  const { Encoder } = loadNativeEngine();
  const rate = codec === 'g722' ? 16000 : 8000;
  const encoder = new Encoder(codec, rate);
  const frames: Buffer[] = [];
  const n = rate / 50;
  for (let i = 0; i < 25; i++) frames.push(Buffer.from(encoder.encode(tone(freq, rate, n, 20000, i * n))));
  return frames;
}

interface StreamState {
  ssrc: number;
  seq: number;
  ts: number;
}

export class RtpSprayer {
  /** Datagrams sent, and datagrams the sockets received (must stay 0). */
  sent = 0;
  received = 0;
  /** Datagrams sent to each port. */
  readonly sentTo = new Map<number, number>();
  readonly receivedFrom: string[] = [];
  /** Datagrams one round sends to each port. */
  get perRound(): number {
    return this.sockets.length;
  }
  mode: SprayMode = 'random';
  #timer: NodeJS.Timeout | undefined;
  #round = 0;
  readonly #streams = new Map<string, StreamState>();
  readonly #payloads: Map<CodecName, Buffer[]>;

  private constructor(
    private readonly sockets: dgram.Socket[],
    private readonly opts: SprayOptions,
  ) {
    this.#payloads = new Map(
      (['pcmu', 'pcma', 'g722'] as const).map((c) => [c, encodedTone(c, opts.freq)] as const),
    );
    for (const s of sockets) {
      s.on('message', (msg, rinfo) => {
        this.received++;
        if (this.receivedFrom.length < 20)
          this.receivedFrom.push(
            `${rinfo.address}:${rinfo.port} → ${s.address().port} (${msg.length} bytes)`,
          );
      });
    }
  }

  static async open(opts: SprayOptions): Promise<RtpSprayer> {
    const sockets: dgram.Socket[] = [];
    for (const address of opts.sources) {
      const s = dgram.createSocket('udp4');
      // ICMP port-unreachable for unused ports of the range must not end the spray.
      s.on('error', () => {});
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, address, () => resolve());
      });
      sockets.push(s);
    }
    return new RtpSprayer(sockets, opts);
  }

  start(mode: SprayMode): void {
    this.mode = mode;
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#spray(), this.opts.intervalMs ?? 20);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #packet(socketIndex: number, port: number): Buffer {
    const kind = PAYLOAD_TYPES[(this.#round + port + socketIndex) % PAYLOAD_TYPES.length]!;
    let header: StreamState;
    if (this.mode === 'random') {
      const r = (): number => Math.floor(Math.random() * 2 ** 32) >>> 0;
      header = { ssrc: r(), seq: r() & 0xffff, ts: r() };
    } else {
      const key = `${socketIndex}:${port}`;
      let s = this.#streams.get(key);
      if (!s) {
        s = { ssrc: Math.floor(Math.random() * 2 ** 32) >>> 0, seq: port & 0xffff, ts: port * 1000 };
        this.#streams.set(key, s);
      }
      s.seq = (s.seq + 1) & 0xffff;
      s.ts = (s.ts + 160) >>> 0;
      header = s;
    }
    let payload: Buffer;
    if (kind.codec) {
      const frames = this.#payloads.get(kind.codec)!;
      payload = frames[this.#round % frames.length]!;
    } else if (kind.pt === 101) {
      // RFC 4733: key 5, volume 10, growing duration; a key that got through would be a DTMF event.
      payload = Buffer.from([5, 10, 0, 160]);
    } else {
      payload = Buffer.from([0x7f]); // CN, loud noise level
    }
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = kind.pt;
    h.writeUInt16BE(header.seq, 2);
    h.writeUInt32BE(header.ts, 4);
    h.writeUInt32BE(header.ssrc, 8);
    return Buffer.concat([h, payload]);
  }

  #spray(): void {
    for (let port = this.opts.portMin; port <= this.opts.portMax; port++) {
      for (const [i, s] of this.sockets.entries()) {
        s.send(this.#packet(i, port), port, this.opts.target);
        this.sent++;
      }
      this.sentTo.set(port, (this.sentTo.get(port) ?? 0) + this.sockets.length);
    }
    this.#round++;
  }

  async close(): Promise<void> {
    this.stop();
    await Promise.all(this.sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
