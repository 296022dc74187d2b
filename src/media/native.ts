/**
 * Typed loader of the native media engine (`build/Release/parley_media.node`,
 * built by node-gyp on `npm ci` / `npm run build:native`).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type CodecName = 'pcmu' | 'pcma' | 'g722' | 'opus' | 'l16';

export interface NativeEncoder {
  readonly rate: number;
  /** One frame of mono PCM16 at `rate` → RTP payload. */
  encode(pcm: Int16Array): Buffer;
}

export interface NativeDecoder {
  readonly rate: number;
  /** RTP payload → mono PCM16 at `rate`; throws on a corrupt payload. */
  decode(payload: Buffer): Int16Array;
  /** Samples standing in for a lost packet. */
  conceal(samples: number): Int16Array;
}

export interface MixMemberOptions {
  muted?: boolean;
  deaf?: boolean;
  inGain?: number;
  outGain?: number;
  /** Ids this member is heard by; null/absent = everyone (whisper when set). */
  speakTo?: number[] | null;
  /** Ids this member hears; null/absent = everyone. */
  hearFrom?: number[] | null;
}

export interface MixTick {
  /** One mix per group of listeners who hear the same thing. */
  mixes: Int16Array[];
  /** Listener id → index into `mixes`; deaf members are absent. */
  groupOf: Record<string, number>;
  /** Talkers mixed this tick (the loudest, not muted). */
  mixed: number[];
}

export interface NativeMixer {
  set(id: number, options: MixMemberOptions): void;
  remove(id: number): void;
  /** One 20 ms frame per talking member at the mixer's rate. */
  mix(frames: Array<[number, Int16Array]>): MixTick;
}

export interface NativeWavWriter {
  /** Frames (samples per channel) written so far. */
  readonly frames: number;
  /** Interleaved PCM16; the header is fixed and the file synced about every second of audio. */
  write(pcm: Int16Array): void;
  close(): void;
}

export interface DtmfKey {
  digit: string;
  /** In RTP timestamp units of the telephone-event clock (usually 8000 Hz). */
  duration: number;
}

export interface NativeDtmfReceiver {
  /** One RFC 4733 payload with its RTP timestamp → the keys it completes (each key once). */
  feed(timestamp: number, payload: Buffer): DtmfKey[];
}

export interface NativeResampler {
  /** Converts one chunk at the input rate; the filter carries state between calls. */
  process(pcm: Int16Array): Int16Array;
}

export interface VadFrame {
  /** dBov; a full-scale sine is about -3. */
  level: number;
  talking: boolean;
  /** A talking start or stop happened on this frame. */
  changed: boolean;
}

export interface NativeVad {
  /** One 20 ms frame → its level and the hysteresis-filtered talking state. */
  process(pcm: Int16Array): VadFrame;
}

export interface NativeEngine {
  Encoder: new (codec: CodecName, rate?: number) => NativeEncoder;
  Decoder: new (codec: CodecName, rate?: number) => NativeDecoder;
  Mixer: new (rate: 8000 | 16000 | 48000, loudest: number) => NativeMixer;
  WavWriter: new (path: string, rate: number, channels: 1 | 2) => NativeWavWriter;
  DtmfReceiver: new () => NativeDtmfReceiver;
  Resampler: new (inRate: number, outRate: number) => NativeResampler;
  Vad: new () => NativeVad;
}

/** The native addon could not be loaded: not built, or built for another Node. */
export class NativeEngineMissingError extends Error {
  override readonly name = 'NativeEngineMissingError';
}

const ADDON = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'build',
  'Release',
  'parley_media.node',
);

let engine: NativeEngine | undefined;

export function loadNativeEngine(): NativeEngine {
  if (engine) return engine;
  try {
    engine = createRequire(import.meta.url)(ADDON) as NativeEngine;
  } catch (err) {
    throw new NativeEngineMissingError(
      `cannot load the native media engine at ${ADDON} (${err instanceof Error ? err.message : String(err)}); ` +
        'build it with `npm run build:native` after scripts/install-debian-deps.sh',
    );
  }
  return engine;
}
