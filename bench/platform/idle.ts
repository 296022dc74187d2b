/**
 * What this machine does to real-time threads when nothing else runs: a thread sleeping
 * to absolute 20 ms deadlines (timer-lateness.c, the engine's tick loop without the work)
 * and a thread that never sleeps (cpu-gaps.c), each for `--seconds`, one after the other,
 * at SCHED_FIFO `--priority`. Lateness or gaps over 2 ms here are ticks no engine on this
 * machine can keep on time: the platform's floor under the benchmarks' late-tick counts.
 *
 *   npm run bench:platform [-- --seconds 60] [-- --priority 10]
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildC } from './build-c.js';
import { runTimerProbe } from './timer-probe.js';

function option(name: string, fallback: number, max: number): number {
  const at = process.argv.indexOf(name);
  const value = at > 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new Error(`${name} needs a whole number 0-${max}`);
  return value;
}

const seconds = Math.max(1, option('--seconds', 60, 3600));
const priority = option('--priority', 10, 99);

function runCpuGaps(): Promise<unknown> {
  const binary = buildC(path.join(import.meta.dirname, 'cpu-gaps.c'), 'cpu-gaps');
  const child = spawn(binary, [String(seconds), String(priority)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`cpu-gaps exited with ${code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`cpu-gaps printed no report: ${out.slice(0, 200)}`));
      }
    });
  });
}

const sleeping = await runTimerProbe(seconds, priority);
const spinning = await runCpuGaps();
console.log(
  JSON.stringify({
    bench: 'platform-idle',
    sleeping,
    spinning,
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      nproc: os.availableParallelism(),
      kernel: os.release(),
      load: os.loadavg().map((l) => Number(l.toFixed(2))),
    },
  }),
);
