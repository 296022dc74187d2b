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

export interface NativeEngine {
  Encoder: new (codec: CodecName, rate?: number) => NativeEncoder;
  Decoder: new (codec: CodecName, rate?: number) => NativeDecoder;
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
