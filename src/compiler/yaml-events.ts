/**
 * The fast road through loading: js-yaml's event stream (offsets into the text, no
 * node objects) gives each document's data and the offset of every value and key.
 *
 * It covers the YAML that configurations are written in: mappings, sequences and
 * scalars of every style. Anything that needs more care — a syntax error, a duplicate
 * key, anchors and aliases, merge keys, tags, directives, non-string keys, numbers with
 * a leading zero, absurd depth or size — makes it step aside (`undefined`), and the
 * full parser in load.ts reads the text and words the diagnostics. A differential test
 * (test/unit/compiler/yaml-events.test.ts) holds both roads to the same data and
 * positions on every example, every fixture and thousands of mutated documents.
 */
import {
  CORE_SCHEMA,
  EVENT_ID,
  type Event,
  getScalarValue,
  NOT_RESOLVED,
  parseEvents,
  SCALAR_STYLE,
  type ScalarEvent,
  type ScalarTagDefinition,
} from 'js-yaml';
import type { NodePath } from './diagnostics.js';

export interface FastDocument {
  /** Index among the text's documents, empty ones included. */
  index: number;
  data: unknown;
  positions: Positions;
}

export interface FastLimits {
  maxDepth: number;
  maxNodes: number;
}

/** Where the values and keys of one document are in its text, as offsets. */
export interface Positions {
  /** Offset of the value at `path`, or at its longest prefix that has one (at last the root). */
  valueAt(path: NodePath): number;
  /** Offset of the key that holds the value at `path` (an array item's own offset), same fallback. */
  keyAt(path: NodePath): number;
}

/** Offsets of one mapping's or sequence's members, by property name or index. */
interface MemberOffsets {
  values: Record<string, number> | number[];
  keys?: Record<string, number>;
}

/**
 * Positions kept beside the data: one record of member offsets per mapping and
 * sequence, found again by walking the data along a path. Much lighter than a map keyed
 * by path, which matters when a configuration has a thousand files.
 */
class DataPositions implements Positions {
  constructor(
    private readonly data: unknown,
    private readonly members: Map<object, MemberOffsets>,
    private readonly start: number,
  ) {}

  valueAt(path: NodePath): number {
    return this.walk(path, false);
  }

  keyAt(path: NodePath): number {
    return this.walk(path, true);
  }

  private walk(path: NodePath, key: boolean): number {
    let node = this.data;
    let offset = this.start;
    for (const segment of path) {
      const members = typeof node === 'object' && node !== null ? this.members.get(node) : undefined;
      if (!members) break;
      let at: number | undefined;
      if (Array.isArray(members.values)) {
        if (typeof segment === 'number') at = members.values[segment];
      } else if (typeof segment === 'string' && Object.hasOwn(members.values, segment)) {
        at = key ? members.keys?.[segment] : members.values[segment];
      }
      if (at === undefined) break;
      offset = at;
      node = (node as Record<string | number, unknown>)[segment];
    }
    return offset;
  }
}

/** Signals that the full parser must read this text. */
class StepAside extends Error {}

/**
 * Plain scalars the core schema may read as something other than a string, or that the
 * full road warns about (a leading zero): as keys they are stepped around, as values
 * only the leading-zero numbers are.
 */
const NON_STRING_PLAIN = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[.0-9]|\.)/;
const LEADING_ZERO = /^[-+]?0[0-9]/;
/**
 * A block scalar's header right after its key: `: |`, `: >-` (an indentation digit is
 * left to the full road: the parsers disagree on it at the top level).
 */
const HEADER_AFTER_KEY = /[ \t]*:[ \t]*(?=[|>][-+]?(?:[ \t]|\n|$))/y;
/** A line that holds only a block scalar's header, after sequence dashes or a document marker. */
const HEADER_LINE = /^((?: *- +)*(?:--- +)?)[|>][-+]?(?:[ \t]+#.*)?[ \t]*$/;

/** Every document of `text`, or undefined when the full parser must read it. */
export function readFast(text: string, limits: FastLimits): FastDocument[] | undefined {
  // Control characters, byte-order marks and Unicode line breaks: the full road words
  // them. Tabs and carriage returns: whitespace rules the two parsers may read differently.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
  if (/[\0-\x08\x0b\x0c\x0e-\x1f\x7f\t\r\u0085\u2028\u2029\ufeff]/.test(text)) return undefined;
  // Directives, known or not, are the full road's (js-yaml passes over unknown ones), and
  // so are document end markers (the parsers count the documents around them differently)
  // and indented markers (js-yaml takes ` ---` for a marker, YAML does not).
  if (/^(?:%|\.\.\.| +(?:---|\.\.\.))/m.test(text)) return undefined;
  try {
    const events = parseEvents(text, { maxDepth: limits.maxDepth + 1 });
    return new Reader(text, events, limits).documents();
  } catch {
    // StepAside, or anything this reader did not foresee: the full road decides.
    return undefined;
  }
}

/**
 * The core schema's implicit scalar tags (null, bool, int, float), in the schema's
 * order: a plain scalar takes the first that resolves it, else it is a string.
 */
const IMPLICIT: readonly ScalarTagDefinition[] = CORE_SCHEMA.tags.filter(
  (t): t is ScalarTagDefinition => t.nodeKind === 'scalar' && t.implicit,
);

/**
 * Whether a plain scalar starting with this character can be anything but a string in the
 * core schema: `~`, n/N (null), t/T/f/F (booleans), digits, signs and `.` (numbers, .inf,
 * .nan), or nothing at all (empty is null). Most words start elsewhere and skip the tags.
 */
function mayResolve(first: number): boolean {
  return (
    Number.isNaN(first) ||
    first === 0x7e || // ~
    first === 0x6e || // n
    first === 0x4e || // N
    first === 0x74 || // t
    first === 0x54 || // T
    first === 0x66 || // f
    first === 0x46 || // F
    first === 0x2b || // +
    first === 0x2d || // -
    first === 0x2e || // .
    (first >= 0x30 && first <= 0x39)
  );
}

/** The core-schema value of a plain scalar that `mayResolve` let through. */
function resolvePlain(source: string): unknown {
  const first = source.charAt(0);
  for (const tag of IMPLICIT) {
    if (tag.implicitFirstChars && !tag.implicitFirstChars.includes(first)) continue;
    const value = tag.resolve(source, false, tag.tagName);
    if (value !== NOT_RESOLVED) return value;
  }
  return source;
}

/**
 * Walks the events once, building each document's data (as js-yaml's constructor
 * would with the core schema) and recording where every value and key starts.
 */
class Reader {
  private i = 0;
  private nodes = 0;
  private members = new Map<object, MemberOffsets>();
  /** The value of the node `node()` just read. */
  private value: unknown = null;

  constructor(
    private readonly text: string,
    private readonly events: Event[],
    private readonly limits: FastLimits,
  ) {}

  documents(): FastDocument[] {
    const out: FastDocument[] = [];
    let index = 0;
    while (this.i < this.events.length) {
      const ev = this.events[this.i++]!;
      if (ev.type !== EVENT_ID.DOCUMENT) throw new StepAside();
      if (ev.directives.length > 0) throw new StepAside();
      const root = this.events[this.i]!;
      if (root.type === EVENT_ID.POP) {
        this.i++;
        index++;
        continue;
      }
      this.members = new Map();
      this.nodes = 0;
      const start = this.node(0, 0);
      const data = this.value;
      if (this.events[this.i++]?.type !== EVENT_ID.POP) throw new StepAside();
      // An empty document is skipped, as the full road does; it still counts for `index`.
      if (!(data === null && root.type === EVENT_ID.SCALAR)) {
        out.push({ index, data, positions: new DataPositions(data, this.members, start) });
      }
      index++;
    }
    return out;
  }

  /**
   * Reads the node at the cursor into `this.value`; returns its offset. `keyEnd`: where
   * the key that holds it ends, for a mapping's value.
   */
  private node(depth: number, fallback: number, keyEnd = -1): number {
    if (++this.nodes > this.limits.maxNodes || depth > this.limits.maxDepth) throw new StepAside();
    const ev = this.events[this.i++];
    if (ev === undefined) throw new StepAside();
    switch (ev.type) {
      case EVENT_ID.SCALAR: {
        if (ev.anchorStart !== -1 || ev.tagStart !== -1) throw new StepAside();
        const source = getScalarValue(this.text, ev);
        if (ev.style === SCALAR_STYLE.PLAIN) {
          if (mayResolve(source.charCodeAt(0))) {
            if (LEADING_ZERO.test(source)) throw new StepAside();
            this.value = resolvePlain(source);
          } else this.value = source;
        } else this.value = source;
        return this.scalarStart(ev, fallback, keyEnd);
      }
      case EVENT_ID.SEQUENCE: {
        if (ev.anchorStart !== -1 || ev.tagStart !== -1) throw new StepAside();
        const items: unknown[] = [];
        const values: number[] = [];
        this.members.set(items, { values });
        while (this.events[this.i]?.type !== EVENT_ID.POP) {
          values.push(this.node(depth + 1, ev.start));
          items.push(this.value);
        }
        this.i++;
        this.value = items;
        return ev.start;
      }
      case EVENT_ID.MAPPING: {
        if (ev.anchorStart !== -1 || ev.tagStart !== -1) throw new StepAside();
        const record: Record<string, unknown> = {};
        const values: Record<string, number> = {};
        const keys: Record<string, number> = {};
        this.members.set(record, { values, keys });
        while (this.events[this.i]?.type !== EVENT_ID.POP) {
          const k = this.events[this.i++];
          if (
            k === undefined ||
            k.type !== EVENT_ID.SCALAR ||
            k.anchorStart !== -1 ||
            k.tagStart !== -1 ||
            k.valueStart === -1
          )
            throw new StepAside();
          const name = getScalarValue(this.text, k);
          if (k.style === SCALAR_STYLE.PLAIN && mayResolve(name.charCodeAt(0)) && NON_STRING_PLAIN.test(name))
            throw new StepAside();
          // A duplicate is an error the full road words; `__proto__` and `<<` are special.
          if (name === '__proto__' || name === '<<' || Object.hasOwn(record, name)) throw new StepAside();
          const keyOffset = this.scalarStart(k, ev.start);
          const quoted = k.style === SCALAR_STYLE.SINGLE_QUOTED || k.style === SCALAR_STYLE.DOUBLE_QUOTED;
          keys[name] = keyOffset;
          values[name] = this.node(depth + 1, keyOffset, k.valueEnd + (quoted ? 1 : 0));
          record[name] = this.value;
        }
        this.i++;
        this.value = record;
        return ev.start;
      }
      default:
        // Aliases (and anything unexpected) are the full road's business.
        throw new StepAside();
    }
  }

  /** Where the full parser says a scalar starts: its quote, its block indicator, its first character. */
  private scalarStart(ev: ScalarEvent, fallback: number, keyEnd = -1): number {
    if (ev.valueStart === -1) {
      // An empty block scalar still has its indicator, which the full road points at.
      if (ev.style === SCALAR_STYLE.LITERAL_BLOCK || ev.style === SCALAR_STYLE.FOLDED_BLOCK)
        throw new StepAside();
      return fallback;
    }
    switch (ev.style) {
      case SCALAR_STYLE.SINGLE_QUOTED:
      case SCALAR_STYLE.DOUBLE_QUOTED:
        return ev.valueStart - 1;
      case SCALAR_STYLE.LITERAL_BLOCK:
      case SCALAR_STYLE.FOLDED_BLOCK:
        return this.blockHeader(ev.valueStart, keyEnd);
      default:
        return ev.valueStart;
    }
  }

  /**
   * The indicator of a block scalar: right after its key's colon, or alone on the last
   * non-blank line before its content (`offset`) for a sequence item or a document.
   */
  private blockHeader(offset: number, keyEnd: number): number {
    if (keyEnd >= 0) {
      HEADER_AFTER_KEY.lastIndex = keyEnd;
      if (!HEADER_AFTER_KEY.test(this.text)) throw new StepAside();
      return HEADER_AFTER_KEY.lastIndex;
    }
    let end = this.text.lastIndexOf('\n', offset - 1);
    while (end > 0) {
      const start = this.text.lastIndexOf('\n', end - 1) + 1;
      const line = this.text.slice(start, end);
      if (line.trim() !== '') {
        const m = HEADER_LINE.exec(line);
        if (!m) throw new StepAside();
        return start + (m[1]?.length ?? 0);
      }
      end = start - 1;
    }
    throw new StepAside();
  }
}
