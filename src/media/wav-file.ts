/**
 * Audio files for prompts and music: WAV in any of the encodings operators meet
 * (PCM 8/16/24/32-bit, 32/64-bit float, G.711 µ-law and A-law, IMA ADPCM), decoded
 * with the `wavefile` package and mixed down to mono PCM16. The engine resamples to
 * each conference's rate, so the file keeps its own rate here.
 */
import { readFile } from 'node:fs/promises';
import wavefile from 'wavefile';
import type { Pcm } from './pcm.js';

export class AudioFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'AudioFileError';
  }
}

/** Longer prompts are refused: a prompt is decoded into memory whole. */
const MAX_SECONDS = 30 * 60;

interface WavFormat {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  bitsPerSample: number;
}

/** Decodes a WAV file's bytes; `file` names it in errors. */
export function decodeWav(file: string, bytes: Uint8Array): Pcm {
  let wav: InstanceType<typeof wavefile.WaveFile>;
  try {
    wav = new wavefile.WaveFile(bytes);
  } catch (err) {
    throw new AudioFileError(file, `not a WAV file the server can read (${(err as Error).message})`);
  }
  const fmt = wav.fmt as WavFormat;
  const channels = fmt.numChannels;
  const rate = fmt.sampleRate;
  if (!(channels >= 1 && channels <= 8))
    throw new AudioFileError(file, `unsupported channel count ${channels}`);
  if (!(rate >= 8000 && rate <= 192000)) throw new AudioFileError(file, `unsupported sample rate ${rate} Hz`);
  try {
    // Compressed telephony encodings are expanded to PCM16 first; everything else converts by bit depth.
    if (fmt.audioFormat === 7) wav.fromMuLaw('16');
    else if (fmt.audioFormat === 6) wav.fromALaw('16');
    else if (fmt.audioFormat === 17) wav.fromIMAADPCM('16');
    else if (wav.bitDepth !== '16') wav.toBitDepth('16');
  } catch (err) {
    throw new AudioFileError(
      file,
      `cannot convert its encoding (format ${fmt.audioFormat}, ${fmt.bitsPerSample} bits): ${(err as Error).message}`,
    );
  }
  const interleaved = wav.getSamples(true, Int16Array) as unknown as Int16Array;
  const frames = Math.floor(interleaved.length / channels);
  if (frames === 0) throw new AudioFileError(file, 'holds no audio');
  if (frames / rate > MAX_SECONDS)
    throw new AudioFileError(file, `is longer than ${MAX_SECONDS / 60} minutes`);
  if (channels === 1) return { samples: Int16Array.from(interleaved.subarray(0, frames)), rate };
  const mono = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += interleaved[i * channels + c] ?? 0;
    mono[i] = Math.round(sum / channels);
  }
  return { samples: mono, rate };
}

export async function readWavFile(file: string): Promise<Pcm> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new AudioFileError(
      file,
      `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return decodeWav(file, bytes);
}
