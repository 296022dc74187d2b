/**
 * Runs sipp as the benchmark's caller: one process placing `calls` calls at `rate` per
 * second from a scenario in test/fixtures/load, with the Request-URI user of each call
 * read from an injection file, and reads its result from the -trace_stat CSV
 * (cumulative counters) and the -trace_err log.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const LOAD_FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures/load');

export interface SippLoadOptions {
  /** Scenario file name under test/fixtures/load. */
  scenario: 'uac-media.xml' | 'uac-signalling.xml';
  /**
   * Echo RTP arriving on sipp's own media port (-rtp_echo): call 1 advertises that port, so
   * with the RTP peer owning all the others this gives call 1 its audio too.
   */
  echo?: boolean;
  /** Working directory: the injection file, the logs (and tone.pcap for media calls) live here. */
  dir: string;
  target: string;
  localPort: number;
  /** Base of [auto_media_port] (-mp): call n advertises base + 4·(n−1). */
  mediaPort: number;
  /** Request-URI user of call n is rooms[(n−1) mod rooms.length]. */
  rooms: string[];
  calls: number;
  rate: number;
  holdMs: number;
  timeoutS: number;
  /** Command prefix, e.g. ['taskset', '-c', '1']. */
  prefix?: string[];
}

export interface SippLoadResult {
  exitCode: number | null;
  created: number;
  successful: number;
  failed: number;
  /** Mean INVITE→200 time of all calls, ms (sipp's ResponseTime1). */
  setupMs: number | null;
  /** Seconds from sipp's start to its last statistics line. */
  elapsedS: number;
  /** The first lines of sipp's error log (unexpected messages, timeouts). */
  errors: string[];
  stderr: string;
}

export interface SippLoadRun {
  pid: number;
  done: Promise<SippLoadResult>;
  kill(): void;
}

function parseDuration(text: string | undefined): number {
  // sipp writes HH:MM:SS:mmmmmm or HH:MM:SS
  const parts = (text ?? '').split(':').map(Number);
  if (parts.length < 3 || parts.some((p) => !Number.isFinite(p))) return 0;
  const [h = 0, m = 0, s = 0, us = 0] = parts;
  return h * 3600 + m * 60 + s + us / 1e6;
}

/** The last data row of sipp's statistics CSV as a column → text map. */
export function lastStatRow(csv: string): Map<string, string> {
  const rows = csv
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const header = rows[0]?.split(';') ?? [];
  const last = rows.length > 1 ? (rows[rows.length - 1]?.split(';') ?? []) : [];
  return new Map(header.map((h, i) => [h, last[i] ?? '']));
}

export function startSippLoad(o: SippLoadOptions): SippLoadRun {
  const csv = path.join(o.dir, 'calls.csv');
  writeFileSync(csv, `SEQUENTIAL\n${o.rooms.map((r) => `${r};`).join('\n')}\n`);
  const statFile = path.join(o.dir, 'stats.csv');
  const errorFile = path.join(o.dir, 'errors.log');
  // sipp looks for play_pcap_audio files next to the scenario: keep both in the run's folder.
  const scenario = path.join(o.dir, o.scenario);
  copyFileSync(path.join(LOAD_FIXTURES, o.scenario), scenario);
  const args = [
    o.target,
    '-sf',
    scenario,
    '-inf',
    csv,
    '-i',
    '127.0.0.1',
    '-p',
    String(o.localPort),
    '-mi',
    '127.0.0.1',
    '-mp',
    String(o.mediaPort),
    '-t',
    'u1',
    '-m',
    String(o.calls),
    '-r',
    String(o.rate),
    '-l',
    String(o.calls),
    '-d',
    String(o.holdMs),
    '-timeout',
    `${o.timeoutS}s`,
    '-timeout_error',
    ...(o.echo ? ['-rtp_echo'] : []),
    '-nostdin',
    '-trace_err',
    '-error_file',
    errorFile,
    '-trace_stat',
    '-stf',
    statFile,
    '-fd',
    '1',
  ];
  const argv = [...(o.prefix ?? []), 'sipp', ...args];
  const child = spawn(argv[0] ?? 'sipp', argv.slice(1), { cwd: o.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const done = new Promise<SippLoadResult>((resolve) => {
    child.on('close', (code) => {
      const row = lastStatRow(read(statFile));
      const num = (k: string) => Number(row.get(k) ?? 'NaN');
      const setup = parseDuration(row.get('ResponseTime1(C)'));
      resolve({
        exitCode: code,
        created: num('TotalCallCreated'),
        successful: num('SuccessfulCall(C)'),
        failed: num('FailedCall(C)'),
        setupMs: row.has('ResponseTime1(C)') ? Math.round(setup * 1e5) / 100 : null,
        elapsedS: parseDuration(row.get('ElapsedTime(C)')),
        errors: read(errorFile)
          .split('\n')
          .filter((l) => l.trim() && !l.startsWith('sipp:') && !l.includes('The following events occurred'))
          .slice(0, 8),
        stderr: stderr.trim().slice(-2000),
      });
    });
  });
  return { pid: child.pid ?? 0, done, kill: () => child.kill('SIGTERM') };
}
