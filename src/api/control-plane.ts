/**
 * The control plane of a live server: the configuration store (versions, hot
 * reload, file watching) and the HTTP API over the runtime and the media engine.
 * `ParleyServer` starts one; this module keeps that wiring out of the server.
 */
import type { CompiledSet } from '../compiler/ir.js';
import { ConfigStore } from '../runtime/config-store.js';
import type { MediaEngineApi } from '../runtime/live/media-api.js';
import { SipCallLeg } from '../runtime/live/sip-leg.js';
import type { Logger, RuntimeEvent } from '../runtime/ports.js';
import type { Runtime } from '../runtime/runtime.js';
import { ParleyApi } from './app.js';
import type { ApiBackend, EngineFigures, LegMedia } from './backend.js';
import type { ApiToken } from './tokens.js';

export interface HttpOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  tokens: readonly ApiToken[];
  /** No authentication: refused unless `host` is a loopback address. */
  anonymous?: boolean;
  rateLimitPerMinute?: number;
}

export interface ControlPlaneOptions {
  paths: string[];
  root?: string;
  initial: CompiledSet;
  runtime: Runtime;
  engine: MediaEngineApi;
  recordings: string;
  logger: Logger;
  ready: () => boolean;
  http?: HttpOptions;
  /** Reload when a YAML file under `paths` changes. */
  watch?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export class ControlPlane {
  api: ParleyApi | undefined;
  /** Where the API listens, once it does. */
  address: { host: string; port: number } | undefined;

  private constructor(readonly config: ConfigStore) {}

  static async start(o: ControlPlaneOptions): Promise<ControlPlane> {
    if (o.http?.anonymous && !LOOPBACK.has(o.http.host))
      throw new Error(`the HTTP API without tokens may only listen on loopback, not ${o.http.host}`);
    if (o.http && !o.http.anonymous && o.http.tokens.length === 0)
      throw new Error(
        'the HTTP API needs a token: give --http-token TOKEN[:read,control] or PARLEY_TOKENS, ' +
          'or --http none to run without the API (--http-insecure only on 127.0.0.1 for development)',
      );
    let plane: ControlPlane | undefined;
    const config = ConfigStore.load({
      paths: o.paths,
      initial: o.initial,
      logger: o.logger,
      ...(o.root !== undefined ? { root: o.root } : {}),
      onSwap: (next) => o.runtime.updateSet(next.set),
      onResult: (r) => plane?.api?.reloaded(r),
    });
    plane = new ControlPlane(config);
    try {
      if (o.watch) await config.watch();
      if (o.http) {
        const backend = liveBackend(o, config);
        plane.api = await ParleyApi.create({
          backend,
          tokens: o.http.tokens,
          anonymous: o.http.anonymous ?? false,
          logger: o.logger,
          ...(o.http.rateLimitPerMinute !== undefined
            ? { rateLimitPerMinute: o.http.rateLimitPerMinute }
            : {}),
        });
        plane.address = await plane.api.listen(o.http.host, o.http.port);
        o.logger.info({ http: `${plane.address.host}:${plane.address.port}` }, 'HTTP API listening');
      }
    } catch (err) {
      await plane.close();
      throw err;
    }
    return plane;
  }

  ingest(e: RuntimeEvent): void {
    this.api?.ingest(e);
  }

  async close(): Promise<void> {
    await this.api?.close();
    await this.config.close();
  }
}

function liveBackend(o: ControlPlaneOptions, config: ConfigStore): ApiBackend {
  const { runtime, engine } = o;
  const endpointOf = (legId: string): number | undefined => {
    const leg = runtime.flowSession(legId)?.leg;
    return leg instanceof SipCallLeg ? leg.endpoint : undefined;
  };
  return {
    runtime,
    config,
    recordingsDir: o.recordings,
    ready: o.ready,
    legMedia(legId): LegMedia | undefined {
      const ep = endpointOf(legId);
      if (ep === undefined || !engine.endpointStats) return undefined;
      try {
        const s = engine.endpointStats(ep);
        return {
          codec: s.codec,
          level: s.level,
          talking: s.talking,
          packetsIn: s.packetsIn,
          packetsOut: s.packetsOut,
          lost: s.lost,
          jitterMs: s.jitterMs,
        };
      } catch {
        // The endpoint went away between the lookup and the call.
        return undefined;
      }
    },
    engineFigures(): EngineFigures | undefined {
      if (!engine.stats || !engine.endpointStats) return undefined;
      const e = engine.stats();
      let packetsIn = 0;
      let packetsOut = 0;
      let lost = 0;
      let jitter = 0;
      let withTraffic = 0;
      for (const f of runtime.flowSessions()) {
        const ep = f.leg instanceof SipCallLeg ? f.leg.endpoint : undefined;
        if (ep === undefined) continue;
        try {
          const s = engine.endpointStats(ep);
          packetsIn += s.packetsIn;
          packetsOut += s.packetsOut;
          lost += s.lost;
          if (s.packetsIn > 0) {
            jitter += s.jitterMs;
            withTraffic++;
          }
        } catch {
          // Gone meanwhile.
        }
      }
      return {
        ticks: e.ticks,
        lateTicks: e.lateTicks,
        lateTicksBy: { ...e.lateTicksBy },
        tickWorkLastUs: e.tickWorkLastUs,
        tickWorkMaxUs: e.tickWorkMaxUs,
        endpoints: e.endpoints,
        conferences: e.conferences,
        packetsIn,
        packetsOut,
        lost,
        jitterMs: withTraffic > 0 ? jitter / withTraffic : 0,
      };
    },
  };
}
