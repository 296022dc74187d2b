/** What every route module gets: the backend, the event hub, the webhooks and the API's own recordings. */
import type { RecordingHandle } from '../runtime/ports.js';
import type { ApiBackend } from './backend.js';
import type { EventHub } from './event-hub.js';
import type { Webhooks } from './webhooks.js';

export interface ApiRecording {
  id: string;
  conference: string;
  participant?: string;
  direction: 'in' | 'out' | 'both';
  handle: RecordingHandle;
  startedAt: Date;
}

export interface ApiContext {
  backend: ApiBackend;
  hub: EventHub;
  webhooks: Webhooks;
  /** Recordings started over the API, until stopped or closed. */
  recordings: Map<string, ApiRecording>;
  /** How long a session request waits for the flow's `respond`. */
  sessionTimeoutMs: number;
}

/** Route option `config.scope`: which token scope a route needs; absent = open. */
declare module 'fastify' {
  interface FastifyContextConfig {
    scope?: 'read' | 'control';
  }
}
