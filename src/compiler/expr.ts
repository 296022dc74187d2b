/**
 * The expression language: CEL (via `@marcbachmann/cel-js`) for guards and `set`
 * values, and templates (strings with `${expr}` placeholders) for everything a flow
 * says, dials or names. The compiler uses this module to check expressions and the
 * runtime to evaluate them, so both agree on what a program means.
 *
 * Numbers: YAML and JSON give JS numbers, while CEL distinguishes `int` from
 * `double` and refuses to mix them (`1.0 + 1` is an error). Scope values that are
 * safe integers are therefore handed to CEL as `int`, other numbers as `double`;
 * results come back as JS numbers (ints outside the safe range stay bigint).
 *
 * Templates: `${expr}` is replaced by the value of `expr`; `$${` writes a literal
 * `${`. Strings render as themselves, null as the empty string, numbers and
 * booleans as JSON would, lists and maps as JSON.
 */
import {
  type ASTNode,
  Environment,
  EvaluationError,
  ParseError,
  type ParseResult,
} from '@marcbachmann/cel-js';

type Compiled = ParseResult;

/**
 * Variables are not declared (scopes vary by event), so they are dynamically typed;
 * list and map literals may mix types (`[vars.a, 2]`) as YAML data does.
 */
const env = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false });

/** A parse or evaluation failure, with the offset in the expression or template where it arose. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  constructor(
    message: string,
    /** The expression or template that failed. */
    readonly source: string,
    /** 0-based offset into `source`. */
    readonly offset: number,
    /** `parse` when the text is malformed, `evaluate` when it failed on the given scope. */
    readonly phase: 'parse' | 'evaluate',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type ParsedExpression =
  | { ok: true; identifiers: string[] }
  | { ok: false; message: string; offset: number };

export type TemplatePart =
  | { kind: 'text'; text: string }
  | {
      kind: 'expr';
      expr: string /** Offset of the expression (after `${`) in the template. */;
      offset: number;
    };

export type ParsedTemplate =
  | { ok: true; parts: TemplatePart[]; identifiers: string[] }
  | { ok: false; message: string; offset: number };

// ───────────────────────────── parsing ─────────────────────────────

interface CacheEntry {
  compiled?: Compiled;
  error?: ExpressionError;
  identifiers: string[];
  members: string[];
}

const CACHE_LIMIT = 10_000;

/**
 * `make(key)`, remembered in `cache`. A config set holds a bounded number of distinct
 * expressions and templates; the limit only guards against an unbounded stream of
 * generated ones.
 */
function remembered<V>(cache: Map<string, V>, key: string, make: (key: string) => V): V {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const value = make(key);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

const cache = new Map<string, CacheEntry>();

function compile(expr: string): CacheEntry {
  return remembered(cache, expr, parseEntry);
}

function parseEntry(expr: string): CacheEntry {
  try {
    const compiled = env.parse(expr);
    const found = new Set<string>();
    const members = new Set<string>();
    visit(compiled.ast, new Set(), found, members);
    return { compiled, identifiers: [...found].sort(), members: [...members].sort() };
  } catch (err) {
    return { error: toExpressionError(err, expr, 'parse'), identifiers: [], members: [] };
  }
}

function toExpressionError(err: unknown, source: string, phase: 'parse' | 'evaluate'): ExpressionError {
  if (err instanceof ParseError || err instanceof EvaluationError) {
    const offset = err.range?.start ?? err.node?.start ?? 0;
    return new ExpressionError(err.summary || err.message, source, offset, phase, { cause: err });
  }
  if (err instanceof ExpressionError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ExpressionError(message, source, 0, phase, { cause: err });
}

/** Parses a CEL expression; lists its free root identifiers (sorted) on success. */
export function parseExpression(expr: string): ParsedExpression {
  if (expr.trim() === '') return { ok: false, message: 'empty expression', offset: 0 };
  const entry = compile(expr);
  if (entry.error) return { ok: false, message: entry.error.message, offset: entry.error.offset };
  return { ok: true, identifiers: entry.identifiers };
}

const templateCache = new Map<string, ParsedTemplate>();

/** Splits a template into text and `${expr}` parts and parses every expression (remembered per text). */
export function parseTemplate(template: string): ParsedTemplate {
  return remembered(templateCache, template, parseTemplateText);
}

function parseTemplateText(template: string): ParsedTemplate {
  const split = splitTemplate(template);
  if (!split.ok) return split;
  const identifiers = new Set<string>();
  for (const part of split.parts) {
    if (part.kind !== 'expr') continue;
    const parsed = parseExpression(part.expr);
    if (!parsed.ok) return { ok: false, message: parsed.message, offset: part.offset + parsed.offset };
    for (const id of parsed.identifiers) identifiers.add(id);
  }
  return { ok: true, parts: split.parts, identifiers: [...identifiers].sort() };
}

/**
 * The `root.field` selections an expression makes on free identifiers (e.g.
 * `vars.count`, `conference.vars`), sorted; empty when it does not parse.
 */
export function memberReferences(expr: string): string[] {
  return compile(expr).members;
}

/** True when the string has at least one `${` placeholder (not counting `$${` escapes). */
export function isTemplate(text: string): boolean {
  const split = splitTemplate(text);
  return !split.ok || split.parts.some((p) => p.kind === 'expr');
}

type SplitResult = { ok: true; parts: TemplatePart[] } | { ok: false; message: string; offset: number };

const splitCache = new Map<string, SplitResult>();

function splitTemplate(template: string): SplitResult {
  return remembered(splitCache, template, scanTemplate);
}

function scanTemplate(t: string): SplitResult {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < t.length) {
    // Text up to the next `$` in one piece: most templates have none or one.
    const dollar = t.indexOf('$', i);
    if (dollar < 0) {
      text += t.slice(i);
      break;
    }
    if (dollar > i) text += t.slice(i, dollar);
    i = dollar;
    if (t.startsWith('$${', i)) {
      text += '${';
      i += 3;
      continue;
    }
    if (!t.startsWith('${', i)) {
      text += '$';
      i += 1;
      continue;
    }
    const start = i + 2;
    const end = findClosingBrace(t, start);
    if (end < 0) return { ok: false, message: 'unterminated "${" placeholder', offset: i };
    if (text) parts.push({ kind: 'text', text });
    text = '';
    parts.push({ kind: 'expr', expr: t.slice(start, end), offset: start });
    i = end + 1;
  }
  if (text) parts.push({ kind: 'text', text });
  return { ok: true, parts };
}

/** Index of the `}` closing a placeholder that starts at `from`, skipping CEL string literals and nested braces. */
function findClosingBrace(t: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < t.length) {
    const c = t[i];
    if (c === '"' || c === "'") {
      const triple = t.startsWith(c.repeat(3), i);
      const quote = triple ? c.repeat(3) : c;
      i += quote.length;
      while (i < t.length && !t.startsWith(quote, i)) i += t[i] === '\\' ? 2 : 1;
      if (i >= t.length) return -1;
      i += quote.length;
      continue;
    }
    if (c === '{') depth += 1;
    else if (c === '}') {
      if (depth === 0) return i;
      depth -= 1;
    }
    i += 1;
  }
  return -1;
}

// ───────────────────────────── free identifiers ─────────────────────────────

/** Macros whose first argument names an iteration variable bound in the others. */
const ONE_VAR_MACROS = new Set(['all', 'exists', 'exists_one', 'existsOne', 'map', 'filter', 'sortBy']);
/** Two-variable comprehensions (`m.all(k, v, pred)`): the second argument is bound too. */
const TWO_VAR_MACROS = new Set(['all', 'exists', 'exists_one', 'existsOne', 'transformList', 'transformMap']);

function isNode(v: unknown): v is ASTNode {
  return typeof v === 'object' && v !== null && 'op' in v && 'args' in v;
}

/**
 * Collects the root identifiers an expression reads from its scope (not those
 * bound by macros) into `found`, and `root.field` selections on them into `members`.
 */
function visit(node: ASTNode, bound: ReadonlySet<string>, found: Set<string>, members: Set<string>): void {
  switch (node.op) {
    case 'value':
      return;
    case 'id':
      if (!bound.has(node.args)) found.add(node.args);
      return;
    case '.':
    case '.?': {
      const [target, field] = node.args;
      if (target.op === 'id' && !bound.has(target.args)) members.add(`${target.args}.${field}`);
      visit(target, bound, found, members);
      return;
    }
    case 'call':
      for (const a of node.args[1]) visit(a, bound, found, members);
      return;
    case 'rcall': {
      const [name, receiver, args] = node.args;
      const isBind = name === 'bind' && receiver.op === 'id' && receiver.args === 'cel';
      if (!isBind) visit(receiver, bound, found, members);
      const names: string[] = [];
      const first = args[0];
      if ((isBind || ONE_VAR_MACROS.has(name) || TWO_VAR_MACROS.has(name)) && first?.op === 'id') {
        names.push(first.args);
        const second = args[1];
        if (TWO_VAR_MACROS.has(name) && args.length >= 3 && second?.op === 'id' && name !== 'map') {
          names.push(second.args);
        }
      }
      if (names.length === 0) {
        for (const a of args) visit(a, bound, found, members);
        return;
      }
      const inner = new Set([...bound, ...names]);
      args.forEach((a, i) => {
        if (i < names.length) return;
        // `cel.bind(x, init, body)`: `init` is evaluated outside the binding.
        visit(a, isBind && i === 1 ? bound : inner, found, members);
      });
      return;
    }
    case 'map':
      for (const [k, v] of node.args) {
        visit(k, bound, found, members);
        visit(v, bound, found, members);
      }
      return;
    default: {
      const args: unknown = node.args;
      if (isNode(args)) visit(args, bound, found, members);
      else if (Array.isArray(args)) for (const a of args) if (isNode(a)) visit(a, bound, found, members);
    }
  }
}

// ───────────────────────────── evaluation ─────────────────────────────

/** JS data → CEL data: safe integers become `int`. */
function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toCel(v);
    return out;
  }
  return value;
}

/** CEL data → JS data: ints become numbers when they fit. */
function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = fromCel(v);
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromCel(v);
    return out;
  }
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Evaluates a CEL expression over `scope`. Throws ExpressionError on a parse or evaluation error. */
export function evaluateExpression(expr: string, scope: Record<string, unknown>): unknown {
  const entry = compile(expr);
  if (entry.error) throw entry.error;
  const run = entry.compiled as Compiled;
  try {
    return fromCel(run(toCel(scope) as Record<string, unknown>));
  } catch (err) {
    throw toExpressionError(err, expr, 'evaluate');
  }
}

/** Renders a template over `scope`. Throws ExpressionError (offsets into the template). */
export function renderTemplate(template: string, scope: Record<string, unknown>): string {
  const split = splitTemplate(template);
  if (!split.ok) throw new ExpressionError(split.message, template, split.offset, 'parse');
  let out = '';
  for (const part of split.parts) {
    if (part.kind === 'text') {
      out += part.text;
      continue;
    }
    try {
      out += stringify(evaluateExpression(part.expr, scope));
    } catch (err) {
      const e = toExpressionError(err, part.expr, 'evaluate');
      throw new ExpressionError(e.message, template, part.offset + e.offset, e.phase, { cause: err });
    }
  }
  return out;
}

function stringify(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * Whether a guard's value lets its branch be taken. CEL guards are meant to be
 * booleans; other values count as the common "has something" test: non-zero
 * numbers, non-empty strings, lists and maps.
 */
export function isTruthy(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === null || value === undefined) return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'bigint') return value !== 0n;
  if (typeof value === 'string') return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Map) return value.size > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return true;
}
