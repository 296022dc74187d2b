/**
 * The runtime's media plane (ports.ts `MediaPort`) on the native engine: prompts
 * become players, conferences become engine conferences whose members are the call
 * legs' RTP endpoints, recordings become WAV files under the recordings folder.
 * Engine events (DTMF, talking, player and recorder ends, RTP timeouts) are routed
 * back to the legs and waiting promises here.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { CompiledConference } from '../../compiler/ir.js';
import type { PromptLibrary } from '../../media/prompt-library.js';
import type {
  Logger,
  MediaPort,
  MediaTarget,
  MemberRouting,
  PromptOptions,
  PromptResult,
  PromptSource,
  RecordingHandle,
  RecordingRequest,
  RecordingResult,
} from '../ports.js';
import { RecordingJournal } from './journal.js';
import type { EngineEvent, EngineRouting, MediaEngineApi } from './media-api.js';
import type { SipCallLeg } from './sip-leg.js';

const DEFAULT_LOUDEST = 3;

interface PendingRecording {
  file: string;
  resolve: (r: RecordingResult) => void;
  done: Promise<RecordingResult>;
  closed: boolean;
}

/** `team/standup-${call.id}` → a file name that stays inside the recordings folder and ends in .wav. */
export function recordingFileName(name: string): string {
  const parts = name
    .split(/[\\/]+/)
    .map((p) => p.replace(/[^\w.@+=,-]/g, '_').replace(/^\.+/, '_'))
    .filter((p) => p.length > 0);
  const joined = parts.length > 0 ? parts.join('/') : 'recording';
  return /\.wav$/i.test(joined) ? joined : `${joined}.wav`;
}

export class EngineMediaPort implements MediaPort {
  private readonly legsById = new Map<string, SipCallLeg>();
  private readonly legsByEndpoint = new Map<number, SipCallLeg>();
  /** conference → leg id → routing as the runtime gave it (leg ids are mapped to endpoints on every change). */
  private readonly members = new Map<string, Map<string, MemberRouting>>();
  private readonly players = new Map<number, (state: 'finished' | 'stopped' | 'error') => void>();
  private readonly recorders = new Map<number, PendingRecording>();
  /** Writes each recording's JSON sidecar; fed with runtime events by the server. */
  readonly journal: RecordingJournal;

  constructor(
    private readonly engine: MediaEngineApi,
    private readonly prompts: PromptLibrary,
    private readonly recordingsDir: string,
    private readonly logger: Logger,
  ) {
    this.journal = new RecordingJournal(logger, (leg) => this.legsById.get(leg)?.info.from);
  }

  // ───────────────────────────── legs ─────────────────────────────

  /** Called by each leg when it gets or loses its RTP endpoint. */
  readonly trackLeg = (leg: SipCallLeg, endpoint: number | undefined): void => {
    for (const [ep, l] of this.legsByEndpoint) if (l === leg) this.legsByEndpoint.delete(ep);
    if (endpoint === undefined) {
      this.legsById.delete(leg.id);
      return;
    }
    this.legsById.set(leg.id, leg);
    this.legsByEndpoint.set(endpoint, leg);
    // A leg that was a member before its endpoint changed (it cannot today, but a re-INVITE to a
    // new port could) is re-joined everywhere it belongs.
    for (const [conference, members] of this.members) {
      const routing = members.get(leg.id);
      if (routing) this.safe(() => this.engine.join(conference, endpoint, this.engineRouting(routing)));
    }
  };

  /** Dispatches one engine event; never throws. */
  onEngineEvent(event: EngineEvent): void {
    try {
      switch (event.type) {
        case 'dtmf':
          this.legsByEndpoint.get(event.endpoint)?.deliver({ type: 'dtmf', digit: event.digit });
          return;
        case 'talking':
          this.legsByEndpoint.get(event.endpoint)?.deliver({ type: event.talking ? 'talking' : 'silent' });
          return;
        case 'source-latched': {
          const leg = this.legsByEndpoint.get(event.endpoint);
          this.logger.info({ call: leg?.id, address: event.address, port: event.port }, 'RTP source latched');
          return;
        }
        case 'rtp-timeout':
          this.legsByEndpoint.get(event.endpoint)?.mediaTimeout();
          return;
        case 'player': {
          const done = this.players.get(event.player);
          if (!done) return;
          this.players.delete(event.player);
          if (event.state === 'error')
            this.logger.warn({ player: event.player, err: event.error }, 'player failed');
          done(event.state);
          return;
        }
        case 'recorder': {
          const r = this.recorders.get(event.recorder);
          if (!r || event.state === 'started') return;
          this.recorders.delete(event.recorder);
          if (event.error) this.logger.error({ file: r.file, err: event.error }, 'recording failed');
          r.closed = true;
          this.journal.finish(String(event.recorder), event.durationMs ?? 0);
          r.resolve({ file: r.file, durationMs: event.durationMs ?? 0 });
          return;
        }
      }
    } catch (err) {
      this.logger.error({ event: event.type, err: String(err) }, 'media event handler threw');
    }
  }

  // ───────────────────────────── prompts ─────────────────────────────

  async prompt(target: MediaTarget, source: PromptSource, opts: PromptOptions): Promise<PromptResult> {
    if (opts.signal.aborted) return 'cancelled';
    let pcm: Awaited<ReturnType<PromptLibrary['load']>>;
    try {
      pcm = await this.prompts.load(source);
    } catch (err) {
      // A missing file or a failed synthesis must not stop the flow: the prompt is skipped and said so.
      this.logger.error(
        { audience: target.audience, err: err instanceof Error ? err.message : String(err) },
        'prompt skipped',
      );
      return 'finished';
    }
    if (opts.signal.aborted) return 'cancelled';
    const ids: number[] = [];
    const ended: Array<Promise<'finished' | 'stopped' | 'error'>> = [];
    const start = (t: Parameters<MediaEngineApi['play']>[0]) => {
      const id = this.engine.play(t, pcm.samples, pcm.rate, { loop: opts.loop });
      ids.push(id);
      ended.push(new Promise((resolve) => this.players.set(id, resolve)));
    };
    try {
      if (target.conference !== undefined) start({ conference: target.conference });
      else {
        for (const leg of target.legs) {
          const endpoint = this.legsById.get(leg)?.endpoint;
          if (endpoint !== undefined) start({ endpoint });
        }
      }
    } catch (err) {
      this.logger.error({ audience: target.audience, err: String(err) }, 'cannot start prompt');
    }
    if (ids.length === 0) return 'finished';
    const onAbort = () => {
      for (const id of ids) this.safe(() => this.engine.stopPlayer(id));
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.all(ended);
    } finally {
      opts.signal.removeEventListener('abort', onAbort);
    }
    return opts.signal.aborted ? 'cancelled' : 'finished';
  }

  // ───────────────────────────── conferences ─────────────────────────────

  async openConference(name: string, audio: CompiledConference['audio']): Promise<void> {
    if (this.members.has(name)) return;
    this.engine.createConference(name, {
      rate: audio.rate ?? 16000,
      loudest: audio.loudest ?? DEFAULT_LOUDEST,
    });
    this.members.set(name, new Map());
  }

  async closeConference(name: string): Promise<void> {
    if (!this.members.delete(name)) return;
    this.safe(() => this.engine.destroyConference(name));
  }

  async addMember(conference: string, leg: string, routing: MemberRouting): Promise<void> {
    const members = this.conference(conference);
    const endpoint = this.legsById.get(leg)?.endpoint;
    members.set(leg, routing);
    if (endpoint !== undefined) this.engine.join(conference, endpoint, this.engineRouting(routing));
    else this.logger.warn({ conference, leg }, 'member has no media yet');
    this.refreshLists(conference, leg);
  }

  async updateMember(conference: string, leg: string, routing: MemberRouting): Promise<void> {
    const members = this.members.get(conference);
    if (!members?.has(leg)) return;
    members.set(leg, routing);
    const endpoint = this.legsById.get(leg)?.endpoint;
    if (endpoint !== undefined) this.engine.updateRouting(conference, endpoint, this.engineRouting(routing));
  }

  async removeMember(conference: string, leg: string): Promise<void> {
    const members = this.members.get(conference);
    if (!members?.delete(leg)) return;
    const endpoint = this.legsById.get(leg)?.endpoint;
    if (endpoint !== undefined) this.safe(() => this.engine.leave(conference, endpoint));
  }

  async link(from: string, to: string, direction: 'both' | 'in' | 'out'): Promise<void> {
    this.engine.link(from, to, direction);
  }

  async unlink(from: string, to: string): Promise<void> {
    this.safe(() => this.engine.unlink(from, to));
  }

  // ───────────────────────────── recordings ─────────────────────────────

  async startRecording(request: RecordingRequest): Promise<RecordingHandle> {
    const file = recordingFileName(request.file);
    const full = path.join(this.recordingsDir, file);
    mkdirSync(path.dirname(full), { recursive: true });
    let id: number;
    if (request.leg === undefined) id = this.engine.record({ conference: request.conference }, full);
    else {
      const endpoint = this.legsById.get(request.leg)?.endpoint;
      if (endpoint === undefined) throw new Error(`record: participant ${request.leg} has no media`);
      id = this.engine.record({ endpoint, direction: request.direction }, full);
    }
    let resolve!: (r: RecordingResult) => void;
    const done = new Promise<RecordingResult>((r) => {
      resolve = r;
    });
    const pending: PendingRecording = { file, resolve, done, closed: false };
    this.recorders.set(id, pending);
    this.journal.start(String(id), full, request.conference, request.leg);
    return {
      file,
      done,
      stop: async () => {
        if (!pending.closed) {
          pending.closed = true;
          this.recorders.delete(id);
          let durationMs = 0;
          try {
            durationMs = this.engine.stopRecorder(id);
          } catch (err) {
            this.logger.warn({ file, err: String(err) }, 'recording was already closed');
          }
          this.journal.finish(String(id), durationMs);
          resolve({ file, durationMs });
        }
        return done;
      },
    };
  }

  // ───────────────────────────── helpers ─────────────────────────────

  private conference(name: string): Map<string, MemberRouting> {
    const members = this.members.get(name);
    if (!members) throw new Error(`media: no conference "${name}" is open`);
    return members;
  }

  private engineRouting(r: MemberRouting): EngineRouting {
    const ids = (legs: 'all' | readonly string[]): number[] | null => {
      if (legs === 'all') return null;
      const out: number[] = [];
      for (const leg of legs) {
        const ep = this.legsById.get(leg)?.endpoint;
        if (ep !== undefined) out.push(ep);
      }
      return out;
    };
    return {
      muted: r.muted,
      deaf: r.deaf,
      speakTo: ids(r.speakTo),
      hearFrom: ids(r.hearFrom),
      ...(r.gain !== undefined ? { gain: r.gain } : {}),
    };
  }

  /** Members whose explicit lists name a leg that just got its endpoint are re-sent to the engine. */
  private refreshLists(conference: string, joined: string): void {
    const members = this.members.get(conference);
    if (!members) return;
    for (const [leg, routing] of members) {
      if (leg === joined) continue;
      const named =
        (routing.speakTo !== 'all' && routing.speakTo.includes(joined)) ||
        (routing.hearFrom !== 'all' && routing.hearFrom.includes(joined));
      const endpoint = this.legsById.get(leg)?.endpoint;
      if (named && endpoint !== undefined)
        this.safe(() => this.engine.updateRouting(conference, endpoint, this.engineRouting(routing)));
    }
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'media operation failed');
    }
  }
}
