/**
 * CPU time and memory of a process and of its threads, from /proc (Linux). The benchmark
 * samples these before and after its window instead of trusting `ps` averages.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/…/stat times (USER_HZ; 100 on every Linux build in use). */
const CLK_TCK = 100;

export interface CpuSample {
  /** Wall clock, ms (performance.now()). */
  at: number;
  /** user + system seconds of the whole process. */
  cpuS: number;
  /** user + system seconds per thread id, with the thread's name. */
  threads: Map<number, { name: string; cpuS: number }>;
}

/** user+system seconds from one stat line; the name field may hold spaces and parentheses. */
function statTimes(line: string): { name: string; cpuS: number } {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  const name = line.slice(open + 1, close);
  const fields = line
    .slice(close + 2)
    .trim()
    .split(' ');
  // After the name: state is field 3, utime 14, stime 15 (1-based) → indexes 11 and 12 here.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return { name, cpuS: (utime + stime) / CLK_TCK };
}

export function sampleCpu(pid: number): CpuSample {
  const at = performance.now();
  const cpuS = statTimes(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpuS;
  const threads = new Map<number, { name: string; cpuS: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      threads.set(Number(tid), statTimes(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return { at, cpuS, threads };
}

export interface ThreadUse {
  tid: number;
  name: string;
  /** Percent of one core over the interval. */
  cpuPercent: number;
}

export interface CpuUse {
  /** Percent of one core (100 = one core busy) over the interval. */
  cpuPercent: number;
  /** The busiest threads, busiest first; the main (JavaScript) thread's tid is the pid. */
  threads: ThreadUse[];
}

export function cpuBetween(a: CpuSample, b: CpuSample, topThreads = 4): CpuUse {
  const wallS = (b.at - a.at) / 1000;
  const pct = (s: number) => Math.round((s / wallS) * 1000) / 10;
  const threads: ThreadUse[] = [];
  for (const [tid, t] of b.threads) {
    const before = a.threads.get(tid)?.cpuS ?? 0;
    threads.push({ tid, name: t.name, cpuPercent: pct(t.cpuS - before) });
  }
  threads.sort((x, y) => y.cpuPercent - x.cpuPercent);
  return { cpuPercent: pct(b.cpuS - a.cpuS), threads: threads.slice(0, topThreads) };
}

/** Resident set size in KiB (VmRSS), 0 when the process is gone. */
export function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Total CPU seconds of several processes (the load generators); gone ones count 0. */
export function cpuSecondsOf(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += statTimes(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpuS;
    } catch {
      // Exited.
    }
  }
  return total;
}
