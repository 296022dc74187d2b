/**
 * Typed facade over the native media engine: RTP endpoints, conferences (mixers),
 * players, recorders and links, driven by one engine thread in C++.
 *
 * Ids: endpoints, players and recorders are numbers the engine hands out;
 * conferences are named by the caller (the runtime uses the conference name).
 * Every refusal is a MediaEngineError with a stable `code`; nothing a caller passes
 * can crash the process.
 */
import { type CodecName, loadNativeEngine } from './native.js';

export type MediaEngineErrorCode =
  | 'BAD_ARGUMENT'
  | 'CLOSED'
  | 'UNKNOWN_ENDPOINT'
  | 'UNKNOWN_CONFERENCE'
  | 'UNKNOWN_PLAYER'
  | 'UNKNOWN_RECORDER'
  | 'UNKNOWN_BUFFER'
  | 'CONFERENCE_EXISTS'
  | 'ALREADY_MEMBER'
  | 'NOT_MEMBER'
  | 'ALREADY_LINKED'
  | 'NOT_LINKED'
  | 'NOT_CONFIGURED'
  | 'PORTS_EXHAUSTED'
  | 'RECORDING_FAILED'
  | 'SYSTEM'
  | 'INTERNAL';

export class MediaEngineError extends Error {
  override readonly name = 'MediaEngineError';
  constructor(
    readonly code: MediaEngineErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type MediaEvent =
  | { type: 'dtmf'; endpoint: number; digit: string; durationMs: number }
  | { type: 'talking'; endpoint: number; talking: boolean; level: number }
  | { type: 'player'; player: number; state: 'finished' | 'stopped' | 'error' }
  | { type: 'rtp-timeout'; endpoint: number }
  | { type: 'recorder'; recorder: number; state: 'stopped' | 'error'; durationMs: number }
  | { type: 'source-latched'; endpoint: number; address: string; port: number };

export interface MediaEngineOptions {
  /** IPv4 address the RTP sockets bind to. */
  address: string;
  /** RTP ports are taken from this range, even ports for RTP (RTCP on the next odd one without rtcp-mux). */
  portMin: number;
  portMax: number;
  /** A tick that starts later than this after its deadline counts as late (default 2). */
  lateTickMs?: number;
  /** No RTP for this long while receiving raises `rtp-timeout` (default 30 000; 0 disables). */
  rtpTimeoutMs?: number;
  /** Minimum time between two passes over the sockets (default 1000 µs): fewer wake-ups under load. */
  ioCoalesceUs?: number;
  /** SCHED_FIFO priority for the engine thread (1–99; needs CAP_SYS_NICE); default 0, normal scheduling. */
  realtimePriority?: number;
  /**
   * Each tick's outgoing RTP leaves spread over this many ms, in groups one ms apart from the moment
   * the tick's mix is surely done (the latest of the last seconds' ticks), instead of in one burst
   * right after the mix (default 0, a burst). With hundreds of endpoints a burst makes the
   * last packets' timing depend on every send before them; a spread keeps each endpoint's packets on
   * a steady 20 ms beat and smooths the egress, at the cost of up to this much added latency. 0–15.
   */
  sendSpreadMs?: number;
  /**
   * The engine thread sleeps only until this many µs before each tick and spins the rest (default 0).
   * An idle CPU can be woken late, on a busy virtual machine host by milliseconds; a running one is
   * already there. Costs this much CPU per 20 ms tick (1000 µs: 5 % of a core). 0–5000.
   */
  tickSpinUs?: number;
  /**
   * Hand each tick's RTP to the kernel in io_uring batches instead of one sendto per packet
   * (default true; about half the cost per packet on a virtual machine). Where the kernel refuses
   * io_uring, the engine sends packet by packet anyway: `engineStats().ioUring` tells.
   */
  ioUring?: boolean;
  onEvent: (event: MediaEvent) => void;
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface EndpointConfig {
  /** Where to send, from the far end's SDP (c= and m= lines, a=rtcp); port 0 sends nothing. */
  remote: { address: string; port: number; rtcpPort?: number };
  /** The codec we send; `rate` defaults to the codec's (G.722 16000, Opus 48000). Only 20 ms packets are sent. */
  send: { codec: CodecName; payloadType: number; rate?: number; ptime?: number };
  /** Every payload type the far end may send. */
  receive: {
    payloadTypes: Record<number, { codec: CodecName; rate: number }>;
    telephoneEvent?: { payloadType: number; rate: number };
  };
  direction: Direction;
}

/** Media routing of one member; endpoint ids for one-way media. */
export interface Routing {
  muted?: boolean;
  deaf?: boolean;
  /** Gain applied to this member's voice (0–16, default 1). */
  gain?: number;
  /** Who hears this member: everyone (default) or these endpoints (whisper, coach). */
  speakTo?: 'all' | readonly number[];
  /** Whom this member hears: everyone (default) or these endpoints. */
  hearFrom?: 'all' | readonly number[];
}

export type PlayTarget = { endpoint: number } | { conference: string };

/** PCM held by the engine for many plays (engine.createBuffer); release it when no longer needed. */
export interface PcmBuffer {
  readonly id: number;
  readonly rate: number;
  readonly durationMs: number;
}
export type RecordTarget = { conference: string } | { endpoint: number };
export type LinkDirection = 'both' | 'in' | 'out';

export interface EndpointStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  rtcpIn: number;
  rtcpOut: number;
  dtmfOut: number;
  lost: number;
  late: number;
  jitterMs: number;
  jitterBufferMs: number;
  jitterTargetMs: number;
  concealedFrames: number;
  /** From RTCP report blocks about us; -1 until known. */
  rttMs: number;
  /** dBov of the last frame heard from this endpoint while in a conference. */
  level: number;
  talking: boolean;
  latched: boolean;
  codec: string;
  conference: string | null;
  discarded: {
    source: number;
    direction: number;
    rtcp: number;
    invalid: number;
    unknownPayloadType: number;
    late: number;
    duplicate: number;
    overflow: number;
  };
  /**
   * Spacing of the RTP packets accepted from the far end since the last resetArrival(), by the
   * kernel's receive time (SO_TIMESTAMPNS) or, where the kernel gives none, the engine's clock.
   * Quantiles are read from 0.1 ms bins up to 100 ms (bin middles); longer gaps count toward `maxMs` only.
   */
  arrival: {
    /** Intervals measured: one per packet, the first packet ever excepted. */
    count: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    /** The last packet carried the kernel's receive time. */
    kernelTimestamps: boolean;
  };
}

export interface ConferenceStats {
  members: number;
  players: number;
  recorders: number;
  links: number;
  /** Distinct mixes (and so encodes per codec) last tick. */
  groups: number;
  mixLastUs: number;
  mixMaxUs: number;
  ticks: number;
  lateTicks: number;
}

export interface EngineStats {
  ticks: number;
  lateTicks: number;
  maxLateUs: number;
  /**
   * Late ticks by what held them up most: `overrun`, the engine's own work ran past the deadline (a
   * socket pass or the previous tick, with any preemption while it ran); `wake`, the OS woke the engine
   * thread late from a sleep (timer, scheduler or hypervisor); `lock`, an API call held the engine
   * lock. The three add up to `lateTicks`.
   */
  lateTicksBy: { overrun: number; wake: number; lock: number };
  elapsedMs: number;
  tickWorkLastUs: number;
  tickWorkMaxUs: number;
  /** Wall time of the ticks' work, p99 from a 50 µs histogram (≥ 20 ms: the max). */
  tickWorkP99Us: number;
  /** CPU time of the engine thread per tick: what the work costs without preemption. */
  tickCpuLastUs: number;
  tickCpuMaxUs: number;
  tickCpuMeanUs: number;
  endpoints: number;
  conferences: number;
  encoders: number;
  datagrams: number;
  recvCalls: number;
  wakeups: number;
  /** Socket passes cut short because the tick or a send slot was due (their datagrams were read right after). */
  ioDeferred: number;
  /** Packets of a send spread still waiting when the next tick began (then sent at once): the spread is too long. */
  sendsOverrun: number;
  /** Packets built but not yet handed to the kernel (waiting for their slot in a spread); 0 between ticks without one. */
  sendsWaiting: number;
  /** RTP is sent in io_uring batches; false where io_uring is refused or turned off (one sendto per packet). */
  ioUring: boolean;
  /** RTP datagrams the kernel refused (full socket buffer, unreachable peer): each cost that packet only. */
  sendErrors: number;
  /** The engine thread got the real-time priority it asked for. */
  realtime: boolean;
  /** Exceptions caught on the engine thread; anything but 0 is a bug worth a report. */
  internalErrors: number;
  /** Events dropped because the JS thread did not take them (100 000 waiting). */
  eventsDropped: number;
}

// ───────────────────────────── the native object ─────────────────────────────

interface NativeRouting {
  muted: boolean;
  deaf: boolean;
  gain: number;
  speakTo: number[] | null;
  hearFrom: number[] | null;
}

interface NativeMediaEngine {
  createEndpoint(latching: boolean, rtcpMux: boolean): { id: number; port: number };
  configureEndpoint(id: number, cfg: Record<string, unknown>): void;
  destroyEndpoint(id: number): void;
  sendDtmf(id: number, digit: string, durationMs: number): void;
  createConference(name: string, rate: number, loudest: number): void;
  destroyConference(name: string): void;
  join(name: string, id: number, routing: NativeRouting): void;
  updateRouting(name: string, id: number, routing: NativeRouting): void;
  leave(name: string, id: number): void;
  link(a: string, b: string, direction: LinkDirection): void;
  unlink(a: string, b: string): void;
  playToEndpoint(id: number, pcm: Int16Array | number, rate: number, loop: boolean): number;
  playToConference(name: string, pcm: Int16Array | number, rate: number, loop: boolean): number;
  createBuffer(pcm: Int16Array, rate: number): number;
  releaseBuffer(id: number): void;
  stopPlayer(id: number): void;
  recordConference(name: string, path: string): number;
  recordEndpoint(id: number, path: string, direction: 'in' | 'out' | 'both'): number;
  stopRecorder(id: number): number;
  endpointStats(id: number): EndpointStats;
  resetArrival(id?: number): void;
  conferenceStats(name: string): ConferenceStats;
  stats(): EngineStats;
  close(): void;
}

type NativeMediaEngineCtor = new (
  options: {
    address: string;
    portMin: number;
    portMax: number;
    lateTickUs: number;
    rtpTimeoutMs: number;
    ioCoalesceUs: number;
    realtimePriority: number;
    sendSpreadUs: number;
    tickSpinUs: number;
    ioUring: boolean;
  },
  onEvents: (events: MediaEvent[]) => void,
) => NativeMediaEngine;

function nativeCtor(): NativeMediaEngineCtor {
  // native.ts types the codec surface; the engine class is typed here, next to its facade.
  const addon = loadNativeEngine() as unknown as { MediaEngine?: NativeMediaEngineCtor };
  if (!addon.MediaEngine)
    throw new MediaEngineError('INTERNAL', 'the native addon has no MediaEngine: rebuild it');
  return addon.MediaEngine;
}

const CODES = new Set<string>([
  'BAD_ARGUMENT',
  'CLOSED',
  'UNKNOWN_ENDPOINT',
  'UNKNOWN_CONFERENCE',
  'UNKNOWN_PLAYER',
  'UNKNOWN_RECORDER',
  'UNKNOWN_BUFFER',
  'CONFERENCE_EXISTS',
  'ALREADY_MEMBER',
  'NOT_MEMBER',
  'ALREADY_LINKED',
  'NOT_LINKED',
  'NOT_CONFIGURED',
  'PORTS_EXHAUSTED',
  'RECORDING_FAILED',
  'SYSTEM',
  'INTERNAL',
]);

function translate(err: unknown): MediaEngineError {
  if (err instanceof MediaEngineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CODES.has(code))
    return new MediaEngineError(code as MediaEngineErrorCode, message);
  // Node-API type errors (a wrong argument type that slipped past the facade's checks).
  return new MediaEngineError(err instanceof TypeError ? 'BAD_ARGUMENT' : 'INTERNAL', message);
}

function bad(message: string): never {
  throw new MediaEngineError('BAD_ARGUMENT', message);
}

function nativeRouting(r: Routing = {}): NativeRouting {
  const list = (v: 'all' | readonly number[] | undefined, what: string): number[] | null => {
    if (v === undefined || v === 'all') return null;
    if (!Array.isArray(v) || !v.every((id) => Number.isInteger(id) && id >= 0))
      bad(`${what} must be 'all' or a list of endpoint ids`);
    return [...v];
  };
  return {
    muted: r.muted ?? false,
    deaf: r.deaf ?? false,
    gain: r.gain ?? 1,
    speakTo: list(r.speakTo, 'speakTo'),
    hearFrom: list(r.hearFrom, 'hearFrom'),
  };
}

type PlayerState = 'finished' | 'stopped' | 'error';

// ───────────────────────────── the facade ─────────────────────────────

export class MediaEngine {
  readonly #native: NativeMediaEngine;
  readonly #onEvent: (event: MediaEvent) => void;
  #closed = false;
  readonly #playerWaiters = new Map<number, Array<(state: PlayerState) => void>>();
  readonly #recorderWaiters = new Map<number, Array<(durationMs: number) => void>>();

  private constructor(options: MediaEngineOptions) {
    const {
      address,
      portMin,
      portMax,
      lateTickMs = 2,
      rtpTimeoutMs = 30_000,
      ioCoalesceUs = 1000,
      realtimePriority = 0,
      sendSpreadMs = 0,
      tickSpinUs = 0,
      ioUring = true,
      onEvent,
    } = options;
    if (typeof address !== 'string') bad('address must be an IPv4 address');
    for (const [name, v] of [
      ['portMin', portMin],
      ['portMax', portMax],
    ] as const) {
      if (!Number.isInteger(v) || v < 1024 || v > 65535)
        bad(`${name} must be a port number between 1024 and 65535`);
    }
    if (portMin > portMax) bad('portMin must not be above portMax');
    if (!(lateTickMs >= 0 && lateTickMs <= 20)) bad('lateTickMs must be between 0 and 20');
    if (!Number.isInteger(rtpTimeoutMs) || rtpTimeoutMs < 0)
      bad('rtpTimeoutMs must be a non-negative integer');
    if (!Number.isInteger(ioCoalesceUs) || ioCoalesceUs < 0 || ioCoalesceUs > 10_000)
      bad('ioCoalesceUs must be an integer between 0 and 10000');
    if (!Number.isInteger(realtimePriority) || realtimePriority < 0 || realtimePriority > 99)
      bad('realtimePriority must be an integer between 0 and 99');
    if (!(typeof sendSpreadMs === 'number' && sendSpreadMs >= 0 && sendSpreadMs <= 15))
      bad('sendSpreadMs must be between 0 and 15');
    if (!Number.isInteger(tickSpinUs) || tickSpinUs < 0 || tickSpinUs > 5000)
      bad('tickSpinUs must be an integer between 0 and 5000');
    if (typeof ioUring !== 'boolean') bad('ioUring must be a boolean');
    if (typeof onEvent !== 'function') bad('onEvent must be a function');
    this.#onEvent = onEvent;
    const Ctor = nativeCtor();
    try {
      this.#native = new Ctor(
        {
          address,
          portMin,
          portMax,
          lateTickUs: Math.round(lateTickMs * 1000),
          rtpTimeoutMs,
          ioCoalesceUs,
          realtimePriority,
          sendSpreadUs: Math.round(sendSpreadMs * 1000),
          tickSpinUs,
          ioUring,
        },
        (events) => this.#dispatch(events),
      );
    } catch (err) {
      throw translate(err);
    }
  }

  /** Starts an engine (its thread runs until close()). */
  static open(options: MediaEngineOptions): MediaEngine {
    return new MediaEngine(options);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #call<T>(fn: (n: NativeMediaEngine) => T): T {
    if (this.#closed) throw new MediaEngineError('CLOSED', 'the media engine is closed');
    try {
      return fn(this.#native);
    } catch (err) {
      throw translate(err);
    }
  }

  #dispatch(events: MediaEvent[]): void {
    for (const event of events) {
      if (event.type === 'player') this.#settle(this.#playerWaiters, event.player, event.state);
      else if (event.type === 'recorder')
        this.#settle(this.#recorderWaiters, event.recorder, event.durationMs);
      try {
        this.#onEvent(event);
      } catch (err) {
        // The rest of the batch still goes out; the listener's bug is reported, not swallowed.
        process.emitWarning(`MediaEngine onEvent listener threw on ${event.type}: ${String(err)}`);
      }
    }
  }

  #settle<T>(waiters: Map<number, Array<(v: T) => void>>, id: number, value: T): void {
    const list = waiters.get(id);
    if (!list) return;
    waiters.delete(id);
    for (const resolve of list) resolve(value);
  }

  // ── endpoints ──

  /** Binds an RTP socket (and RTCP on port+1 unless `rtcpMux`). `latching`: learn the far end's real address. */
  createEndpoint(options: { latching?: boolean; rtcpMux?: boolean } = {}): { id: number; port: number } {
    return this.#call((n) => n.createEndpoint(options?.latching === true, options?.rtcpMux === true));
  }

  configureEndpoint(id: number, config: EndpointConfig): void {
    this.#call((n) => {
      const { remote, send, receive, direction } = config;
      if (!remote || !send || !receive) bad('configureEndpoint needs remote, send and receive');
      if (send.ptime !== undefined && send.ptime !== 20) bad('only 20 ms packets are sent (ptime 20)');
      const payloadTypes = Object.entries(receive.payloadTypes ?? {}).map(([pt, spec]) => [
        Number(pt),
        spec.codec,
        spec.rate,
      ]);
      const cfg: Record<string, unknown> = {
        remoteAddress: remote.address,
        remotePort: remote.port,
        sendCodec: send.codec,
        sendPayloadType: send.payloadType,
        payloadTypes,
        direction,
      };
      if (remote.rtcpPort !== undefined) cfg.remoteRtcpPort = remote.rtcpPort;
      if (send.rate !== undefined) cfg.sendRate = send.rate;
      if (receive.telephoneEvent) {
        cfg.telephoneEventPayloadType = receive.telephoneEvent.payloadType;
        cfg.telephoneEventRate = receive.telephoneEvent.rate;
      }
      n.configureEndpoint(id, cfg);
    });
  }

  /** Closes the sockets; its players stop and its recordings close (recorder events follow). */
  destroyEndpoint(id: number): void {
    this.#call((n) => n.destroyEndpoint(id));
  }

  /** Sends one RFC 4733 key (needs a negotiated telephone-event payload type). */
  sendDtmf(endpoint: number, digit: string, durationMs = 100): void {
    this.#call((n) => n.sendDtmf(endpoint, digit, durationMs));
  }

  // ── conferences ──

  createConference(id: string, options: { rate: 8000 | 16000 | 48000; loudest?: number }): void {
    this.#call((n) => n.createConference(id, options.rate, options.loudest ?? 3));
  }

  destroyConference(id: string): void {
    this.#call((n) => n.destroyConference(id));
  }

  join(conference: string, endpoint: number, routing: Routing = {}): void {
    this.#call((n) => n.join(conference, endpoint, nativeRouting(routing ?? {})));
  }

  updateRouting(conference: string, endpoint: number, routing: Routing): void {
    this.#call((n) => n.updateRouting(conference, endpoint, nativeRouting(routing ?? {})));
  }

  leave(conference: string, endpoint: number): void {
    this.#call((n) => n.leave(conference, endpoint));
  }

  /** `a` becomes a participant of `b` and back: `out` = b hears a, `in` = a hears b, `both`. */
  link(a: string, b: string, direction: LinkDirection = 'both'): void {
    this.#call((n) => n.link(a, b, direction));
  }

  unlink(a: string, b: string): void {
    this.#call((n) => n.unlink(a, b));
  }

  // ── players and recorders ──

  /**
   * Plays PCM to one endpoint or into a conference's mix; returns the player id. An Int16Array
   * (with its rate) is copied for this play; a PcmBuffer is shared by all its plays.
   */
  play(
    target: PlayTarget,
    pcm: Int16Array | PcmBuffer,
    rate: number,
    options: { loop?: boolean } = {},
  ): number {
    return this.#call((n) => {
      let source: Int16Array | number;
      if (pcm instanceof Int16Array) source = pcm;
      else if (pcm && typeof pcm.id === 'number') source = pcm.id;
      else return bad('pcm must be an Int16Array or a PcmBuffer');
      const loop = options?.loop === true;
      if ('endpoint' in target) return n.playToEndpoint(target.endpoint, source, rate, loop);
      if ('conference' in target) return n.playToConference(target.conference, source, rate, loop);
      return bad('play target must name an endpoint or a conference');
    });
  }

  /** Copies PCM into the engine once, for prompts played to many endpoints or many times. */
  createBuffer(pcm: Int16Array, rate: number): PcmBuffer {
    return this.#call((n) => {
      if (!(pcm instanceof Int16Array)) bad('pcm must be an Int16Array');
      const id = n.createBuffer(pcm, rate);
      return { id, rate, durationMs: (pcm.length * 1000) / rate };
    });
  }

  /** Forgets a buffer; players still playing it finish normally. */
  releaseBuffer(buffer: PcmBuffer): void {
    this.#call((n) => n.releaseBuffer(buffer.id));
  }

  stopPlayer(id: number): void {
    this.#call((n) => n.stopPlayer(id));
  }

  /** Resolves when the player ends; ask right after play() (an ended player is forgotten). Close resolves `stopped`. */
  playerDone(id: number): Promise<PlayerState> {
    return new Promise((resolve) => {
      const list = this.#playerWaiters.get(id) ?? [];
      list.push(resolve);
      this.#playerWaiters.set(id, list);
    });
  }

  /**
   * Records to a WAV file: a conference's whole mix (players included), or one endpoint's
   * incoming audio (`in`), what it is sent (`out`), or both as stereo (left in, right out).
   */
  record(target: RecordTarget, path: string, options: { direction?: 'in' | 'out' | 'both' } = {}): number {
    return this.#call((n) => {
      if (typeof path !== 'string' || path === '') bad('record needs a file path');
      if ('conference' in target) return n.recordConference(target.conference, path);
      if ('endpoint' in target) return n.recordEndpoint(target.endpoint, path, options?.direction ?? 'in');
      return bad('record target must name an endpoint or a conference');
    });
  }

  /** Closes the file; returns its duration in ms. */
  stopRecorder(id: number): number {
    return this.#call((n) => n.stopRecorder(id));
  }

  /** Resolves with the duration when the recording closes for any reason (0 when the engine closed). */
  recorderDone(id: number): Promise<number> {
    return new Promise((resolve) => {
      const list = this.#recorderWaiters.get(id) ?? [];
      list.push(resolve);
      this.#recorderWaiters.set(id, list);
    });
  }

  // ── stats ──

  endpointStats(id: number): EndpointStats {
    return this.#call((n) => n.endpointStats(id));
  }

  /**
   * Starts a new window of the arrival statistics (EndpointStats.arrival) of one endpoint, or of
   * every endpoint at the same instant when no id is given.
   */
  resetArrival(endpoint?: number): void {
    this.#call((n) => (endpoint === undefined ? n.resetArrival() : n.resetArrival(endpoint)));
  }

  conferenceStats(id: string): ConferenceStats {
    return this.#call((n) => n.conferenceStats(id));
  }

  engineStats(): EngineStats {
    return this.#call((n) => n.stats());
  }

  /** Stops the engine thread and closes every socket and recording. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
    for (const list of this.#playerWaiters.values()) for (const resolve of list) resolve('stopped');
    this.#playerWaiters.clear();
    // The engine closed the files itself; their length is no longer known to anyone waiting.
    for (const list of this.#recorderWaiters.values()) for (const resolve of list) resolve(0);
    this.#recorderWaiters.clear();
  }
}
