/**
 * ConferenceActor: one running conference. Membership, roles and audiences, the
 * media routing of every member (muted, deaf, speak-to, hear-from), music on
 * hold, limits (`full`, idle, duration), recordings, links, notify, and the
 * conference flow. Pure logic: media effects go through `MediaPort`.
 */
import type { Audience } from '../../compiler/ast.js';
import type { ActionParams, CompiledConference } from '../../compiler/ir.js';
import { errorMessage, RuntimeError } from '../errors.js';
import { FlowActor } from '../flow/actor.js';
import { promptSource } from '../flow/prompt-source.js';
import type { ActionContext, FlowEvent, FlowHost, FlowOutcome, HostAction } from '../flow/types.js';
import type {
  ConferenceControl,
  ConferenceMember,
  EventField,
  HttpRequest,
  MediaTarget,
  MemberRouting,
  PromptResult,
  PromptSource,
  RecordingHandle,
  RecordingResult,
  RuntimePorts,
  TimerId,
} from '../ports.js';
import { type AudienceContext, resolveAudience, resolveAudiences } from './audience.js';

/** The session side of a member: how the conference reaches a participant's call and flow. */
export type Participant = ConferenceMember;

export type JoinParams = ActionParams['join'];

export interface Member {
  readonly participant: Participant;
  readonly id: string;
  role: string;
  muted: boolean;
  deaf: boolean;
  speak: JoinParams['speak'];
  hear: JoinParams['hear'];
  music: string | undefined;
  musicAbort: AbortController | undefined;
  routing: MemberRouting;
  /** Set over the HTTP API; absent = 1. */
  gain?: number;
}

/** Where conferences are found by name (links) and removed when they end. */
export interface ConferenceRegistry {
  find(name: string, near: ConferenceActor): ConferenceActor | undefined;
  removed(conference: ConferenceActor): void;
}

export interface ConferenceActorOptions {
  /** Instance name, e.g. `room-1234`. */
  name: string;
  doc: CompiledConference;
  ports: RuntimePorts;
  registry: ConferenceRegistry;
  /** Session id for local conferences (their media name is made unique with it). */
  session?: string;
  /** Starts dial-outs on behalf of the conference flow. */
  dial?: (action: Extract<HostAction, { type: 'dial' }>, conference: ConferenceActor) => Promise<void>;
}

export type JoinResult = 'joined' | 'full' | 'ended';

export class ConferenceActor implements ConferenceControl {
  readonly name: string;
  readonly doc: CompiledConference;
  /** Name on the media plane: unique even for local conferences of the same name in different sessions. */
  readonly mediaName: string;
  readonly local: boolean;
  /** Set over the HTTP API: new members are refused as when the conference is full. */
  locked = false;
  private readonly opts: ConferenceActorOptions;
  private readonly ports: RuntimePorts;
  private readonly memberMap = new Map<string, Member>();
  private readonly usesModerator: boolean;
  private readonly links = new Set<string>();
  private readonly lifetime = new AbortController();
  private readonly recordings = new Set<RecordingHandle>();
  private flow: FlowActor | undefined;
  private idleTimer: TimerId | undefined;
  private durationTimer: TimerId | undefined;
  private opened = false;
  private endedFlag = false;
  /** Serialises membership changes so routing and music are computed on a consistent view. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: ConferenceActorOptions) {
    this.opts = opts;
    this.ports = opts.ports;
    this.name = opts.name;
    this.doc = opts.doc;
    this.local = opts.doc.type === 'local';
    this.mediaName = opts.session !== undefined && this.local ? `${opts.name}#${opts.session}` : opts.name;
    this.usesModerator = mentionsModerator(opts.doc);
  }

  get ended(): boolean {
    return this.endedFlag;
  }

  get source(): string {
    return `conference:${this.name}`;
  }

  members(): Member[] {
    return [...this.memberMap.values()];
  }

  member(id: string): Member | undefined {
    return this.memberMap.get(id);
  }

  /** `conference` in flow scope. */
  scopeValue(): Record<string, unknown> {
    return { name: this.name, vars: this.doc.vars, participants: this.memberMap.size };
  }

  /** `participant` in flow scope for one member. */
  participantValue(id: string): Record<string, unknown> | undefined {
    const m = this.memberMap.get(id);
    if (!m) return undefined;
    return { id: m.id, role: m.role, from: m.participant.from, muted: m.muted, deaf: m.deaf };
  }

  /** Opens the mixer, starts the conference flow (`started`), the idle and duration timers and mix recording. */
  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    await this.ports.media.openConference(this.mediaName, this.doc.audio);
    this.emit('started', {});
    if (this.doc.conference) {
      this.flow = new FlowActor({
        flow: this.doc.conference,
        host: new ConferenceFlowHost(this),
        clock: this.ports.clock,
        logger: this.ports.logger,
        events: this.ports.events,
        expressions: this.ports.expressions,
        source: this.source,
      });
      this.flow.start();
      this.flow.send({ type: 'started' });
    }
    if (!this.local) this.armIdle();
    const durationMs = this.doc.limits.durationMs;
    if (durationMs !== undefined) {
      this.durationTimer = this.ports.clock.setTimeout(() => void this.end('duration'), durationMs);
    }
    if (this.doc.record.mix) {
      const file = this.recordFile(undefined);
      await this.record(
        { what: 'conference', direction: 'in', ...(file !== undefined ? { file } : {}) },
        undefined,
        (r) => this.sendToFlow({ type: 'recorded', vars: { recording: r } }),
      ).catch((err) => this.logError('mix recording failed', err));
    }
  }

  // ───────────────────────────── membership ─────────────────────────────

  join(participant: Participant, params: JoinParams): Promise<JoinResult> {
    return this.serial(async () => {
      if (this.endedFlag) return 'ended';
      const existing = this.memberMap.get(participant.id);
      const limit = this.doc.limits.participants;
      if (!existing && (this.locked || (limit !== undefined && this.memberMap.size >= limit))) {
        this.emit('full', {
          participant: participant.id,
          ...(this.locked ? { locked: true } : limit !== undefined ? { limit } : {}),
        });
        return 'full';
      }
      // Joining again replaces the member's options; its media state stays.
      const options = {
        role: params.role,
        muted: params.muted,
        deaf: params.deaf,
        speak: params.speak,
        hear: params.hear,
        music: params.music,
      };
      const m: Member = existing
        ? Object.assign(existing, options)
        : {
            participant,
            id: participant.id,
            ...options,
            musicAbort: undefined,
            routing: { muted: false, deaf: false, speakTo: 'all', hearFrom: 'all' },
          };
      this.memberMap.set(m.id, m);
      this.clearIdle();
      m.routing = this.computeRouting(m);
      if (existing) await this.ports.media.updateMember(this.mediaName, m.id, m.routing);
      else await this.ports.media.addMember(this.mediaName, m.id, m.routing);
      // A member joining again (a flow re-entering its join state) only changes its options.
      this.emit(existing ? 'rejoined' : 'joined', {
        participant: m.id,
        role: m.role,
        muted: m.muted,
        deaf: m.deaf,
        speak: describeSpeak(m.speak),
        hear: describeHear(m.hear),
        participants: this.memberMap.size,
      });
      await this.refreshAll();
      const auto = this.doc.record.participants;
      if (auto && !existing) {
        const file = this.recordFile(m.id);
        await this.record(
          { what: 'self', direction: auto.direction, ...(file !== undefined ? { file } : {}) },
          m.id,
          (r) => participant.deliver({ type: 'recorded', vars: { recording: r } }),
        ).catch((err) => this.logError('participant recording failed', err));
      }
      if (existing) return 'joined';
      // The conference flow hears of the join once the participant's own flow has (next clock turn).
      const value = this.participantValue(m.id);
      this.ports.clock.setTimeout(() => {
        if (!this.endedFlag)
          this.flow?.send({ type: 'joined', participant: m.id, vars: { participant: value } });
      }, 0);
      return 'joined';
    });
  }

  /** Removes a member (leave action, hangup). Idempotent. */
  leave(id: string, reason: 'leave' | 'hangup' | 'ended' = 'leave'): Promise<void> {
    return this.serial(async () => {
      const m = this.memberMap.get(id);
      if (!m) return;
      const value = this.participantValue(id);
      this.stopMusic(m);
      this.memberMap.delete(id);
      await this.ports.media
        .removeMember(this.mediaName, id)
        .catch((err) => this.logError('removeMember', err));
      this.emit('left', { participant: id, role: m.role, reason, participants: this.memberMap.size });
      if (this.endedFlag) return;
      await this.refreshAll();
      this.flow?.send({ type: 'left', participant: id, vars: { participant: value } });
      if (this.memberMap.size === 0) {
        this.emit('empty', {});
        this.flow?.send({ type: 'empty' });
        if (!this.local) this.armIdle();
      }
    });
  }

  /** Sets `muted` or `deaf` of members. */
  setFlag(ids: readonly string[], flag: 'muted' | 'deaf', value: boolean): Promise<void> {
    return this.serial(async () => {
      const type = flag === 'muted' ? (value ? 'mute' : 'unmute') : value ? 'deaf' : 'undeaf';
      for (const id of ids) {
        const m = this.memberMap.get(id);
        if (!m) continue;
        m[flag] = value;
        this.emit(type, { participant: id });
      }
      await this.refreshAll();
    });
  }

  /** Gain on a member's voice (HTTP API); 1 = as received. */
  setGain(id: string, gain: number): Promise<void> {
    return this.serial(async () => {
      const m = this.memberMap.get(id);
      if (!m) return;
      m.gain = gain;
      this.emit('gain', { participant: id, gain });
      await this.refreshAll();
    });
  }

  toggle(id: string, what: 'mute' | 'deaf'): Promise<void> {
    const m = this.memberMap.get(id);
    if (!m) return Promise.resolve();
    const flag = what === 'mute' ? 'muted' : 'deaf';
    return this.setFlag([id], flag, !m[flag]);
  }

  /** A flow's `stop: play`: the member no longer gets music on hold. */
  dropMusic(id: string): void {
    const m = this.memberMap.get(id);
    if (!m) return;
    this.stopMusic(m);
    m.music = undefined;
  }

  resolve(audience: Audience, ctx: AudienceContext): string[] {
    return resolveAudience(audience, this.members(), ctx);
  }

  /** The routing state of one member, as last given to the media plane. */
  routingOf(id: string): MemberRouting | undefined {
    return this.memberMap.get(id)?.routing;
  }

  // ───────────────────────────── media ─────────────────────────────

  /** Plays a prompt to an audience of this conference. */
  prompt(
    audience: Audience,
    ctx: AudienceContext,
    source: PromptSource,
    opts: { loop: boolean; signal: AbortSignal },
  ): Promise<PromptResult> {
    const legs = this.resolve(audience, ctx);
    if (legs.length === 0) return Promise.resolve('finished');
    const target: MediaTarget =
      audience === 'all' ? { legs, conference: this.mediaName, audience } : { legs, audience };
    const signal = AbortSignal.any([opts.signal, this.lifetime.signal]);
    return this.ports.media.prompt(target, source, { loop: opts.loop, signal, purpose: 'prompt' });
  }

  /**
   * Starts a recording of the mix (`subject` undefined) or of one member; `onDone`
   * receives the closed file's details (the `recorded` event).
   */
  async record(
    params: { what: 'conference' | 'self' | 'participant'; direction: 'in' | 'out' | 'both'; file?: string },
    subject: string | undefined,
    onDone: (r: { file: string; duration: number }, handle: RecordingHandle) => void,
  ): Promise<RecordingHandle> {
    if (params.what !== 'conference' && (subject === undefined || !this.memberMap.has(subject))) {
      throw new RuntimeError(
        'not-in-conference',
        `record ${params.what}: no such participant in ${this.name}`,
      );
    }
    const leg = params.what === 'conference' ? undefined : subject;
    const file = params.file ?? defaultRecordingFile(this.name, leg, this.ports.clock.now());
    const handle = await this.ports.media.startRecording({
      conference: this.mediaName,
      direction: params.direction,
      file,
      ...(leg !== undefined ? { leg } : {}),
    });
    this.recordings.add(handle);
    this.emit('record', {
      file: handle.file,
      what: params.what,
      direction: params.direction,
      ...(leg ? { participant: leg } : {}),
    });
    void handle.done.then(
      (r: RecordingResult) => {
        this.recordings.delete(handle);
        const duration = Math.round(r.durationMs) / 1000;
        this.emit('recorded', { file: r.file, duration });
        try {
          onDone({ file: r.file, duration }, handle);
        } catch (err) {
          this.logError('recorded handler failed', err);
        }
      },
      (err: unknown) => {
        this.recordings.delete(handle);
        this.logError('recording failed', err);
      },
    );
    return handle;
  }

  async link(other: string, direction: 'both' | 'in' | 'out'): Promise<void> {
    const target = this.opts.registry.find(other, this);
    if (!target) throw new RuntimeError('unknown-conference', `link: conference "${other}" is not running`);
    await this.ports.media.link(this.mediaName, target.mediaName, direction);
    this.links.add(target.mediaName);
    this.emit('link', { conference: other, direction });
  }

  async unlink(other: string): Promise<void> {
    const target = this.opts.registry.find(other, this);
    const mediaName = target?.mediaName ?? other;
    if (!this.links.delete(mediaName)) return;
    await this.ports.media.unlink(this.mediaName, mediaName);
    this.emit('unlink', { conference: other });
  }

  /** Raises a custom event in the conference flow, every participant flow, or an audience's flows. */
  notify(event: string, to: 'conference' | 'participants' | Audience, ctx: AudienceContext): void {
    const payload: FlowEvent = {
      type: event,
      vars: {
        event: {
          name: event,
          from:
            ctx.self !== undefined
              ? (this.memberMap.get(ctx.self)?.participant.from ?? ctx.self)
              : 'conference',
        },
      },
      ...(ctx.self !== undefined ? { participant: ctx.self } : {}),
    };
    this.emit('notify', { event, to });
    if (to === 'conference') {
      this.flow?.send(payload);
      return;
    }
    const ids = to === 'participants' ? this.members().map((m) => m.id) : this.resolve(to, ctx);
    for (const id of ids) this.memberMap.get(id)?.participant.deliver(payload);
  }

  /** An in-call message from a member: the conference flow sees it too. */
  message(from: string, text: string): void {
    this.flow?.send({ type: 'message', participant: from, vars: { message: { text, from } } });
  }

  /** An HTTP request to the conference: its flow handles it, or 404. */
  http(request: HttpRequest): void {
    const event: FlowEvent = {
      type: 'http',
      request,
      vars: {
        request: { method: request.method, path: request.path, query: request.query, body: request.body },
      },
    };
    if (!this.flow?.canHandle(event)) {
      request.respond(404, { error: `conference ${this.name} does not handle this request` });
      this.emit('respond', { status: 404 });
      return;
    }
    this.flow.send(event);
  }

  /** Ends the conference: every member's call is hung up, the flow gets `ended`, the mixer closes. */
  async end(reason: string): Promise<void> {
    if (this.endedFlag) return;
    this.endedFlag = true;
    this.clearIdle();
    if (this.durationTimer !== undefined) this.ports.clock.clearTimeout(this.durationTimer);
    this.emit('end', { reason });
    const members = this.members();
    for (const m of members) await this.leaveNow(m);
    this.flow?.send({ type: 'ended', vars: { reason } });
    // The `ended` handler gets one clock turn (log, notify elsewhere) before the flow stops.
    const flow = this.flow;
    if (flow) this.ports.clock.setTimeout(() => flow.stop(), 0);
    for (const r of [...this.recordings]) await r.stop().catch((err) => this.logError('recording stop', err));
    for (const l of [...this.links]) await this.ports.media.unlink(this.mediaName, l).catch(() => undefined);
    this.links.clear();
    this.lifetime.abort();
    await this.ports.media
      .closeConference(this.mediaName)
      .catch((err) => this.logError('closeConference', err));
    this.opts.registry.removed(this);
    for (const m of members) m.participant.conferenceEnded(this);
  }

  /** Delivers an event to the conference flow (if it has one). */
  sendToFlow(event: FlowEvent): void {
    this.flow?.send(event);
  }

  /** Dial-out started by the conference flow. */
  dialFromFlow(action: Extract<HostAction, { type: 'dial' }>): Promise<void> {
    if (!this.opts.dial) throw new RuntimeError('dial-refused', 'dial: not available in this runtime');
    return this.opts.dial(action, this);
  }

  // ───────────────────────────── internals ─────────────────────────────

  /**
   * File name for automatic recordings from `record.file` (a template over
   * `conference` and `participant`). A template that does not mention
   * `participant` names the mix only; participants then get the default name, so
   * files never collide. Undefined = the default name.
   */
  private recordFile(participant: string | undefined): string | undefined {
    const template = this.doc.record.file;
    if (template === undefined) return undefined;
    if (participant !== undefined && !template.includes('participant')) return undefined;
    try {
      return this.ports.expressions.render(template, {
        conference: this.scopeValue(),
        ...(participant !== undefined ? { participant: this.participantValue(participant) } : {}),
      });
    } catch (err) {
      this.logError(`record.file: ${errorMessage(err)}`, err);
      return undefined;
    }
  }

  private async leaveNow(m: Member): Promise<void> {
    this.stopMusic(m);
    this.memberMap.delete(m.id);
    await this.ports.media.removeMember(this.mediaName, m.id).catch(() => undefined);
    this.emit('left', {
      participant: m.id,
      role: m.role,
      reason: 'ended',
      participants: this.memberMap.size,
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Recomputes every member's routing (role audiences follow membership) and music. */
  private async refreshAll(): Promise<void> {
    for (const m of this.memberMap.values()) {
      const routing = this.computeRouting(m);
      if (!sameRouting(routing, m.routing)) {
        m.routing = routing;
        await this.ports.media.updateMember(this.mediaName, m.id, routing);
      }
    }
    this.updateMusic();
  }

  private computeRouting(m: Member): MemberRouting {
    // Only one-way members need the member list; `true`/`false` cost nothing in large conferences.
    const members = m.speak === true && m.hear === true ? [] : this.members();
    const ctx = { self: m.id };
    const speakTo =
      m.speak === true
        ? 'all'
        : m.speak === false
          ? []
          : resolveAudiences(m.speak.to, members, ctx).filter((x) => x !== m.id);
    const hearFrom =
      m.hear === true
        ? 'all'
        : m.hear === false
          ? []
          : resolveAudiences(m.hear.from, members, ctx).filter((x) => x !== m.id);
    return {
      muted: m.muted,
      deaf: m.deaf,
      speakTo,
      hearFrom,
      ...(m.gain !== undefined ? { gain: m.gain } : {}),
    };
  }

  /**
   * Music on hold: to a member with `music` while it is alone, or — when the
   * conference's flows mention the role `moderator` — while no moderator is present.
   */
  private updateMusic(): void {
    const moderatorPresent = this.members().some((m) => m.role === 'moderator');
    for (const m of this.memberMap.values()) {
      const wanted =
        m.music !== undefined && (this.usesModerator ? !moderatorPresent : this.memberMap.size === 1);
      if (wanted && !m.musicAbort) this.startMusic(m);
      else if (!wanted && m.musicAbort) this.stopMusic(m);
    }
  }

  private startMusic(m: Member): void {
    const music = m.music;
    if (music === undefined) return;
    const abort = new AbortController();
    m.musicAbort = abort;
    const source: PromptSource = /^https?:\/\//.test(music)
      ? { kind: 'url', url: music }
      : { kind: 'file', path: music };
    this.emit('music', { participant: m.id, file: music });
    const signal = AbortSignal.any([abort.signal, this.lifetime.signal]);
    this.ports.media
      .prompt({ legs: [m.id], audience: 'self' }, source, { loop: true, signal, purpose: 'music' })
      .catch((err) => this.logError('music failed', err));
  }

  private stopMusic(m: Member): void {
    if (!m.musicAbort) return;
    m.musicAbort.abort();
    m.musicAbort = undefined;
    this.emit('music-stop', { participant: m.id });
  }

  private armIdle(): void {
    this.clearIdle();
    this.idleTimer = this.ports.clock.setTimeout(() => {
      this.idleTimer = undefined;
      if (this.memberMap.size === 0) void this.end('idle');
    }, this.doc.limits.idleMs);
  }

  private clearIdle(): void {
    if (this.idleTimer !== undefined) this.ports.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  emit(type: string, fields: Record<string, EventField>): void {
    this.ports.events.emit({ source: this.source, type, fields });
  }

  logError(what: string, err: unknown): void {
    this.ports.logger.error({ conference: this.name, err: errorMessage(err) }, what);
  }
}

/** Actions of a conference flow: audiences default to `all`; `participant` is the event's subject. */
class ConferenceFlowHost implements FlowHost {
  private readonly prompts = new Set<AbortController>();
  private readonly recordings = new Set<RecordingHandle>();
  constructor(private readonly conf: ConferenceActor) {}

  scope(): Record<string, unknown> {
    return { conference: this.conf.scopeValue() };
  }

  async perform(action: HostAction, ctx: ActionContext): Promise<void> {
    const c = this.conf;
    const aud: AudienceContext =
      ctx.event.participant !== undefined ? { participant: ctx.event.participant } : {};
    switch (action.type) {
      case 'say':
      case 'play': {
        const source = promptSource(action);
        const loop = action.type === 'play' && action.params.loop;
        c.emit(action.type, promptFields(action));
        const abort = new AbortController();
        this.prompts.add(abort);
        const signal = AbortSignal.any([abort.signal, ctx.flowSignal]);
        try {
          const p = c.prompt(action.params.to, aud, source, { loop, signal });
          if (!loop) await p;
        } finally {
          if (!loop) this.prompts.delete(abort);
        }
        return;
      }
      case 'stop':
        if (action.params.what !== 'record') for (const a of this.prompts) a.abort();
        if (action.params.what !== 'play') for (const r of this.recordings) await r.stop();
        this.prompts.clear();
        c.emit('stop', { what: action.params.what });
        return;
      case 'mute':
      case 'unmute':
      case 'deaf':
      case 'undeaf': {
        const ids = c.resolve(action.params.who, aud);
        const flag = action.type === 'mute' || action.type === 'unmute' ? 'muted' : 'deaf';
        await c.setFlag(ids, flag, action.type === 'mute' || action.type === 'deaf');
        return;
      }
      case 'record': {
        // The file may close before `record` returns (a port that fails fast): track only open ones.
        let closed = false;
        const handle = await c.record(action.params, ctx.event.participant, (r, h) => {
          closed = true;
          this.recordings.delete(h);
          c.sendToFlow({ type: 'recorded', vars: { recording: r } });
        });
        if (!closed) this.recordings.add(handle);
        return;
      }
      case 'link':
        return c.link(action.params.conference, action.params.direction);
      case 'unlink':
        return c.unlink(action.params.conference);
      case 'send': {
        const ids = c.resolve(action.params.to, aud);
        c.emit('send', { text: action.params.text, to: action.params.to });
        await Promise.all(ids.map((id) => c.member(id)?.participant.sendMessage(action.params.text)));
        return;
      }
      case 'respond':
        respond(ctx, action.params, (f) => c.emit('respond', f));
        return;
      case 'notify':
        c.notify(action.params.event, action.params.to, {});
        return;
      case 'end':
      case 'hangup':
        void c.end('flow');
        return;
      case 'dial':
        return c.dialFromFlow(action);
      case 'toggle':
        if (ctx.event.participant !== undefined) await c.toggle(ctx.event.participant, action.params.what);
        return;
      case 'leave':
        if (ctx.event.participant !== undefined) await c.leave(ctx.event.participant);
        return;
      default:
        throw new RuntimeError('action-failed', `${action.type} is not available in a conference flow`, {
          src: action.src,
        });
    }
  }

  finished(outcome: FlowOutcome): void {
    if (outcome !== 'stopped') void this.conf.end('flow');
  }
}

/** Answers the HTTP request of the current event. */
export function respond(
  ctx: ActionContext,
  params: ActionParams['respond'],
  emit: (fields: Record<string, EventField>) => void,
): void {
  const request = ctx.event.request;
  if (!request)
    throw new RuntimeError('http', 'respond: the current event is not an HTTP request', { src: ctx.src });
  request.respond(params.status, params.body);
  emit({
    status: params.status,
    ...(params.body !== undefined ? { body: JSON.stringify(params.body) } : {}),
  });
}

export function promptFields(
  action: Extract<HostAction, { type: 'say' | 'play' }>,
): Record<string, EventField> {
  if (action.type === 'say') return { text: action.params.text, to: action.params.to };
  const p = action.params;
  return {
    ...(p.file !== undefined ? { file: p.file } : {}),
    ...(p.url !== undefined ? { url: p.url } : {}),
    ...(p.loop ? { loop: true } : {}),
    to: p.to,
  };
}

function describeSpeak(s: JoinParams['speak']): string {
  return s === true ? 'all' : s === false ? 'none' : s.to.join(',');
}

function describeHear(h: JoinParams['hear']): string {
  return h === true ? 'all' : h === false ? 'none' : h.from.join(',');
}

function sameRouting(a: MemberRouting, b: MemberRouting): boolean {
  const same = (x: MemberRouting['speakTo'], y: MemberRouting['speakTo']) =>
    x === 'all' || y === 'all' ? x === y : x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    a.muted === b.muted &&
    a.deaf === b.deaf &&
    a.gain === b.gain &&
    same(a.speakTo, b.speakTo) &&
    same(a.hearFrom, b.hearFrom)
  );
}

function defaultRecordingFile(conference: string, leg: string | undefined, now: number): string {
  return `${conference}${leg !== undefined ? `-${leg}` : ''}-${now}.wav`;
}

/** Whether any flow of the conference joins with, or addresses, the role `moderator`. */
function mentionsModerator(doc: CompiledConference): boolean {
  const flows = [doc.participant, doc.conference].filter((f) => f !== undefined);
  for (const f of flows) {
    for (const s of Object.values(f.machine.states)) {
      const actions = [
        ...s.entry,
        ...Object.values(s.on).flatMap((ts) => ts.flatMap((t) => t.actions)),
        ...Object.values(s.after ?? {}).flatMap((ts) => ts.flatMap((t) => t.actions)),
      ];
      for (const a of actions) {
        if (a.type === 'join' && a.params.role === 'moderator') return true;
        if (JSON.stringify(a.params).includes('role:moderator')) return true;
      }
    }
  }
  return false;
}
