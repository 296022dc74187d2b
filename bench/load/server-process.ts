/**
 * Starts bench/load/host.ts (a ParleyServer) as a child process and talks to it over IPC:
 * engine statistics on request, a graceful stop at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { HostReply, HostRequest } from './host.js';

const HOST = path.join(import.meta.dirname, 'host.ts');

export type HostStats = Extract<HostReply, { type: 'stats' }>;

export interface ServerProcessOptions {
  configDir: string;
  sipPort: number;
  rtpMin: number;
  rtpMax: number;
  limits: 'relaxed' | 'default';
  /** Command prefix, e.g. ['taskset', '-c', '0']. */
  prefix?: string[];
  /** SCHED_FIFO priority for the engine thread; 0 = normal scheduling (as `parley serve`). */
  realtime?: number;
  /** `parley serve --send-spread` (ms) and `--tick-spin` (µs). */
  sendSpreadMs?: number;
  tickSpinUs?: number;
  /** A private copy of the native addon to load instead of build/Release's (see host.ts). */
  addon?: string;
  /** Write a V8 CPU profile (.cpuprofile) of the server into this folder when it exits. */
  cpuProfDir?: string;
}

export class ServerProcess {
  private pending: ((reply: HostReply) => void)[] = [];
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    /** The SIP port the server listens on (UDP, 127.0.0.1). */
    readonly sipPort: number,
  ) {
    child.on('message', (msg: HostReply) => {
      this.pending.shift()?.(msg);
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      if (this.stderr.length > 50_000) this.stderr = this.stderr.slice(-20_000);
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** What the server logged at warn level or above (the last part). */
  get log(): string {
    return this.stderr;
  }

  static async start(o: ServerProcessOptions): Promise<ServerProcess> {
    const nodeArgs = [
      ...(o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : []),
      '--import',
      'tsx',
      HOST,
      o.configDir,
      String(o.sipPort),
      String(o.rtpMin),
      String(o.rtpMax),
      o.limits,
      String(o.realtime ?? 0),
      String(o.sendSpreadMs ?? 0),
      String(o.tickSpinUs ?? 0),
    ];
    const argv = [...(o.prefix ?? []), process.execPath, ...nodeArgs];
    const child = spawn(argv[0] ?? process.execPath, argv.slice(1), {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { ...process.env, ...(o.addon ? { PARLEY_LOAD_ADDON: o.addon } : {}) },
    });
    const server = new ServerProcess(child, o.sipPort);
    const ready = await Promise.race([
      server.next(),
      new Promise<HostReply>((resolve) =>
        child.once('exit', (code) =>
          resolve({ type: 'error', message: `server exited (${code}): ${server.stderr.slice(-2000)}` }),
        ),
      ),
    ]);
    if (ready.type !== 'ready') {
      child.kill('SIGKILL');
      throw new Error(ready.type === 'error' ? ready.message : 'server did not start');
    }
    return server;
  }

  private next(): Promise<HostReply> {
    return new Promise((resolve) => this.pending.push(resolve));
  }

  async stats(conferences: string[]): Promise<HostStats> {
    const reply = this.next();
    this.child.send({ type: 'stats', conferences } satisfies HostRequest);
    const r = await Promise.race([
      reply,
      new Promise<HostReply>((resolve) =>
        setTimeout(() => resolve({ type: 'error', message: 'no answer to stats within 10 s' }), 10_000),
      ),
    ]);
    if (r.type !== 'stats') throw new Error(r.type === 'error' ? r.message : 'unexpected reply');
    return r;
  }

  /** Graceful stop (calls ended, sockets closed); killed when it takes longer than 15 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'stop' } satisfies HostRequest);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
