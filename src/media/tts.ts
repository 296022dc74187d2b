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
  /**
   * Synthesizes `text`; rejects with TtsError. `background` work (preparing prompts ahead of
   * time) waits behind every request a caller is waiting for.
   */
  synthesize(text: string, voice?: string, options?: { background?: boolean }): Promise<Pcm>;
  /** A caller now waits for this background request: let it go first. */
  prioritize?(text: string, voice?: string): void;
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

interface Job {
  id: number;
  text: string;
  voice: string;
  resolve: (pcm: Pcm) => void;
  reject: (err: Error) => void;
}

export class EspeakTts implements TtsEngine {
  private worker: Worker | undefined;
  private nextId = 1;
  /** The one job the worker is on; jobs are sent one at a time so that urgent ones can overtake. */
  private running: Job | undefined;
  private readonly urgent: Job[] = [];
  private readonly background: Job[] = [];

  constructor(private readonly defaultVoice = 'en-us') {}

  synthesize(text: string, voice = this.defaultVoice, options: { background?: boolean } = {}): Promise<Pcm> {
    if (text.length > MAX_TEXT)
      return Promise.reject(new TtsError(`text is longer than ${MAX_TEXT} characters`));
    return new Promise<Pcm>((resolve, reject) => {
      const job = { id: this.nextId++, text, voice, resolve, reject };
      (options.background ? this.background : this.urgent).push(job);
      this.next();
    });
  }

  prioritize(text: string, voice = this.defaultVoice): void {
    const i = this.background.findIndex((j) => j.text === text && j.voice === voice);
    if (i >= 0) this.urgent.push(...this.background.splice(i, 1));
  }

  private next(): void {
    if (this.running) return;
    const job = this.urgent.shift() ?? this.background.shift();
    if (!job) return;
    this.running = job;
    this.start().postMessage({ id: job.id, text: job.text, voice: job.voice });
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
      const job = this.running;
      if (!job || job.id !== msg.id) return;
      this.running = undefined;
      if (msg.error !== undefined || !msg.samples || !msg.rate)
        job.reject(new TtsError(msg.error ?? 'no audio'));
      else job.resolve({ samples: msg.samples, rate: msg.rate });
      this.next();
    });
    const fail = (err: Error) => {
      const lost = [
        ...(this.running ? [this.running] : []),
        ...this.urgent.splice(0),
        ...this.background.splice(0),
      ];
      this.running = undefined;
      for (const job of lost) job.reject(new TtsError(`speech engine stopped: ${err.message}`));
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
