/** JSON views of conferences and participants, and their schemas for the OpenAPI document. */
import type { ConferenceActor, Member } from '../runtime/conference/actor.js';
import type { ApiBackend } from './backend.js';
import type { EventHub } from './event-hub.js';

export interface ParticipantView {
  id: string;
  caller: string;
  role: string;
  joinedAt: string | null;
  muted: boolean;
  deaf: boolean;
  gain: number;
  talking: boolean;
  /** dBov; null without media figures. */
  level: number | null;
  codec: string | null;
  packetsLost: number | null;
  jitterMs: number | null;
  /** Configuration version current when it joined. */
  version: string | null;
}

export interface ConferenceView {
  name: string;
  document: string;
  startedAt: string | null;
  version: string | null;
  locked: boolean;
  participants: ParticipantView[];
}

export function participantView(
  conf: ConferenceActor,
  m: Member,
  backend: ApiBackend,
  hub: EventHub,
): ParticipantView {
  const state = hub.participants.get(m.id);
  const media = backend.legMedia(m.id);
  return {
    id: m.id,
    caller: m.participant.from,
    role: m.role,
    joinedAt: state?.conference === conf.name ? state.joinedAt.toISOString() : null,
    muted: m.muted,
    deaf: m.deaf,
    gain: m.gain ?? 1,
    talking: state?.talking ?? media?.talking ?? false,
    level: media ? Math.round(media.level * 10) / 10 : null,
    codec: media?.codec ?? null,
    packetsLost: media?.lost ?? null,
    jitterMs: media ? Math.round(media.jitterMs * 10) / 10 : null,
    version: state?.version ?? null,
  };
}

export function conferenceView(conf: ConferenceActor, backend: ApiBackend, hub: EventHub): ConferenceView {
  const state = hub.conferences.get(conf.name);
  return {
    name: conf.name,
    document: conf.doc.name,
    startedAt: state?.startedAt.toISOString() ?? null,
    version: state?.version ?? null,
    locked: conf.locked,
    participants: conf.members().map((m) => participantView(conf, m, backend, hub)),
  };
}

const nullable = (type: string) => ({ type: [type, 'null'] });

export const participantSchema = {
  $id: 'Participant',
  type: 'object',
  required: ['id', 'caller', 'role', 'muted', 'deaf', 'talking'],
  properties: {
    id: { type: 'string', description: 'Call leg id' },
    caller: { type: 'string', description: 'From address (user@host)' },
    role: { type: 'string' },
    joinedAt: { ...nullable('string'), format: 'date-time' },
    muted: { type: 'boolean' },
    deaf: { type: 'boolean' },
    gain: { type: 'number' },
    talking: { type: 'boolean' },
    level: { ...nullable('number'), description: 'dBov of the last frame heard' },
    codec: nullable('string'),
    packetsLost: nullable('integer'),
    jitterMs: nullable('number'),
    version: nullable('string'),
  },
} as const;

export const conferenceSchema = {
  $id: 'Conference',
  type: 'object',
  required: ['name', 'document', 'locked', 'participants'],
  properties: {
    name: { type: 'string' },
    document: { type: 'string', description: 'Name (or pattern) of the conference document serving it' },
    startedAt: { ...nullable('string'), format: 'date-time' },
    version: { ...nullable('string'), description: 'Configuration version it started under' },
    locked: { type: 'boolean' },
    participants: { type: 'array', items: { $ref: 'Participant#' } },
  },
} as const;
