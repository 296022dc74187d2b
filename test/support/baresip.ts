/**
 * A headless baresip (Debian baresip 1.0.0) as a real SIP client in end-to-end tests.
 *
 * Each instance gets its own config folder (-f): SIP on 127.0.0.1 at a free port, one
 * account without registration, a generated tone WAV as the audio source (aufile), no audio
 * player, the decoded incoming audio dumped by the sndfile filter, a fixed codec list, an
 * RTP port range, and the ctrl_tcp module for control. ctrl_tcp speaks netstrings carrying
 * JSON: commands `{command, params, token}` are answered `{response:true, ok, data, token}`;
 * UA events arrive as `{event:true, class, type, param, ...}`.
 *
 * What baresip 1.0.0 does that the harness relies on (read from its source):
 * - sndfile opens `<snd_path>/dump-YYYY-MM-DD-HH-MM-SS-dec.wav` (what we received, decoded)
 *   and `...-enc.wav` (what we sent) when a call's audio starts, at the codec's rate and
 *   channel count (Opus: 48 kHz stereo), and closes them when the call ends. It writes one
 *   frame per decoded packet, so gaps in the far end's RTP are gaps in time, not silence.
 * - aufile ends the call when its file runs out ("end of file" closes the call), so the tone
 *   file is long (`toneSeconds`); it must be at the source rate, set by `ausrc_srate`.
 * - With no audio player module loaded the receive path still decodes and filters.
 * - `sndcode` sends each character as an RFC 4733 press and then one release.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './sipp.js';
import { concatPcm, type Pcm, readWav, writeToneWav } from './wav.js';

export type BaresipCodec = 'pcmu' | 'pcma' | 'g722' | 'opus' | 'l16';

const MODULE_DIR = '/usr/lib/baresip/modules';

/**
 * Codec module, the name baresip's `audio_codecs` account parameter matches, and the rate
 * baresip runs the codec at (the tone file is written at that rate, see `start`).
 */
const CODECS: Record<BaresipCodec, { module: string; name: string; rate: number }> = {
  pcmu: { module: 'g711.so', name: 'PCMU', rate: 8000 },
  pcma: { module: 'g711.so', name: 'PCMA', rate: 8000 },
  g722: { module: 'g722.so', name: 'G722', rate: 16000 },
  opus: { module: 'opus.so', name: 'opus', rate: 48000 },
  l16: { module: 'l16.so', name: 'L16', rate: 48000 },
};

function findBaresip(): string | undefined {
  const probe = spawnSync('baresip', ['-h'], { encoding: 'utf8', timeout: 5000 });
  return probe.error ? undefined : 'baresip';
}

const baresipBinary = findBaresip();

/**
 * True when baresip can run. Without it, tests skip with a loud reason, except under CI
 * where a missing baresip is a failure (the CI image must have it).
 */
export function haveBaresip(): boolean {
  if (baresipBinary) return true;
  if (process.env.CI) {
    throw new Error('baresip is required under CI: install it with scripts/install-debian-deps.sh');
  }
  console.warn('\n*** SKIPPING baresip tests: `baresip` not found; run scripts/install-debian-deps.sh ***\n');
  return false;
}

export interface BaresipOptions {
  /** Frequency of the tone this client sends, in Hz; 0 sends silence. Default 440. */
  tone?: number;
  /** Length of the tone file; the call ends when it runs out. Default 90 s. */
  toneSeconds?: number;
  /** Offered/accepted codecs in order of preference. Default ['pcmu']. */
  codecs?: readonly BaresipCodec[];
  /** User part of the account (`<sip:USER@127.0.0.1>`), i.e. the From user. Default 'alice'. */
  user?: string;
  /**
   * Domain of the account (the From host), default 127.0.0.1. Calls still go straight to
   * the dialled URI's host; the domain only changes who the caller says it is.
   */
  domain?: string;
  /** Answer incoming calls by itself. Default false. */
  autoAnswer?: boolean;
  /**
   * RTP port range; default a random 100-port range in 14000–19999: below the kernel's
   * ephemeral ports (32768+), where any socket bound to port 0 may land, and apart from the
   * ranges the Parley end-to-end tests give the server (11600–13999).
   */
  rtpPorts?: readonly [number, number];
  /** Label used in log messages. Default the user. */
  name?: string;
  /** Write SIP messages into the log (-s). Default true: failures are easier to read. */
  sipTrace?: boolean;
}

export interface BaresipEvent {
  class: string;
  type: string;
  param?: string;
  direction?: string;
  peeruri?: string;
  id?: string;
  [key: string]: unknown;
}

interface Response {
  ok: boolean;
  data: string;
}

const running = new Set<Baresip>();

/** Stops every instance still running (call from afterEach/afterAll). */
export async function stopAllBaresip(): Promise<void> {
  await Promise.all([...running].map((b) => b.stop()));
}

function netstring(json: string): Buffer {
  const body = Buffer.from(json, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** baresip could not bind a port it was given (or the one next to it). */
class PortTaken extends Error {}

export class Baresip {
  readonly events: BaresipEvent[] = [];
  private logText = '';
  private buffer = Buffer.alloc(0);
  private nextToken = 1;
  private readonly pending = new Map<string, (r: Response) => void>();
  private waiters: Array<() => void> = [];
  /** Index into `events` from which the current call's events count. */
  private mark = 0;
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly sipPort: number,
    readonly user: string,
    private readonly child: ChildProcess,
    private socket: net.Socket | undefined,
  ) {
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        this.logText += `\n[baresip ${name} exited: code ${code} signal ${signal}]\n`;
        running.delete(this);
        this.wake();
        resolve();
      });
    });
    const keep = (d: Buffer): void => {
      this.logText += d.toString();
      // Bound the memory a chatty run can take; the tail is what explains a failure.
      if (this.logText.length > 2_000_000) this.logText = this.logText.slice(-1_000_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /** The account's own URI, for another client to dial. */
  get uri(): string {
    return `sip:${this.user}@127.0.0.1:${this.sipPort}`;
  }

  /**
   * Starts baresip on free ports. baresip also binds TCP and TLS next to its SIP port (the
   * port and the one after it), which another process may hold although the SIP port was
   * free: then it exits with "Address already in use", and this tries new ports (3 times).
   */
  static async start(options: BaresipOptions = {}): Promise<Baresip> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await Baresip.startOnce(options);
      } catch (err) {
        if (!(err instanceof PortTaken) || attempt >= 3) throw err;
      }
    }
  }

  private static async startOnce(options: BaresipOptions): Promise<Baresip> {
    if (!baresipBinary) throw new Error('baresip is not installed (scripts/install-debian-deps.sh)');
    const user = options.user ?? 'alice';
    const name = options.name ?? user;
    const codecs = options.codecs ?? ['pcmu'];
    const dir = mkdtempSync(path.join(tmpdir(), `parley-baresip-${name}-`));
    const dumpDir = path.join(dir, 'dump');
    mkdirSync(dumpDir);
    const sipPort = await freePort();
    const ctrlPort = await freePort();
    const rtpBase = 14000 + 100 * Math.floor(Math.random() * 60);
    const [rtpMin, rtpMax] = options.rtpPorts ?? [rtpBase, rtpBase + 99];
    const toneFile = path.join(dir, 'tone.wav');
    // The tone is written at the preferred codec's rate: baresip's resampler (librem
    // auresamp) low-passes hard, taking 11 dB off a 1320 Hz tone going from 16 to 8 kHz.
    const sourceRate = CODECS[codecs[0] ?? 'pcmu'].rate;
    writeToneWav(
      toneFile,
      options.tone ?? 440,
      options.toneSeconds ?? 90,
      sourceRate,
      options.tone === 0 ? 0 : 8000,
    );

    const modules = [...new Set(codecs.map((c) => CODECS[c].module))];
    const config = [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      `rtp_ports ${rtpMin}-${rtpMax}`,
      'rtcp_mux no',
      'jitter_buffer_delay 1-10',
      `audio_source aufile,${toneFile}`,
      `ausrc_srate ${sourceRate}`,
      'ausrc_channels 1',
      'audio_buffer 20-160',
      // No player module: received audio is only decoded and dumped by sndfile.
      `snd_path ${dumpDir}`,
      `module_path ${MODULE_DIR}`,
      ...modules.map((m) => `module ${m}`),
      'module aufile.so',
      'module sndfile.so',
      'module_app account.so',
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      'call_max_calls 4',
      '',
    ].join('\n');
    writeFileSync(path.join(dir, 'config'), config);
    const audioCodecs = codecs.map((c) => CODECS[c].name).join(',');
    writeFileSync(
      path.join(dir, 'accounts'),
      `<sip:${user}@${options.domain ?? '127.0.0.1'}>;regint=0;answermode=${options.autoAnswer ? 'auto' : 'manual'};audio_codecs=${audioCodecs}\n`,
    );
    // An empty contacts file keeps baresip from writing its default one.
    writeFileSync(path.join(dir, 'contacts'), '');

    const args = ['-f', dir, ...(options.sipTrace === false ? [] : ['-s'])];
    const child = spawn(baresipBinary, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
    const b = new Baresip(name, dir, sipPort, user, child, undefined);
    running.add(b);
    try {
      b.socket = await b.connect(ctrlPort);
    } catch (err) {
      await b.stop();
      const message = `baresip ${name} did not open its control port: ${String(err)}\n${b.logTail()}`;
      throw /Address already in use/.test(b.logTail()) ? new PortTaken(message) : new Error(message);
    }
    return b;
  }

  private async connect(port: number): Promise<net.Socket> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (this.exited) throw new Error('baresip exited during start-up');
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(port, '127.0.0.1');
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        socket.on('data', (d: Buffer) => this.onData(d));
        socket.on('error', () => {
          // The process going away resets the connection; its exit is reported instead.
        });
        return socket;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(50);
      }
    }
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      const colon = this.buffer.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.buffer.toString('ascii', 0, colon));
      if (!Number.isInteger(len)) {
        this.logText += `\n[harness: bad netstring from ctrl_tcp: ${this.buffer.toString('utf8', 0, 40)}]\n`;
        this.buffer = Buffer.alloc(0);
        return;
      }
      if (this.buffer.length < colon + 1 + len + 1) return;
      const body = this.buffer.toString('utf8', colon + 1, colon + 1 + len);
      this.buffer = this.buffer.subarray(colon + 1 + len + 1);
      this.onMessage(body);
    }
  }

  private onMessage(body: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(body) as Record<string, unknown>;
    } catch {
      this.logText += `\n[harness: unparsable ctrl_tcp message: ${body}]\n`;
      return;
    }
    if (msg.response === true) {
      const token = String(msg.token ?? '');
      const resolve = this.pending.get(token);
      this.pending.delete(token);
      resolve?.({ ok: msg.ok === true, data: String(msg.data ?? '') });
      return;
    }
    if (msg.event === true || msg.event === 'true') {
      this.events.push(msg as unknown as BaresipEvent);
      this.wake();
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Sends one ctrl_tcp command and returns baresip's response text; throws when not ok. */
  async command(command: string, params?: string, timeoutMs = 5000): Promise<string> {
    if (!this.socket || this.exited) throw new Error(`baresip ${this.name} is not running`);
    const token = String(this.nextToken++);
    const reply = new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip ${this.name}: no response to "${command}" in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    this.socket.write(
      netstring(JSON.stringify({ command, ...(params === undefined ? {} : { params }), token })),
    );
    const r = await reply;
    if (!r.ok) throw new Error(`baresip ${this.name}: "${command} ${params ?? ''}" failed: ${r.data}`);
    return r.data;
  }

  /**
   * Waits for an event from the current call (since the last dial/accept) matching `match`;
   * rejects on timeout or if the process exits, with the log tail.
   */
  async waitEvent(
    match: (e: BaresipEvent) => boolean,
    what: string,
    timeoutMs = 10_000,
  ): Promise<BaresipEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(this.mark).find(match);
      if (found) return found;
      if (this.exited)
        throw new Error(`baresip ${this.name} exited while waiting for ${what}\n${this.logTail()}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `baresip ${this.name}: no ${what} within ${timeoutMs} ms; events: ${this.eventSummary()}\n${this.logTail()}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private callEvent(type: string): (e: BaresipEvent) => boolean {
    return (e) => e.class === 'call' && e.type === type;
  }

  /** Dials a SIP URI; events of earlier calls no longer count for the waits. */
  async dial(uri: string): Promise<void> {
    this.mark = this.events.length;
    await this.command('dial', uri);
  }

  /** Resolves when the current call is answered (200 OK/ACK); rejects if it closes first. */
  async established(timeoutMs = 10_000): Promise<BaresipEvent> {
    const e = await this.waitEvent(
      (ev) => ev.class === 'call' && (ev.type === 'CALL_ESTABLISHED' || ev.type === 'CALL_CLOSED'),
      'CALL_ESTABLISHED',
      timeoutMs,
    );
    if (e.type === 'CALL_CLOSED') {
      throw new Error(
        `baresip ${this.name}: call closed before it was established: ${e.param ?? ''}\n${this.logTail()}`,
      );
    }
    return e;
  }

  /** Resolves when the current call has ended (either side); the event's param says why. */
  closed(timeoutMs = 10_000): Promise<BaresipEvent> {
    return this.waitEvent(this.callEvent('CALL_CLOSED'), 'CALL_CLOSED', timeoutMs);
  }

  /** True when the current call has closed already. */
  isClosed(): boolean {
    return this.events.slice(this.mark).some(this.callEvent('CALL_CLOSED'));
  }

  /** Waits for an incoming call (with autoAnswer off, follow with accept()). */
  async incoming(timeoutMs = 10_000): Promise<BaresipEvent> {
    this.mark = Math.min(this.mark, this.events.length);
    return this.waitEvent(this.callEvent('CALL_INCOMING'), 'CALL_INCOMING', timeoutMs);
  }

  async accept(): Promise<void> {
    await this.command('accept');
  }

  /** Starts a fresh wait window, e.g. before a call this client will receive. */
  resetEvents(): void {
    this.mark = this.events.length;
  }

  /**
   * Sends DTMF as RFC 4733 telephone-events, one key at a time with a pause between keys
   * (baresip queues a press and its release back to back, so keys sent in one command
   * would run together).
   */
  async sendDtmf(digits: string, gapMs = 250): Promise<void> {
    for (const d of digits) {
      if (!/^[0-9*#A-D]$/.test(d)) throw new Error(`not a DTMF key: ${d}`);
      await this.command('sndcode', d);
      await sleep(gapMs);
    }
  }

  /** DTMF keys this client received in the current call (CALL_DTMF_START events). */
  dtmfReceived(): string {
    return this.events
      .slice(this.mark)
      .filter(this.callEvent('CALL_DTMF_START'))
      .map((e) => e.param ?? '')
      .join('');
  }

  /** Hangs up the current call and waits until baresip reports it closed. */
  async hangup(timeoutMs = 5000): Promise<void> {
    if (!this.isClosed()) await this.command('hangup');
    await this.closed(timeoutMs);
  }

  private dumps(kind: 'dec' | 'enc'): string[] {
    const dumpDir = path.join(this.dir, 'dump');
    return readdirSync(dumpDir)
      .filter((f) => f.endsWith(`-${kind}.wav`))
      .map((f) => path.join(dumpDir, f))
      .filter((f) => statSync(f).size > 44)
      .sort();
  }

  private readDumps(kind: 'dec' | 'enc'): Pcm {
    const files = this.dumps(kind);
    if (files.length === 0) {
      throw new Error(`baresip ${this.name}: no ${kind} recording in ${this.dir}/dump\n${this.logTail()}`);
    }
    const parts = files.map((f) => readWav(f));
    // A re-INVITE that changes the codec opens a new file, possibly at another rate: keep
    // the longest stretch at one rate rather than fail.
    const rate = parts.reduce((best, p) => (p.samples.length > best.samples.length ? p : best)).rate;
    return concatPcm(parts.filter((p) => p.rate === rate));
  }

  /** The decoded audio this client received (read after the call has ended). */
  async received(): Promise<Pcm> {
    // CALL_CLOSED is sent just before the call (and with it the dump file) is freed.
    await sleep(200);
    return this.readDumps('dec');
  }

  /** The audio this client sent, before encoding. */
  async sent(): Promise<Pcm> {
    await sleep(200);
    return this.readDumps('enc');
  }

  /**
   * Waits until baresip's output (log and SIP trace) matches: the trace comes through a
   * pipe and may trail the ctrl_tcp event that reported the same thing.
   */
  async waitLog(re: RegExp, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.logText)) {
      if (Date.now() > deadline)
        throw new Error(`baresip ${this.name}: log never matched ${re}\n${this.logTail()}`);
      await sleep(50);
    }
  }

  /** The last part of baresip's output (SIP trace and log), for failure messages. */
  logTail(chars = 6000): string {
    return `--- baresip ${this.name} log (${this.dir}) ---\n${this.logText.slice(-chars)}`;
  }

  eventSummary(): string {
    return this.events.map((e) => `${e.type}${e.param ? `(${e.param})` : ''}`).join(', ');
  }

  /**
   * Quits baresip (the `quit` command, then SIGKILL after 3 s) and removes its folder
   * unless `keep` is set or the environment sets PARLEY_KEEP_E2E.
   */
  async stop(keep = false): Promise<void> {
    if (!this.exited) {
      this.command('quit', undefined, 1000).catch(() => {
        // It may exit before it answers.
      });
      const killed = await Promise.race([this.exit.then(() => false), sleep(3000).then(() => true)]);
      if (killed) {
        this.child.kill('SIGKILL');
        await this.exit;
      }
    }
    this.socket?.destroy();
    if (!keep && !process.env.PARLEY_KEEP_E2E) rmSync(this.dir, { recursive: true, force: true });
  }
}
