/**
 * SIP load benchmark: sipp places real PCMU calls with RTP into a Parley server running in a
 * child process, an RTP sink receives what the server sends back to every call, and one
 * JSON object per run is printed (fields: bench/load/README.md).
 *
 *   npm run bench:load -- --calls 200 --mode one|fives [--seconds 20] [--rate 50]
 *   npm run bench:load -- --search --mode one [--calls 50] [--max-calls 2500] [--max-minutes 30]
 *   npm run bench:load -- --setup-rate 100 --total 3000 [--hold-ms 1000]
 *
 * Caller audio comes from the RTP peer (rtp-sink.c) by default; `--rtp sipp` has sipp play
 * a pcap instead, which costs the server's kernel side O(calls²) (see README.md).
 *
 * By default the server is pinned to CPU 0 and sipp and the sink to the other CPUs
 * (--server-cpus / --load-cpus, "" for no pinning), so "one core" means one core.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeToneFrames, writeTonePcap } from './pcap.js';
import { cpuBetween, cpuSecondsOf, rssKiB, sampleCpu, type ThreadUse } from './procstat.js';
import { ServerProcess } from './server-process.js';
import { type IntervalReport, RtpSink } from './sink.js';
import { startSippLoad } from './sipp-load.js';

const CONFIG_DIR = path.join(import.meta.dirname, 'conferences');
/** sipp's [auto_media_port] steps by 4 per call and wraps after 10 000 ports. */
const MEDIA_STEP = 4;
const MAX_MEDIA_CALLS = 2500;
const PASS_P99_MS = 22;

interface Args {
  calls: number;
  mode: 'one' | 'fives';
  seconds: number;
  rate: number;
  warmup: number;
  setupRate: number;
  total: number;
  holdMs: number;
  search: boolean;
  maxCalls: number;
  maxMinutes: number;
  limits: 'relaxed' | 'default';
  serverCpus: string;
  loadCpus: string;
  mediaPort: number;
  rtpMin: number;
  rtpMax: number;
  cpuProf: string;
  realtime: number;
  /** The server's --send-spread (ms) and --tick-spin (µs). */
  spread: number;
  spin: number;
  rtp: 'sink' | 'sipp';
  /** Mixing rate of the load conferences; 0 keeps load.yaml's (the default, 16 kHz). */
  conferenceRate: number;
}

/**
 * The configuration to serve: load.yaml as shipped, or a copy in the temp directory whose
 * conferences mix at `rate` (to see what the conversion between the 16 kHz mix and 8 kHz
 * PCMU costs).
 */
function configFor(rate: number): string {
  if (rate === 0) return CONFIG_DIR;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-load-config-'));
  cpSync(CONFIG_DIR, dir, { recursive: true });
  const file = path.join(dir, 'load.yaml');
  const text = readFileSync(file, 'utf8');
  if (!text.includes('\nlimits:'))
    throw new Error('bench/load: load.yaml has no limits line to put audio after');
  writeFileSync(file, text.replace('\nlimits:', `\naudio: { rate: ${rate} }\nlimits:`));
  return dir;
}

/** What every result reports about how it was run: load, limits, priority, pinning, errors, machine. */
function runContext(
  args: Args,
  loadAtStart: number,
  realtimeGot: boolean,
  sipp: { errors: string[]; exitCode: number | null; stderr: string },
) {
  return {
    loadavg: { start: loadAtStart, end: loadavg() },
    limits: args.limits,
    realtime: { asked: args.realtime, got: realtimeGot },
    sendSpreadMs: args.spread,
    tickSpinUs: args.spin,
    pinned: { server: args.serverCpus, load: args.loadCpus },
    errors: [...sipp.errors, ...(sipp.exitCode !== 0 && sipp.stderr ? [sipp.stderr.slice(-500)] : [])],
    machine: machine(),
  };
}

function usage(message: string): never {
  process.stderr.write(`bench/load: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const nproc = os.availableParallelism();
  const args: Args = {
    calls: 50,
    mode: 'one',
    seconds: 20,
    rate: 50,
    warmup: 3,
    setupRate: 0,
    total: 0,
    holdMs: 1000,
    search: false,
    maxCalls: MAX_MEDIA_CALLS,
    maxMinutes: 30,
    limits: 'relaxed',
    serverCpus: nproc > 1 ? '0' : '',
    loadCpus: nproc > 1 ? `1-${nproc - 1}` : '',
    mediaPort: 10000,
    rtpMin: 20000,
    rtpMax: 29999,
    cpuProf: '',
    realtime: 0,
    spread: 0,
    spin: 0,
    rtp: 'sink',
    conferenceRate: 0,
  };
  const numeric: Record<string, keyof Args> = {
    '--calls': 'calls',
    '--seconds': 'seconds',
    '--rate': 'rate',
    '--warmup': 'warmup',
    '--setup-rate': 'setupRate',
    '--total': 'total',
    '--hold-ms': 'holdMs',
    '--max-calls': 'maxCalls',
    '--max-minutes': 'maxMinutes',
    '--media-port': 'mediaPort',
    '--rtp-min': 'rtpMin',
    '--rtp-max': 'rtpMax',
    '--realtime': 'realtime',
    '--spread': 'spread',
    '--spin': 'spin',
    '--conference-rate': 'conferenceRate',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const value = argv[i + 1];
    const key = numeric[flag];
    if (key) {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) usage(`${flag} wants a number, got ${value}`);
      (args as unknown as Record<string, number>)[key] = n;
      i++;
    } else if (flag === '--mode') {
      if (value !== 'one' && value !== 'fives') usage('--mode is one or fives');
      args.mode = value;
      i++;
    } else if (flag === '--rtp') {
      if (value !== 'sink' && value !== 'sipp') usage('--rtp is sink or sipp');
      args.rtp = value;
      i++;
    } else if (flag === '--limits') {
      if (value !== 'relaxed' && value !== 'default') usage('--limits is relaxed or default');
      args.limits = value;
      i++;
    } else if (flag === '--server-cpus' || flag === '--load-cpus' || flag === '--cpu-prof') {
      const k = flag === '--server-cpus' ? 'serverCpus' : flag === '--load-cpus' ? 'loadCpus' : 'cpuProf';
      args[k] = value ?? '';
      i++;
    } else if (flag === '--search') {
      args.search = true;
    } else {
      usage(`unknown argument ${flag}`);
    }
  }
  if (args.calls < 1 || !Number.isInteger(args.calls)) usage('--calls must be a whole number ≥ 1');
  if (args.calls > MAX_MEDIA_CALLS || args.maxCalls > MAX_MEDIA_CALLS)
    usage(`at most ${MAX_MEDIA_CALLS} media calls (sipp's [auto_media_port] wraps after that)`);
  if (args.rate <= 0) usage('--rate must be above 0');
  if (![0, 8000, 16000, 48000].includes(args.conferenceRate))
    usage('--conference-rate is 8000, 16000 or 48000');
  if (args.setupRate > 0 && args.total < 1) usage('--setup-rate needs --total');
  return args;
}

let addon: { path: string; sha: string } | undefined;
const ADDON = path.resolve(import.meta.dirname, '../../build/Release/parley_media.node');

/**
 * A private copy of the native addon, taken once under the shared build lock, so a rebuild
 * in the shared tree neither breaks a run nor changes what it measures.
 */
function addonCopy(): string {
  if (!addon) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-load-addon-'));
    const copy = path.join(dir, 'parley_media.node');
    const r = spawnSync('flock', ['/tmp/parley-native.lock', 'cp', ADDON, copy], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cannot copy the native addon: ${r.stderr || r.error?.message}`);
    const sha = createHash('sha256').update(readFileSync(copy)).digest('hex').slice(0, 12);
    addon = { path: copy, sha };
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return addon.path;
}

function taskset(cpus: string): string[] {
  return cpus ? ['taskset', '-c', cpus] : [];
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    nproc: os.availableParallelism(),
    memMiB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    sipp: spawnSync('sipp', ['-v'], { encoding: 'utf8' }).stdout.match(/SIPp v[^\s]+/)?.[0] ?? 'missing',
    commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim(),
    addonSha: addon?.sha ?? null,
  };
}

function loadavg(): number {
  return Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function roomsFor(mode: 'one' | 'fives', calls: number): string[] {
  const room = (n: number) => `load-${String(n).padStart(4, '0')}`;
  if (mode === 'one') return [room(1)];
  return Array.from({ length: calls }, (_, i) => room(Math.floor(i / 5) + 1));
}

/** Everything a run starts, so that it is all stopped whatever happens. */
class Rig {
  server: ServerProcess | undefined;
  sink: RtpSink | undefined;
  dir = mkdtempSync(path.join(os.tmpdir(), 'parley-load-'));

  /** With `send`, the sink is also the callers' RTP source (`--rtp sink`). */
  async start(args: Args, sinkStreams: number, send: boolean): Promise<void> {
    // Call 1's port (the -mp base) is sipp's own RTP socket; the sink takes the others.
    let payload: string | undefined;
    if (send) {
      payload = path.join(this.dir, 'tone.ulaw');
      // 1 s of a 440 Hz tone: whole cycles, so the loop has no click.
      writeToneFrames(payload, { seconds: 1 });
    }
    if (sinkStreams > 0)
      this.sink = await RtpSink.start(
        '127.0.0.1',
        args.mediaPort + MEDIA_STEP,
        MEDIA_STEP,
        sinkStreams,
        taskset(args.loadCpus),
        payload,
      );
    this.server = await ServerProcess.start({
      configDir: configFor(args.conferenceRate),
      sipPort: await freeUdpPort(),
      rtpMin: args.rtpMin,
      rtpMax: args.rtpMax,
      limits: args.limits,
      prefix: taskset(args.serverCpus),
      realtime: args.realtime,
      sendSpreadMs: args.spread,
      tickSpinUs: args.spin,
      addon: addonCopy(),
      ...(args.cpuProf ? { cpuProfDir: path.resolve(args.cpuProf) } : {}),
    });
  }

  async close(): Promise<void> {
    await this.server?.stop().catch(() => {});
    this.sink?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface MediaResult {
  mode: 'one' | 'fives';
  /** Mixing rate of the conferences (Hz). */
  conferenceRate: number;
  calls: number;
  pass: boolean;
  why: string[];
  failed: number;
  successful: number;
  seconds: number;
  cpuPercent: number;
  rssMiB: number;
  cpuPerParticipantPct: number;
  memPerParticipantKiB: number;
  lateTicks: number;
  lateTicksWindow: number;
  /** The window's late ticks by what held them up most (EngineStats.lateTicksBy). */
  lateTicksWindowBy: { overrun: number; wake: number; lock: number };
  /** Packets of a send spread that had not left by the next tick, in the window. */
  sendsOverrun: number;
  maxLateUs: number;
  mixUsP99: number;
  mixUsMax: number;
  confMixUsMax: number;
  interval: Pick<IntervalReport, 'p50' | 'p99' | 'p999' | 'max' | 'gaps'> & {
    streams: number;
    silentStreams: number;
  };
  setupRate: number;
  setupMs: number | null;
  sessionsInWindow: number;
  threads: ThreadUse[];
  loadGeneratorCpuPercent: number;
  loadavg: { start: number; end: number };
  rtp: 'sink' | 'sipp';
  /** Packets the RTP peer sent to the server in the window (0 with --rtp sipp). */
  rtpSent: number;
  limits: 'relaxed' | 'default';
  realtime: { asked: number; got: boolean };
  pinned: { server: string; load: string };
  errors: string[];
  machine: ReturnType<typeof machine>;
}

async function mediaRun(args: Args, calls: number): Promise<MediaResult> {
  const rig = new Rig();
  const la0 = loadavg();
  try {
    const sinkStreams = Math.min(calls, MAX_MEDIA_CALLS) - 1;
    await rig.start(args, sinkStreams, args.rtp === 'sink');
    const server = rig.server as ServerProcess;
    const rooms = roomsFor(args.mode, calls);
    const conferences = [...new Set(rooms)];
    const rampS = calls / args.rate;
    const holdMs = Math.round((rampS + args.warmup + args.seconds + 5) * 1000);
    if (args.rtp === 'sipp') writeTonePcap(path.join(rig.dir, 'tone.pcap'), { seconds: holdMs / 1000 + 5 });
    await sleep(500);
    const idleRss = rssKiB(server.pid);
    const base = await server.stats(conferences);
    const sipp = startSippLoad({
      scenario: args.rtp === 'sipp' ? 'uac-media.xml' : 'uac-signalling.xml',
      echo: args.rtp === 'sink',
      dir: rig.dir,
      target: `127.0.0.1:${server.sipPort}`,
      localPort: await freeUdpPort(),
      mediaPort: args.mediaPort,
      rooms,
      calls,
      rate: args.rate,
      holdMs,
      timeoutS: Math.ceil(holdMs / 1000 + rampS + 60),
      prefix: taskset(args.loadCpus),
    });
    let sippDone = false;
    void sipp.done.then(() => {
      sippDone = true;
    });
    // Wait until every call is up (or sipp gave up), then let the jitter buffers settle.
    const deadline = performance.now() + (rampS + 30) * 1000;
    while (!sippDone && performance.now() < deadline) {
      const s = await server.stats([]);
      if (s.sessions >= calls) break;
      await sleep(250);
    }
    await sleep(args.warmup * 1000);
    const s0 = await server.stats(conferences);
    const c0 = sampleCpu(server.pid);
    const g0 = cpuSecondsOf([sipp.pid, rig.sink?.pid ?? 0]);
    rig.sink?.reset();
    await sleep(args.seconds * 1000);
    const s1 = await server.stats(conferences);
    const c1 = sampleCpu(server.pid);
    const g1 = cpuSecondsOf([sipp.pid, rig.sink?.pid ?? 0]);
    const rss = rssKiB(server.pid);
    const iv = rig.sink
      ? await rig.sink.report()
      : { streams: 0, activeStreams: 0, p50: 0, p99: 0, p999: 0, max: 0, gaps: 0, sent: 0, sendErrors: 0 };
    const result = await sipp.done;
    const cpu = cpuBetween(c0, c1);
    const wallS = (c1.at - c0.at) / 1000;
    const lateTicks = s1.engine.lateTicks - base.engine.lateTicks;
    const why: string[] = [];
    if (result.failed > 0 || result.successful !== calls)
      why.push(`${result.failed} failed, ${result.successful}/${calls} successful calls`);
    if (lateTicks > 0) why.push(`${lateTicks} late ticks`);
    if (iv.p99 > PASS_P99_MS) why.push(`interval p99 ${iv.p99} ms > ${PASS_P99_MS} ms`);
    if (iv.activeStreams < iv.streams) why.push(`${iv.streams - iv.activeStreams} streams silent`);
    if (s1.sessions < calls) why.push(`only ${s1.sessions} of ${calls} calls up in the window`);
    return {
      mode: args.mode,
      conferenceRate: args.conferenceRate || 16000,
      calls,
      pass: why.length === 0,
      why,
      failed: result.failed,
      successful: result.successful,
      seconds: Math.round(wallS * 10) / 10,
      cpuPercent: cpu.cpuPercent,
      rssMiB: Math.round(rss / 102.4) / 10,
      cpuPerParticipantPct: Math.round((cpu.cpuPercent / calls) * 1000) / 1000,
      memPerParticipantKiB: Math.round(((rss - idleRss) / calls) * 10) / 10,
      lateTicks,
      lateTicksWindow: s1.engine.lateTicks - s0.engine.lateTicks,
      lateTicksWindowBy: {
        overrun: s1.engine.lateTicksBy.overrun - s0.engine.lateTicksBy.overrun,
        wake: s1.engine.lateTicksBy.wake - s0.engine.lateTicksBy.wake,
        lock: s1.engine.lateTicksBy.lock - s0.engine.lateTicksBy.lock,
      },
      sendsOverrun: s1.engine.sendsOverrun - s0.engine.sendsOverrun,
      maxLateUs: s1.engine.maxLateUs,
      mixUsP99: s1.engine.tickWorkP99Us,
      mixUsMax: s1.engine.tickWorkMaxUs,
      confMixUsMax: s1.mixMaxUs,
      interval: {
        p50: iv.p50,
        p99: iv.p99,
        p999: iv.p999,
        max: iv.max,
        gaps: iv.gaps,
        streams: iv.streams,
        silentStreams: iv.streams - iv.activeStreams,
      },
      setupRate: args.rate,
      setupMs: result.setupMs,
      sessionsInWindow: Math.min(s0.sessions, s1.sessions),
      threads: cpu.threads,
      loadGeneratorCpuPercent: Math.round(((g1 - g0) / wallS) * 1000) / 10,
      rtp: args.rtp,
      rtpSent: iv.sent,
      ...runContext(args, la0, s1.engine.realtime, result),
    };
  } finally {
    await rig.close();
  }
}

async function setupRun(args: Args) {
  const rig = new Rig();
  const la0 = loadavg();
  try {
    const calls = args.total;
    await rig.start(args, Math.min(calls, MAX_MEDIA_CALLS) - 1, false);
    const server = rig.server as ServerProcess;
    const rooms = roomsFor(args.mode, Math.min(calls, MAX_MEDIA_CALLS));
    await sleep(500);
    const base = await server.stats([]);
    const c0 = sampleCpu(server.pid);
    const sipp = startSippLoad({
      scenario: 'uac-signalling.xml',
      dir: rig.dir,
      target: `127.0.0.1:${server.sipPort}`,
      localPort: await freeUdpPort(),
      mediaPort: args.mediaPort,
      rooms,
      calls,
      rate: args.setupRate,
      holdMs: args.holdMs,
      timeoutS: Math.ceil(calls / args.setupRate + args.holdMs / 1000 + 60),
      prefix: taskset(args.loadCpus),
    });
    let peakSessions = 0;
    let sippDone = false;
    void sipp.done.then(() => {
      sippDone = true;
    });
    while (!sippDone) {
      peakSessions = Math.max(peakSessions, (await server.stats([])).sessions);
      await sleep(250);
    }
    const c1 = sampleCpu(server.pid);
    const s1 = await server.stats([]);
    const result = await sipp.done;
    const cpu = cpuBetween(c0, c1);
    // Calls were started over elapsed minus one hold; the last ones then ran their hold.
    const startingS = Math.max(0.001, result.elapsedS - args.holdMs / 1000);
    const failurePct = calls > 0 ? (100 * result.failed) / calls : 0;
    const achievedRate = Math.round((result.created / startingS) * 10) / 10;
    // Sustained means at the rate offered: a server that falls behind makes sipp start calls
    // more slowly (and setup time grow) without any call failing.
    const why: string[] = [];
    if (failurePct >= 0.1) why.push(`${failurePct.toFixed(3)} % of calls failed`);
    if (result.successful !== calls) why.push(`${result.successful} of ${calls} calls succeeded`);
    if (achievedRate < 0.95 * args.setupRate)
      why.push(`calls were started at ${achievedRate}/s, below the ${args.setupRate}/s offered`);
    return {
      mode: 'setup' as const,
      rooms: args.mode,
      calls,
      offeredRate: args.setupRate,
      achievedRate,
      failed: result.failed,
      successful: result.successful,
      failurePct: Math.round(failurePct * 1000) / 1000,
      pass: why.length === 0,
      why,
      holdMs: args.holdMs,
      setupMs: result.setupMs,
      peakCalls: peakSessions,
      seconds: Math.round(result.elapsedS * 10) / 10,
      cpuPercent: cpu.cpuPercent,
      threads: cpu.threads,
      rssMiB: Math.round(rssKiB(server.pid) / 102.4) / 10,
      lateTicks: s1.engine.lateTicks - base.engine.lateTicks,
      mixUsP99: s1.engine.tickWorkP99Us,
      mixUsMax: s1.engine.tickWorkMaxUs,
      ...runContext(args, la0, s1.engine.realtime, result),
    };
  } finally {
    await rig.close();
  }
}

async function search(args: Args): Promise<void> {
  const stopAt = performance.now() + args.maxMinutes * 60_000;
  const tried: { calls: number; pass: boolean }[] = [];
  let lo = 0; // largest passing
  let hi = Number.POSITIVE_INFINITY; // smallest failing
  let n = args.calls;
  while (performance.now() < stopAt) {
    const r = await mediaRun(args, n);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    tried.push({ calls: n, pass: r.pass });
    if (r.pass) lo = Math.max(lo, n);
    else hi = Math.min(hi, n);
    if (hi === Number.POSITIVE_INFINITY) {
      if (n >= args.maxCalls) break;
      n = Math.min(n * 2, args.maxCalls);
    } else {
      // Bisect to within 10 % (and at least 10 calls).
      if (hi - lo <= Math.max(10, Math.round(lo * 0.1))) break;
      n = Math.round((lo + hi) / 2);
    }
  }
  process.stdout.write(
    `${JSON.stringify({
      search: true,
      mode: args.mode,
      largestPassing: lo,
      smallestFailing: Number.isFinite(hi) ? hi : null,
      tried,
      capped: performance.now() >= stopAt,
      machine: machine(),
    })}\n`,
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (spawnSync('sipp', ['-v']).error)
    usage('sipp not found: install sip-tester (scripts/install-debian-deps.sh)');
  if (args.setupRate > 0) {
    process.stdout.write(`${JSON.stringify(await setupRun(args))}\n`);
  } else if (args.search) {
    await search(args);
  } else {
    process.stdout.write(`${JSON.stringify(await mediaRun(args, args.calls))}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/load: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
