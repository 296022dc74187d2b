/**
 * The loader's two roads (js-yaml events for ordinary text, the yaml package for
 * anything that needs a diagnostic) must give the same documents, data, positions and
 * diagnostics for every text: the examples, every fixture, hand-picked corner cases and
 * thousands of mutations of them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { NodePath, SourceDocument } from '../../../src/compiler/diagnostics.js';
import { formatDiagnostic } from '../../../src/compiler/index.js';
import { type LoadResult, loadText } from '../../../src/compiler/load.js';
import { readFast } from '../../../src/compiler/yaml-events.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

const CORPUS: Array<{ name: string; text: string }> = [
  ...yamlFiles(path.join(ROOT, 'conferences')),
  ...yamlFiles(path.join(ROOT, 'test/fixtures')),
].map((file) => ({ name: path.relative(ROOT, file), text: readFileSync(file, 'utf8') }));

/** Corner cases of scalar resolution, styles, comments and document structure. */
const CORNERS: string[] = [
  // Integer-like keys, which JavaScript orders first: the full road reads them.
  'b: 1\n"10": 2\n"1x": 3\n',
  // Core-schema scalars as values.
  ...[
    '~',
    'null',
    'Null',
    'NULL',
    'true',
    'True',
    'FALSE',
    'yes',
    'on',
    'off',
    'y',
    '0',
    '-0',
    '+1',
    '12',
    '0x1F',
    '0X1F',
    '-0x1F',
    '0o17',
    '0b11',
    '1_000',
    '1.5',
    '.5',
    '5.',
    '-.5e3',
    '1e3',
    '1E-3',
    '.inf',
    '-.Inf',
    '+.INF',
    '.nan',
    '.NaN',
    '12:30',
    '2024-01-01',
    '1.2.3',
    '0123',
    '-012',
    '00',
    '0.5',
    '=',
    '<<',
    'a b  c',
    '"quoted"',
    "'it''s'",
    '"esc \\t \\x41 \\u00e9 \\U0001F600 \\N \\_ \\L \\P \\/ \\ "',
    '"line\\\n  continued"',
    "'multi\n  line\n\n  single'",
    '"multi\n  line\n\n  double"',
    'plain\n  folded\n\n  lines',
    '""',
    "''",
    '[]',
    '{}',
    '[a, "b", c: d]',
    '{ a, b: , c: [1, 2] }',
    '{ "q": 1, \'s\': 2 }',
  ].map((v) => `key: ${v}\nnext: 1\n`),
  // Block scalars with every header.
  ...['|', '>', '|-', '>-', '|+', '>+', '|2', '>1', '|2-', '|-2', '| # note', '>+ # note'].map(
    (h) => `a: ${h}\n  first\n   indented\n\n  last\n\n\nb: x\n`,
  ),
  'a: |\nb: 1\n',
  'a: >\n\n  after blank\nb: 1\n',
  '- |\n  item\n- >-\n  folded\n  text\n',
  'say: "a # not a comment" # a comment\n',
  'say: a #comment\n',
  'url: http://x.example/a#b\n',
  'k:v\n',
  'k: v:w\n',
  '"quoted key": 1\n\'single key\': 2\n"": empty\n',
  'on:\n  dtmf "*6": { toggle: mute }\n',
  '1: one\n2: two\n',
  'null: x\n',
  '~: x\n',
  'true: x\n',
  '__proto__: { polluted: true }\n',
  'a: { b: [ { c: [ [ 1, 2 ], [ 3 ] ] } ] }\n',
  'a:\n- x\n- y\nb:\n  - - nested\n    - seq\n  -\n  - ~\n',
  '- a\n-\n- c\n',
  '? complex key\n: value\n',
  'a: &anchor { b: 1 }\nc: *anchor\n',
  'base: &b { x: 1 }\nderived:\n  <<: *b\n  y: 2\n',
  'a: !!str 12\n',
  '%YAML 1.1\n---\non: yes\n',
  '--- \nkind: a\n...\n---\nkind: b\n',
  '---\n---\nkind: c\n---\n',
  '# only a comment\n',
  '',
  '\n\n',
  '---\n',
  'plain top-level scalar\n',
  '- top\n- level\n- sequence\n',
  'a: 1\na: 2\n',
  'a: 1\n b: 2\n',
  'a: [1, 2\n',
  'a: "unterminated\n',
  'a:\tb\n',
  'a: b\r\nc: d\r\n',
  'a: b\rc: d\r',
  '\ufeffa: 1\n',
  'a: b\u2028c\n',
  'key with spaces: value with spaces\n',
  'é: ü\n"\\u00e9": x\n',
  'a: 😀 emoji\n',
  'a:    spaced   \nb:\n\n\n  c: 1\n',
  'a: 1 # c\n# between\nb: 2\n',
  'list: [ a, b, ]\n',
  'map: { a: 1, }\n',
  'a: [ { b: 1 }, [ 2 ], "3", \'4\', ~ ]\n',
  'a: - b\n',
  'a: "x" y\n',
  '- a: 1\n  b: 2\n- c: 3\n',
  '-   a: 1\n    b: 2\n',
  'a:\n  # comment\n  b: 1\n',
  'a: |\n  text with: colon\n  - and dash\n',
  'kind: conference\nname: x\nparticipant:\n  do:\n    - say: >\n        Welcome to\n        the call.\n',
];

/** A tiny deterministic generator, so a failure names a mutation that can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SIGNIFICANT = [
  ':',
  '-',
  ' ',
  '  ',
  '\n',
  '#',
  "'",
  '"',
  '{',
  '}',
  '[',
  ']',
  ',',
  '|',
  '>',
  '&a',
  '*a',
  '!',
  '?',
  '0',
  '1',
  'x',
  '~',
  '\\',
  '.',
  '%',
];

function mutate(text: string, random: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const at = Math.floor(random() * (text.length + 1));
  const lines = text.split('\n');
  const line = Math.floor(random() * lines.length);
  switch (Math.floor(random() * 7)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 3));
    case 1:
    case 2:
      return text.slice(0, at) + pick(SIGNIFICANT) + text.slice(at);
    case 3:
      lines.splice(line, 0, lines[line] ?? '');
      return lines.join('\n');
    case 4:
      lines.splice(line, 1);
      return lines.join('\n');
    case 5:
      lines[line] = random() < 0.5 ? ` ${lines[line]}` : (lines[line] ?? '').replace(/^ {1,2}/, '');
      return lines.join('\n');
    default: {
      const other = Math.floor(random() * lines.length);
      [lines[line], lines[other]] = [lines[other] ?? '', lines[line] ?? ''];
      return lines.join('\n');
    }
  }
}

/** Every path to a value in `data`, and one missing child of each. */
function pathsOf(data: unknown, base: NodePath = [], out: NodePath[] = []): NodePath[] {
  out.push(base);
  if (Array.isArray(data)) {
    for (const [i, v] of data.entries()) pathsOf(v, [...base, i], out);
    out.push([...base, data.length], [...base, -1], [...base, 0.5], [...base, '0']);
  } else if (typeof data === 'object' && data !== null) {
    for (const [k, v] of Object.entries(data)) pathsOf(v, [...base, k], out);
    out.push([...base, 'missing'], [...base, 0], [...base, 'toString']);
  }
  return out;
}

function where(doc: SourceDocument, p: NodePath): string {
  const v = doc.at(p);
  const k = doc.keyAt(p);
  return `${v.line}:${v.col} ${k.line}:${k.col}`;
}

function summary(r: LoadResult) {
  return {
    diagnostics: r.diagnostics.map(formatDiagnostic),
    documents: r.documents.map((d) => ({
      index: d.index,
      data: d.data,
      json: JSON.stringify(d.data),
      positions: pathsOf(d.data).map((p) => `${JSON.stringify(p)} ${where(d, p)}`),
    })),
  };
}

/** Compares the two roads on `text`; true when the fast one read it. */
function sameOnBothRoads(name: string, text: string): boolean {
  const auto = loadText(name, text);
  const full = loadText(name, text, { fast: false });
  expect(summary(auto), `${name}: ${JSON.stringify(text)}`).toEqual(summary(full));
  return readFast(text, { maxDepth: 128, maxNodes: 100_000 }) !== undefined;
}

describe('the fast road of the loader', () => {
  it('reads every example and fixture as the full parser does', () => {
    let fast = 0;
    for (const { name, text } of CORPUS) if (sameOnBothRoads(name, text)) fast++;
    // Every shipped example is ordinary YAML: all of them take the fast road.
    const examples = CORPUS.filter((c) => c.name.startsWith('conferences/'));
    expect(examples.every((c) => readFast(c.text, { maxDepth: 128, maxNodes: 100_000 }))).toBe(true);
    expect(fast).toBeGreaterThan(CORPUS.length / 2);
  });

  it('reads corner cases of scalars, styles and structure as the full parser does', () => {
    let fast = 0;
    for (const [i, text] of CORNERS.entries()) if (sameOnBothRoads(`corner-${i}.yaml`, text)) fast++;
    expect(fast).toBeGreaterThan(CORNERS.length / 3);
  });

  it('reads thousands of mutated documents as the full parser does', () => {
    const random = prng(20261202);
    const seeds = [...CORPUS.map((c) => c.text), ...CORNERS];
    let fast = 0;
    const runs = 3000;
    for (let i = 0; i < runs; i++) {
      let text = seeds[Math.floor(random() * seeds.length)] ?? '';
      const times = 1 + Math.floor(random() * 3);
      for (let m = 0; m < times; m++) text = mutate(text, random);
      if (sameOnBothRoads(`mutation-${i}.yaml`, text)) fast++;
    }
    // Most mutations still parse; the comparison must not pass by stepping aside everywhere.
    expect(fast).toBeGreaterThan(runs / 4);
  });

  it('reads generated data in every scalar and collection style as the full parser does', () => {
    const styles = ['PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL', 'BLOCK_FOLDED'] as const;
    let fast = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 4 }),
        fc.string({ unit: 'binary', maxLength: 30 }),
        fc.constantFrom(...styles),
        fc.boolean(),
        fc.integer({ min: 8, max: 80 }),
        (value, text, style, flow, lineWidth) => {
          for (const data of [value, { k: value, s: text, [text]: text }]) {
            const yaml = stringify(data, {
              defaultStringType: style,
              defaultKeyType: style.startsWith('BLOCK') ? null : style,
              collectionStyle: flow ? 'flow' : 'block',
              lineWidth,
              minContentWidth: 0,
            });
            runs++;
            if (sameOnBothRoads('generated.yaml', yaml)) fast++;
          }
        },
      ),
      { numRuns: 400, seed: 20261202 },
    );
    expect(fast).toBeGreaterThan(runs / 3);
  });

  it('steps aside for what needs the full parser', () => {
    const limits = { maxDepth: 128, maxNodes: 100_000 };
    for (const text of [
      'a: 1\na: 2\n',
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      '%YAML 1.2\n---\na: 1\n',
      'pin: 0123\n',
      'null: 1\n',
      'a: [1, 2\n',
      'a:\tb\n',
      '? [a]\n: 1\n',
      ' ---\na: 1\n',
      'a: 1\n...\n',
      'a: |2\n   x\n',
      // JavaScript puts integer-like keys first, out of written order.
      'b: 1\n"10": 2\n',
      "a: {'7': x}\n",
    ]) {
      expect(readFast(text, limits), text).toBeUndefined();
    }
    expect(readFast('a: 1\n', limits)).toHaveLength(1);
    expect(readFast(`${'- '.repeat(20)}x\n`, { maxDepth: 10, maxNodes: 100 })).toBeUndefined();
    expect(readFast(`[${'1,'.repeat(200)}1]\n`, { maxDepth: 10, maxNodes: 100 })).toBeUndefined();
  });
});
