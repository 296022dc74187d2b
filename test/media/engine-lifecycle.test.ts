import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MediaEngine, MediaEngineError } from '../../src/media/engine.js';
import { tone } from '../support/goertzel.js';
import { openEngine, party, teardown } from '../support/rtp-engine.js';
import { sleep } from '../support/rtp-peer.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MediaEngineError);
    return (err as MediaEngineError).code;
  }
  return undefined;
}

describe('engine clock', () => {
  it('counts one tick per 20 ms over 5 s without drift, and reports late ticks', async () => {
    // A 0 ms threshold: every wake-up is a little late, so late ticks must show up in the stats.
    const h = openEngine({ lateTickMs: 0 });
    await sleep(5000);
    const s = h.engine.engineStats();
    const expected = s.elapsedMs / 20;
    expect(Math.abs(s.ticks - expected)).toBeLessThanOrEqual(2);
    expect(s.ticks).toBeGreaterThan(240);
    expect(s.lateTicks).toBeGreaterThan(0);
    expect(s.tickWorkP99Us).toBeGreaterThan(0);
    await teardown(h);
  });
});

describe('engine errors and close', () => {
  it('refuses unknown ids and bad arguments with typed errors', async () => {
    const h = openEngine();
    const { engine } = h;
    expect(code(() => engine.destroyEndpoint(999))).toBe('UNKNOWN_ENDPOINT');
    expect(code(() => engine.join('nope', 1))).toBe('UNKNOWN_CONFERENCE');
    expect(code(() => engine.stopPlayer(12345))).toBe('UNKNOWN_PLAYER');
    expect(code(() => engine.stopRecorder(12345))).toBe('UNKNOWN_RECORDER');
    expect(code(() => engine.createConference('x', { rate: 44100 as 8000 }))).toBe('BAD_ARGUMENT');
    engine.createConference('x', { rate: 8000 });
    expect(code(() => engine.createConference('x', { rate: 8000 }))).toBe('CONFERENCE_EXISTS');
    const ep = engine.createEndpoint();
    expect(
      code(() => engine.configureEndpoint(ep.id, { remote: { address: 'nowhere', port: 5 } } as never)),
    ).toBe('BAD_ARGUMENT');
    const cfg = {
      remote: { address: '127.0.0.1', port: 4000 },
      send: { codec: 'pcmu' as const, payloadType: 0 },
      receive: { payloadTypes: { 0: { codec: 'pcmu' as const, rate: 8000 } } },
      direction: 'sendrecv' as const,
    };
    expect(
      code(() =>
        engine.configureEndpoint(ep.id, { ...cfg, send: { codec: 'gsm' as never, payloadType: 3 } }),
      ),
    ).toBe('BAD_ARGUMENT');
    expect(code(() => engine.configureEndpoint(ep.id, { ...cfg, direction: 'up' as never }))).toBe(
      'BAD_ARGUMENT',
    );
    expect(code(() => engine.sendDtmf(ep.id, '1', 100))).toBe('NOT_CONFIGURED');
    engine.configureEndpoint(ep.id, cfg);
    expect(code(() => engine.sendDtmf(ep.id, '1', 100))).toBe('BAD_ARGUMENT'); // no telephone-event
    expect(code(() => engine.play({ endpoint: ep.id }, new Int16Array(0), 8000))).toBe('BAD_ARGUMENT');
    expect(code(() => engine.play({ endpoint: ep.id }, new Int16Array(10), 12345))).toBe('BAD_ARGUMENT');
    expect(code(() => engine.record({ conference: 'x' }, '/nonexistent-dir/x.wav'))).toBe('RECORDING_FAILED');
    engine.join('x', ep.id);
    expect(code(() => engine.join('x', ep.id))).toBe('ALREADY_MEMBER');
    expect(code(() => engine.link('x', 'x'))).toBe('BAD_ARGUMENT');
    expect(code(() => engine.unlink('x', 'x'))).toBe('NOT_LINKED');
    await teardown(h);
  });

  it('says which ports when free ports run out', () => {
    const engine = MediaEngine.open({
      address: '127.0.0.1',
      portMin: 47000,
      portMax: 47003,
      onEvent: () => {},
    });
    try {
      const got: number[] = [];
      let err: MediaEngineError | undefined;
      for (let i = 0; i < 4 && !err; i++) {
        try {
          got.push(engine.createEndpoint().port);
        } catch (e) {
          err = e as MediaEngineError;
        }
      }
      expect(got.length).toBeLessThanOrEqual(2);
      expect(err?.code).toBe('PORTS_EXHAUSTED');
      expect(err?.message).toMatch(/47000-47003 on 127\.0\.0\.1/);
    } finally {
      engine.close();
    }
  });

  it('close() with endpoints, conferences, players, recorders and links alive; afterwards every call throws CLOSED', async () => {
    const h = openEngine();
    const { engine } = h;
    engine.createConference('a', { rate: 16000 });
    engine.createConference('b', { rate: 8000 });
    engine.link('a', 'b');
    const p1 = await party(h, 'pcmu', 440, 'a');
    await party(h, 'opus', 880, 'b');
    engine.play({ conference: 'a' }, tone(300, 8000, 8000), 8000, { loop: true });
    engine.play({ endpoint: p1.id }, tone(300, 8000, 8000), 8000, { loop: true });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-close-'));
    engine.record({ conference: 'a' }, path.join(dir, 'mix.wav'));
    engine.record({ endpoint: p1.id }, path.join(dir, 'p1.wav'), { direction: 'both' });
    await sleep(300);
    engine.close();
    engine.close();
    expect(engine.closed).toBe(true);
    expect(code(() => engine.createEndpoint())).toBe('CLOSED');
    expect(code(() => engine.engineStats())).toBe('CLOSED');
    expect(code(() => engine.join('a', p1.id))).toBe('CLOSED');
    // The recordings were closed properly: valid headers with the data written so far.
    const wav = fs.readFileSync(path.join(dir, 'p1.wav'));
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(40)).toBe(wav.length - 44);
    await teardown(h);
  });

  it('destroying things in any order leaves the engine working', async () => {
    const h = openEngine();
    const { engine } = h;
    engine.createConference('a', { rate: 8000 });
    engine.createConference('b', { rate: 8000 });
    engine.link('a', 'b', 'out');
    const x = await party(h, 'pcmu', 440, 'a');
    const y = await party(h, 'pcmu', 880, 'a');
    const player = engine.play({ endpoint: x.id }, tone(300, 8000, 8000), 8000, { loop: true });
    const prompt = engine.play({ conference: 'a' }, tone(300, 8000, 8000), 8000, { loop: true });
    const playerDone = engine.playerDone(player);
    const promptDone = engine.playerDone(prompt);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-order-'));
    const rec = engine.record({ endpoint: x.id }, path.join(dir, 'x.wav'));
    const recDone = engine.recorderDone(rec);
    await sleep(200);
    engine.destroyConference('a');
    engine.destroyEndpoint(x.id);
    expect(await recDone).toBeGreaterThan(0);
    // Players that lose their endpoint or conference end as stopped.
    expect(await playerDone).toBe('stopped');
    expect(await promptDone).toBe('stopped');
    expect(code(() => engine.stopPlayer(player))).toBe('UNKNOWN_PLAYER');
    engine.destroyConference('b');
    engine.destroyEndpoint(y.id);
    await sleep(100);
    expect(engine.engineStats().endpoints).toBe(0);
    await teardown(h);
  });
});

describe('engine without close()', () => {
  const addon = path.resolve(import.meta.dirname, '../../build/Release/parley_media.node');
  const run = (script: string) =>
    spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 10_000 });
  const setup = `
    const m = require(${JSON.stringify(addon)});
    const open = () => {
      const e = new m.MediaEngine({ address: '127.0.0.1', portMin: 45000, portMax: 45400 }, () => {});
      const a = e.createEndpoint(false, false);
      e.configureEndpoint(a.id, { remoteAddress: '127.0.0.1', remotePort: 9, sendCodec: 'pcmu', sendPayloadType: 0,
        payloadTypes: [[0, 'pcmu', 8000]], direction: 'sendrecv' });
      e.createConference('c', 8000, 3);
      e.join('c', a.id, {});
      e.playToConference('c', new Int16Array(8000), 8000, true);
      return e;
    };`;

  it('the process exits by itself with an engine still open (the engine does not hold the event loop)', () => {
    const r = run(`${setup}; open(); setTimeout(() => console.log('done'), 200);`);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('done');
    expect(r.status).toBe(0);
  });

  it('an engine dropped without close() is stopped by garbage collection: its sockets are freed', () => {
    // Five engines hold 45000, 45002, ... 45008; once collected, every one of those ports binds again.
    const r = run(`${setup}
      for (let i = 0; i < 5; i++) open();
      const dgram = require('node:dgram');
      const probe = (port) => new Promise((resolve) => {
        const s = dgram.createSocket('udp4');
        s.once('error', () => resolve(false));
        s.bind(port, '127.0.0.1', () => { s.close(); resolve(true); });
      });
      setTimeout(() => { global.gc(); setTimeout(async () => { global.gc(); await new Promise((r) => setTimeout(r, 100));
        const free = await Promise.all([45000, 45002, 45004, 45006, 45008].map(probe));
        console.log(free.join(','));
      }, 100); }, 100);`);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('true,true,true,true,true');
    expect(r.status).toBe(0);
  });
});
