/**
 * Latching against a sprayer, at the engine: the packets are sent one by one in a fixed order,
 * so each test states exactly which interleaving the endpoint has to survive.
 *
 * - single packets and runs that are not in sequence (random SSRC or sequence, gaps, repeats)
 *   from a sprayer never make an endpoint latch;
 * - a caller behind a NAT is still learnt while packets from several other sources arrive
 *   between its own (one candidate run per source, so a sprayer cannot keep resetting it);
 * - once learnt, the source is fixed: proper in-sequence streams from elsewhere are discarded;
 * - the SDP address is fixed at its first valid packet, leaving no window for a sprayer's run.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { endpointConfig, type Harness, openEngine, teardown } from '../support/rtp-engine.js';

let h: Harness | undefined;
const sockets: dgram.Socket[] = [];

afterEach(async () => {
  if (h) await teardown(h);
  h = undefined;
  for (const s of sockets.splice(0)) s.close();
});

async function socket(address = '127.0.0.1'): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.on('error', () => {});
  await new Promise<void>((resolve) => s.bind(0, address, () => resolve()));
  sockets.push(s);
  return s;
}

const portOf = (s: dgram.Socket): number => (s.address() as AddressInfo).port;

function rtp(ssrc: number, seq: number, pt = 0): Buffer {
  const b = Buffer.alloc(12 + 160, 0xff);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 160) >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

const random32 = (): number => Math.floor(Math.random() * 2 ** 32) >>> 0;
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));

/** An endpoint with latching whose SDP names `sdpPort`. */
function latchingEndpoint(harness: Harness, sdpPort: number): { id: number; port: number } {
  const ep = harness.engine.createEndpoint({ latching: true });
  harness.engine.configureEndpoint(ep.id, endpointConfig('pcmu', sdpPort));
  return ep;
}

function send(s: dgram.Socket, packet: Buffer, port: number): Promise<void> {
  return new Promise((resolve) => s.send(packet, port, '127.0.0.1', () => resolve()));
}

describe('latching against a sprayer', () => {
  it('never latches on single packets or on runs that are not in sequence', async () => {
    h = openEngine();
    const nowhere = await socket();
    const ep = latchingEndpoint(h, portOf(nowhere));
    const sprayers = await Promise.all([socket('127.0.0.2'), socket('127.0.0.2'), socket('127.0.0.1')]);
    let sent = 0;
    for (let i = 0; i < 60; i++) {
      for (const s of sprayers) {
        // A fresh SSRC and sequence every packet.
        await send(s, rtp(random32(), random32()), ep.port);
        sent++;
      }
    }
    const ssrc = random32();
    for (let i = 0; i < 30; i++) {
      // One SSRC, but gaps of two, then the same number over and over.
      await send(sprayers[0]!, rtp(ssrc, 1000 + 2 * i), ep.port);
      await send(sprayers[1]!, rtp(ssrc, 5000), ep.port);
      sent += 2;
    }
    await settle();
    expect(h.events.filter((e) => e.type === 'source-latched')).toEqual([]);
    const stats = h.engine.endpointStats(ep.id);
    expect(stats.latched).toBe(false);
    expect(stats.discarded.source).toBe(sent);
    expect(stats.packetsIn).toBe(0);
  });

  it('learns a caller behind a NAT while other sources send between its packets, then stays fixed', async () => {
    h = openEngine();
    const nowhere = await socket();
    const ep = latchingEndpoint(h, portOf(nowhere));
    const caller = await socket();
    const sprayers = await Promise.all([socket('127.0.0.2'), socket('127.0.0.2'), socket('127.0.0.2')]);
    const ssrc = random32();
    for (let i = 0; i < 5; i++) {
      await send(caller, rtp(ssrc, 100 + i), ep.port);
      for (const s of sprayers) await send(s, rtp(random32(), random32()), ep.port);
    }
    await settle();
    expect(h.events.filter((e) => e.type === 'source-latched')).toEqual([
      { type: 'source-latched', endpoint: ep.id, address: '127.0.0.1', port: portOf(caller) },
    ]);
    // Proper streams from elsewhere after that: discarded, the caller keeps the endpoint.
    const before = h.engine.endpointStats(ep.id);
    const streams = sprayers.map(() => ({ ssrc: random32(), seq: 7 }));
    for (let i = 0; i < 20; i++) {
      for (const [k, s] of sprayers.entries()) {
        const st = streams[k]!;
        await send(s, rtp(st.ssrc, st.seq++), ep.port);
      }
      await send(caller, rtp(ssrc, 105 + i), ep.port);
    }
    await settle();
    const after = h.engine.endpointStats(ep.id);
    expect(h.events.filter((e) => e.type === 'source-latched')).toHaveLength(1);
    expect(after.latched).toBe(true);
    expect(after.discarded.source - before.discarded.source).toBe(60);
    expect(after.packetsIn - before.packetsIn).toBe(20);
  });

  it('fixes the SDP address at its first valid packet, leaving no window for a sprayer run', async () => {
    h = openEngine();
    const caller = await socket();
    const ep = latchingEndpoint(h, portOf(caller));
    const sprayer = await socket('127.0.0.1');
    // Not RTP from the SDP address: nothing learnt yet.
    await send(caller, Buffer.from('not rtp'), ep.port);
    await settle();
    expect(h.engine.endpointStats(ep.id).latched).toBe(false);
    await send(caller, rtp(random32(), 1), ep.port);
    const ssrc = random32();
    for (let i = 0; i < 10; i++) await send(sprayer, rtp(ssrc, 200 + i), ep.port);
    await settle();
    expect(h.events.filter((e) => e.type === 'source-latched')).toEqual([
      { type: 'source-latched', endpoint: ep.id, address: '127.0.0.1', port: portOf(caller) },
    ]);
    expect(h.engine.endpointStats(ep.id).discarded.source).toBe(10);
  });
});
