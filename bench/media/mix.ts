/**
 * Mix cost per 20 ms tick through the JS binding: N participants, 3 talking, the
 * mixer at the codec's rate, then one encode per group of listeners that hear the
 * same mix (the engine's shared encode). Prints JSON; not a test.
 *
 *   node --import tsx bench/media/mix.ts
 */
import os from 'node:os';
import { type CodecName, loadNativeEngine } from '../../src/media/native.js';

const { Mixer, Encoder } = loadNativeEngine();
const RATES: Record<string, 8000 | 16000 | 48000> = { pcmu: 8000, g722: 16000, opus: 48000 };
const TICKS = 200;

function frame(freq: number, rate: number, offset: number): Int16Array {
  const n = rate / 50;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++)
    out[i] = Math.round(6000 * Math.sin((2 * Math.PI * freq * (offset + i)) / rate));
  return out;
}

const results = [];
for (const codec of ['pcmu', 'g722', 'opus'] as CodecName[]) {
  const rate = RATES[codec] as 8000 | 16000 | 48000;
  for (const participants of [10, 100, 1000]) {
    const mixer = new Mixer(rate, 3);
    for (let id = 1; id <= participants; id++) mixer.set(id, {});
    const encoders = Array.from({ length: 4 }, () => new Encoder(codec));
    const frames = [1, 2, 3].map((id) =>
      Array.from({ length: TICKS }, (_, t) => frame(300 * id, rate, t * (rate / 50))),
    );
    const cpu0 = process.cpuUsage();
    let groups = 0;
    for (let t = 0; t < TICKS; t++) {
      const tick = mixer.mix([1, 2, 3].map((id) => [id, frames[id - 1]?.[t] as Int16Array]));
      groups = tick.mixes.length;
      for (const [i, m] of tick.mixes.entries()) encoders[i % encoders.length]?.encode(m);
    }
    const cpu = process.cpuUsage(cpu0);
    const usPerTick = (cpu.user + cpu.system) / TICKS;
    results.push({
      codec,
      participants,
      talkers: 3,
      groups,
      usPerTick: Number(usPerTick.toFixed(1)),
      usPerParticipantPerTick: Number((usPerTick / participants).toFixed(3)),
    });
  }
}
console.log(
  JSON.stringify({
    note: 'CPU µs per 20 ms tick through the Node-API binding (mix + one encode per listener group), no socket I/O',
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      nproc: os.availableParallelism(),
      node: process.version,
    },
    results,
  }),
);
