/**
 * The simulator behind `parley simulate` and `parley test`: the real runtime
 * (router, flow actors, conference actors) over simulated ports on a virtual
 * clock, driven by a script, observed as a transcript.
 */
import type { CompiledSet, CompiledTest } from '../../compiler/ir.js';
import { VirtualClock } from '../clock.js';
import { errorMessage } from '../errors.js';
import { celExpressions } from '../expressions.js';
import type { EventSink, ExpressionEngine, HttpRequest, Logger, RuntimeEvent } from '../ports.js';
import { type CallTarget, Runtime } from '../runtime.js';
import type { FlowSession } from '../session/flow-session.js';
import { SimCallLeg, SimCalls, SimMedia } from './fakes.js';
import { type Command, parseScript, ScriptError } from './script.js';
import { checkTranscript, type TranscriptEntry, type TranscriptValue } from './transcript.js';

export interface SimulateOptions {
  /** What `call` reaches: the routes (default), a conference or a scenario directly. */
  target?: CompiledTest['target'];
  /** Defaults for `call`: from URI, to user/URI, source IP. */
  call?: { from?: string; to?: string; source?: string };
  script: string;
  /** Virtual ms at which to stop; default: when the script is done + 60 s (or earlier, when nothing is pending). */
  until?: number;
  /** Folder that audio file paths are relative to (default: the working directory). */
  root?: string;
  expressions?: ExpressionEngine;
  /** Bound on timer firings, so a runaway flow cannot loop forever. Default 100000. */
  maxSteps?: number;
}

export interface SimulationResult {
  transcript: TranscriptEntry[];
  /** Script errors, runtime errors (with source positions) and a hit step bound. */
  errors: string[];
}

export interface TestResult {
  name: string;
  passed: boolean;
  failures: string[];
  transcript: TranscriptEntry[];
}

const DEFAULT_CALL = { from: 'caller@example.com', to: 'parley', source: '127.0.0.1' };
const AFTER_SCRIPT_MS = 60_000;
const DTMF_GAP_MS = 100;

class CollectingLogger implements Logger {
  constructor(private readonly errors: string[]) {}
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(obj: object, msg?: string): void {
    const src = (obj as { src?: unknown }).src;
    const text = msg ?? JSON.stringify(obj);
    this.errors.push(typeof src === 'string' && !text.startsWith(src) ? `${src}: ${text}` : text);
  }
}

type Subject =
  | { kind: 'call'; name: string; leg: SimCallLeg }
  | { kind: 'conference'; name: string }
  | { kind: 'scenario'; name: string; flow: FlowSession };

class Simulation implements EventSink {
  readonly transcript: TranscriptEntry[] = [];
  readonly errors: string[] = [];
  readonly clock = new VirtualClock();
  private readonly names = new Map<string, string>();
  private readonly subjects = new Map<string, Subject>();
  private readonly order: Subject[] = [];
  private readonly runtime: Runtime;
  private readonly calls: SimCalls;
  private readonly opts: SimulateOptions;
  private recording = true;
  private steps = 0;
  private readonly maxSteps: number;
  private callSeq = 0;
  private unnamed = 0;

  constructor(set: CompiledSet, opts: SimulateOptions) {
    this.opts = opts;
    this.maxSteps = opts.maxSteps ?? 100_000;
    const media = new SimMedia(this.clock, opts.root ?? process.cwd(), (conference, leg, hears) =>
      this.record(`call:${leg}`, 'hear', {
        conference: conference.replace(/#.*$/, ''),
        hears: hears.length ? hears.map((h) => this.nameOf(h)).join(',') : 'none',
      }),
    );
    this.calls = new SimCalls(this.clock, (leg) => this.nameDialled(leg));
    this.runtime = new Runtime(set, {
      clock: this.clock,
      logger: new CollectingLogger(this.errors),
      media,
      calls: this.calls,
      events: this,
      expressions: opts.expressions ?? celExpressions,
    });
  }

  emit(event: RuntimeEvent): void {
    this.record(event.source, event.type, event.fields);
  }

  async run(): Promise<void> {
    let commands: Command[];
    try {
      commands = parseScript(this.opts.script);
    } catch (err) {
      this.errors.push(errorMessage(err));
      return;
    }
    for (const cmd of commands) {
      if (this.steps >= this.maxSteps) break;
      if (this.opts.until !== undefined && this.clock.now() >= this.opts.until) break;
      try {
        await this.execute(cmd);
      } catch (err) {
        this.errors.push(
          err instanceof ScriptError ? err.message : `script line ${cmd.line}: ${errorMessage(err)}`,
        );
      }
      await this.settle();
    }
    const end = this.opts.until ?? this.clock.now() + AFTER_SCRIPT_MS;
    await this.advanceTo(end, true);
    if (this.steps >= this.maxSteps) {
      this.errors.push(
        `simulation stopped after ${this.maxSteps} steps at t=${this.clock.now()}ms: a flow keeps looping`,
      );
    }
    this.recording = false;
    await this.runtime.shutdown('simulation over').catch(() => undefined);
    await this.settle();
  }

  // ───────────────────────────── commands ─────────────────────────────

  private async execute(cmd: Command): Promise<void> {
    switch (cmd.op) {
      case 'wait':
        await this.advanceTo(this.clock.now() + cmd.ms, false);
        return;
      case 'call':
        return this.call(cmd);
      case 'dtmf': {
        const leg = this.callSubject(cmd);
        for (const key of cmd.keys) {
          leg.remote({ type: 'dtmf', digit: key });
          await this.advanceTo(this.clock.now() + DTMF_GAP_MS, false);
        }
        return;
      }
      case 'hangup':
        this.callSubject(cmd).remote({ type: 'hangup' });
        return;
      case 'talk':
        this.callSubject(cmd).remote({ type: 'talking' });
        return;
      case 'silent':
        this.callSubject(cmd).remote({ type: 'silent' });
        return;
      case 'message': {
        const leg = this.callSubject(cmd);
        leg.remote({ type: 'message', text: cmd.text, from: leg.info.from });
        return;
      }
      case 'rule':
        this.calls.addRule({ outcome: cmd.outcome, pattern: cmd.pattern });
        return;
      case 'start-conference': {
        await this.runtime.startConference(cmd.name);
        this.addSubject({ kind: 'conference', name: cmd.name });
        return;
      }
      case 'start-scenario': {
        const flow = this.runtime.startScenario(cmd.name, cmd.vars);
        this.addSubject({ kind: 'scenario', name: cmd.name, flow });
        return;
      }
      case 'http':
        return this.http(cmd);
    }
  }

  private async call(cmd: Extract<Command, { op: 'call' }>): Promise<void> {
    const defaults = { ...DEFAULT_CALL, ...(this.opts.call ?? {}) };
    // `alice: call ...` names the call like `call alice ...`.
    let name = cmd.name ?? cmd.subject;
    if (name === undefined) {
      this.unnamed++;
      name = this.unnamed === 1 ? 'caller' : `caller${this.unnamed}`;
    }
    if (this.subjects.has(name)) throw new ScriptError(cmd.line, `call: the name "${name}" is taken`);
    const to = cmd.to ?? defaults.to;
    const leg = new SimCallLeg({
      id: `call-${++this.callSeq}`,
      from: (cmd.from ?? defaults.from).replace(/^sips?:/, ''),
      // The request-URI user part when a URI is given.
      to: /^(?:sips?:)?([^@;]+)@/.exec(to)?.[1] ?? to.replace(/^sips?:/, ''),
      source: cmd.source ?? defaults.source,
      transport: cmd.transport ?? 'udp',
      headers: cmd.headers,
      direction: 'inbound',
    });
    this.names.set(leg.info.id, name);
    this.addSubject({ kind: 'call', name, leg });
    const target = (this.opts.target ?? { route: true }) as CallTarget;
    await this.runtime.acceptCall(leg, target);
  }

  private http(cmd: Extract<Command, { op: 'http' }>): void {
    // A prefix names a call, a started conference or scenario, or any running conference.
    const subject =
      cmd.subject === undefined
        ? this.order.at(-1)
        : (this.subjects.get(cmd.subject) ??
          (this.runtime.conference(cmd.subject)
            ? { kind: 'conference' as const, name: cmd.subject }
            : undefined));
    if (!subject) {
      throw new ScriptError(
        cmd.line,
        cmd.subject ? `no call, conference or scenario "${cmd.subject}"` : 'http: nothing to send it to',
      );
    }
    const [path = '/', qs = ''] = cmd.path.split('?', 2);
    let responded = false;
    const request: HttpRequest = {
      method: cmd.method,
      path,
      query: Object.fromEntries(new URLSearchParams(qs)),
      body: cmd.body ?? null,
      get responded() {
        return responded;
      },
      respond: () => {
        // The runtime reports every response (`respond` entries); the simulator only closes the request.
        responded = true;
      },
    };
    if (subject.kind === 'call') this.runtime.http({ flow: subject.leg.info.id }, request);
    else if (subject.kind === 'scenario') this.runtime.http({ flow: subject.flow.id }, request);
    else this.runtime.http({ conference: subject.name }, request);
  }

  private callSubject(cmd: Command): SimCallLeg {
    if (cmd.subject !== undefined) {
      const s = this.subjects.get(cmd.subject);
      if (s?.kind !== 'call') throw new ScriptError(cmd.line, `no call named "${cmd.subject}"`);
      return s.leg;
    }
    const last = [...this.order].reverse().find((s) => s.kind === 'call');
    if (last?.kind !== 'call')
      throw new ScriptError(cmd.line, `${cmd.op}: no call yet (place one with \`call\` first)`);
    return last.leg;
  }

  private addSubject(s: Subject): void {
    this.subjects.set(s.name, s);
    this.order.push(s);
  }

  /** Dialled legs are named by the user part of the dialled URI (`bob`, then `bob2`, ...). */
  private nameDialled(leg: SimCallLeg): void {
    const base = leg.info.to;
    let name = base;
    for (let i = 2; this.subjects.has(name); i++) name = `${base}${i}`;
    this.names.set(leg.info.id, name);
    this.addSubject({ kind: 'call', name, leg });
  }

  // ───────────────────────────── time ─────────────────────────────

  /** Fires timers up to `t` (stopping early, when `untilIdle`, once nothing is pending). */
  private async advanceTo(to: number, untilIdle: boolean): Promise<void> {
    const t = this.opts.until !== undefined ? Math.min(to, this.opts.until) : to;
    await this.settle();
    while (this.steps < this.maxSteps) {
      const next = this.clock.nextAt();
      if (next === undefined || next > t) break;
      this.clock.fireNext(t);
      this.steps++;
      await this.settle();
    }
    if (!untilIdle || this.clock.nextAt() !== undefined) this.clock.setTime(t);
  }

  /** Lets every promise chain that is ready run (the fakes complete only on the virtual clock). */
  private async settle(): Promise<void> {
    for (let i = 0; i < 2; i++) await new Promise<void>((r) => setImmediate(r));
  }

  // ───────────────────────────── transcript ─────────────────────────────

  private nameOf(legId: string): string {
    return this.names.get(legId) ?? legId;
  }

  private who(source: string): string {
    if (source.startsWith('call:')) return this.nameOf(source.slice('call:'.length));
    return source;
  }

  private record(source: string, type: string, fields: Record<string, TranscriptValue>): void {
    const out: Record<string, TranscriptValue> = {};
    for (const [k, v] of Object.entries(fields)) {
      out[k] = k === 'participant' && typeof v === 'string' ? this.nameOf(v) : v;
    }
    this.push(this.who(source), type, out);
  }

  private push(who: string, type: string, fields: Record<string, TranscriptValue>): void {
    if (!this.recording) return;
    const { t: _t, who: _w, type: _y, ...rest } = fields;
    this.transcript.push({ t: this.clock.now(), who, type, ...rest });
  }
}

/** Runs a script against a compiled set on a virtual clock. Never throws for flow or script errors. */
export async function simulate(set: CompiledSet, opts: SimulateOptions): Promise<SimulationResult> {
  const sim = new Simulation(set, opts);
  await sim.run();
  return { transcript: sim.transcript, errors: sim.errors };
}

/** Runs one `kind: test` document: its script, then its `expect` (ordered) and `absent` checks. */
export async function runTest(
  set: CompiledSet,
  test: CompiledTest,
  opts: { root?: string } = {},
): Promise<TestResult> {
  const { transcript, errors } = await simulate(set, {
    target: test.target,
    call: test.call,
    script: test.script,
    ...(opts.root !== undefined ? { root: opts.root } : {}),
  });
  const failures = [
    ...errors.map((e) => `error: ${e}`),
    ...checkTranscript(transcript, test.expect, test.absent),
  ];
  return { name: test.name, passed: failures.length === 0, failures, transcript };
}
