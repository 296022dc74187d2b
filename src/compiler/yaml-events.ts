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

/**
 * Positions kept beside the data in one Int32Array per text: outside the JS heap, so
 * the garbage collector never copies them (on a thousand files, records of offsets
 * beside every mapping were a sixth of what the compile kept alive). Each mapping and
 * sequence has a block, written when it closes:
 *
 *   mapping:  n, then per member in written order: key offset, value offset, block
 *   sequence: n, then per item: value offset, block
 *
 * where block is the member's own block, or -1 for a scalar. A path is found again by
 * walking the data beside the blocks: an item by its index, a member by its rank among
 * the mapping's keys. JavaScript keeps string keys in written order except integer-like
 * ones, which it puts first; the reader steps aside for those.
 */
class BlockPositions implements Positions {
  constructor(
    private readonly data: unknown,
    private readonly blocks: Int32Array,
    private readonly root: number,
    private readonly start: number,
  ) {}

  valueAt(path: NodePath): number {
    return this.walk(path, false);
  }

  keyAt(path: NodePath): number {
    return this.walk(path, true);
  }

  private walk(path: NodePath, key: boolean): number {
    const blocks = this.blocks;
    let node = this.data;
    let block = this.root;
    let offset = this.start;
    for (const segment of path) {
      if (block < 0 || typeof node !== 'object' || node === null) break;
      const n = blocks[block] as number;
      let at: number;
      if (Array.isArray(node)) {
        if (typeof segment !== 'number' || !Number.isInteger(segment) || segment < 0 || segment >= n) break;
        at = block + 1 + 2 * segment;
        offset = blocks[at] as number;
      } else {
        const rank = typeof segment === 'string' ? rankOf(node, segment) : -1;
        if (rank < 0 || rank >= n) break;
        at = block + 1 + 3 * rank;
        offset = blocks[key ? at : at + 1] as number;
        at++;
      }
      block = blocks[at + 1] as number;
      node = (node as Record<string | number, unknown>)[segment];
    }
    return offset;
  }
}

/** Where `name` comes among the record's own keys, or -1. */
function rankOf(record: object, name: string): number {
  let rank = 0;
  for (const k in record) {
    if (k === name) return rank;
    rank++;
  }
  return -1;
}

/** A key JavaScript would order before the others (an array index, or close enough). */
const INTEGER_LIKE = /^[0-9]+$/;

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
  /** The value of the node `node()` just read. */
  private value: unknown = null;
  /** Its block in `blocks` (BlockPositions), or -1 for a scalar. */
  private block = -1;
  /**
   * Every block of the text. Its size bounds the need: a member takes at most three
   * slots and two events, an item two slots and one event, a block's count one slot
   * and two events (its start and end).
   */
  private readonly blocks: Int32Array;
  private used = 0;
  /** Members of the open mappings and sequences, copied into `blocks` as each closes. */
  private readonly pending: number[] = [];
  /** Items of the open sequences, copied into an array of the right length as each closes. */
  private readonly items: unknown[] = [];

  constructor(
    private readonly text: string,
    private readonly events: Event[],
    private readonly limits: FastLimits,
  ) {
    this.blocks = new Int32Array(2 * events.length + 1);
  }

  documents(): FastDocument[] {
    const read: Array<{ index: number; data: unknown; root: number; start: number }> = [];
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
      this.nodes = 0;
      const start = this.node(0, 0);
      const data = this.value;
      if (this.events[this.i++]?.type !== EVENT_ID.POP) throw new StepAside();
      // An empty document is skipped, as the full road does; it still counts for `index`.
      if (!(data === null && root.type === EVENT_ID.SCALAR))
        read.push({ index, data, root: this.block, start });
      index++;
    }
    // The documents keep only the part of the buffer they use.
    const blocks = this.blocks.slice(0, this.used);
    return read.map(({ index, data, root, start }) => ({
      index,
      data,
      positions: new BlockPositions(data, blocks, root, start),
    }));
  }

  /** Moves the members pending since `mark` (`width` slots each) into a new block; returns it. */
  private close(mark: number, width: number): number {
    const pending = this.pending;
    const block = this.used;
    const blocks = this.blocks;
    // Cannot happen (see `blocks`), but a write past the end would be lost without a word.
    if (block + 1 + pending.length - mark > blocks.length) throw new StepAside();
    blocks[block] = (pending.length - mark) / width;
    let at = block + 1;
    for (let i = mark; i < pending.length; i++) blocks[at++] = pending[i] as number;
    this.used = at;
    pending.length = mark;
    return block;
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
        this.block = -1;
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
        const mark = this.pending.length;
        const first = this.items.length;
        while (this.events[this.i]?.type !== EVENT_ID.POP) {
          const offset = this.node(depth + 1, ev.start);
          this.items.push(this.value);
          this.pending.push(offset, this.block);
        }
        this.i++;
        // A copy of exactly the items' length: a list grown by push keeps room for more.
        this.value = this.items.slice(first);
        this.items.length = first;
        this.block = this.close(mark, 2);
        return ev.start;
      }
      case EVENT_ID.MAPPING: {
        if (ev.anchorStart !== -1 || ev.tagStart !== -1) throw new StepAside();
        const record: Record<string, unknown> = {};
        const mark = this.pending.length;
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
          const first = name.charCodeAt(0);
          if (first >= 0x30 && first <= 0x39 && INTEGER_LIKE.test(name)) throw new StepAside();
          const keyOffset = this.scalarStart(k, ev.start);
          const quoted = k.style === SCALAR_STYLE.SINGLE_QUOTED || k.style === SCALAR_STYLE.DOUBLE_QUOTED;
          const valueOffset = this.node(depth + 1, keyOffset, k.valueEnd + (quoted ? 1 : 0));
          record[name] = this.value;
          this.pending.push(keyOffset, valueOffset, this.block);
        }
        this.i++;
        this.value = record;
        this.block = this.close(mark, 3);
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
