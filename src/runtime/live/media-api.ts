/**
 * What the live runtime needs of the media engine's TypeScript facade
 * (`src/media/engine.ts`). Kept as one narrow interface so the adapters can be
 * tested against a recording double and so the facade may grow without touching them.
 */
import type { EndpointStats, EngineStats } from '../../media/engine.js';
import type { CodecName } from '../../media/index.js';

export type EndpointDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface EndpointMediaConfig {
  remote: { address: string; port: number; rtcpPort?: number };
  send: { codec: CodecName; payloadType: number; rate?: number; ptime?: number };
  receive: {
    payloadTypes: Record<number, { codec: CodecName; rate: number }>;
    telephoneEvent?: { payloadType: number; rate: number };
  };
  direction: EndpointDirection;
}

export interface EngineRouting {
  muted: boolean;
  deaf: boolean;
  /** Endpoint ids; null = everyone. */
  speakTo: number[] | null;
  hearFrom: number[] | null;
  /** Absent = 1. */
  gain?: number;
}

export type EngineEvent =
  | { type: 'dtmf'; endpoint: number; digit: string; durationMs: number }
  | { type: 'talking'; endpoint: number; talking: boolean; level: number }
  | { type: 'player'; player: number; state: 'finished' | 'stopped' | 'error'; error?: string }
  | { type: 'rtp-timeout'; endpoint: number }
  | { type: 'recorder'; recorder: number; state: string; durationMs?: number; error?: string }
  | { type: 'source-latched'; endpoint: number; address: string; port: number };

export type PlayTarget = { endpoint: number } | { conference: string };
export type RecordTarget = { conference: string } | { endpoint: number; direction: 'in' | 'out' | 'both' };

export interface MediaEngineApi {
  createEndpoint(options: { latching: boolean; rtcpMux: boolean }): { id: number; port: number };
  configureEndpoint(id: number, config: EndpointMediaConfig): void;
  destroyEndpoint(id: number): void;
  createConference(name: string, options: { rate: number; loudest: number }): void;
  destroyConference(name: string): void;
  join(conference: string, endpoint: number, routing: EngineRouting): void;
  updateRouting(conference: string, endpoint: number, routing: EngineRouting): void;
  leave(conference: string, endpoint: number): void;
  play(target: PlayTarget, pcm: Int16Array, rate: number, options: { loop: boolean }): number;
  stopPlayer(id: number): void;
  record(target: RecordTarget, path: string): number;
  /** Closes the file; resolves with its duration. */
  stopRecorder(id: number): number;
  link(a: string, b: string, direction: 'both' | 'in' | 'out'): void;
  unlink(a: string, b: string): void;
  sendDtmf(endpoint: number, digit: string, durationMs: number): void;
  /** Figures for the API and metrics (optional: test doubles may leave them out). */
  endpointStats?(endpoint: number): EndpointStats;
  stats?(): EngineStats;
  close(): void;
}
