/**
 * Simulated ports: call legs, dial-outs and a media plane on a virtual clock.
 * They keep the state a real engine would (who is in which mixer, with what
 * routing; which recordings are open) so the transcript can report it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CompiledConference } from '../../compiler/ir.js';
import type { VirtualClock } from '../clock.js';
import { CallStateError } from '../errors.js';
import type {
  CallControl,
  CallEvent,
  CallInfo,
  CallLeg,
  CallState,
  DialOutcome,
  DialRequest,
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
import type { DialRuleOutcome } from './script.js';

export class SimCallLeg implements CallLeg {
  readonly info: CallInfo;
  private stateValue: CallState;
  private readonly listeners = new Set<(e: CallEvent) => void>();
  /** Messages the runtime sent to this call. */
  readonly received: string[] = [];

  constructor(info: CallInfo, state: CallState = 'ringing') {
    this.info = info;
    this.stateValue = state;
  }

  get state(): CallState {
    return this.stateValue;
  }

  async answer(opts: { early: boolean }): Promise<void> {
    if (this.stateValue === 'ended') throw new CallStateError(this.info.id, 'answer: the call has ended');
    if (this.stateValue !== 'answered') this.stateValue = opts.early ? 'early' : 'answered';
  }

  async reject(code: number, _reason?: string): Promise<void> {
    if (this.stateValue === 'answered') {
      throw new CallStateError(this.info.id, `reject ${code}: the call is already answered`);
    }
    this.stateValue = 'ended';
  }

  async hangup(): Promise<void> {
    this.stateValue = 'ended';
  }

  async sendMessage(text: string): Promise<void> {
    if (this.stateValue === 'ended') throw new CallStateError(this.info.id, 'send: the call has ended');
    this.received.push(text);
  }

  onEvent(listener: (event: CallEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The far end does something. Ignored once the call has ended. */
  remote(event: CallEvent): void {
    if (this.stateValue === 'ended') return;
    if (event.type === 'hangup') this.stateValue = 'ended';
    for (const l of [...this.listeners]) l(event);
  }
}

export interface DialRule {
  outcome: DialRuleOutcome;
  pattern: RegExp;
}

/** Simulated dial-outs: answer after 1 s unless a rule says otherwise. */
export class SimCalls implements CallControl {
  /** Latest first. */
  readonly rules: DialRule[] = [];
  private seq = 0;

  constructor(
    private readonly clock: VirtualClock,
    /** Called with every answered leg, so the simulator can name it and drive it. */
    private readonly onLeg: (leg: SimCallLeg) => void,
    private readonly delayMs = 1000,
  ) {}

  addRule(rule: DialRule): void {
    this.rules.unshift(rule);
  }

  dial(request: DialRequest, signal: AbortSignal): Promise<DialOutcome> {
    const rule = this.rules.find((r) => r.pattern.test(request.to));
    // An answer that would come after the ring timeout is no answer at all.
    const wanted = rule?.outcome ?? 'answer';
    const outcome = wanted === 'answer' && this.delayMs > request.timeoutMs ? 'no-answer' : wanted;
    const delay = outcome === 'no-answer' ? request.timeoutMs : this.delayMs;
    return new Promise<DialOutcome>((done) => {
      const timer = this.clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        if (outcome === 'answer') {
          const user = /^(?:sips?:)?([^@;]+)/.exec(request.to)?.[1] ?? request.to;
          const leg = new SimCallLeg(
            {
              id: `dial-${++this.seq}`,
              from: (request.from ?? 'parley@localhost').replace(/^sips?:/, ''),
              to: user,
              source: '127.0.0.1',
              transport: 'udp',
              headers: {},
              direction: 'outbound',
            },
            'answered',
          );
          this.onLeg(leg);
          done({ status: 'answered', leg });
        } else if (outcome === 'busy') done({ status: 'busy' });
        else if (outcome === 'no-answer') done({ status: 'no-answer' });
        else done({ status: 'failed', reason: 'simulated failure' });
      }, delay);
      const onAbort = () => {
        this.clock.clearTimeout(timer);
        done({ status: 'failed', reason: 'cancelled' });
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Text-to-speech duration the simulator assumes: ≈70 ms per character, at least 600 ms. */
export function ttsDurationMs(text: string): number {
  return Math.max(600, text.length * 70);
}

/** Duration of a PCM WAV file from its header, or undefined when it is not one. */
export function wavDurationMs(data: Buffer): number | undefined {
  if (
    data.length < 12 ||
    data.toString('ascii', 0, 4) !== 'RIFF' ||
    data.toString('ascii', 8, 12) !== 'WAVE'
  ) {
    return undefined;
  }
  let byteRate: number | undefined;
  let off = 12;
  while (off + 8 <= data.length) {
    const id = data.toString('ascii', off, off + 4);
    const size = data.readUInt32LE(off + 4);
    if (id === 'fmt ' && off + 16 <= data.length) byteRate = data.readUInt32LE(off + 16);
    if (id === 'data') {
      if (!byteRate) return undefined;
      // A streamed WAV may carry a bogus size; bound it by what is in the file.
      const bytes = Math.min(size, data.length - off - 8);
      return Math.round((bytes / byteRate) * 1000);
    }
    off += 8 + size + (size % 2);
  }
  return undefined;
}

/** Conferences larger than this get no `hear` transcript entries. */
export const HEAR_REPORT_LIMIT = 16;

interface Mixer {
  name: string;
  members: Map<string, MemberRouting>;
  /** Last reported "who hears whom", per listener. */
  hears: Map<string, string>;
}

class SimRecording implements RecordingHandle {
  readonly file: string;
  readonly done: Promise<RecordingResult>;
  private resolveDone!: (r: RecordingResult) => void;
  private closed = false;
  constructor(
    readonly request: RecordingRequest,
    private readonly clock: VirtualClock,
    private readonly startedAt: number,
  ) {
    this.file = request.file;
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.resolveDone({ file: this.file, durationMs: this.clock.now() - this.startedAt });
  }
  stop(): Promise<RecordingResult> {
    this.close();
    return this.done;
  }
}

/** The simulated media plane. */
export class SimMedia implements MediaPort {
  private readonly mixers = new Map<string, Mixer>();
  private readonly recordings = new Set<SimRecording>();
  private readonly durations = new Map<string, number>();

  constructor(
    private readonly clock: VirtualClock,
    /** Configuration root: prompt and music files are relative to it. */
    private readonly root: string,
    /** Reports "whom does this leg hear now" after routing changes. */
    private readonly onHear: (conference: string, leg: string, hears: readonly string[]) => void = () => {},
  ) {}

  /** How long a prompt plays. */
  durationOf(source: PromptSource): number {
    if (source.kind === 'tts') return ttsDurationMs(source.text);
    if (source.kind === 'url') return 1000;
    let ms = this.durations.get(source.path);
    if (ms === undefined) {
      try {
        ms = wavDurationMs(readFileSync(resolve(this.root, source.path))) ?? 1000;
      } catch {
        ms = 1000;
      }
      this.durations.set(source.path, ms);
    }
    return ms;
  }

  prompt(_target: MediaTarget, source: PromptSource, opts: PromptOptions): Promise<PromptResult> {
    if (opts.signal.aborted) return Promise.resolve('cancelled');
    return new Promise((done) => {
      const onAbort = () => {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        done('cancelled');
      };
      // A looping prompt plays until stopped; it keeps no timer, so it never keeps a simulation alive.
      const timer = opts.loop
        ? undefined
        : this.clock.setTimeout(() => {
            opts.signal.removeEventListener('abort', onAbort);
            done('finished');
          }, this.durationOf(source));
      opts.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async openConference(name: string, _audio: CompiledConference['audio']): Promise<void> {
    if (!this.mixers.has(name)) this.mixers.set(name, { name, members: new Map(), hears: new Map() });
  }

  async closeConference(name: string): Promise<void> {
    for (const r of [...this.recordings]) {
      if (r.request.conference === name) {
        r.close();
        this.recordings.delete(r);
      }
    }
    this.mixers.delete(name);
  }

  async addMember(conference: string, leg: string, routing: MemberRouting): Promise<void> {
    const m = this.mixer(conference);
    m.members.set(leg, routing);
    this.report(m);
  }

  async updateMember(conference: string, leg: string, routing: MemberRouting): Promise<void> {
    const m = this.mixer(conference);
    if (!m.members.has(leg)) return;
    m.members.set(leg, routing);
    this.report(m);
  }

  async removeMember(conference: string, leg: string): Promise<void> {
    const m = this.mixers.get(conference);
    if (!m) return;
    m.members.delete(leg);
    m.hears.delete(leg);
    for (const r of [...this.recordings]) {
      if (r.request.conference === conference && r.request.leg === leg) {
        r.close();
        this.recordings.delete(r);
      }
    }
    this.report(m);
  }

  async startRecording(request: RecordingRequest): Promise<RecordingHandle> {
    this.mixer(request.conference);
    const r = new SimRecording(request, this.clock, this.clock.now());
    this.recordings.add(r);
    void r.done.then(() => this.recordings.delete(r));
    return r;
  }

  async link(from: string, to: string): Promise<void> {
    this.mixer(from);
    this.mixer(to);
  }

  async unlink(): Promise<void> {}

  /** Legs `listener` hears in `conference`, applying mute, deaf, speak-to and hear-from. */
  hears(conference: string, listener: string): string[] {
    const m = this.mixers.get(conference);
    const me = m?.members.get(listener);
    if (!m || !me || me.deaf) return [];
    const out: string[] = [];
    for (const [id, r] of m.members) {
      if (id === listener || r.muted) continue;
      if (r.speakTo !== 'all' && !r.speakTo.includes(listener)) continue;
      if (me.hearFrom !== 'all' && !me.hearFrom.includes(id)) continue;
      out.push(id);
    }
    return out;
  }

  routing(conference: string, leg: string): MemberRouting | undefined {
    return this.mixers.get(conference)?.members.get(leg);
  }

  private mixer(name: string): Mixer {
    const m = this.mixers.get(name);
    if (!m) throw new Error(`media: no conference "${name}" is open`);
    return m;
  }

  private report(m: Mixer): void {
    // Who-hears-whom is quadratic in the members; beyond a small conference it is noise, not insight.
    if (m.members.size > HEAR_REPORT_LIMIT) {
      m.hears.clear();
      return;
    }
    for (const id of m.members.keys()) {
      const hears = this.hears(m.name, id);
      const key = hears.join(',');
      if (m.hears.get(id) === key) continue;
      m.hears.set(id, key);
      this.onHear(m.name, id, hears);
    }
  }
}
