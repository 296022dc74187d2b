/**
 * Expressions and templates: they must parse, and read only variables that exist
 * where they are evaluated (flow roots everywhere in a flow, event variables only in
 * handlers of the events that provide them, captures in route templates, `env` in
 * dial-out trunks).
 */
import { type NodePath, subPath } from '../diagnostics.js';
import { memberReferences, type ParsedTemplate, parseExpression, parseTemplate } from '../expr.js';
import type { FlowAction, Unit } from '../model.js';
import { suggest } from '../suggest.js';
import type { CheckContext } from './context.js';
import { classifyEvent } from './flows.js';
import { meanSuffix } from './util.js';

/** Roots every flow expression may read. */
export const FLOW_ROOTS = ['call', 'route', 'vars', 'conference', 'participant', 'visits'] as const;

const FLOW_ROOT_SET: ReadonlySet<string> = new Set(FLOW_ROOTS);

/** Conference-flow events that concern the conference itself, not a participant. */
const NO_PARTICIPANT_EVENTS: ReadonlySet<string> = new Set(['started', 'empty', 'ended']);

/** Event variables and the events that provide them. */
const EVENT_VARIABLES: Record<string, readonly string[]> = {
  digits: ['collected', 'exhausted'],
  tries: ['collected', 'exhausted'],
  dtmf: ['dtmf', 'dtmf "<keys>"'],
  message: ['message'],
  request: ['http'],
  dial: ['answered', 'busy', 'no-answer', 'failed'],
  recording: ['recorded'],
  event: ['custom events'],
};

/** The event variables a handler of `event` sees. */
export function eventVariables(event: string | undefined): string[] {
  if (event === undefined) return [];
  const c = classifyEvent(event);
  if (!c) return [];
  if (c.kind === 'dtmf') return ['dtmf'];
  if (c.kind === 'after') return [];
  if (c.kind === 'custom') return ['event'];
  return Object.entries(EVENT_VARIABLES)
    .filter(([, events]) => events.includes(c.name))
    .map(([name]) => name);
}

export interface Scope {
  /** Names that may be read. */
  allowed: readonly string[];
  /** The same names as a set, when the caller made it once for many checks. */
  allowedSet?: ReadonlySet<string>;
  /**
   * Describes the place for "only available in ..." messages, e.g. `an entry action`; for the
   * scopes made per state and per handler, what to build it from, only when a message needs it.
   */
  place: string | { entryOf: string } | { handlerOf: string };
  /** Message for a name that is not allowed; defaults to the flow rules. */
  explain?: (name: string) => string | undefined;
  /** Every `vars.*` name something declares or sets; when given, other `vars.X` reads are warned about. */
  knownVars?: ReadonlySet<string>;
}

/** A string the checker must parse: a template or a bare expression. */
export interface Source {
  kind: 'template' | 'expression';
  value: string;
  path: NodePath;
}

/** Checks one template or expression in `scope`. */
export function checkSource(ctx: CheckContext, unit: Unit, src: Source, scope: Scope): void {
  const parsed = src.kind === 'template' ? parseTemplate(src.value) : parseExpression(src.value);
  if (!parsed.ok) {
    const at = ctx.positionIn(unit, src.path, src.value, parsed.offset);
    const what = src.kind === 'template' ? 'template' : 'expression';
    ctx.report(unit, src.path, 'bad-expression', `invalid ${what}: ${parsed.message}`, { at });
    return;
  }
  const allowed = scope.allowedSet ?? new Set(scope.allowed);
  for (const id of parsed.identifiers) {
    if (allowed.has(id)) continue;
    const offset = identifierOffset(src, id);
    const at = ctx.positionIn(unit, src.path, src.value, offset);
    const place = placeText(scope.place);
    const explained = scope.explain?.(id) ?? explainFlow(id, place);
    if (explained) {
      ctx.report(unit, src.path, 'variable-out-of-scope', explained, { at });
      continue;
    }
    const hint = suggest(id, scope.allowed);
    ctx.report(unit, src.path, 'unknown-variable', `unknown variable "${id}"${meanSuffix(hint)}`, { at });
  }
  const known = scope.knownVars;
  if (!known || !allowed.has('vars')) return;
  let exprs = [src.value];
  if (src.kind === 'template') {
    const t = parsed as Extract<ParsedTemplate, { ok: true }>;
    exprs = t.parts.flatMap((p) => (p.kind === 'expr' ? [p.expr] : []));
  }
  let reported: Set<string> | undefined;
  for (const expr of exprs) {
    for (const m of memberReferences(expr)) {
      if (!m.startsWith('vars.')) continue;
      const name = m.slice(5);
      if (known.has(name) || reported?.has(name)) continue;
      reported ??= new Set();
      reported.add(name);
      const at = ctx.positionIn(unit, src.path, src.value, identifierOffset(src, m));
      ctx.report(
        unit,
        src.path,
        'unknown-var',
        `"vars.${name}" is never set: no flow, route, scenario or dial declares it${meanSuffix(suggest(name, known))}`,
        { at, severity: 'warning' },
      );
    }
  }
}

/**
 * `digits` is a string; comparing it with a conference variable written as a YAML
 * number (`pin: 1234`) is always false in CEL. A common slip, so it is pointed out.
 */
function checkDigitsAgainstNumbers(ctx: CheckContext, unit: Unit, expr: string, path: NodePath): void {
  if (unit.data.kind !== 'conference' || !/\bdigits\b/.test(expr)) return;
  const vars = unit.data.vars ?? {};
  for (const m of expr.matchAll(/\bconference\.vars\.([A-Za-z_]\w*)/g)) {
    const name = m[1] as string;
    const value = vars[name];
    if (typeof value !== 'number') continue;
    ctx.report(
      unit,
      path,
      'number-compared-to-digits',
      `"digits" is a string but conference.vars.${name} is the number ${value}, so they are never equal; quote it in vars (${name}: "${value}")`,
      { severity: 'warning', at: ctx.positionIn(unit, path, expr, m.index ?? 0) },
    );
  }
}

/**
 * Every variable name that can exist in `vars`: flow variables, `set` and
 * `collect.into` targets, route and dial variables, scenario variables.
 */
export function declaredVars(ctx: CheckContext): Set<string> {
  const out = new Set<string>();
  const keys = (o: unknown) => {
    if (isObject(o)) for (const k of Object.keys(o)) out.add(k);
  };
  for (const { flow } of ctx.flows) {
    for (const k of Object.keys(flow.vars)) out.add(k);
    for (const s of flow.states) {
      for (const a of s.allActions) {
        if (a.type === 'set') keys(a.value);
        else if (a.type === 'collect' && isObject(a.value) && typeof a.value.into === 'string')
          out.add(a.value.into);
        else if (a.type === 'dial' && isObject(a.value)) keys(a.value.vars);
      }
    }
  }
  for (const u of ctx.routes) for (const r of Array.isArray(u.data.routes) ? u.data.routes : []) keys(r.vars);
  for (const u of ctx.scenarios) keys(u.data.vars);
  return out;
}

function placeText(place: Scope['place']): string {
  if (typeof place === 'string') return place;
  return 'entryOf' in place
    ? `the entry actions of state "${place.entryOf}"`
    : `a handler of "${place.handlerOf}"`;
}

function explainFlow(id: string, place: string): string | undefined {
  const events = EVENT_VARIABLES[id];
  if (events) return `"${id}" is only available in handlers of ${events.join(', ')}, not in ${place}`;
  if (id === 'env') return `"env" is only available in dialout.trunks, not in ${place}`;
  return undefined;
}

/** Offset of the first use of `id` as a whole word in the source (0 when not found). */
function identifierOffset(src: Source, id: string): number {
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`(?<![\\w.$])${escaped}(?![\\w])`).exec(src.value);
  return m?.index ?? 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The templates and expressions an action holds. */
export function actionSources(a: FlowAction): Source[] {
  const out: Source[] = [];
  const v = a.value;
  switch (a.type) {
    case 'say':
    case 'send':
      if (typeof v === 'string') template(out, v, a.path);
      else field(out, v, 'text', a.path);
      break;
    case 'log':
    case 'unlink':
      template(out, v, a.path);
      break;
    case 'play':
      field(out, v, 'url', a.path);
      break;
    case 'collect':
      if (isObject(v) && isObject(v.prompt)) {
        const p = v.prompt;
        const base = subPath(a.path, 'prompt');
        if (typeof p.say === 'string') template(out, p.say, subPath(base, 'say'));
        else if (isObject(p.say)) template(out, p.say.text, subPath(base, 'say', 'text'));
        if (isObject(p.play)) template(out, p.play.url, subPath(base, 'play', 'url'));
      }
      break;
    case 'join':
      field(out, v, 'conference', a.path);
      break;
    case 'record':
      field(out, v, 'file', a.path);
      break;
    case 'dial':
      for (const k of ['to', 'from', 'conference']) field(out, v, k, a.path);
      if (isObject(v) && isObject(v.vars)) {
        for (const [k, x] of Object.entries(v.vars)) template(out, x, subPath(a.path, 'vars', k));
      }
      break;
    case 'link':
      field(out, v, 'conference', a.path);
      break;
    case 'respond':
      if (isObject(v) && 'body' in v) leaves(v.body, subPath(a.path, 'body'), out);
      break;
    case 'set':
      if (isObject(v)) {
        for (const [k, x] of Object.entries(v)) {
          if (typeof x === 'string') out.push({ kind: 'expression', value: x, path: subPath(a.path, k) });
        }
      }
      break;
    default:
      break;
  }
  return out;
}

/** A string value is a template at `path`; anything else holds none. */
function template(out: Source[], value: unknown, path: NodePath): void {
  if (typeof value === 'string') out.push({ kind: 'template', value, path });
}

/** The template in `obj[key]`, when `obj` is an object; its path is `base` + key. */
function field(out: Source[], obj: unknown, key: string, base: NodePath): void {
  if (isObject(obj)) template(out, obj[key], subPath(base, key));
}

/** String leaves of a JSON value are templates. */
function leaves(value: unknown, path: NodePath, out: Source[]): void {
  if (typeof value === 'string') out.push({ kind: 'template', value, path });
  else if (Array.isArray(value)) {
    for (const [i, x] of value.entries()) leaves(x, subPath(path, i), out);
  } else if (isObject(value)) for (const [k, x] of Object.entries(value)) leaves(x, subPath(path, k), out);
}

/** Checks every expression and template of every flow. */
export function checkFlowExpressions(ctx: CheckContext): void {
  // With documents missing, a variable may be declared in one of them: no warnings then.
  const knownVars = ctx.options.partial ? undefined : declaredVars(ctx);
  // The names a handler may read depend only on its event (and the flow's kind): made once each.
  const rootsByEvent = new Map<string, { allowed: string[]; allowedSet: Set<string> }>();
  const rootsOf = (event: string, noParticipant: boolean) => {
    const key = `${noParticipant ? '-' : '+'}${event}`;
    let roots = rootsByEvent.get(key);
    if (!roots) {
      const allowed = [...FLOW_ROOTS, ...eventVariables(event)].filter(
        (r) => !noParticipant || r !== 'participant',
      );
      roots = { allowed, allowedSet: new Set(allowed) };
      rootsByEvent.set(key, roots);
    }
    return roots;
  };
  for (const { unit, flow } of ctx.flows) {
    for (const s of flow.states) {
      const entryScope: Scope = {
        allowed: FLOW_ROOTS,
        allowedSet: FLOW_ROOT_SET,
        place: { entryOf: s.name },
        knownVars,
      };
      for (const a of s.entry) for (const src of actionSources(a)) checkSource(ctx, unit, src, entryScope);
      for (const h of s.branching) {
        // started, empty and ended happen to the conference, about no participant.
        const noParticipant = flow.kind === 'conference' && NO_PARTICIPANT_EVENTS.has(h.event);
        const scope: Scope = {
          ...rootsOf(h.event, noParticipant),
          place: { handlerOf: h.event },
          knownVars,
        };
        if (noParticipant) {
          scope.explain = (id) =>
            id === 'participant'
              ? `"${h.event}" is not about a participant: "participant" is not available here`
              : undefined;
        }
        for (const b of h.branches) {
          if (b.guard) {
            checkSource(ctx, unit, { kind: 'expression', value: b.guard.expr, path: b.guard.path }, scope);
            checkDigitsAgainstNumbers(ctx, unit, b.guard.expr, b.guard.path);
          }
          for (const a of b.actions) for (const src of actionSources(a)) checkSource(ctx, unit, src, scope);
        }
      }
    }
  }
  // A conference's recording file name is rendered per recording: conference and participant are known.
  for (const unit of ctx.conferences) {
    const file = unit.data.record?.file;
    if (typeof file === 'string') {
      checkSource(
        ctx,
        unit,
        { kind: 'template', value: file, path: ['record', 'file'] },
        { allowed: ['conference', 'participant', 'call'], place: 'a recording file name' },
      );
    }
  }
}
