import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeEngine } from '../../src/media/native.js';
import { goertzel, tone } from '../support/goertzel.js';

const { WavWriter } = loadNativeEngine();
const dir = mkdtempSync(path.join(tmpdir(), 'parley-wav-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Reads a PCM16 WAV the way a standard reader does: from its header's sizes. */
function readWav(file: string): { rate: number; channels: number; samples: Int16Array } {
  const b = readFileSync(file);
  expect(b.toString('ascii', 0, 4)).toBe('RIFF');
  expect(b.toString('ascii', 8, 16)).toBe('WAVEfmt ');
  expect(b.readUInt16LE(20)).toBe(1);
  expect(b.readUInt32LE(4)).toBe(36 + b.readUInt32LE(40));
  const dataBytes = b.readUInt32LE(40);
  expect(44 + dataBytes).toBeLessThanOrEqual(b.length);
  const samples = new Int16Array(b.buffer.slice(b.byteOffset + 44, b.byteOffset + 44 + dataBytes));
  return { rate: b.readUInt32LE(24), channels: b.readUInt16LE(22), samples };
}

describe('native WAV writer', () => {
  it('writes a file standard readers open, with the tones at their times', () => {
    const file = path.join(dir, 'tones.wav');
    const w = new WavWriter(file, 8000, 1);
    for (let i = 0; i < 50; i++) w.write(tone(440, 8000, 160, 8000, i * 160)); // 1 s of 440 Hz
    for (let i = 0; i < 50; i++) w.write(tone(880, 8000, 160, 8000, i * 160)); // then 1 s of 880 Hz
    w.close();
    const { rate, channels, samples } = readWav(file);
    expect([rate, channels, samples.length]).toEqual([8000, 1, 16000]);
    expect(goertzel(samples.subarray(0, 8000), 440, 8000)).toBeGreaterThan(0.8);
    expect(goertzel(samples.subarray(8000), 880, 8000)).toBeGreaterThan(0.8);
    expect(goertzel(samples.subarray(8000), 440, 8000)).toBeLessThan(0.02);
  });

  it('leaves a playable file when the recording process is killed with SIGKILL', async () => {
    const file = path.join(dir, 'killed.wav');
    const seconds = 4.5;
    // The child records 4.5 s of audio, says so, and waits to be killed.
    const script = `
      import { loadNativeEngine } from ${JSON.stringify(path.resolve('src/media/native.ts'))};
      const { WavWriter } = loadNativeEngine();
      const w = new WavWriter(${JSON.stringify(file)}, 16000, 2);
      const frame = new Int16Array(640).fill(1000);
      for (let i = 0; i < ${seconds * 50}; i++) w.write(frame);
      process.stdout.write('recorded\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('recorded') && resolve());
      child.on('exit', (code) => reject(new Error(`recorder exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const { rate, channels, samples } = readWav(file);
    expect([rate, channels]).toEqual([16000, 2]);
    const duration = samples.length / channels / rate;
    expect(duration).toBeGreaterThanOrEqual(seconds - 1.5);
    expect(duration).toBeLessThanOrEqual(seconds);
  });

  it('refuses bad arguments and writes after close', () => {
    expect(() => new WavWriter(path.join(dir, 'x.wav'), 44, 1)).toThrow(/rate/);
    expect(() => new WavWriter(path.join(dir, 'x.wav'), 8000, 3 as 1)).toThrow(/channels must be 1 or 2/);
    expect(() => new WavWriter(path.join(dir, 'no', 'such', 'x.wav'), 8000, 1)).toThrow(/cannot create/);
    const w = new WavWriter(path.join(dir, 's.wav'), 8000, 2);
    expect(() => w.write(new Int16Array(3))).toThrow(/multiple of channels/);
    w.close();
    expect(() => w.write(new Int16Array(2))).toThrow(/closed/);
  });
});
