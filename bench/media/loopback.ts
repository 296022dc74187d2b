/**
 * End-to-end loopback benchmark of the media engine: N PCMU participants in one conference of the
 * engine under test (this process), their RTP sent from a separate load process that runs its own
 * native MediaEngine: one endpoint per participant, each with a looping tone player (a few talkers
 * loud, the rest a quiet background), sent on the load engine's 20 ms tick at native speed. The load
 * endpoints also receive the conference's output, and their arrival statistics (kernel receive
 * times, 0.1 ms bins) give the output packet interval of every participant over the window.
 *
 * Prints one JSON object: the engine's CPU (process, engine thread, user/system split, run-queue
 * wait), the output interval per participant (p50/p99/max and the distribution of the p99s), packets
 * received vs expected, late ticks of both engines. When the load engine itself ran late ticks its
 * sends were not on time, and the interval figures are void: `load.valid` says so.
 *
 *   npm run bench:loopback -- [--participants 500] [--seconds 60] [--warmup 2] [--rate 8000]
 *     [--talkers 3] [--realtime 0] [--spread 0] [--spin 0]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MediaEngine } from '../../src/media/engine.js';
import { runTimerProbe } from '../platform/timer-probe.js';

interface Args {
  participants: number;
  seconds: number;
  warmup: number;
  talkers: number;
  /** SCHED_FIFO priority of both engine threads (0: normal). */
  realtime: number;
  /** Conference mixing rate: 8000 (no resampling for PCMU), 16000 or 48000. */
  rate: number;
  /** The engine under test spreads each tick's sends over this many ms (MediaEngineOptions.sendSpreadMs). */
  spread: number;
  /** Both engines spin this many µs before each tick (MediaEngineOptions.tickSpinUs). */
  spin: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    participants: 500,
    seconds: 60,
    warmup: 2,
    talkers: 3,
    realtime: 0,
    rate: 8000,
    spread: 0,
    spin: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]?.replace(/^--/, '') as keyof Args;
    const value = Number(argv[i + 1]);
    if (key in args && Number.isFinite(value) && value >= 0) {
      args[key] = value;
      i++;
    }
  }
  return args;
}

/** RTP port ranges of the two engines, apart so that neither can take the other's ports. */
function portRanges(participants: number): { engine: [number, number]; load: [number, number] } {
  const span = participants * 2 + 200;
  const engineMin = 30000;
  const loadMin = engineMin + span + 1000;
  if (loadMin + span > 65535) throw new Error('too many participants for the port space');
  return { engine: [engineMin, engineMin + span], load: [loadMin, loadMin + span] };
}

type ToChild = { type: 'start'; ports: number[] } | { type: 'window' } | { type: 'collect' };
type FromChild =
  | { type: 'ready'; ports: number[] }
  | { type: 'started' }
  | { type: 'measuring' }
  | { type: 'done'; report: LoadReport };

interface Participant {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  kernel: boolean;
}

interface LoadReport {
  participants: Participant[];
  /** Packets the load endpoints sent in the window, and the jitter buffers' RFC 3550 loss over the run. */
  sent: number;
  lost: number;
  windowS: number;
  lateTicks: number;
  ticks: number;
  maxLateUs: number;
  ioDeferred: number;
  realtime: boolean;
  thread: ThreadUse;
  processCpuPercent: number;
}

// ───────────────────────────── thread accounting ─────────────────────────────

interface ThreadSample {
  /** CPU time and time spent runnable but waiting for a core (schedstat), ns. */
  runNs: number;
  waitNs: number;
  /** User and system CPU time (stat), clock ticks. */
  utime: number;
  stime: number;
}

interface ThreadUse {
  cpuPercent: number;
  userPercent: number;
  systemPercent: number;
  /** Time the thread was ready to run but had no core, per second of the window. */
  runQueueWaitMsPerS: number;
}

/**
 * Per-thread accounting of this process from /proc/self/task: schedstat is exact scheduler time
 * (unlike the 10 ms granularity of utime/stime, which only serve to split user from system).
 */
function sampleThreads(): Map<number, ThreadSample> {
  const out = new Map<number, ThreadSample>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const [run, wait] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), {
        runNs: run ?? 0,
        waitNs: wait ?? 0,
        utime: Number(rest[11]),
        stime: Number(rest[12]),
      });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** The engine's I/O + mixing thread: the busiest one other than the JavaScript thread (tid = pid). */
function engineThreadUse(
  before: Map<number, ThreadSample>,
  after: Map<number, ThreadSample>,
  wallMs: number,
): ThreadUse {
  let best: { run: number; wait: number; u: number; s: number } = { run: 0, wait: 0, u: 0, s: 0 };
  for (const [tid, a] of after) {
    if (tid === process.pid) continue;
    const b = before.get(tid) ?? { runNs: 0, waitNs: 0, utime: 0, stime: 0 };
    const run = a.runNs - b.runNs;
    if (run > best.run) best = { run, wait: a.waitNs - b.waitNs, u: a.utime - b.utime, s: a.stime - b.stime };
  }
  const ticks = Math.max(1, best.u + best.s);
  const cpuPercent = (best.run / 1e6 / wallMs) * 100;
  return {
    cpuPercent: round(cpuPercent),
    // schedstat is exact; stat's tick counts only say how it divides between user and kernel.
    userPercent: round((cpuPercent * best.u) / ticks),
    systemPercent: round((cpuPercent * best.s) / ticks),
    runQueueWaitMsPerS: round(best.wait / 1e6 / (wallMs / 1000)),
  };
}

/** An engine on loopback in `ports`, without RTP timeouts (both sides of this benchmark open one). */
function openEngine(
  [portMin, portMax]: [number, number],
  realtime: number,
  sendSpreadMs = 0,
  tickSpinUs = 0,
): MediaEngine {
  return MediaEngine.open({
    address: '127.0.0.1',
    portMin,
    portMax,
    rtpTimeoutMs: 0,
    realtimePriority: realtime,
    sendSpreadMs,
    tickSpinUs,
    onEvent: () => {},
  });
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Nearest-rank quantile of an ascending list. */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function tone(freq: number, amplitude: number): Int16Array {
  // One second at 8 kHz: a whole number of periods for every frequency used, so the loop is seamless.
  const pcm = new Int16Array(8000);
  for (let i = 0; i < pcm.length; i++)
    pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / 8000));
  return pcm;
}

/** Messages from `source` in arrival order: each call of the returned function takes the next one. */
function mailbox<T>(source: {
  on(event: 'message', listener: (m: unknown) => void): unknown;
}): () => Promise<T> {
  const inbox: T[] = [];
  const waiters: Array<(m: T) => void> = [];
  source.on('message', (m) => {
    const w = waiters.shift();
    if (w) w(m as T);
    else inbox.push(m as T);
  });
  return () =>
    new Promise<T>((resolve) => {
      const m = inbox.shift();
      if (m) resolve(m);
      else waiters.push(resolve);
    });
}

// ───────────────────────────── the load process (child) ─────────────────────────────

async function loadProcess(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const send = (msg: FromChild) => process.send?.(msg);
  const next = mailbox<ToChild>(process);
  const engine = openEngine(portRanges(args.participants).load, args.realtime, 0, args.spin);
  const ids: number[] = [];
  const ports: number[] = [];
  for (let i = 0; i < args.participants; i++) {
    const ep = engine.createEndpoint();
    ids.push(ep.id);
    ports.push(ep.port);
  }
  send({ type: 'ready', ports });
  const start = await next();
  if (start.type !== 'start') throw new Error('expected start');
  // Talkers loud on distinct tones, everyone else a quiet background: the mix keeps a few loudest.
  const loud = [tone(400, 8000), tone(600, 8000), tone(900, 8000)].map((pcm) =>
    engine.createBuffer(pcm, 8000),
  );
  const quiet = engine.createBuffer(tone(200, 60), 8000);
  ids.forEach((id, i) => {
    engine.configureEndpoint(id, {
      remote: { address: '127.0.0.1', port: start.ports[i] as number },
      send: { codec: 'pcmu', payloadType: 0 },
      receive: { payloadTypes: { 0: { codec: 'pcmu', rate: 8000 } } },
      direction: 'sendrecv',
    });
    // An endpoint player sends on the engine tick without a conference: native pace, no JavaScript per packet.
    engine.play({ endpoint: id }, i < args.talkers ? (loud[i % loud.length] as typeof quiet) : quiet, 8000, {
      loop: true,
    });
  });
  send({ type: 'started' });
  if ((await next()).type !== 'window') throw new Error('expected window');
  // Read before the window opens: these calls take the load engine's lock.
  const sent0 = ids.reduce((sum, id) => sum + engine.endpointStats(id).packetsOut, 0);
  engine.resetArrival();
  const stats0 = engine.engineStats();
  const threads0 = sampleThreads();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  send({ type: 'measuring' });
  if ((await next()).type !== 'collect') throw new Error('expected collect');
  const wallMs = performance.now() - t0;
  const stats1 = engine.engineStats();
  const threads1 = sampleThreads();
  const cpu = process.cpuUsage(cpu0);
  const participants: Participant[] = [];
  let sent = 0;
  let lost = 0;
  for (const id of ids) {
    const s = engine.endpointStats(id);
    participants.push({
      count: s.arrival.count,
      p50Ms: s.arrival.p50Ms,
      p99Ms: s.arrival.p99Ms,
      maxMs: s.arrival.maxMs,
      kernel: s.arrival.kernelTimestamps,
    });
    sent += s.packetsOut;
    lost += Math.max(0, s.lost);
  }
  send({
    type: 'done',
    report: {
      participants,
      sent: sent - sent0,
      lost,
      windowS: wallMs / 1000,
      lateTicks: stats1.lateTicks - stats0.lateTicks,
      ticks: stats1.ticks - stats0.ticks,
      maxLateUs: stats1.maxLateUs,
      ioDeferred: stats1.ioDeferred - stats0.ioDeferred,
      realtime: stats1.realtime,
      thread: engineThreadUse(threads0, threads1, wallMs),
      processCpuPercent: round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
    },
  });
  engine.close();
  process.disconnect();
}

// ───────────────────────────── the engine under test (parent) ─────────────────────────────

function receiver(child: ChildProcess): () => Promise<FromChild> {
  const next = mailbox<FromChild>(child);
  child.on('exit', (code) => {
    if (code !== 0) {
      console.error(`load process exited with ${code}`);
      process.exit(1);
    }
  });
  return next;
}

function summarize(list: Participant[], windowS: number, participants: number) {
  const p50s = list.map((p) => p.p50Ms).sort((a, b) => a - b);
  const p99s = list.map((p) => p.p99Ms).sort((a, b) => a - b);
  const maxes = list.map((p) => round(p.maxMs)).sort((a, b) => a - b);
  const received = list.reduce((sum, p) => sum + p.count, 0);
  const outside = list.filter((p) => p.p99Ms < 18 || p.p99Ms > 22).length;
  return {
    // Each participant's own p50, p99 and max over the window, summarized across participants.
    outputIntervalMs: {
      p50: { min: quantile(p50s, 0), median: quantile(p50s, 0.5), max: quantile(p50s, 1) },
      p99: {
        min: quantile(p99s, 0),
        p50: quantile(p99s, 0.5),
        p90: quantile(p99s, 0.9),
        p99: quantile(p99s, 0.99),
        max: quantile(p99s, 1),
      },
      max: { median: quantile(maxes, 0.5), p99: quantile(maxes, 0.99), max: quantile(maxes, 1) },
    },
    perParticipantP99Ms: { p50: quantile(p99s, 0.5), max: quantile(p99s, 1) },
    participantsP99Outside18To22Ms: outside,
    packets: {
      receivedWhileMeasuring: received,
      // The engine sends 50 packets per second per participant in real time.
      expectedWhileMeasuring: Math.round(participants * windowS * 50),
    },
    kernelTimestamps: list.filter((p) => p.kernel).length,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (![8000, 16000, 48000].includes(args.rate)) throw new Error('--rate must be 8000, 16000 or 48000');
  const engine = openEngine(portRanges(args.participants).engine, args.realtime, args.spread, args.spin);
  const child = fork(fileURLToPath(import.meta.url), ['--child', ...process.argv.slice(2)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = receiver(child);
  const tell = (m: ToChild) => child.send(m);
  const ready = await next();
  if (ready.type !== 'ready') throw new Error('load process did not start');
  engine.createConference('bench', { rate: args.rate as 8000 | 16000 | 48000, loudest: 3 });
  const ports: number[] = [];
  for (const peerPort of ready.ports) {
    const ep = engine.createEndpoint();
    engine.configureEndpoint(ep.id, {
      remote: { address: '127.0.0.1', port: peerPort },
      send: { codec: 'pcmu', payloadType: 0 },
      receive: { payloadTypes: { 0: { codec: 'pcmu', rate: 8000 } } },
      direction: 'sendrecv',
    });
    engine.join('bench', ep.id);
    ports.push(ep.port);
  }
  tell({ type: 'start', ports });
  if ((await next()).type !== 'started') throw new Error('load process did not start sending');
  await new Promise((r) => setTimeout(r, args.warmup * 1000));
  // Beside the window, a thread that only sleeps to 20 ms deadlines, above both engines'
  // priority: whatever it sees late is the platform's, not the engine's.
  const probe = runTimerProbe(args.seconds, args.realtime + 1).catch((err: unknown) => ({
    error: err instanceof Error ? err.message : String(err),
  }));
  // The window: both sides start and stop their accounting together.
  const before = engine.engineStats();
  const threads0 = sampleThreads();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  tell({ type: 'window' });
  if ((await next()).type !== 'measuring') throw new Error('load process did not open the window');
  await new Promise((r) => setTimeout(r, args.seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  const threads1 = sampleThreads();
  const after = engine.engineStats();
  const conf = engine.conferenceStats('bench');
  tell({ type: 'collect' });
  const done = await next();
  engine.close();
  if (done.type !== 'done') throw new Error('load process failed');
  const platform = await probe;
  const load = done.report;
  const thread = engineThreadUse(threads0, threads1, wall);
  const windowTicks = after.ticks - before.ticks;
  // Mean tick CPU is kept over the engine's life; the window's share is the difference of the totals.
  const tickCpuWindowUs = after.tickCpuMeanUs * after.ticks - before.tickCpuMeanUs * before.ticks;
  const outputs = summarize(load.participants, load.windowS, args.participants);
  const lateTicks = after.lateTicks - before.lateTicks;
  const p99Met = outputs.participantsP99Outside18To22Ms === 0;
  console.log(
    JSON.stringify(
      {
        bench: 'media-loopback',
        participants: args.participants,
        seconds: args.seconds,
        codec: 'pcmu',
        conferenceRate: args.rate,
        sendSpreadMs: args.spread,
        tickSpinUs: args.spin,
        engineCpuPercent: round(((cpu.user + cpu.system) / 1000 / wall) * 100),
        // Engine thread CPU (receive + tick) per participant per 20 ms tick, and the tick alone.
        engineThreadCpuPercent: thread.cpuPercent,
        engineThread: thread,
        engineThreadUsPerParticipantTick: round(
          ((thread.cpuPercent / 100) * wall * 1000) / Math.max(1, windowTicks) / args.participants,
        ),
        tickCpuUsPerParticipant: round(tickCpuWindowUs / Math.max(1, windowTicks) / args.participants),
        ...outputs,
        packets: { ...outputs.packets, sentByLoad: load.sent, lostByJitterBuffers: load.lost },
        target: {
          p99WithinMs: [18, 22],
          p99Met,
          zeroLateTicks: lateTicks === 0,
          met: p99Met && lateTicks === 0 && load.lateTicks === 0,
        },
        realtime: after.realtime,
        lateTicks,
        // What held each late tick up most (see EngineStats.lateTicksBy).
        lateTicksBy: {
          overrun: after.lateTicksBy.overrun - before.lateTicksBy.overrun,
          wake: after.lateTicksBy.wake - before.lateTicksBy.wake,
          lock: after.lateTicksBy.lock - before.lateTicksBy.lock,
        },
        ticks: windowTicks,
        // The same window seen by a do-nothing thread at a higher priority (bench/platform/).
        platformProbe: platform,
        maxLateUs: after.maxLateUs,
        // Socket passes cut short so that the tick started on time.
        ioDeferred: after.ioDeferred - before.ioDeferred,
        // Packets of a spread that had not left by the next tick.
        sendsOverrun: after.sendsOverrun - before.sendsOverrun,
        // RTP sent in io_uring batches (else one sendto per packet), and refused sends.
        ioUring: after.ioUring,
        sendErrors: after.sendErrors - before.sendErrors,
        tickWorkUs: { last: after.tickWorkLastUs, p99: after.tickWorkP99Us, max: after.tickWorkMaxUs },
        tickCpuUs: { mean: after.tickCpuMeanUs, max: after.tickCpuMaxUs },
        mixUs: { last: conf.mixLastUs, max: conf.mixMaxUs },
        mixGroups: conf.groups,
        encoders: after.encoders,
        senderWindowS: round(load.windowS),
        senderCpuPercent: load.processCpuPercent,
        load: {
          // A late tick of the load engine sent a whole tick of packets late: the engine under test then
          // did not get the steady 20 ms streams this benchmark claims, and the figures are void.
          valid: load.lateTicks === 0,
          note:
            load.lateTicks === 0
              ? 'the load engine kept its 20 ms pace in the window'
              : 'VOID: the load engine ran late ticks, so its input to the engine was not a steady 20 ms stream',
          lateTicks: load.lateTicks,
          ticks: load.ticks,
          // Over the load engine's life, start-up included.
          maxLateUs: load.maxLateUs,
          ioDeferred: load.ioDeferred,
          realtime: load.realtime,
          engineThread: load.thread,
        },
      },
      null,
      2,
    ),
  );
  await new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

if (process.argv.includes('--child')) await loadProcess();
else await main();
