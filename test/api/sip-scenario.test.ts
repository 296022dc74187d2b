/**
 * The HTTP API driving real SIP: start a conference, dial a baresip client out into it,
 * let a second client call in, record the mix, mute the dialled client (its 880 Hz tone
 * leaves the mix while the caller's 440 Hz stays), stop the recording, download the WAV
 * over the API and find the tones where they belong.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baresip, haveBaresip, stopAllBaresip } from '../support/baresip.js';
import { describePcm, type Pcm, readWav, slice, toneShare } from '../support/wav.js';
import { json } from './harness.js';
import { type Live, startLive, until } from './live.js';

const enabled = haveBaresip();
const HEARD = 0.05;
const ABSENT = 0.005;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Amplitude of one tone in dB: the median over 50 ms blocks of its DFT bin, so an
 * announcement said over part of the stretch does not move it.
 */
function toneDb(pcm: Pcm, freq: number): number {
  const n = Math.round(pcm.rate / 20);
  const amps: number[] = [];
  for (let b = 0; b + n <= pcm.samples.length; b += n) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < n; i++) {
      const w = (2 * Math.PI * freq * (b + i)) / pcm.rate;
      re += (pcm.samples[b + i] ?? 0) * Math.cos(w);
      im -= (pcm.samples[b + i] ?? 0) * Math.sin(w);
    }
    amps.push((2 * Math.hypot(re, im)) / n);
  }
  amps.sort((x, y) => x - y);
  return 20 * Math.log10(Math.max(1e-9, amps[Math.floor(amps.length / 2)] ?? 0) / 32768);
}

describe.skipIf(!enabled)('API scenario with real SIP clients', () => {
  let live: Live;
  beforeAll(async () => {
    live = await startLive({ rtp: { portMin: 32000, portMax: 32199 } });
  });
  afterAll(async () => {
    await stopAllBaresip();
    await live?.stop();
  });

  it('starts, dials out, mutes, records and serves the WAV with the right tones', async () => {
    const started = await live.req('POST', '/v1/conferences', { name: 'team-1357' });
    expect(started.status).toBe(201);

    const bob = await Baresip.start({ user: 'bob', tone: 880, autoAnswer: true, codecs: ['pcmu'] });
    const dialled = await live.req('POST', '/v1/conferences/team-1357/participants', {
      to: bob.uri,
      timeout: 10,
    });
    expect(dialled.status, await dialled.clone().text()).toBe(201);
    const { participant: bobId } = await json(dialled);
    expect(bobId).toMatch(/\S/);

    const alice = await Baresip.start({ user: 'alice', tone: 440, codecs: ['pcmu'] });
    await alice.dial(live.uri('conf-1357'));
    await alice.established();
    const view = await until(
      async () => {
        const v = await live.get('/v1/conferences/team-1357');
        return v.participants.length === 2 ? v : undefined;
      },
      'both participants in the conference',
      10_000,
      () => live.logTail(),
    );
    expect(view.participants.map((p: { codec: string }) => p.codec)).toEqual(['pcmu', 'pcmu']);

    for (const p of view.participants) {
      expect(p.level).toEqual(expect.any(Number));
      expect(p.jitterMs).toEqual(expect.any(Number));
      expect(p.packetsLost).toEqual(expect.any(Number));
    }
    const metrics = await (await live.req('GET', '/metrics')).text();
    expect(metrics).toMatch(/^parley_participants 2$/m);
    expect(metrics).toMatch(/^parley_conferences 1$/m);
    expect(metrics).toMatch(/^parley_calls_total\{outcome="dialled"\} 1$/m);
    expect(metrics).toMatch(/^parley_calls_total\{outcome="answered"\} 1$/m);
    expect(Number(/^parley_rtp_packets\{direction="in"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(Number(/^parley_mix_tick_us\{stat="max"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    const rec = await live.req('POST', '/v1/conferences/team-1357/recordings', { file: 'api-scenario.wav' });
    expect(rec.status).toBe(201);
    const { id: recId } = await json(rec);
    const t0 = Date.now();
    await sleep(3000);
    const mute = await live.req('POST', `/v1/conferences/team-1357/participants/${bobId}/mute`);
    expect((await json(mute)).muted).toBe(true);
    const tMute = (Date.now() - t0) / 1000;
    await sleep(3000);
    const aliceId = view.participants.find((p: { caller: string }) => p.caller.startsWith('alice@')).id;
    const gain = await live.req('PUT', `/v1/conferences/team-1357/participants/${aliceId}/gain`, {
      gain: 0.25,
    });
    expect((await json(gain)).gain).toBe(0.25);
    const tGain = (Date.now() - t0) / 1000;
    await sleep(2500);
    const stop = await live.req('DELETE', `/v1/conferences/team-1357/recordings/${recId}`);
    expect(stop.status).toBe(200);
    const stopped = await json(stop);
    expect(stopped.file).toBe('api-scenario.wav');
    expect(stopped.duration).toBeGreaterThan(5);

    const list = await live.get('/v1/recordings');
    expect(list.recordings.map((r: { id: string }) => r.id)).toContain('api-scenario.wav');
    const res = await live.req('GET', '/v1/recordings/api-scenario.wav');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^audio\/(x-)?wav/);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'parley-dl-')), 'mix.wav');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const pcm = readWav(file);
    const why = `${describePcm(pcm, [440, 880])}\n${live.logTail(30)}`;
    const before = slice(pcm, 0.5, tMute - 0.3);
    const after = slice(pcm, tMute + 0.5, tGain - 0.3);
    // The end of the file is after the gain change even if the busy engine wrote it late.
    const softer = slice(pcm, pcm.samples.length / pcm.rate - 1.2);
    expect(toneShare(before, 440), why).toBeGreaterThan(HEARD);
    expect(toneShare(before, 880), why).toBeGreaterThan(HEARD);
    expect(toneShare(after, 440), why).toBeGreaterThan(HEARD);
    expect(toneShare(after, 880), why).toBeLessThan(ABSENT);
    // A gain of 0.25 is 12 dB: the caller's tone in the mix is that much quieter.
    const drop = toneDb(after, 440) - toneDb(softer, 440);
    expect(drop, why).toBeGreaterThan(9);
    expect(drop, why).toBeLessThan(15);
    expect(toneShare(softer, 440), why).toBeGreaterThan(HEARD);
  }, 60_000);
});
