/**
 * What the HTTP API needs from a running server. `ParleyServer` provides it for
 * real; tests provide it around a runtime on simulated ports. The API reaches
 * calls and conferences only through the runtime's public control surface.
 */
import type { ConfigStore } from '../runtime/config-store.js';
import type { Runtime } from '../runtime/runtime.js';

/** Media figures of one call leg, from the engine's endpoint statistics. */
export interface LegMedia {
  codec: string;
  /** dBov of the last frame heard from the leg. */
  level: number;
  talking: boolean;
  packetsIn: number;
  packetsOut: number;
  lost: number;
  jitterMs: number;
}

/** Engine-wide figures for metrics. */
export interface EngineFigures {
  ticks: number;
  lateTicks: number;
  /** Late ticks by what held them up (EngineStats.lateTicksBy); they add up to lateTicks. */
  lateTicksBy: { overrun: number; wake: number; lock: number };
  tickWorkLastUs: number;
  tickWorkMaxUs: number;
  endpoints: number;
  conferences: number;
  packetsIn: number;
  packetsOut: number;
  lost: number;
  /** Mean jitter over endpoints with traffic, in ms. */
  jitterMs: number;
}

export interface ApiBackend {
  readonly runtime: Runtime;
  readonly config: ConfigStore;
  /** Folder recordings are written to (absolute). */
  readonly recordingsDir: string;
  legMedia(legId: string): LegMedia | undefined;
  engineFigures(): EngineFigures | undefined;
  /** False while starting or stopping: /readyz answers 503. */
  ready(): boolean;
}
