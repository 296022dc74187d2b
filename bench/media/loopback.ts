/**
 * Loopback load test of the media engine: N PCMU participants in one conference,
 * their RTP sent from a separate child process (one UDP socket per participant, a
 * 20 ms send loop) into the engine over 127.0.0.1. Prints one JSON object: the
 * engine process's CPU, the output packet interval per participant as the sender
 * sees it (p50/p99/max), late ticks and mix time per tick.
 *
 *   npm run bench:loopback -- [--participants 500] [--seconds 60] [--warmup 2] [--rate 8000]
 *     [--talkers 3] [--realtime 0]
 */
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MediaEngine } from '../../src/media/engine.js';
import { loadNativeEngine } from '../../src/media/native.js';

interface Args {
  participants: number;
  seconds: number;
  warmup: number;
  talkers: number;
  /** SCHED_FIFO priority of the engine thread (0: normal). */
  realtime: number;
  /** Conference mixing rate: 8000 (no resampling for PCMU), 16000 or 48000. */
  rate: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { participants: 500, seconds: 60, warmup: 2, talkers: 3, realtime: 0, rate: 8000 };
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

type ToChild = { type: 'start'; ports: number[]; args: Args };
type FromChild = { type: 'ready'; ports: number[] } | { type: 'done'; report: SenderReport };

interface SenderReport {
  sent: number;
  received: number;
  intervalsMs: { p50: number; p99: number; max: number };
  /** The worst participant's p99 and max. */
  worstP99Ms: number;
  perParticipantP99Ms: { p50: number; max: number };
  senderCpuPercent: number;
  /** Wall time of the sender's measuring window, and how late its own 20 ms loop ran at worst. */
  windowS: number;
  senderMaxLateMs: number;
}

function quantile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

// ───────────────────────────── the sender (child) ─────────────────────────────

async function sender(): Promise<void> {
  const { Encoder } = loadNativeEngine();
  const send = (msg: FromChild) => process.send?.(msg);
  const args0 = parseArgs(process.argv.slice(2));
  const sockets: dgram.Socket[] = [];
  for (let i = 0; i < args0.participants; i++) {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
    sockets.push(s);
  }
  send({ type: 'ready', ports: sockets.map((s) => (s.address() as { port: number }).port) });
  const start = await new Promise<ToChild>((resolve) =>
    process.once('message', (m) => resolve(m as ToChild)),
  );
  const { ports, args } = start;
  // One second of PCMU per distinct tone, encoded once; talkers loud, everyone else low background.
  const enc = new Encoder('pcmu');
  const frames = (freq: number, amp: number) =>
    Array.from({ length: 50 }, (_, f) => {
      const pcm = new Int16Array(160);
      for (let i = 0; i < 160; i++)
        pcm[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * (f * 160 + i)) / 8000));
      return enc.encode(pcm);
    });
  const loud = [frames(400, 8000), frames(600, 8000), frames(900, 8000)];
  const quiet = frames(200, 60);
  const n = sockets.length;
  const seq = new Uint16Array(n);
  const last = new Float64Array(n);
  const intervals: number[][] = Array.from({ length: n }, () => []);
  let received = 0;
  let sent = 0;
  let measuring = false;
  let windowStart = 0;
  let windowEnd = 0;
  let senderMaxLate = 0;
  sockets.forEach((s, i) => {
    s.on('message', (msg) => {
      if (msg.length < 12 || (msg[1]! & 0x7f) >= 72) return; // RTCP
      if (measuring) received++;
      const now = performance.now();
      if (measuring && last[i]! > 0) intervals[i]!.push(now - last[i]!);
      last[i] = now;
    });
  });
  const header = Buffer.alloc(12);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let tick = 0;
  const total = (args.seconds + args.warmup) * 50;
  await new Promise<void>((resolve) => {
    const step = () => {
      const late = performance.now() - (t0 + tick * 20);
      if (measuring && late > senderMaxLate) senderMaxLate = late;
      if (tick === args.warmup * 50) {
        measuring = true;
        windowStart = performance.now();
      }
      if (tick === total - 5) {
        measuring = false; // the engine's output of the last frames is still in flight
        windowEnd = performance.now();
      }
      for (let i = 0; i < n; i++) {
        const set = i < args.talkers ? loud[i % loud.length]! : quiet;
        header[0] = 0x80;
        header[1] = 0;
        header.writeUInt16BE(seq[i]!, 2);
        header.writeUInt32BE((tick * 160) >>> 0, 4);
        header.writeUInt32BE(i + 1, 8);
        seq[i] = (seq[i]! + 1) & 0xffff;
        sockets[i]!.send([header, set[tick % 50]!], ports[i]!, '127.0.0.1');
        sent++;
      }
      tick++;
      if (tick >= total) return resolve();
      setTimeout(step, Math.max(0, t0 + tick * 20 - performance.now()));
    };
    step();
  });
  await new Promise((r) => setTimeout(r, 100));
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  const all: number[] = [];
  const p99s: number[] = [];
  for (const list of intervals) {
    const sorted = Float64Array.from(list).sort();
    for (const v of sorted) all.push(v);
    p99s.push(quantile(sorted, 0.99));
  }
  const allSorted = Float64Array.from(all).sort();
  p99s.sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 100) / 100;
  send({
    type: 'done',
    report: {
      sent,
      received,
      intervalsMs: {
        p50: round(quantile(allSorted, 0.5)),
        p99: round(quantile(allSorted, 0.99)),
        max: round(allSorted[allSorted.length - 1] ?? 0),
      },
      worstP99Ms: round(p99s[p99s.length - 1] ?? 0),
      perParticipantP99Ms: { p50: round(quantile(p99s, 0.5)), max: round(p99s[p99s.length - 1] ?? 0) },
      senderCpuPercent: round(((cpu.user + cpu.system) / 1000 / wall) * 100),
      windowS: round((windowEnd - windowStart) / 1000),
      senderMaxLateMs: round(senderMaxLate),
    },
  });
  for (const s of sockets) s.close();
}

// ───────────────────────────── the engine (parent) ─────────────────────────────

/**
 * CPU time (ns) each thread of this process has run, from /proc/self/task/TID/schedstat: exact
 * scheduler accounting, unlike the 10 ms granularity of utime/stime, and unaffected by the time a
 * thread waits for a core on a busy machine (wall-time figures are).
 */
function threadCpuNs(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      if (Number.isFinite(ns)) out.set(Number(tid), ns);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const engine = MediaEngine.open({
    address: '127.0.0.1',
    portMin: 30000,
    portMax: 30000 + args.participants * 2 + 200,
    rtpTimeoutMs: 0,
    realtimePriority: args.realtime,
    onEvent: () => {},
  });
  const child = fork(fileURLToPath(import.meta.url), ['--child', ...process.argv.slice(2)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<FromChild>((resolve) => child.once('message', (m) => resolve(m as FromChild)));
  const ready = await next();
  if (ready.type !== 'ready') throw new Error('sender did not start');
  if (![8000, 16000, 48000].includes(args.rate)) throw new Error('--rate must be 8000, 16000 or 48000');
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
  const done = next();
  child.send({ type: 'start', ports, args } satisfies ToChild);
  // Engine CPU over the measured part only (after the warm-up).
  await new Promise((r) => setTimeout(r, args.warmup * 1000));
  const before = engine.engineStats();
  const threads0 = threadCpuNs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, args.seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  const threads1 = threadCpuNs();
  const after = engine.engineStats();
  // The engine's I/O + mixing thread is the busiest one other than the JavaScript thread (tid = pid).
  let engineThreadNs = 0;
  for (const [tid, ns] of threads1) {
    if (tid === process.pid) continue;
    engineThreadNs = Math.max(engineThreadNs, ns - (threads0.get(tid) ?? ns));
  }
  const windowTicks = after.ticks - before.ticks;
  // Mean tick CPU is kept over the engine's life; the window's share is the difference of the totals.
  const tickCpuWindowUs = after.tickCpuMeanUs * after.ticks - before.tickCpuMeanUs * before.ticks;
  const conf = engine.conferenceStats('bench');
  const result = await done;
  engine.close();
  if (result.type !== 'done') throw new Error('sender failed');
  const round = (v: number) => Math.round(v * 100) / 100;
  console.log(
    JSON.stringify(
      {
        bench: 'media-loopback',
        participants: args.participants,
        seconds: args.seconds,
        codec: 'pcmu',
        conferenceRate: args.rate,
        engineCpuPercent: round(((cpu.user + cpu.system) / 1000 / wall) * 100),
        // Engine thread CPU (receive + tick) per participant per 20 ms tick, and the tick alone.
        engineThreadCpuPercent: round((engineThreadNs / 1e6 / wall) * 100),
        engineThreadUsPerParticipantTick: round(
          engineThreadNs / 1000 / Math.max(1, windowTicks) / args.participants,
        ),
        tickCpuUsPerParticipant: round(tickCpuWindowUs / Math.max(1, windowTicks) / args.participants),
        outputIntervalMs: result.report.intervalsMs,
        perParticipantP99Ms: result.report.perParticipantP99Ms,
        packets: {
          sent: result.report.sent,
          receivedWhileMeasuring: result.report.received,
          // The engine sends 50 packets per second per participant in real time, whatever the sender's pace.
          expectedWhileMeasuring: Math.round(args.participants * result.report.windowS * 50),
        },
        senderWindowS: result.report.windowS,
        senderMaxLateMs: result.report.senderMaxLateMs,
        realtime: after.realtime,
        lateTicks: after.lateTicks - before.lateTicks,
        ticks: after.ticks - before.ticks,
        maxLateUs: after.maxLateUs,
        tickWorkUs: { last: after.tickWorkLastUs, p99: after.tickWorkP99Us, max: after.tickWorkMaxUs },
        tickCpuUs: { mean: after.tickCpuMeanUs, max: after.tickCpuMaxUs },
        mixUs: { last: conf.mixLastUs, max: conf.mixMaxUs },
        mixGroups: conf.groups,
        encoders: after.encoders,
        senderCpuPercent: result.report.senderCpuPercent,
      },
      null,
      2,
    ),
  );
}

if (process.argv.includes('--child')) await sender();
else await main();
