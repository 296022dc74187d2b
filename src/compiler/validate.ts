/**
 * Validates loaded documents against `schema/parley.schema.json` and words every
 * failure for the person who wrote the YAML: the position of the node at fault, what
 * was expected, what was found, and a "did you mean" where one is plausible.
 *
 * ajv reports in terms of schema keywords and JSON pointers; this module turns those
 * into one message per mistake. Union noise (`anyOf` branches, `if` summaries,
 * mutual-exclusion pairs reported from both sides) collapses to the message that
 * names what the author wrote.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { loadCommonJs } from './code-cache.js';
import {
  compareDiagnostics,
  type Diagnostic,
  type NodePath,
  type SourceDocument,
  type SourceRef,
  subPath,
} from './diagnostics.js';
import { suggest } from './suggest.js';

// JSON Schema nodes are open-ended JSON; validation reads only the keywords it knows.
type SchemaNode = { [keyword: string]: unknown };

const SCHEMA_URL = new URL('../../schema/parley.schema.json', import.meta.url);

/** Keywords whose failure is worded by the schema's `errorMessage` when it has one. */
const WORDED_KEYWORDS = new Set(['type', 'pattern', 'enum', 'const', 'not', 'format']);

interface Compiled {
  validate: ValidateFunction;
  schema: SchemaNode;
  /** `$defs` entry name by the canonical text of its schema, to name the value type at fault. */
  defNames: Map<string, string>;
  /** `$defs` entry name by pattern: flat unions repeat a type's pattern, which still says which type was meant. */
  patternNames: Map<string, string>;
}

let compiled: Compiled | undefined;
let compiledHere: Compiled | undefined;

const PRECOMPILED = new URL('../../generated/schema-validator.cjs', import.meta.url);

/**
 * The validator built by `scripts/build-validator.mjs` at install time, when it was built
 * from the schema on disk; compiling the schema here instead costs about half a second.
 */
function precompiledValidator(schemaText: string): ValidateFunction | undefined {
  try {
    const file = fileURLToPath(PRECOMPILED);
    const mod = loadCommonJs(file, `${file}.cache`).exports as ValidateFunction & {
      schemaSha256?: string;
    };
    const sha = createHash('sha256').update(schemaText).digest('hex');
    return mod.schemaSha256 === sha ? mod : undefined;
  } catch {
    return undefined;
  }
}

/** Compiles the schema with ajv; the options must stay those of scripts/build-validator.mjs. */
export function compileSchemaValidator(schema: SchemaNode): ValidateFunction {
  // Required here, not imported: with the precompiled validator in place (every install),
  // ajv and ajv-formats are never needed, and loading them costs `parley validate` ~0.1 s.
  const require = createRequire(import.meta.url);
  const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  const formats = require('ajv-formats') as typeof import('ajv-formats');
  // ajv-formats is CommonJS with `exports.default`; both shapes can arrive.
  const addFormats = ((formats as unknown as { default?: unknown }).default ??
    formats) as typeof formats.default;
  const ajv = new Ajv2020({
    allErrors: true,
    verbose: true,
    strict: true,
    // `anyOf: [{ required: [a] }, ...]` names properties defined beside it, which strictRequired cannot see.
    strictRequired: false,
    allowUnionTypes: true,
    // Every $ref a function of its own. Inlined, the `$defs/inline-<action>` exclusions
    // (24 actions × 23 others) fill three functions of ~235 KB each, too large for V8 to
    // optimise and slow to compile cold: validating costs ~50 ms more per run.
    inlineRefs: false,
  });
  addFormats(ajv, ['uri', 'email', 'ipv4', 'ipv6']);
  ajv.addFormat('regex', { type: 'string', validate: (s: string) => regexError(s) === undefined });
  // Read by editors (yaml-language-server) and by this module; no validation meaning.
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
  return ajv.compile(schema);
}

/** Loads the schema and its validator once per process. `runtime` forces compiling it here (tests). */
export function compiledSchema(mode: 'auto' | 'runtime' = 'auto'): Compiled {
  if (mode === 'auto' && compiled) return compiled;
  if (mode === 'runtime' && compiledHere) return compiledHere;
  const text = readFileSync(SCHEMA_URL, 'utf8');
  const schema = JSON.parse(text) as SchemaNode;
  const defNames = new Map<string, string>();
  const patternNames = new Map<string, string>();
  for (const [name, def] of Object.entries((schema.$defs ?? {}) as Record<string, SchemaNode>)) {
    defNames.set(JSON.stringify(def), name);
    if (typeof def.pattern === 'string' && valueCodeOf(name) !== 'invalid-value')
      patternNames.set(def.pattern, name);
  }
  const validate =
    (mode === 'auto' ? precompiledValidator(text) : undefined) ?? compileSchemaValidator(schema);
  const result = { validate, schema, defNames, patternNames };
  if (mode === 'auto') compiled = result;
  else compiledHere = result;
  return result;
}

/** Canonical texts of schema objects seen in errors (the same few objects, over and over). */
const schemaTexts = new WeakMap<object, string>();

function defNameOf(c: Compiled, parent: SchemaNode, keyword: string): string | undefined {
  if (keyword === 'pattern' && typeof parent.pattern === 'string') {
    const byPattern = c.patternNames.get(parent.pattern);
    if (byPattern) return byPattern;
  }
  let text = schemaTexts.get(parent);
  if (text === undefined) {
    text = JSON.stringify(parent);
    schemaTexts.set(parent, text);
  }
  return c.defNames.get(text);
}

/** The syntax error of a JavaScript regex source, if it has one. */
export function regexError(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    // "Invalid regular expression: /(/: Unterminated group" → "unterminated group"
    const reason = text.slice(text.lastIndexOf(': ') + 2);
    return reason.charAt(0).toLowerCase() + reason.slice(1);
  }
}

/** Every schema problem of one document, sorted by position. */
export function validateDocument(doc: SourceDocument, mode: 'auto' | 'runtime' = 'auto'): Diagnostic[] {
  const c = compiledSchema(mode);
  if (c.validate(doc.data)) return [];
  const errors = c.validate.errors ?? [];
  return explain(errors, doc, c).sort(compareDiagnostics);
}

// ───────────────────────────── explaining errors ─────────────────────────────

interface Problem {
  ref: SourceRef;
  code: string;
  message: string;
  hint?: string;
}

function explain(errors: ErrorObject[], doc: SourceDocument, c: Compiled): Diagnostic[] {
  const { schema } = c;
  const actionNames = Object.keys((schema.$defs as Record<string, SchemaNode>).Action?.properties ?? {});
  const isActionSchema = (s: unknown): boolean =>
    isObject(s) && isObject(s.properties) && actionNames.every((a) => a in (s.properties as object));

  // Unknown keys whose suggestion names a missing required key explain that missing key.
  const suggestedAt = new Map<string, Set<string>>();
  const problems: Problem[] = [];
  const seenPairs = new Set<string>();
  /** Objects whose inline actions were already reported together. */
  const seenActionOwners = new Set<string>();

  // Errors at one instance path; used to prefer value errors over type errors there.
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }

  for (const e of errors) {
    if (e.keyword !== 'additionalProperties') continue;
    const name = String(e.params.additionalProperty);
    const candidates = Object.keys(isObject(e.parentSchema?.properties) ? e.parentSchema.properties : {});
    const s = suggest(name, candidates);
    if (s) {
      const set = suggestedAt.get(e.instancePath) ?? new Set<string>();
      set.add(s);
      suggestedAt.set(e.instancePath, set);
    }
  }

  for (const e of errors) {
    const path = pointerToPath(e.instancePath, doc.data);
    const label = labelOf(path);
    const data: unknown = e.data;
    const parent = e.parentSchema as SchemaNode | undefined;
    const worded =
      WORDED_KEYWORDS.has(e.keyword) && parent && typeof parent.errorMessage === 'string'
        ? parent.errorMessage
        : undefined;
    const defName = parent ? defNameOf(c, parent, e.keyword) : undefined;
    const valueCode = defName ? valueCodeOf(defName) : 'invalid-value';

    // Inner errors of propertyNames repeat the outer one.
    if ((e as { propertyName?: string }).propertyName !== undefined && e.keyword !== 'propertyNames')
      continue;

    switch (e.keyword) {
      case 'if':
      case 'oneOf':
      case 'allOf':
        continue;
      case 'anyOf': {
        const branches = Array.isArray(e.schema) ? (e.schema as unknown[]) : [];
        const keys = branches.map(requiredOnly);
        if (keys.length === 0 || keys.some((k) => k === undefined)) continue;
        const suggested = suggestedAt.get(e.instancePath);
        if (keys.some((k) => suggested?.has(k!))) continue;
        problems.push({
          ref: doc.keyAt(path),
          code: 'missing-property',
          message: `${label === 'the document' ? 'the document' : label} needs one of ${keys
            .map((k) => `"${k}"`)
            .join(', ')}`,
        });
        continue;
      }
      case 'required': {
        const missing = String(e.params.missingProperty);
        // Branch errors of an anyOf of `required` lists are reported by the anyOf.
        if (/\/anyOf\/\d+\/required$/.test(e.schemaPath)) continue;
        if (suggestedAt.get(e.instancePath)?.has(missing)) continue;
        const kindHint =
          missing === 'kind' && path.length === 0 ? ' (routes, conference, scenario or test)' : '';
        problems.push({
          ref: doc.keyAt(path),
          code: 'missing-property',
          message: `missing required property "${missing}"${kindHint}`,
        });
        continue;
      }
      case 'additionalProperties': {
        const name = String(e.params.additionalProperty);
        const candidates = Object.keys(isObject(parent?.properties) ? parent.properties : {});
        const s = suggest(name, candidates);
        const holdsActions = isActionSchema(parent);
        const isAction = holdsActions && (s === undefined || actionNames.includes(s));
        const what = isAction ? 'action' : 'property';
        const hint = s ? `did you mean "${s}"?` : undefined;
        problems.push({
          ref: doc.keyAt(subPath(path, name)),
          code: isAction ? 'unknown-action' : 'unknown-property',
          message: `unknown ${what} "${name}"${hint ? ` — ${hint}` : ''}`,
          ...(hint ? { hint } : {}),
        });
        continue;
      }
      case 'false schema': {
        // From `dependentSchemas: { a: { properties: { b: false } } }` (or the shared
        // `$defs/inline-a` holding the same for actions): a and b exclude each other.
        const m = /\/(?:dependentSchemas\/|\$defs\/inline-)([^/]+)\/properties\/([^/]+)\/false schema$/.exec(
          e.schemaPath,
        );
        const owner = path.slice(0, -1);
        const here = String(path[path.length - 1]);
        // A `$defs/inline-<action>` compiled as a function of its own reports its path from
        // its own root, which names only the forbidden key: the actions it conflicts with
        // are then the other actions written beside it.
        const others = m
          ? [unescapePointer(m[1]!)]
          : actionNames.includes(here)
            ? keysAt(doc.data, owner).filter((k) => k !== here && actionNames.includes(k))
            : [];
        if (others.length === 0) {
          problems.push({
            ref: doc.keyAt(path),
            code: 'unknown-property',
            message: `"${here}" is not allowed here`,
          });
          continue;
        }
        const ownerPointer = e.instancePath.slice(0, e.instancePath.lastIndexOf('/'));
        if (actionNames.includes(here) && others.every((o) => actionNames.includes(o))) {
          // Several actions inline: one message for the whole state, at the second action
          // written (the first one added by mistake), naming them all.
          if (seenActionOwners.has(ownerPointer)) continue;
          seenActionOwners.add(ownerPointer);
          const written = keysAt(doc.data, owner)
            .filter((k) => actionNames.includes(k))
            .map((k) => ({ name: k, ref: doc.keyAt(subPath(owner, k)) }))
            .sort((x, y) => (before(x.ref, y.ref) ? -1 : before(y.ref, x.ref) ? 1 : 0));
          problems.push({
            ref: (written[1] ?? written[0])?.ref ?? doc.keyAt(path),
            code: 'too-many-actions',
            message: `only one action can be written inline here, found ${quotedList(written.map((w) => w.name))}; list several under do:`,
          });
          continue;
        }
        for (const other of others) {
          const pairKey = `${e.instancePath}|${[other, here].sort().join('|')}`;
          const reverse = `${ownerPointer}/${escapePointer(other)}|${[other, here].sort().join('|')}`;
          if (seenPairs.has(pairKey) || seenPairs.has(reverse)) continue;
          seenPairs.add(pairKey);
          // Point at whichever key comes later in the file: that is the one added by mistake.
          const a = doc.keyAt(subPath(owner, other));
          const b = doc.keyAt(path);
          const [first, second] = before(a, b) ? [other, here] : [here, other];
          const ref = before(a, b) ? b : a;
          problems.push({
            ref,
            code: 'conflicting-properties',
            message: `"${first}" and "${second}" cannot be used together`,
          });
        }
        continue;
      }
      case 'dependentRequired': {
        problems.push({
          ref: doc.keyAt(subPath(path, String(e.params.property))),
          code: 'missing-property',
          message: `"${String(e.params.property)}" needs "${String(e.params.missingProperty)}"`,
        });
        continue;
      }
      case 'propertyNames': {
        const name = String(e.params.propertyName);
        const inner =
          isObject(e.schema) && typeof e.schema.errorMessage === 'string' ? e.schema.errorMessage : '';
        const known = isObject(e.schema) && Array.isArray(e.schema.examples) ? e.schema.examples : [];
        const s =
          suggest(name, known.filter(isString)) ?? (known.includes('dtmf') ? eventFix(name) : undefined);
        const hint = s ? `did you mean ${s.includes('"') ? s : `"${s}"`}?` : undefined;
        problems.push({
          ref: doc.keyAt(subPath(path, name)),
          code: 'invalid-name',
          message: `invalid name "${name}"${inner ? `: ${inner}` : ''}${hint ? ` — ${hint}` : ''}`,
          ...(hint ? { hint } : {}),
        });
        continue;
      }
      case 'type': {
        const others = (byPath.get(e.instancePath) ?? []).filter(
          (o) => o !== e && (o.keyword === 'enum' || o.keyword === 'const' || o.keyword === 'not'),
        );
        if (others.length > 0) continue;
        problems.push({
          ref: doc.at(path),
          code: path.length === 0 ? 'invalid-document' : 'wrong-type',
          message: worded
            ? `${worded}, got ${show(data)}`
            : `${label} must be ${typeWords(e.params.type)}, got ${show(data)}`,
        });
        continue;
      }
      case 'enum': {
        const allowed = (e.params.allowedValues as unknown[]) ?? [];
        const s = typeof data === 'string' ? suggest(data, allowed.filter(isString)) : undefined;
        const hint = s ? `did you mean "${s}"?` : undefined;
        const isKind = path.length === 1 && path[0] === 'kind';
        problems.push({
          ref: doc.at(path),
          code: isKind ? 'invalid-kind' : valueCode,
          message: `${label} must be one of ${allowed.map(String).join(', ')}, got ${show(data)}${
            hint ? ` — ${hint}` : ''
          }`,
          ...(hint ? { hint } : {}),
        });
        continue;
      }
      case 'pattern':
      case 'format':
      case 'const':
      case 'not': {
        let message: string;
        if (e.keyword === 'format' && e.params.format === 'regex' && typeof data === 'string') {
          message = `invalid regular expression ${show(data)}: ${regexError(data) ?? 'not valid'}`;
        } else if (worded) {
          message = `${worded}, got ${show(data)}`;
        } else if (e.keyword === 'const') {
          message = `${label} must be ${show(e.params.allowedValue)}, got ${show(data)}`;
        } else if (e.keyword === 'not') {
          message = `${label} cannot be ${show(data)}`;
        } else {
          message = `${label} is not valid: ${show(data)}`;
        }
        // Examples make good suggestions only where the pattern is a list of words.
        const wordList = typeof parent?.pattern === 'string' && /^\^\([a-z]+\|/.test(parent.pattern);
        const examples = wordList && Array.isArray(parent?.examples) ? parent.examples : [];
        const s = typeof data === 'string' ? suggest(data, examples.filter(isString)) : undefined;
        const hint = s ? `did you mean "${s}"?` : undefined;
        problems.push({
          ref: doc.at(path),
          code: e.keyword === 'format' ? 'invalid-regex' : valueCode,
          message: `${message}${hint ? ` — ${hint}` : ''}`,
          ...(hint ? { hint } : {}),
        });
        continue;
      }
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        const min = typeof parent?.minimum === 'number' ? parent.minimum : undefined;
        const max = typeof parent?.maximum === 'number' ? parent.maximum : undefined;
        const range =
          min !== undefined && max !== undefined
            ? `between ${min} and ${max}`
            : min !== undefined
              ? `at least ${min}`
              : `at most ${max}`;
        problems.push({
          ref: doc.at(path),
          code: 'out-of-range',
          message: `${label} must be ${range}, got ${show(data)}`,
        });
        continue;
      }
      case 'minLength':
      case 'minItems':
      case 'minProperties': {
        if (isActionSchema(parent) && e.keyword === 'minProperties') {
          problems.push({
            ref: doc.at(path),
            code: 'missing-action',
            message: 'empty action: write one action key',
          });
          continue;
        }
        problems.push({ ref: doc.at(path), code: 'empty', message: `${label} must not be empty` });
        continue;
      }
      case 'maxProperties': {
        const keys = isObject(data) ? Object.keys(data) : [];
        const shown = keys.map((k) => `"${k}"`).join(' and ');
        if (isActionSchema(parent)) {
          problems.push({
            ref: doc.at(path),
            code: 'too-many-actions',
            message: `an item of do: holds exactly one action, found ${shown}; write each as its own item`,
          });
        } else {
          const choices = Object.keys(isObject(parent?.properties) ? parent.properties : {});
          problems.push({
            ref: doc.at(path),
            code: 'conflicting-properties',
            message: `${label} takes only one of ${choices.map((c) => `"${c}"`).join(', ')}, found ${shown}`,
          });
        }
        continue;
      }
      case 'uniqueItems':
        problems.push({
          ref: doc.at(path),
          code: 'duplicate-item',
          message: `${label} lists the same item twice`,
        });
        continue;
      default:
        problems.push({
          ref: doc.at(path),
          code: 'schema',
          message: `${label} ${e.message ?? 'is not valid'}`,
        });
    }
  }

  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const p of problems) {
    const key = `${p.ref.line}:${p.ref.col}:${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      file: p.ref.file,
      line: p.ref.line,
      col: p.ref.col,
      severity: 'error',
      code: p.code,
      message: p.message,
      ...(p.hint ? { hint: p.hint } : {}),
    });
  }
  return out;
}

// ───────────────────────────── wording helpers ─────────────────────────────

function valueCodeOf(defName: string): string {
  switch (defName) {
    case 'Duration':
      return 'invalid-duration';
    case 'SipUri':
      return 'invalid-sip-uri';
    case 'AudioFile':
      return 'invalid-audio-file';
    case 'Regex':
      return 'invalid-regex';
    case 'Audience':
      return 'invalid-audience';
    case 'Target':
      return 'invalid-target';
    default:
      return 'invalid-value';
  }
}

/** The well-formed spelling of a near-miss `dtmf "<keys>"` or `after <duration>` event. */
function eventFix(name: string): string | undefined {
  const dtmf = /^dtmf\s*['"]?([0-9A-Da-d*#]+)['"]?$/.exec(name.trim());
  if (dtmf) return `dtmf "${dtmf[1]!.toUpperCase()}"`;
  const after = /^after\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)$/.exec(name.trim());
  if (after) return `after ${after[1]}${after[2]}`;
  return undefined;
}

/** `{ required: ["x"] }` → "x"; anything else → undefined. */
function requiredOnly(branch: unknown): string | undefined {
  if (!isObject(branch)) return undefined;
  const keys = Object.keys(branch);
  if (keys.length !== 1 || !Array.isArray(branch.required) || branch.required.length !== 1) return undefined;
  return isString(branch.required[0]) ? branch.required[0] : undefined;
}

/** How a path reads in a message: the key holding the value, with indexes. */
function labelOf(path: NodePath): string {
  if (path.length === 0) return 'the document';
  let i = path.length - 1;
  let suffix = '';
  while (i >= 0 && typeof path[i] === 'number') {
    suffix = `[${path[i]}]${suffix}`;
    i--;
  }
  return i >= 0 ? `"${String(path[i])}${suffix}"` : `item ${suffix}`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'empty',
};

function typeWords(type: unknown): string {
  const list = (Array.isArray(type) ? type : String(type).split(',')).map(
    (t) => TYPE_WORDS[String(t)] ?? String(t),
  );
  if (list.length <= 1) return list[0] ?? 'something else';
  return `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
}

/** A value as it reads in a message: short, and never a JSON dump. */
function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (isObject(v)) return 'a mapping';
  return typeof v;
}

function before(a: SourceRef, b: SourceRef): boolean {
  return a.line < b.line || (a.line === b.line && a.col <= b.col);
}

/** A JSON pointer as a path; segments are array indexes only where the data holds an array. */
function pointerToPath(pointer: string, data: unknown): NodePath {
  if (pointer === '') return [];
  const path: Array<string | number> = [];
  let node = data;
  for (const seg of pointer.slice(1).split('/')) {
    const s = unescapePointer(seg);
    if (Array.isArray(node)) {
      path.push(Number(s));
      node = node[Number(s)];
    } else {
      path.push(s);
      node = isObject(node) ? node[s] : undefined;
    }
  }
  return path;
}

const unescapePointer = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~');
const escapePointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** `"a" and "b"`, `"a", "b" and "c"`. */
function quotedList(names: readonly string[]): string {
  const quoted = names.map((n) => `"${n}"`);
  return quoted.length < 2 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)}`;
}

/** The keys of the object at `path` in `data`, in written order; none when it is not an object. */
function keysAt(data: unknown, path: NodePath): string[] {
  let node = data;
  for (const segment of path)
    node = isObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[segment] : undefined;
  return isObject(node) ? Object.keys(node) : [];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}
