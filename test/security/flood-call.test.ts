/**
 * A sustained SIP flood from one address (127.0.0.2, 64 source ports, INVITE/REGISTER/OPTIONS
 * each starting a new transaction) against ParleyServer with its default limits, while two real
 * callers (baresip, 127.0.0.1) dial in under the flood and talk to each other in a conference.
 *
 * What must hold: the flooder gets 503 with Retry-After for all but its per-source allowance;
 * both calls are answered and each caller hears the other's tone throughout the flood; and the
 * process's memory stays bounded: the heap after a full GC grows by less than a fixed amount
 * over tens of thousands of requests, and not at all in the second half of the flood (state kept
 * per request would grow with the request count).
 */
import dgram from 'node:dgram';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { discontinuities, type Pcm, slice, toneShare } from '../support/wav.js';
import { LiveServer } from './live-server.js';

const enabled = haveBaresip();
const TONES = [440, 620] as const;
const FLOOD_SECONDS = 12;
/** Flood requests per second. */
const RATE = 3000;

// A full GC on demand, so heap figures measure what is retained, not what awaits collection.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
setFlagsFromString('--no-expose-gc');

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Flooder {
  sent = 0;
  readonly statuses = new Map<number, number>();
  retryAfterMissing = 0;
  retransmissions = 0;
  readonly #answered = new Uint8Array(1 << 17);
  #timer: NodeJS.Timeout | undefined;
  #n = 0;

  private constructor(
    private readonly sockets: dgram.Socket[],
    private readonly target: number,
  ) {
    for (const s of sockets) {
      s.on('message', (msg) => {
        const text = msg.toString('latin1');
        const status = Number(text.slice(8, 11));
        if (status === 100) return;
        // Final answers to INVITE are retransmitted until an ACK that never comes: count each
        // request once, by its Call-ID.
        // A bitmap by request number, not a set of strings: the test's own bookkeeping must not
        // show up in the heap figures.
        const n = Number(/\r\nCall-ID: *flood-(\d+)-/i.exec(text)?.[1] ?? Number.NaN);
        if (!(n < this.#answered.length * 8)) return;
        if ((this.#answered[n >> 3]! & (1 << (n & 7))) !== 0) {
          this.retransmissions++;
          return;
        }
        this.#answered[n >> 3]! |= 1 << (n & 7);
        this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
        if (status === 503 && !/\r\nRetry-After: *[1-9]/i.test(text)) this.retryAfterMissing++;
      });
    }
  }

  static async open(target: number): Promise<Flooder> {
    const sockets: dgram.Socket[] = [];
    for (let i = 0; i < 64; i++) {
      const s = dgram.createSocket('udp4');
      s.on('error', () => {});
      await new Promise<void>((resolve) => s.bind(0, '127.0.0.2', () => resolve()));
      sockets.push(s);
    }
    return new Flooder(sockets, target);
  }

  get answered(): number {
    let n = 0;
    for (const v of this.statuses.values()) n += v;
    return n;
  }

  #request(port: number): Buffer {
    const n = this.#n++;
    const method = (['INVITE', 'REGISTER', 'OPTIONS'] as const)[n % 3]!;
    const uri = method === 'REGISTER' ? 'sip:127.0.0.1' : `sip:flood${n % 7}@127.0.0.1:${this.target}`;
    const sdp =
      method === 'INVITE'
        ? `v=0\r\no=- ${n} 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio ${10000 + (n % 5000) * 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`
        : '';
    return Buffer.from(
      `${method} ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:${port};branch=z9hG4bK-fl${n}-${Date.now()}\r\n` +
        `Max-Forwards: 70\r\nFrom: <sip:flooder${n}@127.0.0.2>;tag=t${n}\r\nTo: <${uri}>\r\n` +
        `Call-ID: flood-${n}-${Date.now()}@127.0.0.2\r\nCSeq: 1 ${method}\r\nContact: <sip:f@127.0.0.2:${port}>\r\n` +
        `${sdp ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`,
      'latin1',
    );
  }

  start(): void {
    const started = performance.now();
    this.#timer = setInterval(() => {
      // Catch up with the rate whatever the timer's lateness under load.
      const due = Math.floor(((performance.now() - started) / 1000) * RATE) - this.sent;
      for (let i = 0; i < due; i++) {
        const s = this.sockets[this.#n % this.sockets.length]!;
        s.send(this.#request(s.address().port), this.target, '127.0.0.1');
        this.sent++;
      }
    }, 10);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  close(): void {
    this.stop();
    for (const s of this.sockets) s.close();
  }
}

interface Heard {
  user: string;
  tone: number;
  pcm: Pcm;
  answered: number;
}

describe.skipIf(!enabled)('a SIP flood from one address while real callers talk from another', () => {
  let live: LiveServer;
  let flooder: Flooder;
  const heard: Heard[] = [];
  const heap = { base: 0, mid: 0, end: 0 };
  const rss = { base: 0, peak: 0 };
  const flood = { from: 0, to: 0, callsUp: 0 };

  beforeAll(async () => {
    live = await LiveServer.start({ rtp: { portMin: 33600, portMax: 33699 } });
    flooder = await Flooder.open(live.sipPort);
    const clients = await Promise.all(
      TONES.map((tone, i) => Baresip.start({ user: `talker${i + 1}`, tone, codecs: ['pcmu'] })),
    );
    heap.base = heapMb();
    rss.base = process.memoryUsage().rss / 2 ** 20;
    const rssPoll = setInterval(() => {
      rss.peak = Math.max(rss.peak, process.memoryUsage().rss / 2 ** 20);
    }, 200);
    flood.from = Date.now();
    flooder.start();
    await sleep(1000);
    // The callers dial in while the flood is on.
    const answered = new Map<string, number>();
    for (const c of clients) {
      await c.dial(live.uri('spray'));
      await c.established();
      answered.set(c.user, Date.now());
    }
    await live.waitJoined(2);
    flood.callsUp = Date.now();
    await sleep(FLOOD_SECONDS * 500 - (Date.now() - flood.from));
    heap.mid = heapMb();
    await sleep(FLOOD_SECONDS * 1000 - (Date.now() - flood.from));
    flooder.stop();
    flood.to = Date.now();
    heap.end = heapMb();
    clearInterval(rssPoll);
    await sleep(500);
    for (const [i, c] of clients.entries()) {
      await c.hangup();
      heard.push({ user: c.user, tone: TONES[i]!, pcm: await c.received(), answered: answered.get(c.user)! });
    }
  }, 60_000);

  afterAll(async () => {
    flooder?.close();
    await stopAllBaresip();
    await live?.stop();
  });

  const figures = (): string =>
    JSON.stringify({
      sent: flooder.sent,
      answered: flooder.answered,
      retransmissions: flooder.retransmissions,
      statuses: Object.fromEntries(flooder.statuses),
      heapMb: heap,
      rssMb: rss,
      seconds: (flood.to - flood.from) / 1000,
    });

  it('sends tens of thousands of requests and answers all but the allowance with 503 + Retry-After', () => {
    const seconds = (flood.to - flood.from) / 1000;
    expect(flooder.sent, figures()).toBeGreaterThan(25_000);
    // UDP on loopback may drop some under load, but most must be answered.
    expect(flooder.answered, figures()).toBeGreaterThan(0.8 * flooder.sent);
    const busy = flooder.statuses.get(503) ?? 0;
    expect(flooder.retryAfterMissing, figures()).toBe(0);
    // Default per-source allowance: 20 a second after a burst of 40.
    expect(flooder.answered - busy, figures()).toBeLessThanOrEqual(40 + 20 * seconds + 5);
    expect(busy, figures()).toBeGreaterThan(0.9 * flooder.answered);
  });

  it('answers both callers under the flood, and each hears the other throughout', () => {
    expect(heard).toHaveLength(2);
    for (const h of heard) {
      const window = slice(h.pcm, (flood.callsUp - h.answered) / 1000 + 0.5, (flood.to - h.answered) / 1000);
      expect(window.samples.length / window.rate, `${h.user}: audio under the flood`).toBeGreaterThan(4);
      const other = TONES.find((t) => t !== h.tone)!;
      expect(toneShare(window, other), `${h.user} hears ${other} Hz; ${figures()}`).toBeGreaterThan(0.3);
      expect(toneShare(window, h.tone), `${h.user} hears itself`).toBeLessThan(0.02);
      expect(discontinuities(window, other), `${h.user}: breaks per second`).toBeLessThan(1);
    }
  });

  it('keeps the heap bounded: limited growth overall and none in the second half of the flood', () => {
    // Two calls and the flood's steady state cost a few MB; state kept per request would cost
    // tens of MB over this many requests and keep growing.
    console.info(`flood figures: ${figures()}`);
    expect(heap.end - heap.base, figures()).toBeLessThan(24);
    expect(heap.end - heap.mid, figures()).toBeLessThan(4);
    expect(rss.peak - rss.base, figures()).toBeLessThan(150);
  });
});
