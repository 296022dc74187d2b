/**
 * A running Parley server: the compiled configuration, the media engine, the SIP
 * server and the runtime, wired together. `parley serve` builds one from its flags;
 * tests build one on loopback with free ports.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ControlPlane, type HttpOptions } from '../../api/control-plane.js';
import { compilePaths, type Diagnostic } from '../../compiler/index.js';
import type { CompiledSet } from '../../compiler/ir.js';
import { PromptLibrary } from '../../media/prompt-library.js';
import { EspeakTts, type TtsEngine } from '../../media/tts.js';
import type { SipLimits } from '../../sip/guard/limits.js';
import type { InboundCall } from '../../sip/inbound.js';
import type { CodecPref } from '../../sip/sdp.js';
import { SipServer } from '../../sip/server.js';
import type { TlsOptions } from '../../sip/transport.js';
import { RealClock } from '../clock.js';
import { celExpressions } from '../expressions.js';
import type { EventSink, Logger, RuntimeEvent } from '../ports.js';
import { Runtime } from '../runtime.js';
import { openMediaEngine } from './engine-adapter.js';
import { EngineMediaPort } from './engine-media.js';
import type { MediaEngineApi } from './media-api.js';
import { staticSpeech } from './prewarm.js';
import { SipDialer } from './sip-dialer.js';
import { bareAddress, SipCallLeg, userPart } from './sip-leg.js';

export interface ServerOptions {
  /** Configuration files or folders (as `parley validate` takes them). */
  config: string[];
  /** Folder prompt files are relative to; default: the first config path (or its folder). */
  root?: string;
  sip: {
    address: string;
    /** Default 5060; 0 = any free port. */
    udpPort?: number;
    /** Default 5060; 0 = any free port; false = no TCP. */
    tcpPort?: number | false;
    /** SIP over TLS: port (conventionally 5061), certificate and key; absent = no TLS. */
    tls?: TlsOptions;
    /** DNS servers for locating dial-out destinations (NAPTR, SRV, A); default: the system's. */
    dnsServers?: string[];
    /** Address written into Via/Contact when `address` is a wildcard. */
    advertise?: string;
    /** Rate limits, caps and timeouts of the SIP side (src/sip/guard/limits.ts); defaults apply. */
    limits?: Partial<SipLimits>;
  };
  rtp: {
    address: string;
    portMin: number;
    portMax: number;
    /** Address written into SDP; default `address` (required when that is a wildcard). */
    advertise?: string;
    /** Symmetric RTP (learn the far end's address from its first valid packets). Default false. */
    latching?: boolean;
    /** Real-time (SCHED_FIFO) priority of the engine thread, 1–99; 0 (default) leaves it at normal priority. */
    realtimePriority?: number;
    /** Spread of each tick's outgoing RTP, ms (MediaEngineOptions.sendSpreadMs); default 0. */
    sendSpreadMs?: number;
    /** Spin before each tick, µs (MediaEngineOptions.tickSpinUs); default 0. */
    tickSpinUs?: number;
    /** Seconds without RTP before a call is ended; 0 disables. Default 30. */
    timeoutSeconds?: number;
  };
  /** Where recordings are written; created when missing. */
  recordings: string;
  codecs?: readonly CodecPref[];
  logger: Logger;
  /** Another TTS engine (tests may pass a faster one); default espeak-ng. */
  tts?: TtsEngine;
  /** Observes every runtime event (the API's event stream and metrics attach here). */
  onEvent?: (event: RuntimeEvent) => void;
  /** The HTTP API (src/api); absent = none. */
  http?: HttpOptions;
  /** Reload the configuration when its files change (hot reload). */
  watch?: boolean;
}

export class ConfigError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super(
      `the configuration is not valid (${errors.length} error${errors.length === 1 ? '' : 's'}):\n${errors
        .slice(0, 20)
        .map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** How long a stop waits for calls to end and SIP to close before going on. */
const STOP_WAIT_MS = 5000;

function wildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

export class ParleyServer {
  private nextCall = 1;
  private closing = false;
  /** Configuration versions and reload, and the HTTP API when asked for. */
  control: ControlPlane | undefined;

  private constructor(
    readonly set: CompiledSet,
    readonly runtime: Runtime,
    readonly sip: SipServer,
    readonly media: EngineMediaPort,
    private readonly engine: MediaEngineApi,
    private readonly tts: TtsEngine,
    private readonly logger: Logger,
    private readonly rtp: { advertise: string; latching: boolean; codecs?: readonly CodecPref[] },
  ) {}

  /** Compiles the configuration and starts listening; rejects with ConfigError or a bind error. */
  static async start(options: ServerOptions): Promise<ParleyServer> {
    const compiled = compilePaths(options.config, options.root ? { root: options.root } : {});
    if (!compiled.set) throw new ConfigError(compiled.diagnostics);
    const set = compiled.set;
    const logger = options.logger;
    const rtpAdvertise = options.rtp.advertise ?? options.rtp.address;
    if (wildcard(rtpAdvertise))
      throw new Error(
        `RTP binds ${options.rtp.address}: give the address to advertise in SDP (--rtp-advertise)`,
      );
    if (wildcard(options.sip.advertise ?? options.sip.address))
      throw new Error(`SIP binds ${options.sip.address}: give the address to advertise (--sip-advertise)`);
    mkdirSync(options.recordings, { recursive: true });

    let port: EngineMediaPort | undefined;
    const engine = openMediaEngine(
      {
        address: options.rtp.address,
        portMin: options.rtp.portMin,
        portMax: options.rtp.portMax,
        rtpTimeoutMs: (options.rtp.timeoutSeconds ?? 30) * 1000,
        realtimePriority: options.rtp.realtimePriority ?? 0,
        sendSpreadMs: options.rtp.sendSpreadMs ?? 0,
        tickSpinUs: options.rtp.tickSpinUs ?? 0,
      },
      (event) => port?.onEngineEvent(event),
    );
    const tts = options.tts ?? new EspeakTts();
    const root = options.root ?? configRoot(options.config);
    const prompts = new PromptLibrary({ root, tts });
    port = new EngineMediaPort(engine, prompts, path.resolve(options.recordings), logger);
    const media = port;

    let sip: SipServer;
    try {
      sip = await SipServer.listen({
        address: options.sip.address,
        ...(options.sip.advertise ? { advertise: options.sip.advertise } : {}),
        udpPort: options.sip.udpPort ?? 5060,
        tcpPort: options.sip.tcpPort ?? 5060,
        ...(options.sip.tls ? { tls: options.sip.tls } : {}),
        ...(options.sip.dnsServers?.length ? { dnsServers: options.sip.dnsServers } : {}),
        ...(options.sip.limits ? { limits: options.sip.limits } : {}),
        logger,
        ...(options.codecs ? { mediaPrefs: options.codecs } : {}),
      });
    } catch (err) {
      engine.close();
      await tts.close();
      throw err;
    }
    const rtp = {
      advertise: rtpAdvertise,
      latching: options.rtp.latching ?? false,
      ...(options.codecs ? { codecs: options.codecs } : {}),
    };
    let control: ControlPlane | undefined;
    const events: EventSink = {
      emit: (event) => {
        control?.ingest(event);
        logger.debug({ source: event.source, type: event.type, ...event.fields }, 'event');
        media.journal.observe(event);
        options.onEvent?.(event);
      },
    };
    const runtime = new Runtime(set, {
      clock: new RealClock(),
      logger,
      media,
      calls: new SipDialer(sip, engine, rtp, logger, media.trackLeg),
      events,
      expressions: celExpressions,
    });
    const server = new ParleyServer(set, runtime, sip, media, engine, tts, logger, rtp);
    sip.onInvite((call) => server.onInvite(call));
    // Speak every fixed sentence once now, in the background: the first caller then hears
    // prompts at once instead of after the speech engine's start-up.
    const speech = staticSpeech(set);
    void Promise.allSettled(
      speech.map((s) => prompts.load({ kind: 'tts', ...s }, { background: true })),
    ).then((results) => {
      const failed = results.filter((r) => r.status === 'rejected').length;
      logger.info({ prompts: speech.length, failed }, 'speech prompts prepared');
    });
    try {
      control = await ControlPlane.start({
        paths: options.config,
        ...(options.root !== undefined ? { root: options.root } : {}),
        initial: set,
        runtime,
        engine,
        recordings: path.resolve(options.recordings),
        logger,
        ready: () => !server.closing,
        ...(options.http ? { http: options.http } : {}),
        ...(options.watch ? { watch: true } : {}),
      });
      server.control = control;
    } catch (err) {
      await server.stop('control plane failed').done;
      throw err;
    }
    logger.info(
      {
        version: set.version,
        sip: `${options.sip.address}:${sip.udpPort}`,
        rtp: `${options.rtp.address}:${options.rtp.portMin}-${options.rtp.portMax}`,
        conferences: set.conferences.length,
      },
      'parley serving',
    );
    return server;
  }

  private onInvite(call: InboundCall): void {
    if (this.closing) {
      call.reject(503, 'Service Unavailable');
      return;
    }
    const id = `c${this.nextCall++}`;
    const leg = new SipCallLeg(
      id,
      call,
      this.engine,
      this.rtp,
      this.logger,
      this.media.trackLeg,
      {
        from: bareAddress(call.from),
        to: userPart(call.requestUri),
        source: call.source.address,
        transport: call.transport.toLowerCase(),
        headers: call.headers,
      },
      'inbound',
    );
    this.logger.info(
      { call: id, callId: call.callId, from: leg.info.from, to: leg.info.to },
      'incoming call',
    );
    void this.runtime.acceptCall(leg);
  }

  /**
   * Graceful stop: new calls get 503 at once; calls in progress may finish on their
   * own for up to `drainMs`; then every conference and call is ended (recordings
   * closed and their sidecars completed) and the sockets and the engine are closed.
   * `force()` on the returned object cuts the drain short (a second Ctrl-C).
   */
  stop(reason = 'shutdown', drainMs = 0): { done: Promise<void>; force: () => void } {
    let force = () => {};
    const forced = new Promise<void>((resolve) => {
      force = resolve;
    });
    this.stopping ??= this.shutdown(reason, drainMs, forced);
    return { done: this.stopping, force };
  }

  private stopping: Promise<void> | undefined;

  private async shutdown(reason: string, drainMs: number, forced: Promise<void>): Promise<void> {
    this.closing = true;
    this.sip.refuseNewCalls(503, 'Service Unavailable');
    if (drainMs > 0 && this.runtime.flowSessions().length > 0) {
      this.logger.info({ calls: this.runtime.flowSessions().length, drainMs }, 'draining calls');
      let timer: NodeJS.Timeout | undefined;
      let poll: NodeJS.Timeout | undefined;
      await Promise.race([
        forced,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, drainMs);
          poll = setInterval(() => {
            if (this.runtime.flowSessions().length === 0) resolve();
          }, 200);
        }),
      ]);
      clearTimeout(timer);
      clearInterval(poll);
    }
    // Ending calls sends BYEs; a peer that never answers (or never ACKed our 200) would hold the
    // stop for a whole transaction timeout (32 s). Recordings are closed first either way.
    const bounded = <T>(work: Promise<T>, what: string): Promise<unknown> =>
      Promise.race([
        work.catch((err: unknown) => this.logger.error({ err: String(err) }, `${what} failed`)),
        new Promise((resolve) =>
          setTimeout(() => {
            this.logger.warn({ seconds: STOP_WAIT_MS / 1000 }, `${what}: not finished, stopping anyway`);
            resolve(undefined);
          }, STOP_WAIT_MS).unref(),
        ),
      ]);
    await bounded(this.runtime.shutdown(reason), 'ending calls');
    await bounded(this.sip.close(), 'closing SIP');
    this.engine.close();
    await this.tts.close();
    await this.control?.close();
    this.logger.info({ reason }, 'parley stopped');
  }
}

function configRoot(paths: string[]): string {
  const first = paths[0] ?? '.';
  return /\.ya?ml$/i.test(first) ? path.dirname(first) : first;
}
