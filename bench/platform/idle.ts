/**
 * What this machine does to real-time threads when nothing else runs: a thread sleeping
 * to absolute 20 ms deadlines (timer-lateness.c, the engine's tick loop without the work)
 * and a thread that never sleeps (cpu-gaps.c), each for `--seconds`, one after the other,
 * at SCHED_FIFO `--priority`. Lateness or gaps over 2 ms here are ticks no engine on this
 * machine can keep on time: the platform's floor under the benchmarks' late-tick counts.
 *
 *   npm run bench:platform [-- --seconds 60] [-- --priority 10]
 */
import os from 'node:os';
import { runCProgram, runTimerProbe } from './timer-probe.js';

function option(name: string, fallback: number, max: number): number {
  const at = process.argv.indexOf(name);
  const value = at > 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new Error(`${name} needs a whole number 0-${max}`);
  return value;
}

const seconds = Math.max(1, option('--seconds', 60, 3600));
const priority = option('--priority', 10, 99);

const sleeping = await runTimerProbe(seconds, priority);
const spinning = await runCProgram('cpu-gaps', [String(seconds), String(priority)]);
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
