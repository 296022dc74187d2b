/**
 * Send pacing (MediaEngineOptions.sendSpreadMs), the pre-deadline spin (tickSpinUs) and batched
 * sends (ioUring; sendto where the kernel refuses io_uring): with a
 * spread, a tick's packets leave in groups at fixed offsets after the deadline instead of in one
 * burst, and none is lost, replaced or sent twice. Real UDP on 127.0.0.1; the receive times are
 * taken by JavaScript, so the test compares medians over many ticks, and the offsets it expects
 * (9 ms against under 3) are far apart.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaEngine } from '../../src/media/engine.js';
import { endpointConfig, type Harness, openEngine, teardown } from '../support/rtp-engine.js';

let h: Harness | undefined;
let sink: dgram.Socket | undefined;
afterEach(async () => {
  if (h) await teardown(h);
  h = undefined;
  sink?.close();
  sink = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Arrival {
  at: number;
  seq: number;
}

/** N sending endpoints whose RTP all goes to one local socket; arrivals are kept per endpoint, in creation order. */
async function senders(n: number, options: Parameters<typeof openEngine>[0]) {
  h = openEngine({ rtpTimeoutMs: 0, ...options });
  const socket = dgram.createSocket('udp4');
  sink = socket;
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = (socket.address() as { port: number }).port;
  const byPort = new Map<number, Arrival[]>();
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const ep = h.engine.createEndpoint();
    ids.push(ep.id);
    byPort.set(ep.port, []);
  }
  const arrivals = [...byPort.values()];
  socket.on('message', (msg, rinfo) => {
    byPort.get(rinfo.port)?.push({ at: performance.now(), seq: msg.readUInt16BE(2) });
  });
  for (const id of ids) h.engine.configureEndpoint(id, endpointConfig('pcmu', port, 'sendonly'));
  return { engine: h.engine, ids, arrivals };
}

/** Median time from endpoint `first`'s packet to the next packet of `last` within the same tick. */
function medianOffset(first: Arrival[], last: Arrival[]): number {
  const offsets: number[] = [];
  let j = 0;
  for (const p of last) {
    while (j + 1 < first.length && (first[j + 1] as Arrival).at <= p.at) j++;
    const f = first[j];
    if (f && f.at <= p.at && p.at - f.at < 20) offsets.push(p.at - f.at);
  }
  offsets.sort((a, b) => a - b);
  return offsets[Math.floor(offsets.length / 2)] ?? Number.NaN;
}

/** Sequence numbers that are missing or repeated in an endpoint's packets. */
function seqFaults(list: Arrival[]): number {
  let faults = 0;
  for (let i = 1; i < list.length; i++)
    if ((((list[i] as Arrival).seq - (list[i - 1] as Arrival).seq) & 0xffff) !== 1) faults++;
  return faults;
}

describe('send pacing', () => {
  it('spreads a tick over the window in groups, losing and repeating nothing', async () => {
    const { engine, ids, arrivals } = await senders(20, { sendSpreadMs: 10, tickSpinUs: 1000 });
    await sleep(300);
    for (const a of arrivals) a.length = 0;
    await sleep(1200);
    // 20 endpoints over 10 ms: 10 groups of two, one ms apart; the last group leaves 9 ms after the first.
    const offset = medianOffset(arrivals[0] as Arrival[], arrivals[19] as Arrival[]);
    expect(offset).toBeGreaterThan(6);
    expect(offset).toBeLessThan(12);
    // Endpoints of the same group leave together.
    expect(medianOffset(arrivals[18] as Arrival[], arrivals[19] as Arrival[])).toBeLessThan(3);
    for (const a of arrivals) {
      expect(a.length).toBeGreaterThan(40);
      expect(seqFaults(a)).toBe(0);
    }
    const stats = engine.engineStats();
    expect(stats.sendsOverrun).toBe(0);
    const by = stats.lateTicksBy;
    expect(by.overrun + by.wake + by.lock).toBe(stats.lateTicks);

    // Endpoints destroyed while their packets wait for a slot: the others go on unharmed.
    for (const id of ids.filter((_, i) => i % 2 === 1)) engine.destroyEndpoint(id);
    for (const a of arrivals) a.length = 0;
    await sleep(500);
    arrivals.forEach((a, i) => {
      if (i % 2 === 1) expect(a.length).toBeLessThanOrEqual(1);
      else {
        expect(a.length).toBeGreaterThan(15);
        expect(seqFaults(a)).toBe(0);
      }
    });
  });

  it('sends a tick in one burst without a spread, through io_uring or sendto', async () => {
    for (const ioUring of [true, false]) {
      const { engine, arrivals } = await senders(20, { ioUring });
      await sleep(300);
      for (const a of arrivals) a.length = 0;
      await sleep(1200);
      expect(medianOffset(arrivals[0] as Arrival[], arrivals[19] as Arrival[])).toBeLessThan(3);
      for (const a of arrivals) {
        expect(a.length).toBeGreaterThan(40);
        expect(seqFaults(a)).toBe(0);
      }
      // Without a spread every packet reaches the kernel within its own tick: none is ever left waiting
      // between ticks (the engine lock keeps these reads out of a tick).
      for (let i = 0; i < 40; i++) {
        expect(engine.engineStats().sendsWaiting).toBe(0);
        await sleep(3);
      }
      const stats = engine.engineStats();
      // Batched wherever the kernel allows io_uring (a container's seccomp profile may not).
      if (!ioUring) expect(stats.ioUring).toBe(false);
      else
        console.info(
          `io_uring batches: ${stats.ioUring ? 'in use' : 'refused by the kernel, sendto instead'}`,
        );
      expect(stats.sendErrors).toBe(0);
      if (h) await teardown(h);
      h = undefined;
      sink?.close();
      sink = undefined;
    }
  });

  it('reads RTP alike whether sends use io_uring or not, a burst of several per socket included', async () => {
    for (const ioUring of [true, false]) {
      h = openEngine({ rtpTimeoutMs: 0, ioUring });
      const peer = dgram.createSocket('udp4');
      sink = peer;
      await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', () => resolve()));
      const peerPort = (peer.address() as { port: number }).port;
      const eps = [h.engine.createEndpoint(), h.engine.createEndpoint(), h.engine.createEndpoint()];
      for (const ep of eps) h.engine.configureEndpoint(ep.id, endpointConfig('pcmu', peerPort, 'recvonly'));
      // 40 packets to each endpoint, 20 ms apart, and then a burst of 5 at once to each.
      const packet = (seq: number) => {
        const b = Buffer.alloc(12 + 160, 0xff);
        b[0] = 0x80;
        b[1] = 0;
        b.writeUInt16BE(seq, 2);
        b.writeUInt32BE(seq * 160, 4);
        b.writeUInt32BE(0x4242, 8);
        return b;
      };
      let seq = 0;
      for (; seq < 40; seq++) {
        for (const ep of eps) peer.send(packet(seq), ep.port, '127.0.0.1');
        await sleep(20);
      }
      for (const end = seq + 5; seq < end; seq++)
        for (const ep of eps) peer.send(packet(seq), ep.port, '127.0.0.1');
      await sleep(100);
      for (const ep of eps) {
        const st = h.engine.endpointStats(ep.id);
        expect(st.packetsIn).toBe(45);
        expect(st.arrival.kernelTimestamps).toBe(true);
        expect(st.arrival.count).toBe(44);
      }
      if (!ioUring) expect(h.engine.engineStats().ioUring).toBe(false);
      await teardown(h);
      h = undefined;
      peer.close();
      sink = undefined;
    }
  });

  it('refuses a spread or a spin out of range', () => {
    const base = { address: '127.0.0.1', portMin: 40000, portMax: 40100, onEvent: () => {} };
    expect(() => MediaEngine.open({ ...base, sendSpreadMs: 16 })).toThrow(
      /sendSpreadMs must be between 0 and 15/,
    );
    expect(() => MediaEngine.open({ ...base, sendSpreadMs: -1 })).toThrow(/sendSpreadMs/);
    expect(() => MediaEngine.open({ ...base, tickSpinUs: 5001 })).toThrow(/tickSpinUs must be an integer/);
    expect(() => MediaEngine.open({ ...base, tickSpinUs: 1.5 })).toThrow(/tickSpinUs/);
    // @ts-expect-error: a string where a boolean belongs, as untyped callers may pass
    expect(() => MediaEngine.open({ ...base, ioUring: 'yes' })).toThrow(/ioUring must be a boolean/);
  });
});
