/**
 * Builds and drives the RTP sink (rtp-sink.c): compiled once per source version into the
 * temp directory with the system C compiler, started on the ports sipp advertises, and
 * asked for its interval statistics over stdin/stdout.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { buildC } from '../platform/build-c.js';

const SOURCE = path.join(import.meta.dirname, 'rtp-sink.c');

export interface IntervalReport {
  streams: number;
  /** Streams that received at least one packet since the last reset. */
  activeStreams: number;
  packets: number;
  intervals: number;
  /** Packet interarrival per stream, ms (upper edges of 50 µs buckets). */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** Intervals longer than 40 ms (two packets or more missing). */
  gaps: number;
  rtcp: number;
  /** RTP packets sent to the server (when sending), and sends that failed. */
  sent: number;
  sendErrors: number;
}

/** Path of the compiled sink, building it when its source changed. */
export function buildSink(): string {
  return buildC(SOURCE, 'rtp-sink');
}

export class RtpSink {
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const w = this.waiting;
      if (w) {
        this.waiting = undefined;
        w(line);
      } else this.lines.push(line);
    });
    child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /**
   * Starts the sink on ip:base + i·step (and the next port, RTCP) for i < count.
   * With `payloadFile` (160-byte PCMU frames) it also sends each call's audio back to the
   * server. `prefix` runs it under e.g. taskset.
   */
  static async start(
    ip: string,
    base: number,
    step: number,
    count: number,
    prefix: string[] = [],
    payloadFile?: string,
  ): Promise<RtpSink> {
    const binary = buildSink();
    const argv = [
      ...prefix,
      binary,
      ip,
      String(base),
      String(step),
      String(count),
      ...(payloadFile ? [payloadFile] : []),
    ];
    const child = spawn(argv[0] ?? binary, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const sink = new RtpSink(child);
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code) => reject(new Error(`rtp-sink exited (${code}): ${sink.stderr.trim()}`)));
    });
    const ready = await Promise.race([sink.nextLine(), exited]);
    if (!ready.includes('"ready":true')) throw new Error(`rtp-sink did not start: ${ready}`);
    exited.catch(() => {});
    return sink;
  }

  private nextLine(): Promise<string> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Starts the measurement window: intervals seen so far are forgotten. */
  reset(): void {
    this.child.stdin.write('reset\n');
  }

  async report(): Promise<IntervalReport> {
    this.child.stdin.write('report\n');
    return JSON.parse(await this.nextLine()) as IntervalReport;
  }

  stop(): void {
    if (this.child.exitCode === null) {
      this.child.stdin.write('quit\n');
      this.child.stdin.end();
    }
  }
}
