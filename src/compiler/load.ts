/**
 * Loads YAML text into documents that remember where each value came from.
 *
 * Every YAML document of a file becomes one SourceDocument: its plain data (what the
 * schema validator and the checker read) and a map from JSON paths to the 1-based
 * line and column of each value and of the key that holds it. Loading never throws:
 * syntax errors, duplicate keys, recursive aliases and absurd nesting all come back
 * as diagnostics, and a document with any of them is left out of `documents`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Document, Node, YAMLError } from 'yaml';
import type { Diagnostic, NodePath, SourceDocument, SourceRef } from './diagnostics.js';
import { type Positions, readFast } from './yaml-events.js';

export interface LoadResult {
  documents: SourceDocument[];
  diagnostics: Diagnostic[];
}

/** Deeper than this, a document cannot be a Parley document; refusing it keeps every later pass safe. */
export const MAX_DEPTH = 128;
/**
 * Above this estimated nesting, text is refused before parsing: the YAML parser recurses
 * per level, and V8 can abort the whole process (not throw) when it compiles a regex with
 * the stack nearly exhausted, which the parser's own overflow guard cannot catch.
 */
const MAX_TEXT_NESTING = 256;
/** Upper bound on nodes visited (aliases included) per document. */
const MAX_NODES = 100_000;
/** Aliases a document may expand while converting to data (guards against "billion laughs"). */
const MAX_ALIAS_COUNT = 100;

type Pos = readonly [line: number, col: number];

type YamlLibrary = typeof import('yaml');
let yamlLibrary: YamlLibrary | undefined;

/**
 * The full parser, loaded the first time a text needs it: configurations that take the
 * fast road (nearly all) never do, and loading it costs `parley validate` ~40 ms.
 */
function yaml(): YamlLibrary {
  yamlLibrary ??= createRequire(import.meta.url)('yaml') as YamlLibrary;
  return yamlLibrary;
}

export interface LoadOptions {
  /**
   * Let js-yaml's event stream read texts that need no diagnostic (default true);
   * false always runs the full parser (tests hold the two to the same results).
   */
  fast?: boolean;
}

/** Loads every document of `text`; `file` is the name diagnostics carry. */
export function loadText(file: string, text: string, options: LoadOptions = {}): LoadResult {
  const documents: SourceDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  // A byte-order mark is not a column anyone can see.
  // YAML counts a lone CR (old Mac files) as a line break, the parser does not: make it
  // one, character for character, so offsets and positions stay those of the text.
  const source = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).replace(/\r(?!\n)/g, '\n');
  let lineStarts: number[] | undefined;
  const posOf = (offset: number): Pos => {
    lineStarts ??= lineStartsOf(source);
    return linePos(lineStarts, Math.max(0, Math.min(offset, source.length)));
  };
  const diag = (pos: Pos, code: string, message: string, severity: Diagnostic['severity'] = 'error') =>
    diagnostics.push({ file, line: pos[0], col: pos[1], severity, code, message });

  const nesting = estimateNesting(source);
  if (nesting) {
    diag(nesting, 'yaml-depth', `document is nested more than ${MAX_DEPTH} levels deep`);
    return { documents, diagnostics };
  }

  // Most configurations take the fast road; whatever needs a diagnostic takes the full one.
  const fast =
    options.fast === false ? undefined : readFast(source, { maxDepth: MAX_DEPTH, maxNodes: MAX_NODES });
  if (fast) {
    for (const d of fast) {
      documents.push(new YamlSourceDocument(file, d.index, d.data, d.positions, posOf));
    }
    return { documents, diagnostics };
  }

  let parsed: Document.Parsed[];
  try {
    parsed = Array.from(
      yaml().parseAllDocuments(source, {
        prettyErrors: false,
        // The language is YAML 1.2: a `%YAML 1.1` directive must not turn `on:` into `true:`.
        schema: 'core',
        merge: true,
        uniqueKeys: true,
        logLevel: 'error',
      }),
    );
  } catch (err) {
    // The parser reports problems as errors on documents; this is only a last line of defence.
    diag([1, 1], 'yaml-syntax', `cannot parse YAML: ${errorText(err)}`);
    return { documents, diagnostics };
  }

  parsed.forEach((doc, index) => {
    try {
      loadDocument(doc, index);
    } catch (err) {
      // Not expected (the fuzz test hunts for it), but one odd document must not sink the file.
      diag(posOf(doc.range?.[0] ?? 0), 'internal-error', `cannot read this document: ${errorText(err)}`);
    }
  });
  return { documents, diagnostics };

  function loadDocument(doc: Document.Parsed, index: number): void {
    const { isScalar } = yaml();
    const before = diagnostics.length;
    reportParseErrors(doc, source, posOf, diag);
    if (diagnostics.length > before) return;
    for (const w of doc.warnings) diag(posOf(w.pos[0]), 'yaml-warning', plain(w.message), 'warning');
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return; // empty

    const scan = scanNodes(doc);
    if (scan.unresolved) {
      const name = scan.unresolved.source.replace(/^\*/, '');
      diag(
        posOf(scan.unresolved.offset),
        'yaml-alias',
        `unknown anchor "${name}" in alias *${name}; to write text that starts with "*", quote it`,
      );
      return;
    }
    for (const z of scan.leadingZeros) {
      diag(
        posOf(z.offset),
        'leading-zero',
        `${z.source} is read as the number ${z.value}; quote it ("${z.source}") to keep the leading zero`,
        'warning',
      );
    }

    // Converting first lets the library's alias budget stop expansion bombs cheaply.
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      diag(posOf(doc.contents.range?.[0] ?? 0), 'yaml-alias', plain(errorText(err)));
      return;
    }
    const map: PositionMap = { values: new Map(), keys: new Map() };
    const walk = walkPositions(doc, map, posOf);
    if (walk.problem) {
      diag(walk.problem.pos, walk.problem.code, walk.problem.message);
      return;
    }
    const positions = new PathPositions(map, doc.contents.range?.[0] ?? 0);
    documents.push(new YamlSourceDocument(file, index, data, positions, posOf));
  }
}

/** Reads and loads a file; an unreadable file is a diagnostic, not an exception. */
export function loadFile(path: string, displayName: string = path): LoadResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return {
      documents: [],
      diagnostics: [
        {
          file: displayName,
          line: 1,
          col: 1,
          severity: 'error',
          code: 'read-error',
          message: `cannot read file: ${errorText(err)}`,
        },
      ],
    };
  }
  return loadText(displayName, text);
}

/**
 * The first position where nesting could exceed MAX_TEXT_NESTING, if any. Over-estimates
 * on purpose (indentation, `- `/`? `/`: ` indicators and open brackets all count), so
 * anything it lets through is shallow enough for the parser.
 */
function estimateNesting(text: string): Pos | undefined {
  let flow = 0;
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const end = text.indexOf('\n', i);
    const stop = end === -1 ? text.length : end;
    let depth = 0;
    let j = i;
    while (j < stop && text.charCodeAt(j) === 32) j++;
    depth += j - i;
    let quote = 0;
    for (; j < stop; j++) {
      const c = text.charCodeAt(j);
      if (quote) {
        if (c === quote) quote = 0;
        continue;
      }
      // A quote opens a scalar only where a token starts; inside plain text it is just a letter.
      if ((c === 34 || c === 39) && (j === i || /[\s[{,:]/.test(text.charAt(j - 1))))
        quote = c; // " '
      else if (c === 91 || c === 123)
        flow++; // [ {
      else if ((c === 93 || c === 125) && flow > 0)
        flow--; // ] }
      else if ((c === 45 || c === 63 || c === 58) && isSpaceAt(text, j + 1, stop)) depth++; // - ? :
      if (depth + flow > MAX_TEXT_NESTING) return [line, j - i + 1];
    }
    i = stop + 1;
    line++;
  }
  return undefined;
}

function isSpaceAt(text: string, j: number, stop: number): boolean {
  if (j >= stop) return true;
  const c = text.charCodeAt(j);
  return c === 32 || c === 9 || c === 13;
}

// ───────────────────────────── errors ─────────────────────────────

function reportParseErrors(
  doc: Document.Parsed,
  source: string,
  posOf: (offset: number) => Pos,
  diag: (pos: Pos, code: string, message: string) => void,
): void {
  // Duplicate keys are independent mistakes, each worth reporting. Other syntax errors
  // cascade (one missing bracket breaks everything after it), so only the first counts.
  let syntaxReported = false;
  for (const e of doc.errors) {
    if (e.code === 'DUPLICATE_KEY') {
      const found = duplicateAt(doc, e.pos[0]);
      const key = found?.key ?? source.slice(e.pos[0], e.pos[1]);
      const first = found?.first === undefined ? '' : ` (first on line ${posOf(found.first)[0]})`;
      diag(posOf(e.pos[0]), 'duplicate-key', `duplicate key "${key}"${first}`);
    } else if (!syntaxReported) {
      syntaxReported = true;
      const comment = /end with a [\]}]/.test(e.message)
        ? commentInFlow(source, doc.range[0], e.pos[0])
        : undefined;
      if (comment !== undefined) {
        diag(
          posOf(comment),
          'yaml-syntax',
          'a # after a space starts a comment, which cuts this line short; quote it ("#")',
        );
      } else diag(posOf(e.pos[0]), 'yaml-syntax', syntaxMessage(e));
    }
  }
}

/**
 * Where an unclosed `{`/`[` is explained by a comment: the offset of a ` #` that follows
 * a flow opener on the same line (`collect: { end: # }`), searching back from the error.
 */
function commentInFlow(source: string, from: number, to: number): number | undefined {
  const lines = source.slice(from, to).split('\n');
  let offset = to;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    offset -= line.length + (i === lines.length - 1 ? 0 : 1);
    const m = /^[^#'"]*[[{][^#'"]*\s(#)/.exec(line);
    if (m) return offset + m[0].length - 1;
  }
  return undefined;
}

function syntaxMessage(e: YAMLError): string {
  switch (e.code) {
    case 'TAB_AS_INDENT':
      return 'tabs cannot indent YAML; indent with spaces';
    case 'RESOURCE_EXHAUSTION':
      return 'YAML is nested too deeply to read';
    default:
      return `invalid YAML: ${plain(e.message)}`;
  }
}

/**
 * The map key that starts at `offset` and the offset of its first occurrence in the
 * same mapping, found in the document's nodes.
 */
function duplicateAt(doc: Document.Parsed, offset: number): { key: string; first?: number } | undefined {
  const { isMap, isPair, isScalar, isSeq } = yaml();
  const stack: unknown[] = [doc.contents];
  let budget = MAX_NODES;
  while (stack.length > 0 && budget-- > 0) {
    const node = stack.pop();
    if (!isMap(node) && !isSeq(node)) continue;
    for (const item of node.items) {
      if (!isPair(item)) {
        stack.push(item);
        continue;
      }
      if (isScalar(item.key) && item.key.range?.[0] === offset) {
        const key = String(item.key.value);
        const twin = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
        const first = isPair(twin) && isScalar(twin.key) ? twin.key.range?.[0] : undefined;
        return first === undefined || first === offset ? { key } : { key, first };
      }
      stack.push(item.key, item.value);
    }
  }
  return undefined;
}

/** First line of a library message, first letter lower-case, no trailing period. */
function plain(message: string): string {
  const first = (message.split('\n')[0] ?? '').trim().replace(/\.$/, '');
  return first.charAt(0).toLowerCase() + first.slice(1);
}

function errorText(err: unknown): string {
  return err instanceof Error ? plain(err.message) : String(err);
}

/**
 * One pass over the written nodes (aliases not followed): aliases whose anchor does not
 * exist, and plain numbers written with a leading zero, which YAML 1.2 reads as decimal
 * (`pin: 0123` is 123), a classic way to lose a PIN's first digit.
 */
function scanNodes(doc: Document.Parsed): {
  unresolved?: { offset: number; source: string };
  leadingZeros: Array<{ offset: number; source: string; value: number }>;
} {
  const { isAlias, isMap, isPair, isScalar, isSeq } = yaml();
  const leadingZeros: Array<{ offset: number; source: string; value: number }> = [];
  const stack: unknown[] = [doc.contents];
  let budget = MAX_NODES;
  while (stack.length > 0 && budget-- > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      if (node.resolve(doc) === undefined)
        return { unresolved: { offset: node.range?.[0] ?? 0, source: node.source }, leadingZeros };
    } else if (isScalar(node)) {
      if (
        typeof node.value === 'number' &&
        typeof node.source === 'string' &&
        /^[-+]?0[0-9]/.test(node.source)
      ) {
        leadingZeros.push({ offset: node.range?.[0] ?? 0, source: node.source, value: node.value });
      }
    } else if (isMap(node) || isSeq(node)) {
      for (const item of node.items) {
        if (isPair(item)) stack.push(item.key, item.value);
        else stack.push(item);
      }
    }
  }
  return { leadingZeros: leadingZeros.reverse() };
}

// ───────────────────────────── positions ─────────────────────────────

/**
 * Offsets of every value and key by path, as the full road records them (following
 * aliases and merge keys, where one data object can sit at several paths).
 */
interface PositionMap {
  readonly values: Map<string, number>;
  readonly keys: Map<string, number>;
}

/** Path key of a child: unambiguous because a segment's kind is marked and \u0001 never ends one. */
const childKey = (parent: string, segment: string | number): string =>
  typeof segment === 'number'
    ? `${parent}\u0001#${segment}`
    : `${parent}\u0001.${segment.includes('\u0001') ? JSON.stringify(segment) : segment}`;

class PathPositions implements Positions {
  constructor(
    private readonly map: PositionMap,
    private readonly start: number,
  ) {}

  valueAt(path: NodePath): number {
    for (let n = path.length; n >= 0; n--) {
      const offset = this.map.values.get(pathKey(path.slice(0, n)));
      if (offset !== undefined) return offset;
    }
    return this.start;
  }

  keyAt(path: NodePath): number {
    for (let n = path.length; n >= 0; n--) {
      const k = pathKey(path.slice(0, n));
      // Array items have no key: their own position is the closest thing.
      const offset = this.map.keys.get(k) ?? this.map.values.get(k);
      if (offset !== undefined) return offset;
    }
    return this.start;
  }
}

/** 1-based line and column of `offset`, given the offsets where lines start. */
function linePos(starts: number[], offset: number): Pos {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] as number) <= offset) low = mid;
    else high = mid - 1;
  }
  return [low + 1, offset - (starts[low] as number) + 1];
}

/** Offsets where each line starts (a line break is \n once lone CRs are normalised). */
function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

const pathKey = (path: NodePath): string => {
  let key = '';
  for (const segment of path) key = childKey(key, segment);
  return key;
};

interface WalkProblem {
  pos: Pos;
  code: string;
  message: string;
}

/**
 * Records the offset of every value and key by path, following aliases (the
 * positions then point at the anchored text) and merge keys. Stops with a problem on
 * recursive aliases, excessive depth or size.
 */
function walkPositions(
  doc: Document.Parsed,
  map: PositionMap,
  posOf: (offset: number) => Pos,
): { problem?: WalkProblem } {
  const { isAlias, isMap, isScalar, isSeq } = yaml();
  const onStack = new Set<unknown>();
  let visited = 0;
  let problem: WalkProblem | undefined;

  const resolve = (node: unknown): unknown => {
    if (!isAlias(node)) return node;
    const target = node.resolve(doc);
    if (target === undefined) return node; // toJS reports the unresolved alias
    if (onStack.has(target)) {
      problem ??= {
        pos: posOf(node.range?.[0] ?? 0),
        code: 'yaml-alias',
        message: `alias *${node.source} refers to a node that contains it; recursive data is not allowed`,
      };
      return undefined;
    }
    return target;
  };

  const visit = (raw: unknown, key: string, depth: number, fallback: number): void => {
    if (problem) return;
    if (++visited > MAX_NODES) {
      problem = {
        pos: posOf(fallback),
        code: 'yaml-size',
        message: 'document is too large (too many nodes)',
      };
      return;
    }
    if (depth > MAX_DEPTH) {
      problem = {
        pos: posOf(fallback),
        code: 'yaml-depth',
        message: `document is nested more than ${MAX_DEPTH} levels deep`,
      };
      return;
    }
    const node = resolve(raw);
    if (node === undefined) return;
    // A pair written without a value (`{ key }`) has a null value node.
    const start = (node as { range?: [number, number, number] } | null)?.range?.[0];
    const isEmpty = isScalar(node) && node.value === null && node.source === '';
    const here = start === undefined || isEmpty ? fallback : start;
    if (!map.values.has(key)) map.values.set(key, here);
    if (!isMap(node) && !isSeq(node)) return;
    onStack.add(node);
    if (isSeq(node)) {
      const items = node.items;
      for (let i = 0; i < items.length; i++) visit(items[i], childKey(key, i), depth + 1, here);
    } else {
      visitMap(node, key, depth, here, false);
    }
    onStack.delete(node);
  };

  /** Explicit keys win over merged ones wherever they appear, as in YAML's merge semantics. */
  const visitMap = (node: Node, key: string, depth: number, here: number, merged: boolean): void => {
    if (!isMap(node)) return;
    const merges: unknown[] = [];
    for (const pair of node.items) {
      if (problem) return;
      if (isMergeKey(pair.key) && (isAlias(pair.value) || isSeq(pair.value))) {
        merges.push(pair.value);
        continue;
      }
      const name = keyString(pair.key);
      if (name === undefined) continue;
      const k = childKey(key, name);
      if (merged && map.keys.has(k)) continue;
      const keyStart = (pair.key as { range?: [number, number, number] } | null)?.range?.[0];
      const keyOffset = keyStart === undefined ? here : keyStart;
      map.keys.set(k, keyOffset);
      if (!merged) map.values.delete(k);
      visit(pair.value, k, depth + 1, keyOffset);
    }
    for (const m of merges) {
      const sources = isSeq(m) ? m.items : [m];
      for (const s of sources) {
        const target = resolve(s);
        if (target === undefined || !isMap(target)) continue;
        onStack.add(target);
        visitMap(target, key, depth, here, true);
        onStack.delete(target);
      }
    }
  };

  visit(doc.contents, '', 0, 0);
  return problem ? { problem } : {};
}

/** `<<` with merging on is a symbol-valued scalar (yaml ≥ 2.6); older versions keep the string. */
function isMergeKey(key: unknown): boolean {
  const { isScalar } = yaml();
  return isScalar(key) && (key.value === '<<' || (typeof key.value === 'symbol' && key.source === '<<'));
}

/** The property name `toJS` gives a key, for scalar keys; other keys have no addressable path. */
function keyString(key: unknown): string | undefined {
  const { isScalar } = yaml();
  if (isScalar(key)) return key.value === null ? '' : String(key.value);
  return undefined;
}

class YamlSourceDocument implements SourceDocument {
  constructor(
    readonly file: string,
    readonly index: number,
    readonly data: unknown,
    private readonly positions: Positions,
    private readonly posOf: (offset: number) => Pos,
  ) {}

  at(path: NodePath): SourceRef {
    return this.ref(this.positions.valueAt(path));
  }

  keyAt(path: NodePath): SourceRef {
    return this.ref(this.positions.keyAt(path));
  }

  private ref(offset: number): SourceRef {
    const [line, col] = this.posOf(offset);
    // Keys in sorted order, as canonical JSON has them: machines carry thousands (canonical.ts).
    return { col, file: this.file, line };
  }
}
