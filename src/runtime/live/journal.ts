/**
 * The JSON sidecar of each recording: who was in the conference and when, and
 * who talked when, in milliseconds from the start of the recording, so that a
 * recording can be searched ("when did Bob speak?") without listening to it.
 *
 * It is written when the recording starts (marked `complete: false`), every
 * `flushMs` while it runs, and when it ends, each time atomically (temporary file
 * + rename): after a crash, the sidecar matches the crash-safe WAV up to the last flush.
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { Logger, RuntimeEvent } from '../ports.js';

interface Presence {
  id: string;
  from: string;
  joinedMs: number;
  leftMs?: number;
}

interface Talk {
  id: string;
  startMs: number;
  endMs?: number;
}

interface Active {
  path: string;
  conference: string;
  /** Set for a recording of one participant. */
  participant?: string;
  startedAt: number;
  participants: Presence[];
  talking: Talk[];
  timer: NodeJS.Timeout;
}

export class RecordingJournal {
  /** Members of each conference now: id → caller. */
  private readonly members = new Map<string, Map<string, string>>();
  private readonly talking = new Set<string>();
  private readonly active = new Map<string, Active>();

  constructor(
    private readonly logger: Logger,
    private readonly fromOf: (leg: string) => string | undefined,
    private readonly now: () => number = Date.now,
    private readonly flushMs = 5000,
  ) {}

  /** Feeds one runtime event (joins, leaves and talking). */
  observe(event: RuntimeEvent): void {
    const [kind, name] = splitSource(event.source);
    if (kind === 'conference' && (event.type === 'joined' || event.type === 'rejoined')) {
      const id = String(event.fields.participant ?? '');
      if (!id) return;
      let m = this.members.get(name);
      if (!m) {
        m = new Map();
        this.members.set(name, m);
      }
      const from = this.fromOf(id) ?? id;
      m.set(id, from);
      for (const r of this.recordingsOf(name)) {
        if (!r.participants.some((p) => p.id === id && p.leftMs === undefined))
          r.participants.push({ id, from, joinedMs: this.offset(r) });
      }
    } else if (kind === 'conference' && event.type === 'left') {
      const id = String(event.fields.participant ?? '');
      this.members.get(name)?.delete(id);
      for (const r of this.recordingsOf(name)) {
        for (const p of r.participants) if (p.id === id && p.leftMs === undefined) p.leftMs = this.offset(r);
        this.endTalk(r, id);
      }
    } else if (kind === 'conference' && event.type === 'ended') {
      this.members.delete(name);
    } else if (kind === 'call' && (event.type === 'talking' || event.type === 'silent')) {
      if (event.type === 'talking') this.talking.add(name);
      else this.talking.delete(name);
      for (const r of this.active.values()) {
        if (!this.members.get(r.conference)?.has(name)) continue;
        if (r.participant !== undefined && r.participant !== name) continue;
        if (event.type === 'talking') {
          if (!r.talking.some((t) => t.id === name && t.endMs === undefined))
            r.talking.push({ id: name, startMs: this.offset(r) });
        } else this.endTalk(r, name);
      }
    }
  }

  /** A recording started: its sidecar is `path` with .json instead of .wav. */
  start(key: string, wavPath: string, conference: string, participant?: string): void {
    const startedAt = this.now();
    const members = this.members.get(conference) ?? new Map<string, string>();
    const r: Active = {
      path: wavPath.replace(/\.wav$/i, '.json'),
      conference,
      ...(participant !== undefined ? { participant } : {}),
      startedAt,
      participants: [...members]
        .filter(([id]) => participant === undefined || id === participant)
        .map(([id, from]) => ({ id, from, joinedMs: 0 })),
      talking: [...this.talking]
        .filter((id) => members.has(id) && (participant === undefined || id === participant))
        .map((id) => ({ id, startMs: 0 })),
      timer: setInterval(() => this.write(r, false), this.flushMs),
    };
    r.timer.unref();
    this.active.set(key, r);
    this.write(r, false);
  }

  /** The recording closed after `durationMs` of audio. */
  finish(key: string, durationMs: number): void {
    const r = this.active.get(key);
    if (!r) return;
    this.active.delete(key);
    clearInterval(r.timer);
    const end = this.offset(r);
    for (const p of r.participants) p.leftMs ??= end;
    for (const t of r.talking) t.endMs ??= end;
    this.write(r, true, durationMs);
  }

  private recordingsOf(conference: string): Active[] {
    return [...this.active.values()].filter(
      (r) => r.conference === conference && r.participant === undefined,
    );
  }

  private endTalk(r: Active, id: string): void {
    for (const t of r.talking) if (t.id === id && t.endMs === undefined) t.endMs = this.offset(r);
  }

  private offset(r: Active): number {
    return this.now() - r.startedAt;
  }

  private write(r: Active, complete: boolean, durationMs?: number): void {
    const body = {
      conference: r.conference,
      ...(r.participant !== undefined ? { participant: r.participant } : {}),
      startedAt: new Date(r.startedAt).toISOString(),
      complete,
      ...(durationMs !== undefined ? { durationMs } : {}),
      participants: r.participants,
      talking: r.talking,
    };
    try {
      const tmp = `${r.path}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`);
      renameSync(tmp, r.path);
    } catch (err) {
      this.logger.error({ file: r.path, err: String(err) }, 'cannot write recording sidecar');
    }
  }
}

function splitSource(source: string): [string, string] {
  const i = source.indexOf(':');
  return i < 0 ? [source, ''] : [source.slice(0, i), source.slice(i + 1)];
}
