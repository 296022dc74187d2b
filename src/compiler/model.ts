/**
 * A flow as both the checker and the compiler walk it: every way of writing a
 * state (inline action, `do:` list, short form), a handler (target, branch, list)
 * and an action reduced to one shape, each part with the path of its YAML node.
 */
import type { Branch, ConferenceDocument, Document, Flow, Handler, InlineAction, State } from './ast.js';
import { type NodePath, type SourceDocument, subPath } from './diagnostics.js';
import { ACTION_TYPES } from './ir.js';

export type ActionName = keyof InlineAction;

/** Every action key, in the order the language lists them (the IR's action types are the same keys). */
export const ACTION_NAMES: readonly ActionName[] = ACTION_TYPES;

const ACTION_SET: ReadonlySet<string> = new Set(ACTION_NAMES);

/** participant: a conference's per-participant flow; conference: its per-conference flow; scenario: a scenario's flow. */
export type FlowKind = 'participant' | 'conference' | 'scenario';

export interface FlowAction {
  type: ActionName;
  value: unknown;
  /** Path of the action's value (`[..., 'say']`). */
  path: NodePath;
}

export interface FlowTarget {
  name: string;
  path: NodePath;
}

export interface FlowBranch {
  /** Path of the branch node (a string, an object, or a list item). */
  path: NodePath;
  guard?: { expr: string; path: NodePath };
  actions: FlowAction[];
  target?: FlowTarget;
}

export interface FlowHandler {
  /** The `on:` key as written. */
  event: string;
  /** Path of the handler value (`[..., 'on', event]`); its key is the event name. */
  path: NodePath;
  branches: FlowBranch[];
}

export interface FlowState {
  name: string;
  /** Path of the state node; for the short form, the flow's own path. */
  path: NodePath;
  description?: string;
  entry: FlowAction[];
  /** `then:` — taken when the entry actions have finished; a target or guarded branches. Event name `then`. */
  afterEntry?: FlowHandler;
  handlers: FlowHandler[];
  /** `handlers` followed by `afterEntry` when there is one: everything with branches to check and compile. */
  branching: readonly FlowHandler[];
  /** The entry actions, then the actions of every branch of `branching`: what most checks walk. */
  allActions: readonly FlowAction[];
}

export interface FlowModel {
  kind: FlowKind;
  /** `<document name>/<participant|conference|flow>`. */
  id: string;
  path: NodePath;
  /** The declared start, or the only state's name; absent when neither. */
  start?: FlowTarget;
  /** True when the flow has several states and no `start`. */
  startMissing: boolean;
  states: FlowState[];
  vars: Record<string, string | number | boolean>;
  description?: string;
}

/** The short form's single state. */
export const SHORT_FORM_STATE = 'main';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// The builders below are plain loops: they run for every flow, state, handler and branch
// of every file, and with closures and iterators V8 spent over 100 ms of the other core
// optimising each of them, which a busy machine feels.

/** Inline actions (object keys that name actions, in written order) followed by the `do:` list. */
function actionsOf(node: Record<string, unknown>, path: NodePath): FlowAction[] {
  const out: FlowAction[] = [];
  for (const key in node) {
    if (ACTION_SET.has(key))
      out.push({ type: key as ActionName, value: node[key], path: subPath(path, key) });
  }
  const list = node.do;
  if (Array.isArray(list)) {
    for (let i = 0; i < list.length; i++) {
      const item: unknown = list[i];
      if (!isObject(item)) continue;
      for (const key in item) {
        if (ACTION_SET.has(key))
          out.push({ type: key as ActionName, value: item[key], path: subPath(path, 'do', i, key) });
      }
    }
  }
  // A list grown by push keeps room for sixteen more, and models live as long as the compile.
  return out.length > 0 ? out.slice() : out;
}

function branchOf(node: string | Branch, path: NodePath): FlowBranch {
  if (typeof node === 'string') return { path, actions: [], target: { name: node, path } };
  const b: FlowBranch = { path, actions: actionsOf(node as Record<string, unknown>, path) };
  if (typeof node.if === 'string') b.guard = { expr: node.if, path: subPath(path, 'if') };
  if (typeof node.goto === 'string') b.target = { name: node.goto, path: subPath(path, 'goto') };
  return b;
}

function handlerOf(event: string, handler: Handler, hPath: NodePath): FlowHandler {
  if (!Array.isArray(handler)) return { event, path: hPath, branches: [branchOf(handler, hPath)] };
  const branches: FlowBranch[] = [];
  for (let i = 0; i < handler.length; i++) {
    branches.push(branchOf(handler[i] as string | Branch, subPath(hPath, i)));
  }
  return { event, path: hPath, branches: branches.slice() };
}

function handlersOf(on: Record<string, Handler> | undefined, path: NodePath): FlowHandler[] {
  if (!isObject(on)) return [];
  const out: FlowHandler[] = [];
  for (const event in on) out.push(handlerOf(event, on[event] as Handler, subPath(path, 'on', event)));
  return out.length > 0 ? out.slice() : out;
}

function stateOf(name: string, state: State, path: NodePath): FlowState {
  const handlers = handlersOf(state.on, path);
  const entry = actionsOf(state as Record<string, unknown>, path);
  const afterEntry =
    state.then !== undefined && state.then !== null
      ? handlerOf('then', state.then, subPath(path, 'then'))
      : undefined;
  const branching = afterEntry ? handlers.concat(afterEntry) : handlers;
  const s: FlowState = { name, path, entry, handlers, branching, allActions: allActionsOf(entry, branching) };
  if (typeof state.description === 'string') s.description = state.description;
  if (afterEntry) s.afterEntry = afterEntry;
  return s;
}

function allActionsOf(entry: FlowAction[], branching: readonly FlowHandler[]): FlowAction[] {
  const out = entry.slice();
  for (const h of branching) for (const b of h.branches) for (const a of b.actions) out.push(a);
  return out.length > entry.length ? out.slice() : entry;
}

/** Builds the model of one flow. `flow` must have passed schema validation. */
function flowModel(flow: Flow, kind: FlowKind, id: string, path: NodePath): FlowModel {
  const states: FlowState[] = [];
  if (isObject(flow.states)) {
    const written = flow.states as Record<string, State>;
    for (const name in written) {
      const state = written[name];
      states.push(stateOf(name, isObject(state) ? state : {}, subPath(path, 'states', name)));
    }
  } else {
    // Short form: `{ on, do }` is one state named `main`.
    const handlers = handlersOf(flow.on, path);
    const entry = actionsOf({ do: flow.do }, path);
    states.push({
      name: SHORT_FORM_STATE,
      path,
      entry,
      handlers,
      branching: handlers,
      allActions: allActionsOf(entry, handlers),
    });
  }
  const model: FlowModel = {
    kind,
    id,
    path,
    states: states.slice(),
    startMissing: false,
    vars: { ...(flow.vars ?? {}) },
  };
  if (typeof flow.description === 'string') model.description = flow.description;
  if (typeof flow.start === 'string') model.start = { name: flow.start, path: subPath(path, 'start') };
  else if (states.length === 1 && states[0]) model.start = { name: states[0].name, path };
  else model.startMissing = true;
  return model;
}

/** A schema-valid document with its source. */
export interface Unit<D extends Document = Document> {
  doc: SourceDocument;
  data: D;
}

/**
 * Models by document: the checks and the compiler read the same flows, and a
 * document's data does not change once validated.
 */
const modelsByDocument = new WeakMap<Document, readonly FlowModel[]>();

/** The flows a document holds (built once per document; treat them as read-only). */
export function flowsOf(unit: Unit): readonly FlowModel[] {
  const d = unit.data;
  let models = modelsByDocument.get(d);
  if (!models) {
    if (d.kind === 'conference') models = conferenceFlows(d);
    else if (d.kind === 'scenario' && isObject(d.flow))
      models = [flowModel(d.flow, 'scenario', `${d.name}/flow`, ['flow'])];
    else models = [];
    modelsByDocument.set(d, models);
  }
  return models;
}

function conferenceFlows(d: ConferenceDocument): FlowModel[] {
  const out: FlowModel[] = [];
  out.push(flowModel(d.participant ?? {}, 'participant', `${d.name}/participant`, ['participant']));
  if (isObject(d.conference))
    out.push(flowModel(d.conference, 'conference', `${d.name}/conference`, ['conference']));
  return out;
}

/** Every target named in a flow, with where it is named. */
export function targetsOf(flow: FlowModel): Array<{ from: FlowState; target: FlowTarget; event?: string }> {
  const out: Array<{ from: FlowState; target: FlowTarget; event?: string }> = [];
  for (const s of flow.states) {
    for (const h of s.branching) {
      for (const b of h.branches) if (b.target) out.push({ from: s, target: b.target, event: h.event });
    }
  }
  return out;
}

/** `dtmf "*6"` → `*6`; undefined for other names. Quotes may be double or single. */
export function dtmfKeys(event: string): string | undefined {
  const m = /^dtmf\s+(?:"([^"]*)"|'([^']*)')$/.exec(event);
  if (!m) return undefined;
  return m[1] ?? m[2];
}

/** `after 5s` → `5s`; undefined for other names. */
export function afterDuration(event: string): string | undefined {
  const m = /^after\s+(\S+)$/.exec(event);
  return m?.[1];
}

/** Whether a `play`/`music` string names a URL rather than a file. */
export function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}
