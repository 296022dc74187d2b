/**
 * Checks within one flow: start state, targets, reachability, event names, where
 * actions may appear, and retry loops that could spin without a bound.
 */
import { BUILTIN_TARGETS, CONFERENCE_EVENTS, PARTICIPANT_EVENTS } from '../ast.js';
import type { NodePath } from '../diagnostics.js';
import { isDuration, parseDuration } from '../duration.js';
import { memberReferences, parseExpression } from '../expr.js';
import {
  type ActionName,
  afterDuration,
  dtmfKeys,
  type FlowAction,
  type FlowBranch,
  type FlowKind,
  type FlowModel,
  type FlowState,
  targetsOf,
  type Unit,
} from '../model.js';
import { suggest } from '../suggest.js';
import type { CheckContext, FlowEntry } from './context.js';
import { meanSuffix } from './util.js';

const BUILTINS: ReadonlySet<string> = new Set(BUILTIN_TARGETS);
const ALL_BUILTIN_EVENTS: ReadonlySet<string> = new Set<string>([
  ...PARTICIPANT_EVENTS,
  ...CONFERENCE_EVENTS,
]);

/** Built-in events a flow of each kind can receive. Scenario flows may run a call and a conference. */
export function builtinEvents(kind: FlowKind): readonly string[] {
  if (kind === 'participant') return PARTICIPANT_EVENTS;
  if (kind === 'conference') return CONFERENCE_EVENTS;
  return [...new Set<string>([...PARTICIPANT_EVENTS, ...CONFERENCE_EVENTS])];
}

/** Custom events are lower kebab-case. */
export const CUSTOM_EVENT = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** Actions that need a call of the flow's own, so a conference flow cannot use them. */
const CALL_ACTIONS: ReadonlySet<ActionName> = new Set<ActionName>([
  'answer',
  'reject',
  'collect',
  'join',
  'leave',
  'toggle',
]);

/** Events raised without caller or HTTP input: a cycle through them alone could spin forever. */
const INTERNAL_EVENTS: ReadonlySet<string> = new Set([
  'collected',
  'exhausted',
  'played',
  'failed',
  'busy',
  'no-answer',
  'joined',
  'full',
  'left',
]);

export type EventClass =
  | { kind: 'builtin'; name: string }
  | { kind: 'dtmf'; keys: string }
  | { kind: 'after'; ms: number }
  | { kind: 'custom'; name: string };

/** Classifies an `on:` key; undefined when it is malformed (reported by checkEvents). */
export function classifyEvent(event: string): EventClass | undefined {
  const keys = dtmfKeys(event);
  if (keys !== undefined) return /^[0-9*#A-D]+$/.test(keys) ? { kind: 'dtmf', keys } : undefined;
  const after = afterDuration(event);
  if (after !== undefined) {
    if (!isDuration(after)) return undefined;
    const ms = parseDuration(after);
    return ms > 0 ? { kind: 'after', ms } : undefined;
  }
  if (ALL_BUILTIN_EVENTS.has(event)) return { kind: 'builtin', name: event };
  if (CUSTOM_EVENT.test(event)) return { kind: 'custom', name: event };
  return undefined;
}

/**
 * Runs the per-flow checks. `extraStarts` holds, per flow, the states dialled legs
 * start in (`dial.start`), which count as reachable.
 */
export function checkFlows(
  ctx: CheckContext,
  extraStarts: ReadonlyMap<FlowModel, ReadonlySet<string>>,
): void {
  const notified = new Set<string>();
  for (const { flow } of ctx.flows) {
    for (const s of flow.states)
      for (const a of s.allActions) if (a.type === 'notify') addNotify(a, notified);
  }
  for (const entry of ctx.flows) {
    checkStart(ctx, entry);
    checkTargets(ctx, entry);
    checkReachable(ctx, entry, extraStarts.get(entry.flow));
    checkEvents(ctx, entry, notified);
    checkActionPlaces(ctx, entry);
    checkRetryLoops(ctx, entry);
  }
}

function addNotify(a: FlowAction, into: Set<string>): void {
  const v = a.value as { event?: unknown };
  if (typeof v?.event === 'string') into.add(v.event);
}

function stateNames(flow: FlowModel): string[] {
  return flow.states.map((s) => s.name);
}

function checkStart(ctx: CheckContext, { unit, flow }: FlowEntry): void {
  if (flow.startMissing) {
    const names = stateNames(flow);
    const message =
      names.length === 0
        ? 'flow has no states'
        : `flow has no "start": name the state it begins in (one of ${names.map((n) => `"${n}"`).join(', ')})`;
    ctx.report(unit, flow.path, names.length === 0 ? 'empty-flow' : 'missing-start', message, { key: true });
    return;
  }
  const start = flow.start;
  if (start && !stateNames(flow).includes(start.name)) {
    const hint = suggest(start.name, stateNames(flow));
    ctx.report(
      unit,
      start.path,
      'unknown-start',
      `start state "${start.name}" is not defined${meanSuffix(hint)}`,
    );
  }
}

function checkTargets(ctx: CheckContext, { unit, flow }: FlowEntry): void {
  const names = stateNames(flow);
  const known = new Set(names);
  for (const { target } of targetsOf(flow)) {
    if (known.has(target.name) || BUILTINS.has(target.name)) continue;
    const hint = suggest(target.name, [...names, ...BUILTINS]);
    ctx.report(unit, target.path, 'dangling-goto', `unknown state "${target.name}"${meanSuffix(hint)}`);
  }
}

function checkReachable(ctx: CheckContext, { unit, flow }: FlowEntry, extra?: ReadonlySet<string>): void {
  const start = flow.start;
  const byName = new Map(flow.states.map((s) => [s.name, s]));
  if (!start || !byName.has(start.name)) return;
  const seen = new Set<string>();
  const queue = [start.name, ...(extra ?? [])].filter((n) => byName.has(n));
  const edges = targetsOf(flow);
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const e of edges) if (e.from.name === name && byName.has(e.target.name)) queue.push(e.target.name);
  }
  for (const s of flow.states) {
    if (seen.has(s.name)) continue;
    ctx.report(unit, s.path, 'unreachable-state', `state "${s.name}" is never reached from "${start.name}"`, {
      key: true,
    });
  }
}

function checkEvents(ctx: CheckContext, { unit, flow }: FlowEntry, notified: ReadonlySet<string>): void {
  const builtin = builtinEvents(flow.kind);
  const builtinSet = new Set(builtin);
  const kindName = flow.kind === 'scenario' ? 'scenario' : flow.kind;
  for (const s of flow.states) {
    for (const h of s.handlers) {
      const ev = h.event;
      const keys = dtmfKeys(ev);
      if (keys !== undefined) {
        if (!builtinSet.has('dtmf'))
          eventProblem(ctx, unit, h.path, 'invalid-event', `"${ev}" is not an event of ${kindName} flows`);
        else if (!/^[0-9*#A-D]+$/.test(keys)) {
          eventProblem(
            ctx,
            unit,
            h.path,
            'bad-dtmf',
            `DTMF keys "${keys}" may only contain 0-9, *, # and A-D`,
          );
        }
        continue;
      }
      const after = afterDuration(ev);
      if (after !== undefined || ev === 'after') {
        if (after === undefined || !isDuration(after)) {
          eventProblem(
            ctx,
            unit,
            h.path,
            'bad-after',
            `"${ev}": expected "after <duration>", e.g. "after 30s"`,
          );
        } else if (parseDuration(after) <= 0) {
          eventProblem(ctx, unit, h.path, 'bad-after', `"${ev}": the delay must be longer than zero`);
        }
        continue;
      }
      if (builtinSet.has(ev)) continue;
      if (ALL_BUILTIN_EVENTS.has(ev)) {
        eventProblem(ctx, unit, h.path, 'invalid-event', `"${ev}" is not an event of ${kindName} flows`);
        continue;
      }
      if (notified.has(ev)) continue;
      const close = suggest(ev, builtin);
      if (!CUSTOM_EVENT.test(ev)) {
        eventProblem(
          ctx,
          unit,
          h.path,
          'invalid-event',
          `unknown event "${ev}"${meanSuffix(close)} (custom events are lower-case words joined by "-")`,
        );
        continue;
      }
      if (close !== undefined)
        eventProblem(ctx, unit, h.path, 'invalid-event', `unknown event "${ev}"${meanSuffix(close)}`);
      else if (!ctx.options.partial)
        eventProblem(
          ctx,
          unit,
          h.path,
          'unraised-event',
          `no "notify" raises the custom event "${ev}"`,
          'warning',
        );
    }
  }
}

/** A problem with a handler's event, reported at its key. */
function eventProblem(
  ctx: CheckContext,
  unit: FlowEntry['unit'],
  path: NodePath,
  code: string,
  message: string,
  severity: 'error' | 'warning' = 'error',
): void {
  ctx.report(unit, path, code, message, { key: true, severity });
}

function checkActionPlaces(ctx: CheckContext, { unit, flow }: FlowEntry): void {
  const check = (a: FlowAction, inHttp: boolean) => {
    if (flow.kind === 'conference' && CALL_ACTIONS.has(a.type)) {
      ctx.report(
        unit,
        a.path,
        'action-not-allowed',
        `"${a.type}" needs a call of its own and cannot be used in a conference flow`,
        { key: true },
      );
    }
    if (a.type === 'respond' && !inHttp) {
      ctx.report(unit, a.path, 'respond-outside-http', '"respond" can only be used in an "http" handler', {
        key: true,
      });
    }
  };
  for (const s of flow.states) {
    for (const a of s.entry) check(a, false);
    for (const h of s.branching)
      for (const b of h.branches) for (const a of b.actions) check(a, h.event === 'http');
  }
}

// ───────────────────────────── retry loops ─────────────────────────────

interface Edge {
  from: string;
  to: string;
  event: string;
  /** Guards this branch is taken under: its own and those of earlier branches (which must have failed). */
  guards: string[];
  branch?: FlowBranch;
  state: FlowState;
}

function internalEdges(flow: FlowModel): Edge[] {
  const known = new Set(stateNames(flow));
  const edges: Edge[] = [];
  for (const s of flow.states) {
    for (const h of s.branching) {
      if (h !== s.afterEntry && !INTERNAL_EVENTS.has(h.event)) continue;
      const guards: string[] = [];
      for (const b of h.branches) {
        if (b.guard) guards.push(b.guard.expr);
        if (b.target && known.has(b.target.name)) {
          edges.push({
            from: s.name,
            to: b.target.name,
            event: h.event,
            guards: [...guards],
            branch: b,
            state: s,
          });
        }
        if (!b.guard) break; // later branches are never taken
      }
    }
  }
  return edges;
}

/** Strongly connected components (Tarjan), each as a set of state names, over `edges`. */
function components(nodes: string[], edges: Edge[]): string[][] {
  const out: string[][] = [];
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  let counter = 0;
  const succ = (n: string) => edges.filter((e) => e.from === n).map((e) => e.to);
  const strong = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of succ(v)) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      out.push(comp);
    }
  };
  for (const n of nodes) if (!index.has(n)) strong(n);
  return out;
}

function cyclic(comp: string[], edges: Edge[]): boolean {
  if (comp.length > 1) return true;
  const only = comp[0];
  return edges.some((e) => e.from === only && e.to === only);
}

/** Variables (`vars.X`) assigned by `set` in the given states or on the given edges. */
function assigned(states: FlowState[], edges: Edge[]): Set<string> {
  const out = new Set<string>();
  const add = (actions: FlowAction[]) => {
    for (const a of actions) {
      if (a.type !== 'set' || typeof a.value !== 'object' || a.value === null) continue;
      for (const k of Object.keys(a.value)) out.add(k);
    }
  };
  for (const s of states) add(s.entry);
  for (const e of edges) if (e.branch) add(e.branch.actions);
  return out;
}

function bounds(guard: string, setVars: ReadonlySet<string>): boolean {
  const parsed = parseExpression(guard);
  if (!parsed.ok) return true; // reported as a bad expression; do not pile on
  if (parsed.identifiers.includes('visits')) return true;
  return memberReferences(guard).some((m) => m.startsWith('vars.') && setVars.has(m.slice(5)));
}

function checkRetryLoops(ctx: CheckContext, { unit, flow }: FlowEntry): void {
  const edges = internalEdges(flow);
  if (edges.length === 0) return;
  // Only a state with an edge out can be on a cycle; most flows have few such states.
  const names = [...new Set(edges.map((e) => e.from))];
  for (const comp of components(names, edges)) {
    if (!cyclic(comp, edges)) continue;
    const members = new Set(comp);
    const inner = edges.filter((e) => members.has(e.from) && members.has(e.to));
    const setVars = assigned(
      flow.states.filter((s) => members.has(s.name)),
      inner,
    );
    // Edges that pass a bounding guard break every cycle through them.
    const unbounded = inner.filter((e) => !e.guards.some((g) => bounds(g, setVars)));
    for (const sub of components(comp, unbounded)) {
      if (!cyclic(sub, unbounded)) continue;
      reportLoop(ctx, unit, sub, unbounded);
    }
  }
}

function reportLoop(ctx: CheckContext, unit: Unit, comp: string[], edges: Edge[]): void {
  const members = new Set(comp);
  const inCycle = edges.filter((e) => members.has(e.from) && members.has(e.to));
  // Blame the edge written first in the file, so the report is stable.
  const first = inCycle
    .map((e) => ({
      e,
      at: unit.doc.at(e.branch ? e.branch.path : (e.state.afterEntry?.path ?? e.state.path)),
    }))
    .sort((a, b) => a.at.line - b.at.line || a.at.col - b.at.col)[0];
  if (!first) return;
  const path = describeCycle(first.e, inCycle);
  ctx.report(
    unit,
    first.e.branch ? first.e.branch.path : (first.e.state.afterEntry?.path ?? first.e.state.path),
    'unbounded-retry',
    `retry loop with no bound: ${path}; guard it with "visits" (e.g. if: "visits < 3") or a variable set in the loop`,
  );
}

/** `pin -collected-> pin` or `a -then-> b -failed-> a`: the shortest cycle through `start`. */
function describeCycle(start: Edge, edges: Edge[]): string {
  const via = new Map<string, Edge>();
  const queue = [start.to];
  const seen = new Set([start.to]);
  while (queue.length > 0 && !seen.has(start.from)) {
    const at = queue.shift() as string;
    for (const e of edges) {
      if (e.from !== at || seen.has(e.to)) continue;
      seen.add(e.to);
      via.set(e.to, e);
      queue.push(e.to);
    }
  }
  const back: Edge[] = [];
  for (let at = start.from; at !== start.to; ) {
    const e = via.get(at);
    if (!e) break;
    back.unshift(e);
    at = e.from;
  }
  return [start, ...back].reduce((text, e) => `${text} -${e.event}-> ${e.to}`, start.from);
}
