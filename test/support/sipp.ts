/**
 * Runs sipp (Debian `sip-tester`) scenarios against a Parley SIP server on loopback: spawns
 * `sipp` with -m, -timeout, -trace_err and friends on a free port, and collects the exit code,
 * the error log and the final statistics screen.
 */
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const SIPP_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/sipp');

function findSipp(): string | undefined {
  const probe = spawnSync('sipp', ['-v'], { encoding: 'utf8' });
  return probe.error ? undefined : 'sipp';
}

const sippBinary = findSipp();

/**
 * True when sipp can run. Without it, tests skip with a loud reason, except under CI where a
 * missing sipp is a failure (the CI image must have it).
 */
export function haveSipp(): boolean {
  if (sippBinary) return true;
  if (process.env.CI)
    throw new Error('sipp is required under CI: install sip-tester (scripts/install-debian-deps.sh)');
  console.warn(
    '\n*** SKIPPING sipp tests: `sipp` not found; install sip-tester (scripts/install-debian-deps.sh) ***\n',
  );
  return false;
}

/** A port free for both UDP and TCP on 127.0.0.1 at the time of asking. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve(udp.address().port));
    });
    const tcpFree = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    udp.close();
    if (tcpFree) return port;
  }
  throw new Error('no free port found');
}

/**
 * True when a socket is bound to `port` (UDP) or listening on it (TCP), read from /proc/net so the
 * check never races sipp for the port the way a probing bind would.
 */
function isBound(port: number, transport: 'u1' | 't1'): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const files =
    transport === 't1' ? ['/proc/net/tcp', '/proc/net/tcp6'] : ['/proc/net/udp', '/proc/net/udp6'];
  return files.some((file) => {
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      return false;
    }
    return table.split('\n').some((line) => {
      const cols = line.trim().split(/\s+/);
      // cols[1] = local address:port in hex, cols[3] = state (0A = LISTEN for TCP).
      return cols[1]?.endsWith(`:${hexPort}`) === true && (transport === 'u1' || cols[3] === '0A');
    });
  });
}

async function waitUntilBound(port: number, transport: 'u1' | 't1', timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  if (!existsSync('/proc/net/udp')) {
    // No /proc (not Linux): give sipp a generous moment instead.
    await new Promise((r) => setTimeout(r, 500));
    return;
  }
  while (!isBound(port, transport)) {
    if (Date.now() > deadline)
      throw new Error(`sipp did not bind ${transport === 't1' ? 'TCP' : 'UDP'} port ${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface SippOptions {
  /** File name under test/fixtures/sipp or an absolute path. */
  scenario: string;
  /** `host:port` to send to (UAC scenarios); omitted for UAS scenarios. */
  target?: string;
  transport?: 'u1' | 't1';
  /** Calls to place (-m); default 1. */
  calls?: number;
  /** Calls per second (-r). */
  rate?: number;
  /** Global timeout in seconds (-timeout, failing with -timeout_error); default 20. */
  timeoutS?: number;
  /** Local port; default a free one. */
  port?: number;
  /** -key name value pairs for [name] in the scenario. */
  keys?: Record<string, string>;
  /** The Request-URI user (-s). */
  service?: string;
  extraArgs?: string[];
}

export interface SippResult {
  code: number | null;
  /** Content of -trace_err (unexpected messages), empty when none. */
  errors: string;
  /** The last statistics screen (-trace_screen). */
  screen: string;
  stdout: string;
  stderr: string;
}

/**
 * A running sipp. It has no way to stop it early on purpose: sipp's SIGTERM handler can
 * deadlock it (seen: asleep on a futex with SIGTERM blocked, never exiting), so scenarios
 * end by themselves, and `-timeout` bounds the ones that do not.
 */
export interface SippRun {
  port: number;
  done: Promise<SippResult>;
}

export async function runSipp(options: SippOptions): Promise<SippRun> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-sipp-'));
  const scenario = path.isAbsolute(options.scenario)
    ? options.scenario
    : path.join(SIPP_FIXTURES, options.scenario);
  const errorFile = path.join(dir, 'errors.log');
  const screenFile = path.join(dir, 'screen.log');
  const args = [
    ...(options.target ? [options.target] : []),
    '-sf',
    scenario,
    '-i',
    '127.0.0.1',
    '-p',
    String(port),
    '-t',
    options.transport ?? 'u1',
    '-m',
    String(options.calls ?? 1),
    '-timeout',
    `${options.timeoutS ?? 20}s`,
    '-timeout_error',
    '-nostdin',
    '-trace_err',
    '-error_file',
    errorFile,
    '-trace_screen',
    '-screen_file',
    screenFile,
    ...(options.rate ? ['-r', String(options.rate)] : []),
    ...(options.service ? ['-s', options.service] : []),
    ...Object.entries(options.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(sippBinary ?? 'sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const read = (file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const done = new Promise<SippResult>((resolve) => {
    child.on('close', (code) => {
      const result = { code, errors: read(errorFile), screen: read(screenFile), stdout, stderr };
      rmSync(dir, { recursive: true, force: true });
      resolve(result);
    });
  });
  // A UAS scenario must be listening before the test sends to it; over TCP a refused connect
  // would fail the call outright, so wait until sipp holds the port.
  if (!options.target) await waitUntilBound(port, options.transport ?? 'u1');
  return { port, done };
}

/** A compact failure description for expect messages. */
export function describeRun(result: SippResult): string {
  return `sipp exit ${result.code}\n--- errors ---\n${result.errors.slice(-3000)}\n--- stderr ---\n${result.stderr.slice(-2000)}\n--- screen ---\n${result.screen.slice(-2500)}`;
}
