/**
 * The platform's share of late ticks: timer-lateness.c sleeps to absolute 20 ms deadlines
 * and does nothing else, at a real-time priority above the engine's, while a benchmark
 * runs. What it sees late cannot be the engine's doing (kernel softirqs, the hypervisor,
 * other machines' load on a shared host); benchmarks report it beside their own late ticks.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { buildC } from './build-c.js';

export interface ProbeReport {
  seconds: number;
  ticks: number;
  realtime: { asked: number; got: boolean };
  lateUs: { p50: number; p99: number; p999: number; max: number };
  over2ms: number;
  over5ms: number;
}

/** Starts the probe for `seconds` at SCHED_FIFO `priority` (0: normal); resolves with its report. */
export function runTimerProbe(seconds: number, priority: number): Promise<ProbeReport> {
  return runCProgram<ProbeReport>('timer-lateness', [
    String(Math.max(1, Math.round(seconds))),
    String(priority),
  ]);
}

/**
 * Builds `bench/platform/NAME.c` (buildC), runs it with `args` and resolves with the one
 * JSON object it prints; rejects with its stderr when it fails.
 */
export function runCProgram<T>(name: string, args: string[]): Promise<T> {
  const binary = buildC(path.join(import.meta.dirname, `${name}.c`), name);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
      if (code !== 0) return reject(new Error(`${name} exited with ${code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out) as T);
      } catch {
        reject(new Error(`${name} printed no report: ${out.slice(0, 200)}`));
      }
    });
  });
}
