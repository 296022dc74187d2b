import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ABSENT,
  endpointConfig,
  type Harness,
  HEARD,
  openEngine,
  party,
  share,
  teardown,
} from '../support/rtp-engine.js';
import { RtpPeer, sleep } from '../support/rtp-peer.js';

let h: Harness | undefined;
afterEach(async () => {
  if (h) await teardown(h);
  h = undefined;
});

async function socket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  return s;
}

describe('engine RTP input', () => {
  it('strict source: packets from another socket are dropped and counted, never mixed', async () => {
    h = openEngine();
    h.engine.createConference('c', { rate: 8000 });
    const a = await party(h, 'pcmu', 440, 'c');
    const b = await party(h, 'pcmu', undefined, 'c');
    // An intruder sends a valid RTP stream at A's port from a different socket.
    const intruder = await RtpPeer.open({ codec: 'pcmu', payloadType: 0, freq: 1320 });
    h.peers.push(intruder);
    intruder.target('127.0.0.1', a.port);
    intruder.start();
    await sleep(400);
    const from = performance.now();
    await sleep(800);
    expect(share(b, 440, from)).toBeGreaterThan(HEARD);
    expect(share(b, 1320, from)).toBeLessThan(ABSENT);
    const stats = h.engine.endpointStats(a.id);
    expect(stats.discarded.source).toBeGreaterThan(40);
    expect(stats.latched).toBe(false);
  });

  it('latching learns the real source only after a run of valid in-sequence RTP packets, then stays fixed', async () => {
    h = openEngine();
    h.engine.createConference('c', { rate: 8000 });
    const ep = h.engine.createEndpoint({ latching: true });
    // The SDP names an address nobody sends from (a NAT in between).
    const nowhere = await socket();
    const sdpPort = (nowhere.address() as { port: number }).port;
    h.engine.configureEndpoint(ep.id, endpointConfig('pcmu', sdpPort));
    h.engine.join('c', ep.id);
    const listener = await party(h, 'pcmu', undefined, 'c');
    const real = await RtpPeer.open({ codec: 'pcmu', payloadType: 0, freq: 440 });
    h.peers.push(real);
    real.target('127.0.0.1', ep.port);
    // Garbage first: not RTP, so nothing to learn from.
    for (let i = 0; i < 10; i++) real.sendRaw(Buffer.from('not rtp at all, just bytes'));
    await sleep(100);
    expect(h.events.filter((e) => e.type === 'source-latched')).toEqual([]);
    expect(h.engine.endpointStats(ep.id).latched).toBe(false);
    real.start();
    await sleep(500);
    expect(h.events.filter((e) => e.type === 'source-latched')).toEqual([
      { type: 'source-latched', endpoint: ep.id, address: '127.0.0.1', port: real.port },
    ]);
    const from = performance.now();
    await sleep(700);
    // The engine now sends to the learned address and mixes what comes from there.
    expect(real.heard(from).length).toBeGreaterThan(4000);
    expect(share(listener, 440, from)).toBeGreaterThan(HEARD);
    // Fixed: another source is refused from now on.
    const other = await RtpPeer.open({ codec: 'pcmu', payloadType: 0, freq: 1320 });
    h.peers.push(other);
    other.target('127.0.0.1', ep.port);
    other.start();
    await sleep(300);
    const later = performance.now();
    await sleep(500);
    expect(share(listener, 1320, later)).toBeLessThan(ABSENT);
    expect(h.engine.endpointStats(ep.id).discarded.source).toBeGreaterThan(20);
    expect(h.events.filter((e) => e.type === 'source-latched')).toHaveLength(1);
    nowhere.close();
  });

  it('a spray of random garbage at the RTP and RTCP ports does not disturb the call', async () => {
    h = openEngine();
    h.engine.createConference('c', { rate: 8000 });
    const a = await party(h, 'pcmu', 440, 'c');
    const b = await party(h, 'pcmu', 880, 'c');
    const stranger = await socket();
    const garbage = (rtpLike: boolean) => {
      const len = Math.floor(Math.random() * 1600);
      const buf = Buffer.alloc(len);
      for (let i = 0; i < len; i++) buf[i] = Math.floor(Math.random() * 256);
      // Version 2 gets past the first check of the RTP/RTCP parsers; anything else is rejected at once.
      if (len > 0) buf[0] = rtpLike ? 0x80 | (buf[0]! & 0x3f) : buf[0]! & 0x3f;
      return buf;
    };
    // Pools made once: generating random bytes on every send would starve the peers' own send loops.
    const junk = Array.from({ length: 300 }, () => garbage(false));
    const rtpLike = Array.from({ length: 300 }, () => garbage(true));
    let k = 0;
    const spray = setInterval(() => {
      for (let i = 0; i < 20; i++, k++) {
        // Junk from A's own address (past the source check, into the parser); RTP-like and junk from a
        // stranger at B's RTP and RTCP ports (stopped by the source check).
        a.peer.sendRaw(junk[k % junk.length]!);
        stranger.send(rtpLike[k % rtpLike.length]!, b.port, '127.0.0.1');
        stranger.send(junk[k % junk.length]!, b.port + 1, '127.0.0.1');
      }
    }, 10);
    await sleep(400);
    const from = performance.now();
    await sleep(1000);
    clearInterval(spray);
    expect(share(a, 880, from)).toBeGreaterThan(HEARD);
    expect(share(b, 440, from)).toBeGreaterThan(HEARD);
    const sa = h.engine.endpointStats(a.id);
    const sb = h.engine.endpointStats(b.id);
    const dropped = Object.values(sa.discarded).reduce((x, y) => x + y, 0);
    expect(dropped).toBeGreaterThan(100);
    expect(sb.discarded.source).toBeGreaterThan(100);
    stranger.close();
  });

  it('rtp-timeout fires once when the far end goes quiet, not while on hold', async () => {
    h = openEngine({ rtpTimeoutMs: 300 });
    const a = await party(h, 'pcmu', 440);
    const held = await party(h, 'pcmu', 440);
    h.engine.configureEndpoint(held.id, endpointConfig('pcmu', held.peer.port, 'sendonly'));
    await sleep(200);
    a.peer.stop();
    held.peer.stop();
    await sleep(700);
    const timeouts = h.events.filter((e) => e.type === 'rtp-timeout');
    expect(timeouts).toEqual([{ type: 'rtp-timeout', endpoint: a.id }]);
  });

  it('RFC 4733 keys from the peer give one dtmf event per key', async () => {
    h = openEngine();
    h.engine.createConference('c', { rate: 16000 });
    const a = await party(h, 'g722', 440, 'c');
    for (const k of ['1', '2', '3', '*', '#']) a.peer.sendDtmf(k, 60);
    await sleep(1200);
    const keys = h.events.flatMap((e) => (e.type === 'dtmf' ? [e.digit] : []));
    expect(keys).toEqual(['1', '2', '3', '*', '#']);
  });

  it('keys sent by the engine arrive at the peer as RFC 4733 packets', async () => {
    h = openEngine();
    const a = await party(h, 'pcmu', undefined);
    h.engine.sendDtmf(a.id, '7', 100);
    await sleep(400);
    const packets = a.peer.dtmfPackets;
    expect(packets.length).toBeGreaterThanOrEqual(5 + 3 - 1);
    expect(packets.every((p) => p[12] === 7)).toBe(true);
    expect(packets.filter((p) => (p[13]! & 0x80) !== 0).length).toBe(3);
    expect(h.engine.endpointStats(a.id).dtmfOut).toBe(packets.length);
  });

  it('sends RTCP sender reports with a report block and CNAME on the RTP port with rtcp-mux', async () => {
    h = openEngine();
    const ep = h.engine.createEndpoint({ rtcpMux: true });
    const peer = await RtpPeer.open({ codec: 'pcmu', payloadType: 0, freq: 440 });
    h.peers.push(peer);
    h.engine.configureEndpoint(ep.id, endpointConfig('pcmu', peer.port));
    peer.target('127.0.0.1', ep.port);
    peer.start();
    await sleep(3200); // the first report goes out 2.5 s after configuration
    expect(peer.rtcpPackets.length).toBeGreaterThanOrEqual(1);
    const sr = peer.rtcpPackets[0]!;
    expect(sr[1]).toBe(200); // SR first in the compound
    expect(sr[0]! & 0x1f).toBe(1); // one report block: about the peer's stream
    expect(sr.readUInt32BE(8 + 20)).toBe(peer.ssrc);
    const srLen = (sr.readUInt16BE(2) + 1) * 4;
    expect(sr[srLen + 1]).toBe(202); // then SDES with the CNAME
    expect(h.engine.endpointStats(ep.id).rtcpOut).toBeGreaterThanOrEqual(1);
  });
});
