/**
 * Turns prompt sources (text to say, audio files, audio URLs) into PCM for the
 * engine, once: a conference that says "A participant has joined." a hundred times
 * synthesizes it once. The cache is bounded by bytes and evicts the least recently
 * used prompt; files are keyed by path, size and modification time, so an operator
 * who replaces a file is heard at the next play.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { loadNativeEngine } from './native.js';
import type { Pcm } from './pcm.js';
import type { TtsEngine } from './tts.js';
import { AudioFileError, decodeWav, readWavFile } from './wav-file.js';

export type PromptSpec =
  | { kind: 'tts'; text: string; voice?: string }
  /** Relative to the configuration root (absolute paths are used as they are). */
  | { kind: 'file'; path: string }
  | { kind: 'url'; url: string };

export interface PromptLibraryOptions {
  /** Configuration root that file prompts are relative to. */
  root: string;
  tts: TtsEngine;
  /** Cache bound; default 64 MiB of PCM. */
  maxCacheBytes?: number;
  /** Largest audio download; default 20 MiB. */
  maxDownloadBytes?: number;
  /** Download time limit; default 10 s. */
  downloadTimeoutMs?: number;
}

export class PromptLibrary {
  private readonly cache = new Map<string, Promise<Pcm>>();
  private readonly sizes = new Map<string, number>();
  private bytes = 0;
  private readonly maxBytes: number;

  constructor(private readonly options: PromptLibraryOptions) {
    this.maxBytes = options.maxCacheBytes ?? 64 * 1024 * 1024;
  }

  /** PCM of `spec`; rejects with AudioFileError, TtsError or a download error. */
  async load(spec: PromptSpec, options: { background?: boolean } = {}): Promise<Pcm> {
    switch (spec.kind) {
      case 'tts': {
        const key = `tts\u0000${spec.voice ?? ''}\u0000${spec.text}`;
        // Someone waits for a sentence that is only being prepared in the background: it goes first.
        if (!options.background && this.cache.has(key)) this.options.tts.prioritize?.(spec.text, spec.voice);
        return this.cached(key, () => this.options.tts.synthesize(spec.text, spec.voice, options));
      }
      case 'file': {
        const file = path.resolve(this.options.root, spec.path);
        let info: Awaited<ReturnType<typeof stat>>;
        try {
          info = await stat(file);
        } catch (err) {
          throw new AudioFileError(
            spec.path,
            `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
          );
        }
        return this.cached(`file\u0000${file}\u0000${info.size}\u0000${info.mtimeMs}`, () =>
          readWavFile(file),
        );
      }
      case 'url':
        return this.cached(`url\u0000${spec.url}`, () => this.download(spec.url));
    }
  }

  private cached(key: string, load: () => Promise<Pcm>): Promise<Pcm> {
    const make = () => load().then(toEngineRate);
    const hit = this.cache.get(key);
    if (hit) {
      // Re-inserting moves the entry to the most recently used end.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const made = make();
    this.cache.set(key, made);
    made.then(
      (pcm) => {
        if (this.cache.get(key) !== made) return;
        const size = pcm.samples.byteLength;
        this.sizes.set(key, size);
        this.bytes += size;
        this.evict();
      },
      () => {
        // A failure is not remembered: the file may be fixed, the URL may come back.
        if (this.cache.get(key) === made) this.cache.delete(key);
      },
    );
    return made;
  }

  private evict(): void {
    for (const key of this.cache.keys()) {
      if (this.bytes <= this.maxBytes) return;
      const size = this.sizes.get(key);
      if (size === undefined) continue; // still loading
      this.cache.delete(key);
      this.sizes.delete(key);
      this.bytes -= size;
    }
  }

  private async download(url: string): Promise<Pcm> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new AudioFileError(url, 'is not a URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new AudioFileError(url, 'only http and https URLs can be played');
    const limit = this.options.maxDownloadBytes ?? 20 * 1024 * 1024;
    let response: Response;
    try {
      response = await fetch(parsed, {
        signal: AbortSignal.timeout(this.options.downloadTimeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new AudioFileError(url, `download failed: ${(err as Error).message}`);
    }
    if (!response.ok) throw new AudioFileError(url, `download failed: HTTP ${response.status}`);
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > limit) throw new AudioFileError(url, `is larger than ${limit} bytes`);
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = response.body?.getReader();
    if (!reader) throw new AudioFileError(url, 'download returned no body');
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel();
        throw new AudioFileError(url, `is larger than ${limit} bytes`);
      }
      chunks.push(value);
    }
    return decodeWav(url, Buffer.concat(chunks));
  }
}

/** Rates the engine's players take; anything else (espeak-ng speaks at 22050 Hz) is resampled once, here. */
const ENGINE_RATES = new Set([8000, 16000, 24000, 32000, 44100, 48000]);

function toEngineRate(pcm: Pcm): Pcm {
  if (ENGINE_RATES.has(pcm.rate)) return pcm;
  const rate = pcm.rate < 16000 ? 16000 : pcm.rate < 32000 ? 24000 : 48000;
  const resampler = new (loadNativeEngine().Resampler)(pcm.rate, rate);
  // Padding flushes the filter's delay so the end of the prompt is not cut off.
  const padded = new Int16Array(pcm.samples.length + Math.ceil(pcm.rate / 50));
  padded.set(pcm.samples);
  // The resampler takes at most 120 ms a call: feed it 100 ms chunks.
  const step = Math.floor(pcm.rate / 10);
  const parts: Int16Array[] = [];
  let total = 0;
  for (let at = 0; at < padded.length; at += step) {
    const out = resampler.process(padded.subarray(at, Math.min(at + step, padded.length)));
    parts.push(out);
    total += out.length;
  }
  const samples = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    samples.set(p, at);
    at += p.length;
  }
  return { samples, rate };
}
