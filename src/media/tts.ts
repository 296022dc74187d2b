/**
 * Text to speech. The engine is pluggable; the default is espeak-ng compiled to
 * WebAssembly (npm `@echogarden/espeak-ng-emscripten`, GPL-3.0: loaded lazily, in
 * its own worker thread, only when a flow first says something).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Pcm } from './pcm.js';

export interface TtsEngine {
  /** Synthesizes `text`; rejects with TtsError. */
  synthesize(text: string, voice?: string): Promise<Pcm>;
  close(): Promise<void>;
}

export class TtsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TtsError';
  }
}

/** Longest text one prompt may say; longer text is refused rather than synthesized for minutes. */
const MAX_TEXT = 4000;

export class EspeakTts implements TtsEngine {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (pcm: Pcm) => void; reject: (err: Error) => void }>();

  constructor(private readonly defaultVoice = 'en-us') {}

  synthesize(text: string, voice = this.defaultVoice): Promise<Pcm> {
    if (text.length > MAX_TEXT)
      return Promise.reject(new TtsError(`text is longer than ${MAX_TEXT} characters`));
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<Pcm>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, text, voice });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // In a checkout the sources run through tsx (the worker inherits its loader); built, they are .js.
    const ts = fileURLToPath(new URL('./tts-worker.ts', import.meta.url));
    // A worker does not inherit tsx's loader hooks: a stub registers them, then imports the .ts entry.
    const worker = existsSync(ts)
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => tsx.tsImport(${JSON.stringify(pathToFileURL(ts).href)}, ${JSON.stringify(import.meta.url)}));`,
          { eval: true },
        )
      : new Worker(fileURLToPath(new URL('./tts-worker.js', import.meta.url)));
    worker.unref();
    worker.on('message', (msg: { id: number; samples?: Int16Array; rate?: number; error?: string }) => {
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined || !msg.samples || !msg.rate)
        waiter.reject(new TtsError(msg.error ?? 'no audio'));
      else waiter.resolve({ samples: msg.samples, rate: msg.rate });
    });
    const fail = (err: Error) => {
      for (const w of this.pending.values()) w.reject(new TtsError(`speech engine stopped: ${err.message}`));
      this.pending.clear();
      this.worker = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.worker === worker) fail(new Error(`exit code ${code}`));
    });
    this.worker = worker;
    return worker;
  }
}
