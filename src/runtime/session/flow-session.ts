/**
 * A participant or scenario flow at work: the `FlowHost` that gives a flow's
 * actions their effect on its call leg (if any), on the conference it is in, and
 * on the dial-out machinery. One FlowSession per call leg (inbound or dialled)
 * and one per scenario run.
 */
import type { Audience } from '../../compiler/ast.js';
import type { CompiledFlow } from '../../compiler/ir.js';
import { type ConferenceActor, type Participant, promptFields, respond } from '../conference/actor.js';
import { errorMessage, RuntimeError } from '../errors.js';
import { FlowActor } from '../flow/actor.js';
import { promptSource } from '../flow/prompt-source.js';
import type { ActionContext, FlowEvent, FlowHost, FlowOutcome, HostAction } from '../flow/types.js';
import type {
  CallLeg,
  ConferenceControl,
  EventField,
  HttpRequest,
  RecordingHandle,
  RuntimePorts,
} from '../ports.js';
import type { Session } from './session.js';

/** What a FlowSession needs from the runtime that owns it. */
export interface SessionRuntime {
  readonly ports: RuntimePorts;
  /** The running instance for `name` (created and opened on first use), local ones inside `session`. */
  conferenceFor(name: string, session: Session): Promise<ConferenceActor>;
  /** Variables of the conference document serving `name` (before it runs). */
  conferenceVars(name: string): Record<string, string | number | boolean>;
  /** Places a call for a `dial` action; raises the outcome in `origin`'s flow. */
  dial(action: Extract<HostAction, { type: 'dial' }>, origin: DialOrigin): Promise<void>;
}

export interface DialOrigin {
  session: Session;
  conference: ConferenceActor | undefined;
  source: string;
  deliver(event: FlowEvent): void;
  signal: AbortSignal;
}

export interface FlowSessionOptions {
  runtime: SessionRuntime;
  session: Session;
  flow: CompiledFlow;
  /** Absent for scenarios started over HTTP. */
  leg?: CallLeg;
  /** Event source name: `call:<leg id>` or `scenario:<name>`. */
  source: string;
  /** The conference the route (or dial) named: default for `join`. */
  conference?: string;
  /** Named captures of the route (`route.*`). */
  captures?: Record<string, string>;
  vars?: Record<string, unknown>;
  start?: string;
  /**
   * Told once how the call's DTMF entries went: at its first join, or when it ends
   * without one (for PIN lockout).
   */
  onEntries?: (result: { joined: boolean; entries: number }) => void;
}

export class FlowSession implements FlowHost, Participant {
  readonly id: string;
  readonly source: string;
  readonly leg: CallLeg | undefined;
  readonly flow: FlowActor;
  readonly session: Session;
  private readonly opts: FlowSessionOptions;
  private readonly ports: RuntimePorts;
  private current: ConferenceActor | undefined;
  private readonly prompts = new Set<AbortController>();
  private readonly recordings = new Set<RecordingHandle>();
  private readonly life = new AbortController();
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  /** DTMF entries collected before the first join (PIN lockout). */
  private entries = 0;
  private entriesReported = false;

  constructor(opts: FlowSessionOptions) {
    this.opts = opts;
    this.ports = opts.runtime.ports;
    this.session = opts.session;
    this.leg = opts.leg;
    this.id = opts.leg?.info.id ?? `${opts.source}#${opts.session.id}`;
    this.source = opts.source;
    this.flow = new FlowActor({
      flow: opts.flow,
      host: this,
      clock: this.ports.clock,
      logger: this.ports.logger,
      events: {
        emit: (e) => {
          if (e.type === 'collected') this.entries++;
          this.ports.events.emit(e);
        },
      },
      expressions: this.ports.expressions,
      source: opts.source,
      ...(opts.vars ? { vars: opts.vars } : {}),
      ...(opts.start !== undefined ? { start: opts.start } : {}),
    });
  }

  get from(): string {
    return this.leg?.info.from ?? this.source;
  }

  /** The conference this flow is in now. */
  get conference(): ConferenceActor | undefined {
    return this.current;
  }

  get ended(): boolean {
    return this.closed;
  }

  start(): void {
    this.session.add(this);
    if (this.leg) this.unsubscribe = this.leg.onEvent((e) => this.onCallEvent(e));
    this.flow.start();
  }

  /** An HTTP request to this flow: its handler runs, or 404. */
  http(request: HttpRequest): void {
    const event: FlowEvent = {
      type: 'http',
      request,
      vars: {
        request: { method: request.method, path: request.path, query: request.query, body: request.body },
      },
    };
    this.emit('http', { method: request.method, path: request.path });
    if (!this.flow.canHandle(event)) {
      request.respond(404, { error: 'this flow does not handle HTTP requests in its current state' });
      this.emit('respond', { status: 404 });
      return;
    }
    this.flow.send(event);
  }

  // ───────────────────────────── Participant ─────────────────────────────

  deliver(event: FlowEvent): void {
    this.flow.send(event);
  }

  conferenceEnded(conference: ConferenceControl): void {
    if (this.current !== conference) return;
    this.current = undefined;
    if (this.leg) void this.close('conference ended');
  }

  async sendMessage(text: string): Promise<void> {
    if (this.leg) await this.leg.sendMessage(text);
  }

  // ───────────────────────────── FlowHost ─────────────────────────────

  scope(): Record<string, unknown> {
    const info = this.leg?.info;
    const confName = this.current?.name ?? this.opts.conference;
    const conference = this.current
      ? this.current.scopeValue()
      : confName !== undefined
        ? { name: confName, vars: this.opts.runtime.conferenceVars(confName), participants: 0 }
        : { name: '', vars: {}, participants: 0 };
    const participant = this.current?.participantValue(this.id) ?? {
      id: this.id,
      role: 'participant',
      from: this.from,
      muted: false,
      deaf: false,
    };
    return {
      call: info
        ? {
            id: info.id,
            from: info.from,
            to: info.to,
            source: info.source,
            transport: info.transport,
            headers: info.headers,
          }
        : { id: '', from: '', to: '', source: '', transport: '', headers: {} },
      route: this.opts.captures ?? {},
      conference,
      participant,
    };
  }

  async perform(action: HostAction, ctx: ActionContext): Promise<void> {
    switch (action.type) {
      case 'answer':
        return this.answer(action.params.early);
      case 'reject': {
        const leg = this.requireLeg(action.type);
        this.emit('reject', {
          code: action.params.code,
          ...(action.params.reason ? { reason: action.params.reason } : {}),
        });
        await leg.reject(action.params.code, action.params.reason);
        void this.close('rejected');
        return;
      }
      case 'hangup':
        await this.hangupLeg(action.params.reason ?? 'flow');
        return;
      case 'say':
      case 'play':
        return this.prompt(action, ctx);
      case 'stop':
        if (action.params.what !== 'record') {
          for (const a of this.prompts) a.abort();
          this.prompts.clear();
          this.current?.dropMusic(this.id);
        }
        if (action.params.what !== 'play') {
          for (const r of [...this.recordings]) await r.stop();
        }
        this.emit('stop', { what: action.params.what });
        return;
      case 'join':
        return this.join(action);
      case 'leave': {
        const conf = this.current;
        if (!conf) return;
        this.emit('leave', { conference: conf.name });
        this.current = undefined;
        await conf.leave(this.id);
        this.flow.send({ type: 'left', vars: { conference: conf.scopeValue() } });
        return;
      }
      case 'mute':
      case 'unmute':
      case 'deaf':
      case 'undeaf': {
        const conf = this.requireConference(action.type);
        const flag = action.type === 'mute' || action.type === 'unmute' ? 'muted' : 'deaf';
        await conf.setFlag(
          this.audience(conf, action.params.who, ctx),
          flag,
          action.type === 'mute' || action.type === 'deaf',
        );
        return;
      }
      case 'toggle':
        return this.requireConference(action.type).toggle(this.id, action.params.what);
      case 'record': {
        const conf = this.requireConference(action.type);
        const subject = action.params.what === 'participant' ? (ctx.event.participant ?? this.id) : this.id;
        // The file may close before `record` returns (a port that fails fast): track only open ones.
        let closed = false;
        const handle = await conf.record(action.params, subject, (r, h) => {
          closed = true;
          this.recordings.delete(h);
          this.flow.send({ type: 'recorded', vars: { recording: r } });
        });
        if (!closed) this.recordings.add(handle);
        return;
      }
      case 'dial':
        return this.opts.runtime.dial(action, {
          session: this.session,
          conference: this.current,
          source: this.source,
          deliver: (e) => this.flow.send(e),
          signal: this.life.signal,
        });
      case 'link':
        return this.requireConference(action.type).link(action.params.conference, action.params.direction);
      case 'unlink':
        return this.requireConference(action.type).unlink(action.params.conference);
      case 'send': {
        this.emit('send', { text: action.params.text, to: action.params.to });
        if (action.params.to === 'self' || !this.current) {
          if (action.params.to === 'self') await this.sendMessage(action.params.text);
          return;
        }
        const conf = this.current;
        const ids = this.audience(conf, action.params.to, ctx);
        await Promise.all(ids.map((id) => conf.member(id)?.participant.sendMessage(action.params.text)));
        return;
      }
      case 'respond':
        respond(ctx, action.params, (f) => this.emit('respond', f));
        return;
      case 'notify':
        this.requireConference(action.type).notify(action.params.event, action.params.to, { self: this.id });
        return;
      case 'end': {
        if (this.current) await this.current.end('flow');
        else await this.session.end('flow');
        return;
      }
    }
  }

  finished(outcome: FlowOutcome): void {
    if (outcome === 'stopped') return;
    // A participant flow that ends outside any conference leaves its call with nothing to do.
    if (outcome === 'hangup' || !this.current) void this.close(outcome === 'hangup' ? 'flow' : 'flow ended');
  }

  // ───────────────────────────── actions ─────────────────────────────

  private async answer(early: boolean): Promise<void> {
    const leg = this.leg;
    if (!leg || leg.state === 'answered' || leg.state === 'ended') return;
    if (early && leg.state === 'early') return;
    this.emit('answer', early ? { early: true } : {});
    await leg.answer({ early });
  }

  /** Media actions answer the call first (the language's implicit answer). */
  private async ensureAnswered(): Promise<void> {
    if (this.leg && this.leg.state === 'ringing') await this.answer(false);
  }

  private async prompt(
    action: Extract<HostAction, { type: 'say' | 'play' }>,
    ctx: ActionContext,
  ): Promise<void> {
    await this.ensureAnswered();
    const p = action.params;
    const source = promptSource(action);
    const loop = action.type === 'play' && action.params.loop;
    const stop = new AbortController();
    this.prompts.add(stop);
    // Prompts to self end with their state; prompts to others outlive it (until `stop` or the flow ends).
    const signal =
      p.to === 'self'
        ? AbortSignal.any([stop.signal, ctx.signal])
        : AbortSignal.any([stop.signal, this.life.signal]);
    this.emit(action.type, promptFields(action));
    const conf = this.current;
    let done: Promise<unknown>;
    if (conf?.member(this.id)) {
      done = conf.prompt(p.to, { self: this.id }, source, { loop, signal });
    } else if (p.to === 'self' && this.leg) {
      done = this.ports.media.prompt({ legs: [this.leg.info.id], audience: 'self' }, source, {
        loop,
        signal,
        purpose: 'prompt',
      });
    } else {
      done = Promise.resolve();
    }
    const cleanup = () => this.prompts.delete(stop);
    if (loop) {
      done.then(cleanup, cleanup);
      return;
    }
    let result: unknown;
    try {
      result = await done;
    } finally {
      cleanup();
    }
    // `played`: a `play` (not a collect prompt) went to its end.
    if (action.type === 'play' && !ctx.collectPrompt && result === 'finished') {
      this.flow.send({
        type: 'played',
        vars: { played: promptFields(action) },
      });
    }
  }

  private async join(action: Extract<HostAction, { type: 'join' }>): Promise<void> {
    const name = action.params.conference ?? this.opts.conference;
    if (name === undefined) {
      throw new RuntimeError('no-conference', 'join: no conference named and none routed', {
        src: action.src,
      });
    }
    if (!this.leg)
      throw new RuntimeError('action-failed', 'join: a scenario without a call cannot join', {
        src: action.src,
      });
    await this.ensureAnswered();
    const conf = await this.opts.runtime.conferenceFor(name, this.session);
    if (this.current && this.current !== conf) {
      const old = this.current;
      this.current = undefined;
      await old.leave(this.id);
    }
    this.emit('join', { conference: conf.name, role: action.params.role });
    const result = await conf.join(this, action.params);
    if (result === 'joined') {
      this.reportEntries(true);
      this.current = conf;
      this.emit('joined', { conference: conf.name, role: action.params.role });
      this.flow.send({ type: 'joined', participant: this.id, vars: { conference: conf.scopeValue() } });
    } else {
      this.emit('full', { conference: conf.name });
      this.flow.send({ type: 'full', vars: { conference: conf.scopeValue() } });
    }
  }

  // ───────────────────────────── call events and ending ─────────────────────────────

  private onCallEvent(e: Parameters<Parameters<CallLeg['onEvent']>[0]>[0]): void {
    switch (e.type) {
      case 'dtmf':
        this.emit('dtmf', { digit: e.digit });
        this.flow.dtmf(e.digit);
        return;
      case 'talking':
      case 'silent':
        this.emit(e.type, {});
        this.flow.send({ type: e.type });
        return;
      case 'message':
        this.emit('message', { text: e.text, from: e.from });
        this.flow.send({ type: 'message', vars: { message: { text: e.text, from: e.from } } });
        this.current?.message(this.id, e.text);
        return;
      case 'hangup':
        this.emit('hangup', { by: 'remote', ...(e.reason ? { reason: e.reason } : {}) });
        this.flow.send({ type: 'hangup' });
        void this.close('remote hangup', false);
    }
  }

  private async hangupLeg(reason: string): Promise<void> {
    const leg = this.leg;
    if (!leg || leg.state === 'ended') return;
    this.emit('hangup', { by: 'flow', reason });
    await leg.hangup(reason);
    void this.close(reason);
  }

  private reportEntries(joined: boolean): void {
    if (this.entriesReported) return;
    this.entriesReported = true;
    this.opts.onEntries?.({ joined, entries: this.entries });
  }

  /** Ends this flow's run: leaves its conference, hangs up its leg, stops the flow. Idempotent. */
  async close(reason: string, hangup = true): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reportEntries(false);
    this.unsubscribe?.();
    for (const a of this.prompts) a.abort();
    this.prompts.clear();
    this.life.abort();
    const conf = this.current;
    this.current = undefined;
    if (conf) await conf.leave(this.id, 'hangup').catch((err) => this.logError('leave', err));
    if (hangup && this.leg && this.leg.state !== 'ended') {
      this.emit('hangup', { by: 'flow', reason });
      await this.leg.hangup(reason).catch((err) => this.logError('hangup', err));
    }
    this.flow.stop();
    this.session.removed(this);
  }

  // ───────────────────────────── helpers ─────────────────────────────

  private audience(conf: ConferenceActor, who: Audience, ctx: ActionContext): string[] {
    return conf.resolve(who, {
      self: this.id,
      ...(ctx.event.participant ? { participant: ctx.event.participant } : {}),
    });
  }

  private requireLeg(action: string): CallLeg {
    if (!this.leg) throw new RuntimeError('call-state', `${action}: this flow has no call`);
    return this.leg;
  }

  private requireConference(action: string): ConferenceActor {
    if (!this.current) throw new RuntimeError('not-in-conference', `${action}: not in a conference`);
    return this.current;
  }

  private emit(type: string, fields: Record<string, EventField>): void {
    this.ports.events.emit({ source: this.source, type, fields });
  }

  private logError(what: string, err: unknown): void {
    this.ports.logger.error({ source: this.source, err: errorMessage(err) }, what);
  }
}
