import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import { PromptLibrary } from '../../src/media/prompt-library.js';
import { EspeakTts } from '../../src/media/tts.js';
import { AudioFileError, decodeWav } from '../../src/media/wav-file.js';
import { goertzel, tone } from '../support/goertzel.js';

function wavBytes(samples: Int16Array, rate: number, channels = 1, bitDepth = '16'): Uint8Array {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(channels, rate, bitDepth, samples);
  return wav.toBuffer();
}

describe('decodeWav', () => {
  it('keeps mono PCM16 as it is', () => {
    const pcm = tone(440, 8000, 800);
    const out = decodeWav('t.wav', wavBytes(pcm, 8000));
    expect(out.rate).toBe(8000);
    expect(Array.from(out.samples)).toEqual(Array.from(pcm));
  });

  it('mixes stereo down to mono', () => {
    const left = tone(440, 16000, 1600);
    const stereo = new Int16Array(3200);
    for (let i = 0; i < 1600; i++) {
      stereo[2 * i] = left[i] ?? 0;
      stereo[2 * i + 1] = 0;
    }
    const out = decodeWav('s.wav', wavBytes(stereo, 16000, 2));
    expect(out.samples.length).toBe(1600);
    expect(out.samples[100]).toBe(Math.round((left[100] ?? 0) / 2));
  });

  it('reads µ-law, 24-bit and float files written by sox', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-wav-'));
    try {
      for (const [name, args] of [
        ['ulaw.wav', ['-e', 'u-law', '-b', '8']],
        ['s24.wav', ['-b', '24']],
        ['float.wav', ['-e', 'floating-point', '-b', '32']],
      ] as const) {
        const file = path.join(dir, name);
        execFileSync('sox', [
          '-n',
          '-r',
          '8000',
          '-c',
          '1',
          ...args,
          file,
          'synth',
          '0.5',
          'sine',
          '1000',
          'vol',
          '0.5',
        ]);
        const out = decodeWav(name, new Uint8Array(readFileSync(file)));
        expect(out.rate, name).toBe(8000);
        expect(out.samples.length, name).toBe(4000);
        expect(goertzel(out.samples.subarray(800, 1600), 1000, 8000), name).toBeGreaterThan(0.9);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what is not a WAV file with the file name in the error', () => {
    expect(() => decodeWav('notes.txt', new TextEncoder().encode('hello'))).toThrow(AudioFileError);
    expect(() => decodeWav('notes.txt', new TextEncoder().encode('hello'))).toThrow(/^notes\.txt: /);
  });
});

describe('PromptLibrary', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-prompts-'));
  const tts = new EspeakTts();
  let server: Server;
  let base = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/tone.wav') {
        res.setHeader('content-type', 'audio/wav');
        res.end(Buffer.from(wavBytes(tone(600, 8000, 1600), 8000)));
      } else if (req.url === '/huge.wav') {
        res.end(Buffer.alloc(4096));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await tts.close();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('synthesizes speech once and serves it from the cache afterwards', async () => {
    const lib = new PromptLibrary({ root: dir, tts });
    const first = await lib.load({ kind: 'tts', text: 'Participant has left the conference.' });
    // espeak-ng speaks at 22050 Hz, which the engine does not play: resampled once, to 24 kHz.
    expect(first.rate).toBe(24000);
    // About two seconds of speech, not silence.
    expect(first.samples.length / first.rate).toBeGreaterThan(1);
    expect(first.samples.length / first.rate).toBeLessThan(5);
    const peak = first.samples.reduce((m, s) => Math.max(m, Math.abs(s)), 0);
    expect(peak).toBeGreaterThan(3000);
    const again = await lib.load({ kind: 'tts', text: 'Participant has left the conference.' });
    expect(again).toBe(first);
  }, 20_000);

  it('reloads a file when it changes on disk', async () => {
    const lib = new PromptLibrary({ root: dir, tts });
    const file = path.join(dir, 'music.wav');
    writeFileSync(file, wavBytes(tone(440, 8000, 800), 8000));
    const a = await lib.load({ kind: 'file', path: 'music.wav' });
    expect(await lib.load({ kind: 'file', path: 'music.wav' })).toBe(a);
    writeFileSync(file, wavBytes(tone(880, 8000, 1600), 8000));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const b = await lib.load({ kind: 'file', path: 'music.wav' });
    expect(b.samples.length).toBe(1600);
    expect(goertzel(b.samples, 880, 8000)).toBeGreaterThan(0.9);
  });

  it('names a missing file, and does not remember the failure', async () => {
    const lib = new PromptLibrary({ root: dir, tts });
    await expect(lib.load({ kind: 'file', path: 'later.wav' })).rejects.toThrow(
      /later\.wav: cannot read: ENOENT/,
    );
    writeFileSync(path.join(dir, 'later.wav'), wavBytes(tone(440, 8000, 800), 8000));
    await expect(lib.load({ kind: 'file', path: 'later.wav' })).resolves.toHaveProperty('rate', 8000);
  });

  it('downloads audio from a URL within limits', async () => {
    const lib = new PromptLibrary({ root: dir, tts, maxDownloadBytes: 4000 });
    const pcm = await lib.load({ kind: 'url', url: `${base}/tone.wav` });
    expect(goertzel(pcm.samples, 600, 8000)).toBeGreaterThan(0.9);
    await expect(lib.load({ kind: 'url', url: `${base}/huge.wav` })).rejects.toThrow(
      /larger than 4000 bytes/,
    );
    await expect(lib.load({ kind: 'url', url: `${base}/gone.wav` })).rejects.toThrow(/HTTP 404/);
    await expect(lib.load({ kind: 'url', url: 'file:///etc/passwd' })).rejects.toThrow(/only http and https/);
  });

  it('evicts the least recently used prompts beyond its byte budget', async () => {
    const lib = new PromptLibrary({ root: dir, tts, maxCacheBytes: 5000 });
    for (const f of ['a', 'b', 'c'])
      writeFileSync(path.join(dir, `${f}.wav`), wavBytes(tone(440, 8000, 1000), 8000));
    const a = await lib.load({ kind: 'file', path: 'a.wav' });
    await lib.load({ kind: 'file', path: 'b.wav' });
    await lib.load({ kind: 'file', path: 'c.wav' }); // 6000 bytes in all: a goes
    expect(await lib.load({ kind: 'file', path: 'a.wav' })).not.toBe(a);
  });
});

describe('EspeakTts queue', () => {
  it('lets a caller overtake prompts prepared in the background', async () => {
    const tts = new EspeakTts();
    try {
      const order: string[] = [];
      const track = (name: string, p: Promise<unknown>) => p.then(() => order.push(name));
      const jobs = [
        track('bg1', tts.synthesize('First background sentence.', undefined, { background: true })),
        track('bg2', tts.synthesize('Second background sentence.', undefined, { background: true })),
        track('bg3', tts.synthesize('Third background sentence.', undefined, { background: true })),
        track('urgent', tts.synthesize('Hello caller.')),
      ];
      tts.prioritize('Third background sentence.');
      await Promise.all(jobs);
      // bg1 was already running; then the caller's sentence, then the one a caller now waits for.
      expect(order).toEqual(['bg1', 'urgent', 'bg3', 'bg2']);
    } finally {
      await tts.close();
    }
  }, 30_000);
});
