/**
 * Runtime: one compiled configuration set at work over a set of ports. Routes
 * incoming calls, keeps the running conferences (standalone by name, local ones
 * inside their session), starts scenarios, places dial-outs and delivers HTTP
 * requests to sessions. The SIP server and the simulator both drive this class.
 */
import type { CompiledConference, CompiledScenario, CompiledSet } from '../compiler/ir.js';
import { ConferenceActor, type ConferenceRegistry } from './conference/actor.js';
import { DialRefusedError, errorMessage, RuntimeError } from './errors.js';
import type { HostAction } from './flow/types.js';
import { DEFAULT_LOCKOUT_MS, PinLockout } from './lockout.js';
import type { CallLeg, DialOutcome, DialRequest, HttpRequest, RuntimePorts } from './ports.js';
import { RegexCache } from './regex-cache.js';
import { type RouteDecision, Router } from './router.js';
import { type DialOrigin, FlowSession, type SessionRuntime } from './session/flow-session.js';
import { Session } from './session/session.js';

export type CallTarget =
  | { route: true }
  | { conference: string }
  | { scenario: string; vars?: Record<string, unknown> };

export class Runtime implements SessionRuntime, ConferenceRegistry {
  private current: CompiledSet;
  readonly ports: RuntimePorts;
  private currentRouter: Router;
  private readonly standalone = new Map<string, ConferenceActor>();
  private readonly opening = new Map<string, Promise<ConferenceActor>>();
  private readonly sessions = new Set<Session>();
  private readonly flows = new Map<string, FlowSession>();
  private seq = 0;
  private readonly regexes = new RegexCache();
  private readonly lockout = new PinLockout();
  private readonly conferenceSessions = new Map<ConferenceActor, Session>();

  constructor(set: CompiledSet, ports: RuntimePorts) {
    this.current = set;
    this.ports = ports;
    this.currentRouter = new Router(set.routes, ports.expressions);
  }

  /** The configuration new calls, conferences and scenarios take. */
  get set(): CompiledSet {
    return this.current;
  }

  get router(): Router {
    return this.currentRouter;
  }

  /**
   * Swaps the configuration (hot reload). New calls are routed by the new set and
   * new conferences open with its documents; running conferences and flows keep
   * the compiled documents they started with (they hold them, not the set).
   */
  updateSet(set: CompiledSet): void {
    const router = new Router(set.routes, this.ports.expressions);
    this.current = set;
    this.currentRouter = router;
  }

  // ───────────────────────────── lookups ─────────────────────────────

  /** The conference document serving `name` (first whose pattern matches). */
  conferenceDoc(name: string): CompiledConference | undefined {
    return this.set.conferences.find((c) => this.regexes.get(c.pattern).test(name));
  }

  scenarioDoc(name: string): CompiledScenario | undefined {
    return this.set.scenarios.find((s) => s.name === name);
  }

  /** A running standalone conference. */
  conference(name: string): ConferenceActor | undefined {
    return this.standalone.get(name);
  }

  conferences(): ConferenceActor[] {
    return [...this.standalone.values()];
  }

  /** Running flows by leg id (calls) or session-scoped id (scenarios). */
  flowSession(id: string): FlowSession | undefined {
    return this.flows.get(id);
  }

  flowSessions(): FlowSession[] {
    return [...this.flows.values()];
  }

  /** Whether anything is still running. */
  get busy(): boolean {
    return this.standalone.size > 0 || this.flows.size > 0 || this.opening.size > 0;
  }

  conferenceVars(name: string): Record<string, string | number | boolean> {
    return this.conferenceDoc(name)?.vars ?? {};
  }

  // ───────────────────────────── calls ─────────────────────────────

  /** Routes an incoming call and starts its flow. Never throws: failures reject the call. */
  async acceptCall(leg: CallLeg, target: CallTarget = { route: true }): Promise<RouteDecision | undefined> {
    try {
      if ('conference' in target) {
        await this.startCallFlow(leg, {
          kind: 'conference',
          name: target.conference,
          captures: {},
          vars: {},
        });
        return undefined;
      }
      if ('scenario' in target) {
        await this.startCallFlow(leg, {
          kind: 'scenario',
          name: target.scenario,
          captures: {},
          vars: this.scenarioVars(target.scenario, target.vars ?? {}),
        });
        return undefined;
      }
      const decision = this.router.route({
        to: leg.info.to,
        from: leg.info.from,
        headers: leg.info.headers,
        source: leg.info.source,
        transport: leg.info.transport,
      });
      if (decision.kind === 'none') {
        this.emit(`call:${leg.info.id}`, 'reject', { code: 404, reason: 'no route' });
        await leg.reject(404, 'Not Found');
      } else if (decision.kind === 'reject') {
        this.emit(`call:${leg.info.id}`, 'reject', { code: decision.code });
        await leg.reject(decision.code, decision.reason);
      } else {
        const vars =
          decision.kind === 'scenario'
            ? this.scenarioVars(decision.name, decision.vars)
            : { ...decision.vars };
        await this.startCallFlow(leg, {
          kind: decision.kind,
          name: decision.name,
          captures: decision.captures,
          vars,
        });
      }
      return decision;
    } catch (err) {
      this.ports.logger.error({ call: leg.info.id, err: errorMessage(err) }, 'call refused');
      this.emit(`call:${leg.info.id}`, 'log', { level: 'error', text: errorMessage(err) });
      if (leg.state === 'ringing') await leg.reject(500, 'Server Error').catch(() => undefined);
      return undefined;
    }
  }

  private async startCallFlow(
    leg: CallLeg,
    t: {
      kind: 'conference' | 'scenario';
      name: string;
      captures: Record<string, string>;
      vars: Record<string, unknown>;
    },
  ): Promise<FlowSession | undefined> {
    const session = this.newSession();
    if (t.kind === 'conference') {
      const doc = this.conferenceDoc(t.name);
      if (!doc) throw new RuntimeError('unknown-conference', `no conference document serves "${t.name}"`);
      if (doc.type === 'local') {
        throw new RuntimeError(
          'unknown-conference',
          `conference "${t.name}" is local: it cannot be called into`,
        );
      }
      const limit = doc.limits.pinFailures;
      const source = leg.info.source;
      if (limit !== undefined && this.lockout.locked(doc.name, source, this.ports.clock.now())) {
        this.emit(`call:${leg.info.id}`, 'reject', { code: 403, reason: 'locked out' });
        await leg.reject(403, 'Forbidden');
        return undefined;
      }
      const onEntries =
        limit === undefined
          ? undefined
          : (result: { joined: boolean; entries: number }) => {
              const now = this.ports.clock.now();
              const lockoutMs = doc.limits.lockoutMs ?? DEFAULT_LOCKOUT_MS;
              if (this.lockout.record(doc.name, source, result, limit, lockoutMs, now)) {
                this.ports.logger.warn({ conference: doc.name, source }, 'PIN failures: source locked out');
                this.emit(`conference:${t.name}`, 'lockout', { source, until: now + lockoutMs });
              }
            };
      return this.startFlow({
        ...(onEntries ? { onEntries } : {}),
        session,
        flow: doc.participant,
        leg,
        source: `call:${leg.info.id}`,
        conference: t.name,
        captures: t.captures,
        vars: t.vars,
      });
    }
    const scenario = this.scenarioDoc(t.name);
    if (!scenario) throw new RuntimeError('unknown-scenario', `no scenario named "${t.name}"`);
    return this.startFlow({
      session,
      flow: scenario.flow,
      leg,
      source: `call:${leg.info.id}`,
      captures: t.captures,
      vars: t.vars,
    });
  }

  // ───────────────────────────── conferences and scenarios ─────────────────────────────

  /** Starts (or returns) a standalone conference by name: `started` runs its conference flow. */
  async startConference(name: string): Promise<ConferenceActor> {
    const doc = this.conferenceDoc(name);
    if (!doc) throw new RuntimeError('unknown-conference', `no conference document serves "${name}"`);
    if (doc.type === 'local') {
      throw new RuntimeError(
        'unknown-conference',
        `conference "${name}" is local: it lives inside a session`,
      );
    }
    return this.openStandalone(name, doc);
  }

  /** Starts a scenario run without a call (HTTP, CLI). Throws on unknown names or missing required vars. */
  startScenario(name: string, vars: Record<string, unknown> = {}): FlowSession {
    const scenario = this.scenarioDoc(name);
    if (!scenario) throw new RuntimeError('unknown-scenario', `no scenario named "${name}"`);
    const session = this.newSession();
    return this.startFlow({
      session,
      flow: scenario.flow,
      source: `scenario:${name}`,
      vars: this.scenarioVars(name, vars),
    });
  }

  /** Scenario variables: declared defaults, then given values; missing required ones are an error. */
  scenarioVars(name: string, given: Record<string, unknown>): Record<string, unknown> {
    const scenario = this.scenarioDoc(name);
    if (!scenario) throw new RuntimeError('unknown-scenario', `no scenario named "${name}"`);
    const out: Record<string, unknown> = {};
    for (const [k, decl] of Object.entries(scenario.vars)) {
      if (k in given) out[k] = given[k];
      else if (decl.default !== undefined) out[k] = decl.default;
      else if (decl.required) {
        throw new RuntimeError('unknown-scenario', `scenario "${name}" needs the variable "${k}"`, {
          src: scenario.src,
        });
      }
    }
    for (const [k, v] of Object.entries(given)) if (!(k in out)) out[k] = v;
    return out;
  }

  async conferenceFor(name: string, session: Session): Promise<ConferenceActor> {
    const doc = this.conferenceDoc(name);
    if (!doc) throw new RuntimeError('unknown-conference', `no conference document serves "${name}"`);
    if (doc.type === 'local') {
      const existing = session.locals.get(name);
      if (existing && !existing.ended) return existing;
      const conf = new ConferenceActor({
        name,
        doc,
        ports: this.ports,
        registry: this,
        session: session.id,
        dial: (action, c) => this.dialFromConference(action, c, session),
      });
      session.locals.set(name, conf);
      await conf.open();
      return conf;
    }
    return this.openStandalone(name, doc);
  }

  private openStandalone(name: string, doc: CompiledConference): Promise<ConferenceActor> {
    const running = this.standalone.get(name);
    if (running && !running.ended) return Promise.resolve(running);
    const pending = this.opening.get(name);
    if (pending) return pending;
    const session = this.newSession();
    const conf = new ConferenceActor({
      name,
      doc,
      ports: this.ports,
      registry: this,
      dial: (action, c) => this.dialFromConference(action, c, session),
    });
    this.standalone.set(name, conf);
    this.conferenceSessions.set(conf, session);
    const p = conf.open().then(
      () => conf,
      (err) => {
        this.standalone.delete(name);
        throw err;
      },
    );
    this.opening.set(name, p);
    return p.finally(() => this.opening.delete(name));
  }

  // ConferenceRegistry
  find(name: string, near: ConferenceActor): ConferenceActor | undefined {
    for (const s of this.sessions) {
      const local = s.locals.get(name);
      if (local && [...s.locals.values()].includes(near)) return local;
    }
    return this.standalone.get(name);
  }

  removed(conference: ConferenceActor): void {
    if (this.standalone.get(conference.name) === conference) this.standalone.delete(conference.name);
    // The session of a standalone conference (its flow's local conferences and dial-outs) ends with it.
    const session = this.conferenceSessions.get(conference);
    this.conferenceSessions.delete(conference);
    if (session) void session.end('conference ended');
  }

  // ───────────────────────────── dial-out ─────────────────────────────

  async dial(action: Extract<HostAction, { type: 'dial' }>, origin: DialOrigin): Promise<void> {
    const p = action.params;
    const emit = (type: string, extra: Record<string, string | number | boolean> = {}) =>
      this.emit(origin.source, type, { to: p.to, ...extra });
    const raise = (status: 'answered' | 'busy' | 'no-answer' | 'failed', reason?: string) =>
      origin.deliver({ type: status, vars: { dial: { to: p.to, status, ...(reason ? { reason } : {}) } } });

    let request: DialRequest;
    try {
      request = this.dialRequest(action);
    } catch (err) {
      emit('failed', { reason: errorMessage(err) });
      this.ports.logger.warn({ to: p.to, err: errorMessage(err) }, 'dial refused');
      raise('failed', errorMessage(err));
      return;
    }
    emit('dial');
    const outcome = await this.ports.calls.dial(request, origin.signal);
    if (outcome.status !== 'answered') {
      emit(outcome.status, outcome.reason ? { reason: outcome.reason } : {});
      raise(outcome.status, outcome.reason);
      return;
    }
    emit('answered');
    const leg = outcome.leg;
    const confName = p.conference ?? origin.conference?.name;
    const doc = confName !== undefined ? this.conferenceDoc(confName) : undefined;
    if (confName === undefined || !doc) {
      const why =
        confName === undefined ? 'no conference to put the dialled call in' : `no conference "${confName}"`;
      this.ports.logger.warn({ to: p.to }, why);
      await leg.hangup(why).catch(() => undefined);
      raise('failed', why);
      return;
    }
    if (p.start !== undefined && !(p.start in doc.participant.machine.states)) {
      await leg.hangup('bad start state').catch(() => undefined);
      throw new RuntimeError('unknown-state', `dial.start: no state "${p.start}" in ${doc.participant.id}`, {
        src: action.src,
      });
    }
    this.startFlow({
      // A leg dialled into a local conference belongs to that session; into a standalone one it lives on its own.
      session: doc.type === 'local' ? origin.session : this.newSession(),
      flow: doc.participant,
      leg,
      source: `call:${leg.info.id}`,
      conference: confName,
      vars: p.vars,
      ...(p.start !== undefined ? { start: p.start } : {}),
    });
    raise('answered');
  }

  /** Whether the dial-out policy (`dialout.allow`) lets `to` be dialled. */
  dialAllowed(to: string): boolean {
    return this.set.dialout.allow.some((re) => this.regexes.get(re).test(to));
  }

  /**
   * Dials `to` into a running conference on behalf of an application (HTTP API):
   * the answered leg runs the conference's participant flow (from `start` when
   * given). Resolves with the outcome and, when answered, the new leg's id.
   * Throws `DialRefusedError` when the dial-out policy refuses the destination.
   */
  async dialInto(
    conference: ConferenceActor,
    request: { to: string; from?: string; trunk?: string; timeoutMs: number; start?: string },
    signal: AbortSignal,
  ): Promise<{ status: DialOutcome['status']; participant?: string; reason?: string }> {
    const src = conference.doc.src;
    const action: Extract<HostAction, { type: 'dial' }> = {
      type: 'dial',
      src,
      params: {
        to: request.to,
        timeoutMs: request.timeoutMs,
        conference: conference.name,
        vars: {},
        ...(request.from !== undefined ? { from: request.from } : {}),
        ...(request.trunk !== undefined ? { trunk: request.trunk } : {}),
        ...(request.start !== undefined ? { start: request.start } : {}),
      },
    };
    const dial = this.dialRequest(action);
    const doc = conference.doc;
    if (request.start !== undefined && !(request.start in doc.participant.machine.states))
      throw new RuntimeError('unknown-state', `no state "${request.start}" in ${doc.participant.id}`);
    const emit = (type: string, extra: Record<string, string | number | boolean> = {}) =>
      this.emit(conference.source, type, { to: request.to, ...extra });
    emit('dial');
    const outcome = await this.ports.calls.dial(dial, signal);
    if (outcome.status !== 'answered') {
      emit(outcome.status, outcome.reason ? { reason: outcome.reason } : {});
      return { status: outcome.status, ...(outcome.reason ? { reason: outcome.reason } : {}) };
    }
    emit('answered');
    const leg = outcome.leg;
    if (conference.ended) {
      await leg.hangup('conference ended').catch(() => undefined);
      return { status: 'failed', reason: `conference "${conference.name}" ended` };
    }
    this.startFlow({
      session: this.newSession(),
      flow: doc.participant,
      leg,
      source: `call:${leg.info.id}`,
      conference: conference.name,
      vars: {},
      ...(request.start !== undefined ? { start: request.start } : {}),
    });
    return { status: 'answered', participant: leg.info.id };
  }

  private dialFromConference(
    action: Extract<HostAction, { type: 'dial' }>,
    conf: ConferenceActor,
    session: Session,
  ): Promise<void> {
    return this.dial(action, {
      session,
      conference: conf,
      source: conf.source,
      deliver: (e) => conf.sendToFlow(e),
      signal: new AbortController().signal,
    });
  }

  /** Applies the dial-out policy: `dialout.allow` and trunks. */
  private dialRequest(action: Extract<HostAction, { type: 'dial' }>): DialRequest {
    const p = action.params;
    const allowed = this.set.dialout.allow.some((re) => this.regexes.get(re).test(p.to));
    if (!allowed)
      throw new DialRefusedError(p.to, `dial: "${p.to}" is not allowed by dialout.allow`, {
        src: action.src,
      });
    let trunk: DialRequest['trunk'];
    if (p.trunk !== undefined) {
      const t = this.set.dialout.trunks[p.trunk];
      if (!t) throw new DialRefusedError(p.to, `dial: no trunk "${p.trunk}"`, { src: action.src });
      trunk = { name: p.trunk, ...t };
    }
    return {
      to: p.to,
      timeoutMs: p.timeoutMs,
      ...(p.from !== undefined ? { from: p.from } : {}),
      ...(trunk ? { trunk } : {}),
    };
  }

  // ───────────────────────────── HTTP ─────────────────────────────

  /** Delivers an HTTP request to a running conference, or to a flow by id. 404 when neither runs. */
  http(target: { conference: string } | { flow: string }, request: HttpRequest): void {
    if ('conference' in target) {
      const conf = this.standalone.get(target.conference);
      if (conf) conf.http(request);
      else request.respond(404, { error: `no running conference "${target.conference}"` });
      return;
    }
    const flow = this.flows.get(target.flow);
    if (flow) flow.http(request);
    else request.respond(404, { error: `no running flow "${target.flow}"` });
  }

  /** Ends everything: conferences, then sessions. */
  async shutdown(reason = 'shutdown'): Promise<void> {
    for (const c of [...this.standalone.values()]) await c.end(reason);
    for (const s of [...this.sessions]) await s.end(reason);
  }

  // ───────────────────────────── internals ─────────────────────────────

  private startFlow(
    opts: ConstructorParameters<typeof FlowSession>[0] extends infer O ? Omit<O, 'runtime'> : never,
  ) {
    const fs = new FlowSession({ ...opts, runtime: this });
    this.flows.set(fs.id, fs);
    void fs.flow.done.then(() => {
      if (this.flows.get(fs.id) === fs) this.flows.delete(fs.id);
    });
    fs.start();
    return fs;
  }

  private newSession(): Session {
    const s = new Session(`s${++this.seq}`, (x) => this.sessions.delete(x));
    this.sessions.add(s);
    return s;
  }

  private emit(source: string, type: string, fields: Record<string, string | number | boolean>): void {
    this.ports.events.emit({ source, type, fields });
  }
}
