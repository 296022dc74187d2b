/**
 * FlowActor: runs one compiled flow.
 *
 * xstate decides which transition an event takes (guards, `after` delays on the
 * injected clock, final states); this class gives the named actions their Parley
 * meaning: the actions of a transition and the entry actions of the state it
 * enters run one after another, each awaited (say, play, collect, dial, join
 * take time), inside a scope that is aborted when the state is left. When a
 * state's entry list has finished the actor sends `parley.entry.done` (how `then:`
 * is compiled). DTMF key sequences (`dtmf:*6`) are matched here on a per-flow
 * buffer against the current state's `meta.dtmf`.
 *
 * An actor never throws into its caller: a failing action is logged with its
 * source position, the rest of its list is skipped and `failed` is raised.
 */
import { type AnyActorRef, type AnyStateMachine, createActor, setup } from 'xstate';
import type { SourceRef } from '../../compiler/diagnostics.js';
import type { ActionRef, CompiledFlow, StateConfig, TransitionConfig } from '../../compiler/ir.js';
import { ACTION_TYPES } from '../../compiler/ir.js';
import { ActionError, errorMessage, formatSrc } from '../errors.js';
import type { Clock, EventField, EventSink, ExpressionEngine, Logger } from '../ports.js';
import { Collector } from './collect.js';
import { resolveAction } from './resolve.js';
import type { ActionContext, FlowEvent, FlowHost, FlowOutcome } from './types.js';

export const ENTRY_DONE = 'parley.entry.done';

export interface FlowActorOptions {
  flow: CompiledFlow;
  host: FlowHost;
  clock: Clock;
  logger: Logger;
  events: EventSink;
  expressions: ExpressionEngine;
  /** Event source name for observers (`call:<id>`, `conference:<name>`, `scenario:<name>#<id>`). */
  source: string;
  /** Variables laid over the flow's own (`vars.*`): route and scenario variables, dial `vars`. */
  vars?: Record<string, unknown>;
  /** State to start in instead of the flow's `initial` (dial `start`). */
  start?: string;
}

/** One state's run: aborted when the state is left. */
interface StateRun {
  name: string;
  abort: AbortController;
  /** The event that entered the state: its variables stay in scope for the entry actions. */
  event: FlowEvent;
  /** Targetless transitions' action lists run one after another. */
  chain: Promise<void>;
  /** Actions of the transition that entered the state: they run before its entry actions. */
  transition: Queued[];
}

type XEvent = FlowEvent & { type: string };
type WrappedParams = { ref: ActionRef };
/** A queued action with the `visits` value of the state it was queued in. */
type Queued = { ref: ActionRef; visits: number };

/** Keys remembered for sequence matching; longer sequences than this cannot be written. */
const MAX_DTMF_BUFFER = 32;
/**
 * State entries allowed within one clock instant. The compiler rejects unbounded
 * retry loops, but a loop bounded by a large counter (or a bug) must not starve the
 * event loop: no sensible flow enters this many states without time passing.
 */
const MAX_ENTRIES_PER_INSTANT = 1000;

export class FlowActor {
  readonly flow: CompiledFlow;
  /** Flow variables (`vars.*`), changed by `set`. */
  readonly vars: Record<string, unknown>;
  private readonly opts: FlowActorOptions;
  private readonly visits = new Map<string, number>();
  private readonly flowAbort = new AbortController();
  private readonly actor: AnyActorRef;
  private readonly doneDeferred: { promise: Promise<FlowOutcome>; resolve: (o: FlowOutcome) => void };
  private run: StateRun | undefined;
  /** Actions of the transition being taken, collected until the target's entry starts them. */
  private pending: Queued[] = [];
  private dtmfBuffer = '';
  private collector: Collector | undefined;
  private outcome: FlowOutcome | undefined;
  private started = false;
  /** State entries at the current instant: a flow that keeps moving without time passing is looping. */
  private burst = { at: -1, entries: 0 };

  constructor(opts: FlowActorOptions) {
    this.opts = opts;
    this.flow = opts.flow;
    this.vars = { ...opts.flow.machine.context.vars, ...(opts.vars ?? {}) };
    let resolve!: (o: FlowOutcome) => void;
    const promise = new Promise<FlowOutcome>((r) => {
      resolve = r;
    });
    this.doneDeferred = { promise, resolve };
    this.actor = createActor(this.buildMachine(), { clock: opts.clock });
    // Without an error observer xstate rethrows an actor's error asynchronously, out of reach of any caller.
    this.actor.subscribe({ error: (err) => this.crash(err) });
  }

  /** Resolves once when the flow ends. */
  get done(): Promise<FlowOutcome> {
    return this.doneDeferred.promise;
  }

  /** Current state name. */
  get state(): string {
    return this.run?.name ?? this.flow.machine.initial;
  }

  get finished(): boolean {
    return this.outcome !== undefined;
  }

  /** Times `state` has been entered. */
  visitsOf(state: string): number {
    return this.visits.get(state) ?? 0;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    try {
      this.actor.start();
    } catch (err) {
      this.crash(err);
    }
  }

  /** Delivers an event. Unhandled events are ignored. Never throws. */
  send(event: FlowEvent): void {
    if (!this.started || this.outcome) return;
    try {
      this.actor.send(event);
    } catch (err) {
      this.crash(err);
    }
  }

  /** Whether the current state has a transition for `event` whose guard holds. */
  canHandle(event: FlowEvent): boolean {
    if (!this.started || this.outcome) return false;
    try {
      return this.actor.getSnapshot().can(event);
    } catch {
      return false;
    }
  }

  /** One DTMF key from the caller: to an active `collect`, else `dtmf` and any matching `dtmf:<keys>`. */
  dtmf(digit: string): void {
    if (!this.started || this.outcome) return;
    if (this.collector) {
      this.collector.feed(digit);
      return;
    }
    const before = this.run;
    this.send({ type: 'dtmf', vars: { dtmf: { digit } } });
    // A key that moved the flow on is spent: it does not also start a sequence in the new state.
    if (this.outcome || this.run !== before) return;
    this.dtmfBuffer = (this.dtmfBuffer + digit).slice(-MAX_DTMF_BUFFER);
    const state = this.currentConfig();
    const sequences = [...(state?.meta.dtmf ?? [])].sort((a, b) => b.length - a.length);
    const match = sequences.find((seq) => this.dtmfBuffer.endsWith(seq));
    if (match !== undefined) {
      this.dtmfBuffer = '';
      this.send({ type: `dtmf:${match}`, vars: { dtmf: { digit, keys: match } } });
    }
  }

  /** Stops the flow: cancels everything it started that is bound to it. Idempotent. */
  stop(): void {
    this.finish('stopped');
  }

  /** The scope guards and templates see, for `event`. */
  scope(event: FlowEvent | undefined, visits?: number): Record<string, unknown> {
    return {
      ...this.opts.host.scope(),
      vars: this.vars,
      visits: visits ?? this.visits.get(this.state) ?? 1,
      ...(event?.vars ?? {}),
    };
  }

  // ───────────────────────────── machine ─────────────────────────────

  private buildMachine(): AnyStateMachine {
    const m = this.flow.machine;
    const wrap = (ref: ActionRef) => ({ type: ref.type, params: { ref } });
    const transition = (t: TransitionConfig) => ({
      ...(t.target !== undefined ? { target: t.target, reenter: true } : {}),
      ...(t.guard ? { guard: { type: 'expr', params: t.guard.params } } : {}),
      actions: [...t.actions.map(wrap), ...(t.target === undefined ? [{ type: 'parley.flush' }] : [])],
    });
    const states: Record<string, unknown> = {};
    for (const [name, s] of Object.entries(m.states)) {
      const on: Record<string, unknown> = {};
      for (const [ev, ts] of Object.entries(s.on)) on[ev] = ts.map(transition);
      const after: Record<string, unknown> = {};
      for (const [ms, ts] of Object.entries(s.after ?? {})) after[ms] = ts.map(transition);
      states[name] = {
        ...(s.type === 'final' ? { type: 'final' } : {}),
        entry: [
          { type: 'parley.enter', params: { state: name } },
          ...s.entry.map(wrap),
          { type: 'parley.entered' },
        ],
        exit: [{ type: 'parley.exit', params: { state: name } }],
        on,
        ...(s.after ? { after } : {}),
      };
    }
    const initial = this.opts.start ?? m.initial;

    // Each Parley action name is bound to a function that queues the action; the
    // queue is run asynchronously by `parley.entered` / `parley.flush`.
    type Impl = (args: { event: XEvent }, params: unknown) => void;
    const actions: Record<string, Impl> = {};
    for (const t of ACTION_TYPES) {
      actions[t] = (_args, params) => {
        const visits = this.run ? (this.visits.get(this.run.name) ?? 1) : 1;
        this.pending.push({ ref: (params as WrappedParams).ref, visits });
      };
    }
    actions['parley.enter'] = ({ event }, params) => this.onEnter((params as { state: string }).state, event);
    actions['parley.exit'] = (_args, params) => this.onExit((params as { state: string }).state);
    actions['parley.entered'] = () => this.onEntered();
    actions['parley.flush'] = ({ event }) => this.onFlush(event);
    const guards = {
      expr: ({ event }: { event: XEvent }, params: unknown) =>
        this.guard((params as { expr: string }).expr, event),
    };
    // The machine config is plain JSON built above; xstate's generics cannot describe
    // names bound at run time, so the setup is typed loosely on purpose.
    const machineSetup = setup({
      types: {} as { events: XEvent },
      actions: actions as never,
      guards: guards as never,
    });
    return machineSetup.createMachine({ id: m.id, initial, states } as never) as unknown as AnyStateMachine;
  }

  private currentConfig(): StateConfig | undefined {
    return this.run ? this.flow.machine.states[this.run.name] : undefined;
  }

  private guard(expr: string, event: XEvent): boolean {
    try {
      return this.opts.expressions.truthy(this.opts.expressions.evaluate(expr, this.scope(event)));
    } catch (err) {
      const src = this.transitionSrc(event.type, expr);
      this.report(new ActionError('guard', `guard "${expr}": ${errorMessage(err)}`, { src, cause: err }));
      return false;
    }
  }

  private transitionSrc(eventType: string, expr: string): SourceRef | undefined {
    const state = this.currentConfig();
    const ts = state?.on[eventType] ?? [];
    return (ts.find((t) => t.guard?.params.expr === expr) ?? ts[0])?.meta.src ?? state?.meta.src;
  }

  private onEnter(state: string, event: XEvent): void {
    this.visits.set(state, (this.visits.get(state) ?? 0) + 1);
    this.dtmfBuffer = '';
    const ctx: FlowEvent = { ...event };
    this.run = {
      name: state,
      abort: new AbortController(),
      event: ctx,
      chain: Promise.resolve(),
      transition: this.pending,
    };
    this.pending = [];
  }

  private onExit(state: string): void {
    // xstate exits the final state when the machine completes; its entry list (the hangup) must still run.
    if (this.flow.machine.states[state]?.type === 'final') return;
    this.run?.abort.abort();
  }

  /** The target's entry list is queued after the transition's own actions. */
  private onEntered(): void {
    const run = this.run;
    if (!run) return;
    const now = this.opts.clock.now();
    this.burst =
      this.burst.at === now ? { at: now, entries: this.burst.entries + 1 } : { at: now, entries: 1 };
    if (this.burst.entries > MAX_ENTRIES_PER_INSTANT) {
      this.report(
        new ActionError(
          'flow',
          `flow ${this.flow.id} entered ${this.burst.entries} states without time passing: stopped`,
          {
            src: this.flow.machine.states[run.name]?.meta.src,
          },
        ),
      );
      queueMicrotask(() => this.finish('stopped'));
      return;
    }
    const list = this.pending;
    this.pending = [];
    const stateCfg = this.flow.machine.states[run.name];
    const final = stateCfg?.type === 'final';
    const transition = run.transition;
    run.transition = [];
    void (async () => {
      // The transcript shows the state once the transition's own actions have run.
      if (transition.length > 0 && !(await this.runList(transition, run, run.event))) return false;
      if (run.abort.signal.aborted || this.flowAbort.signal.aborted) return false;
      this.emit('state', { state: run.name });
      return this.runList(list, run, run.event);
    })().then((completed) => {
      if (final) {
        this.finish(run.name === '$hangup' ? 'hangup' : 'end');
        return;
      }
      if (completed && !run.abort.signal.aborted && this.run === run) {
        this.send({ ...run.event, type: ENTRY_DONE });
      }
    });
  }

  /** A targetless transition: its actions run in the current state's scope, after earlier ones. */
  private onFlush(event: XEvent): void {
    const run = this.run;
    const list = this.pending;
    this.pending = [];
    if (!run || list.length === 0) return;
    const ctx: FlowEvent = { ...event };
    run.chain = run.chain.then(() => this.runList(list, run, ctx).then(() => undefined));
  }

  // ───────────────────────────── actions ─────────────────────────────

  /** Runs actions in order; false when cancelled or failed. */
  private async runList(list: Queued[], run: StateRun, event: FlowEvent): Promise<boolean> {
    for (const { ref, visits } of list) {
      if (run.abort.signal.aborted || this.flowAbort.signal.aborted) return false;
      try {
        await this.execute(ref, run, event, visits);
      } catch (err) {
        if (run.abort.signal.aborted || this.flowAbort.signal.aborted) return false;
        const error =
          err instanceof ActionError
            ? err
            : new ActionError(ref.type, errorMessage(err), { src: ref.src, cause: err });
        this.report(error);
        this.send({ type: 'failed', vars: { error: { message: error.message, src: formatSrc(error.src) } } });
        return false;
      }
    }
    return !run.abort.signal.aborted && !this.flowAbort.signal.aborted;
  }

  private async execute(ref: ActionRef, run: StateRun, event: FlowEvent, visits: number): Promise<void> {
    const ex = this.opts.expressions;
    const scope = this.scope(event, visits);
    switch (ref.type) {
      case 'set': {
        // All right-hand sides see the variables as they were before this `set`.
        const values: Record<string, unknown> = {};
        for (const [name, expr] of Object.entries(ref.params.assignments)) {
          try {
            values[name] = ex.evaluate(expr, scope);
          } catch (err) {
            throw new ActionError('set', `set ${name}: ${errorMessage(err)}`, { src: ref.src, cause: err });
          }
        }
        Object.assign(this.vars, values);
        return;
      }
      case 'log': {
        let text: string;
        try {
          text = ex.render(ref.params.text, scope);
        } catch (err) {
          throw new ActionError('log', `log: ${errorMessage(err)}`, { src: ref.src, cause: err });
        }
        this.opts.logger.info({ flow: this.flow.id, src: formatSrc(ref.src) }, text);
        this.emit('log', { text });
        return;
      }
      case 'collect':
        return this.collect(ref, run, event, scope);
      default: {
        const action = resolveAction(ref, scope, ex);
        await this.opts.host.perform(action, this.context(run, event, ref.src));
      }
    }
  }

  private context(run: StateRun, event: FlowEvent, src: SourceRef): ActionContext {
    return { event, signal: run.abort.signal, flowSignal: this.flowAbort.signal, src };
  }

  private async collect(
    ref: Extract<ActionRef, { type: 'collect' }>,
    run: StateRun,
    event: FlowEvent,
    scope: Record<string, unknown>,
  ) {
    const p = ref.params;
    const prompt = p.prompt;
    let promptFn: ((signal: AbortSignal) => Promise<void>) | undefined;
    if (prompt) {
      const action =
        'say' in prompt
          ? resolveAction(
              { type: 'say', params: { ...prompt.say, to: 'self' }, src: ref.src },
              scope,
              this.opts.expressions,
            )
          : resolveAction(
              { type: 'play', params: { ...prompt.play, loop: false, to: 'self' }, src: ref.src },
              scope,
              this.opts.expressions,
            );
      promptFn = (signal) =>
        this.opts.host
          .perform(action, { ...this.context(run, event, ref.src), signal, collectPrompt: true })
          .catch((err) => {
            this.report(new ActionError('collect', `collect prompt: ${errorMessage(err)}`, { src: ref.src }));
          });
    }
    const collector = new Collector(p, this.opts.clock, promptFn, (attempt) =>
      this.emit('collect', { digits: p.digits, try: attempt }),
    );
    this.collector = collector;
    let result: Awaited<ReturnType<Collector['run']>>;
    try {
      result = await collector.run(run.abort.signal);
    } finally {
      if (this.collector === collector) this.collector = undefined;
    }
    if (result.kind === 'cancelled' || run.abort.signal.aborted) return;
    if (result.kind === 'collected') {
      if (p.into) this.vars[p.into] = result.digits;
      this.emit('collected', { digits: result.digits, tries: result.tries });
      this.send({ type: 'collected', vars: { digits: result.digits, tries: result.tries } });
    } else {
      this.emit('exhausted', { tries: result.tries });
      this.send({ type: 'exhausted', vars: { digits: '', tries: result.tries } });
    }
  }

  // ───────────────────────────── ending and reporting ─────────────────────────────

  private finish(outcome: FlowOutcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    this.run?.abort.abort();
    this.flowAbort.abort();
    this.collector = undefined;
    try {
      this.actor.stop();
    } catch {
      // Stopping a stopped or errored actor is not an error worth surfacing.
    }
    try {
      this.opts.host.finished(outcome);
    } catch (err) {
      this.opts.logger.error({ flow: this.flow.id, err: errorMessage(err) }, 'flow host failed on finish');
    }
    this.doneDeferred.resolve(outcome);
  }

  private crash(err: unknown): void {
    this.report(
      new ActionError('flow', `flow ${this.flow.id} stopped: ${errorMessage(err)}`, {
        src: this.currentConfig()?.meta.src,
        cause: err,
      }),
    );
    this.finish('stopped');
  }

  private report(err: ActionError): void {
    this.opts.logger.error(
      { flow: this.flow.id, state: this.state, action: err.action, src: formatSrc(err.src) },
      err.message,
    );
    this.emit('log', { level: 'error', text: `${formatSrc(err.src)}: ${err.message}` });
  }

  private emit(type: string, fields: Record<string, EventField>): void {
    this.opts.events.emit({ source: this.opts.source, type, fields });
  }
}
