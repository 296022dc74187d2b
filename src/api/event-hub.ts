/**
 * The API's event stream: runtime events (transcript vocabulary, see
 * src/runtime/sim/transcript.ts) turned into typed events for clients
 * (SSE, WebSocket, webhooks, the web page), numbered in order, with a bounded
 * backlog for reconnecting clients (`Last-Event-ID`).
 *
 * It also keeps what the runtime does not: when a conference started and under
 * which configuration version, when each participant joined and whether it
 * is talking.
 */
import type { EventField, RuntimeEvent } from '../runtime/ports.js';

export const EVENT_TYPES = [
  'conference.started',
  'conference.ended',
  'participant.joined',
  'participant.left',
  'participant.muted',
  'participant.deaf',
  'participant.talking',
  'dtmf',
  'recording.started',
  'recording.finished',
  'config.reloaded',
  'config.refused',
] as const;

export type ApiEventType = (typeof EVENT_TYPES)[number];

export interface ApiEvent {
  /** Increasing from 1 within one server run. */
  id: number;
  /** ISO 8601. */
  time: string;
  type: ApiEventType;
  conference?: string;
  participant?: string;
  data: Record<string, EventField>;
}

export interface EventFilter {
  conference?: string;
  types?: ReadonlySet<string>;
}

export function matchesFilter(e: ApiEvent, f: EventFilter): boolean {
  if (f.conference !== undefined && e.conference !== f.conference) return false;
  if (f.types && !f.types.has(e.type)) return false;
  return true;
}

export interface ParticipantState {
  joinedAt: Date;
  talking: boolean;
  conference: string;
  /** Configuration version current when the participant joined. */
  version: string;
}

export interface ConferenceState {
  startedAt: Date;
  version: string;
}

export interface EventHubOptions {
  /** Which conference a call leg is in now (for talking and DTMF events). */
  conferenceOf: (legId: string) => string | undefined;
  callerOf: (legId: string) => string | undefined;
  /** The configuration version now (stamped on conferences and participants). */
  version: () => string;
  /** Absolute path of a recording file (names in runtime events are relative to the recordings folder). */
  recordingPath: (file: string) => string;
  backlog?: number;
  now?: () => Date;
}

type Listener = (e: ApiEvent) => void;

const conferenceSource = /^conference:(.+)$/;
const callSource = /^call:(.+)$/;

export class EventHub {
  private seq = 0;
  private readonly backlog: ApiEvent[] = [];
  private readonly listeners = new Set<{ filter: EventFilter; fn: Listener }>();
  readonly participants = new Map<string, ParticipantState>();
  readonly conferences = new Map<string, ConferenceState>();
  /** Counts of runtime events by type (metrics read these). */
  readonly counts = new Map<string, number>();
  private readonly opts: EventHubOptions;

  constructor(opts: EventHubOptions) {
    this.opts = opts;
  }

  /** Takes one runtime event; never throws (a bad listener is dropped from the call, not the stream). */
  ingest(e: RuntimeEvent): void {
    this.counts.set(e.type, (this.counts.get(e.type) ?? 0) + 1);
    const conf = conferenceSource.exec(e.source)?.[1];
    const leg = callSource.exec(e.source)?.[1];
    const f = e.fields;
    if (conf !== undefined) this.fromConference(conf, e.type, f);
    else if (leg !== undefined) this.fromCall(leg, e.type, f);
  }

  private fromConference(conf: string, type: string, f: Record<string, EventField>): void {
    const participant = typeof f.participant === 'string' ? f.participant : undefined;
    switch (type) {
      case 'started':
        this.conferences.set(conf, { startedAt: this.now(), version: this.opts.version() });
        this.publish('conference.started', { conference: conf }, {});
        return;
      case 'end':
        this.publish('conference.ended', { conference: conf }, { reason: f.reason ?? 'ended' });
        this.conferences.delete(conf);
        return;
      case 'joined':
        if (participant === undefined) return;
        this.participants.set(participant, {
          joinedAt: this.now(),
          talking: false,
          conference: conf,
          version: this.opts.version(),
        });
        this.publish(
          'participant.joined',
          { conference: conf, participant },
          {
            caller: this.opts.callerOf(participant) ?? '',
            role: f.role ?? 'participant',
            muted: f.muted ?? false,
            deaf: f.deaf ?? false,
            participants: f.participants ?? 0,
          },
        );
        return;
      case 'left':
        if (participant === undefined) return;
        if (this.participants.get(participant)?.conference === conf) this.participants.delete(participant);
        this.publish(
          'participant.left',
          { conference: conf, participant },
          { reason: f.reason ?? 'leave', participants: f.participants ?? 0 },
        );
        return;
      case 'mute':
      case 'unmute':
        if (participant !== undefined)
          this.publish('participant.muted', { conference: conf, participant }, { muted: type === 'mute' });
        return;
      case 'deaf':
      case 'undeaf':
        if (participant !== undefined)
          this.publish('participant.deaf', { conference: conf, participant }, { deaf: type === 'deaf' });
        return;
      case 'record':
        this.publish(
          'recording.started',
          { conference: conf, ...(participant !== undefined ? { participant } : {}) },
          {
            file: f.file ?? '',
            path: this.opts.recordingPath(String(f.file ?? '')),
            what: f.what ?? 'conference',
            direction: f.direction ?? 'in',
          },
        );
        return;
      case 'recorded':
        this.publish(
          'recording.finished',
          { conference: conf },
          {
            file: f.file ?? '',
            path: this.opts.recordingPath(String(f.file ?? '')),
            duration: f.duration ?? 0,
          },
        );
        return;
    }
  }

  private fromCall(leg: string, type: string, f: Record<string, EventField>): void {
    if (type === 'talking' || type === 'silent') {
      const state = this.participants.get(leg);
      const talking = type === 'talking';
      if (state) state.talking = talking;
      const conf = state?.conference ?? this.opts.conferenceOf(leg);
      this.publish(
        'participant.talking',
        { ...(conf !== undefined ? { conference: conf } : {}), participant: leg },
        { talking },
      );
    } else if (type === 'dtmf') {
      const conf = this.participants.get(leg)?.conference ?? this.opts.conferenceOf(leg);
      this.publish(
        'dtmf',
        { ...(conf !== undefined ? { conference: conf } : {}), participant: leg },
        { digit: f.digit ?? '' },
      );
    }
  }

  /** Adds an event of the API's own (configuration reloads). */
  publish(
    type: ApiEventType,
    about: { conference?: string; participant?: string },
    data: Record<string, EventField>,
  ): ApiEvent {
    const event: ApiEvent = {
      id: ++this.seq,
      time: this.now().toISOString(),
      type,
      ...(about.conference !== undefined ? { conference: about.conference } : {}),
      ...(about.participant !== undefined ? { participant: about.participant } : {}),
      data,
    };
    this.backlog.push(event);
    if (this.backlog.length > (this.opts.backlog ?? 1000)) this.backlog.shift();
    for (const l of [...this.listeners]) {
      if (!matchesFilter(event, l.filter)) continue;
      try {
        l.fn(event);
      } catch {
        // A failing subscriber (a closed socket) must not stop the others or the runtime.
      }
    }
    return event;
  }

  /** Subscribes; returns the unsubscribe function. */
  subscribe(filter: EventFilter, fn: Listener): () => void {
    const entry = { filter, fn };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** Events after `id` still in the backlog, filtered. */
  since(id: number, filter: EventFilter): ApiEvent[] {
    return this.backlog.filter((e) => e.id > id && matchesFilter(e, filter));
  }

  get lastId(): number {
    return this.seq;
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }
}
