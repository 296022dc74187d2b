/**
 * Load + schema validation must answer every input with diagnostics or success, never
 * an exception: mutated versions of valid documents, random structures built from the
 * language's own vocabulary, and plain junk.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildSchema } from '../../schema/build.js';
import type { Diagnostic } from '../../src/compiler/diagnostics.js';
import { loadText } from '../../src/compiler/load.js';
import { validateDocument } from '../../src/compiler/validate.js';
import { VALID_SAMPLES } from '../unit/compiler/schema-samples.js';

const SAMPLES = Object.values(VALID_SAMPLES);

/** Runs the two passes and checks the shape of every diagnostic. */
function run(text: string): Diagnostic[] {
  const loaded = loadText('f.yaml', text);
  const all = [...loaded.diagnostics, ...loaded.documents.flatMap((d) => validateDocument(d))];
  const lines = text.split(/\r\n|\r|\n/).length;
  for (const d of all) {
    expect(d.file).toBe('f.yaml');
    expect(Number.isInteger(d.line) && d.line >= 1 && d.line <= lines + 1, `line ${d.line} of ${lines}`).toBe(
      true,
    );
    expect(Number.isInteger(d.col) && d.col >= 1).toBe(true);
    expect(['error', 'warning']).toContain(d.severity);
    expect(d.code).toMatch(/^[a-z]+(-[a-z]+)*$/);
    expect(d.code).not.toBe('internal-error');
    expect(d.message.length).toBeGreaterThan(0);
    // Never a raw validator dump.
    expect(d.message).not.toMatch(/must NOT|must match|instancePath|schemaPath|#\/\$defs|\[object Object\]/);
  }
  return all;
}

// ───────────────────────────── text mutations ─────────────────────────────

const YAML_BITS = [
  ':',
  ' ',
  '  ',
  '\t',
  '\n',
  '- ',
  '{',
  '}',
  '[',
  ']',
  ',',
  '"',
  "'",
  '#',
  '&a',
  '*a',
  '!',
  '|',
  '>',
  '---\n',
  '<<: ',
  '%',
  '@',
  '`',
  '\r\n',
  '\uFEFF',
  '\u0000',
];

type Mutation =
  | { op: 'delete'; at: number; len: number }
  | { op: 'insert'; at: number; bit: string }
  | { op: 'duplicate-line'; line: number }
  | { op: 'drop-line'; line: number }
  | { op: 'swap-lines'; a: number; b: number }
  | { op: 'indent'; line: number; by: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bit: fc.oneof(fc.constantFrom(...YAML_BITS), fc.string({ maxLength: 6 })),
  }),
  fc.record({ op: fc.constant('duplicate-line' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('drop-line' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('swap-lines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ op: fc.constant('indent' as const), line: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
);

function mutate(text: string, m: Mutation): string {
  const lines = text.split('\n');
  const li = (n: number) => n % lines.length;
  switch (m.op) {
    case 'delete': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + m.len);
    }
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.bit + text.slice(at);
    }
    case 'duplicate-line':
      lines.splice(li(m.line), 0, lines[li(m.line)]!);
      return lines.join('\n');
    case 'drop-line':
      lines.splice(li(m.line), 1);
      return lines.join('\n');
    case 'swap-lines': {
      const [a, b] = [li(m.a), li(m.b)];
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join('\n');
    }
    case 'indent': {
      const i = li(m.line);
      const line = lines[i]!;
      lines[i] = m.by >= 0 ? ' '.repeat(m.by) + line : line.replace(new RegExp(`^ {0,${-m.by}}`), '');
      return lines.join('\n');
    }
  }
}

// ───────────────────────────── structures from the vocabulary ─────────────────────────────

/** Every property name and example value the schema mentions. */
function vocabulary(): { keys: string[]; values: unknown[] } {
  const keys = new Set<string>(['kind', 'hangup', 'end', 'main', 'dtmf "*6"', 'after 10s']);
  const values: unknown[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'properties' && typeof v === 'object' && v !== null)
        for (const p of Object.keys(v)) keys.add(p);
      if (k === 'examples' && Array.isArray(v)) values.push(...v);
      if (k === 'enum' && Array.isArray(v)) values.push(...v);
      visit(v);
    }
  };
  visit(buildSchema());
  return { keys: [...keys], values };
}

const { keys: KEYS, values: VALUES } = vocabulary();

const leaf = fc.oneof(
  fc.constantFrom(...VALUES),
  fc.constantFrom('conference', 'routes', 'scenario', 'test', '10s', 'sip:a@b', 'x.wav', `$\{vars.x}`),
  fc.integer({ min: -1000, max: 100_000 }),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 12 }),
);

const structure = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })), tie('node'), {
      maxKeys: 5,
    }),
  ),
})).node;

const document = fc
  .record({
    kind: fc.constantFrom('routes', 'conference', 'scenario', 'test', 'other'),
    body: fc.dictionary(fc.constantFrom(...KEYS), structure, { maxKeys: 6 }),
  })
  .map(({ kind, body }) => ({ ...body, kind }));

/** Replaces the value at a random path of valid data, to probe one wrong node at a time. */
function replaceAt(data: unknown, choices: number[], value: unknown): unknown {
  if (choices.length === 0 || typeof data !== 'object' || data === null) return value;
  const [c, ...rest] = choices;
  if (Array.isArray(data)) {
    if (data.length === 0) return value;
    const copy = [...data];
    const i = c! % copy.length;
    copy[i] = replaceAt(copy[i], rest, value);
    return copy;
  }
  const entries = Object.keys(data);
  if (entries.length === 0) return value;
  const k = entries[c! % entries.length]!;
  return {
    ...(data as Record<string, unknown>),
    [k]: replaceAt((data as Record<string, unknown>)[k], rest, value),
  };
}

const SAMPLE_DATA = SAMPLES.flatMap((t) => loadText('s.yaml', t).documents.map((d) => d.data));

describe('load + validate never throw', () => {
  it('the samples are valid to start with', () => {
    for (const text of SAMPLES) expect(run(text)).toEqual([]);
  });

  it('on mutated valid documents', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SAMPLES),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (text, ms) => {
          run(ms.reduce(mutate, text));
        },
      ),
      { numRuns: 1200 },
    );
  });

  it('on valid data with one node replaced', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SAMPLE_DATA),
        fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        structure,
        (data, path, value) => {
          run(stringify(replaceAt(data, path, value)));
        },
      ),
      { numRuns: 1200 },
    );
  });

  it('on random documents built from the schema’s vocabulary', () => {
    fc.assert(
      fc.property(fc.array(document, { minLength: 1, maxLength: 3 }), (docs) => {
        run(docs.map((d) => stringify(d)).join('---\n'));
      }),
      { numRuns: 1200 },
    );
  });

  it('on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        run(text);
      }),
      { numRuns: 1200 },
    );
  });
});
