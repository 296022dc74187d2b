/**
 * Worker thread of the espeak-ng engine: synthesis takes about 0.1 s of CPU per
 * sentence, which must not stall SIP signalling on the main thread.
 * Receives `{ id, text, voice }`, answers `{ id, samples, rate }` or `{ id, error }`.
 */
import { parentPort } from 'node:worker_threads';
import createModule from '@echogarden/espeak-ng-emscripten';

type EspeakWorker = InstanceType<Awaited<ReturnType<typeof createModule>>['eSpeakNGWorker']>;

let engine: Promise<EspeakWorker> | undefined;

function load(): Promise<EspeakWorker> {
  engine ??= createModule().then((module) => new module.eSpeakNGWorker());
  return engine;
}

parentPort?.on('message', async (msg: { id: number; text: string; voice: string }) => {
  try {
    const worker = await load();
    if (worker.set_voice(msg.voice, msg.voice, 0, 0, 0) !== 0)
      throw new Error(`unknown voice "${msg.voice}"`);
    const chunks: Int16Array[] = [];
    let total = 0;
    worker.synthesize(msg.text, (samples) => {
      if (samples && samples.length > 0) {
        chunks.push(samples);
        total += samples.length;
      }
      return 0;
    });
    const out = new Int16Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    parentPort?.postMessage({ id: msg.id, samples: out, rate: worker.samplerate }, [out.buffer]);
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
