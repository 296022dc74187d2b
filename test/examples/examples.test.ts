/**
 * The shipped examples in conferences/: they validate with no diagnostic at all,
 * their `kind: test` cases pass, and `parley graph` draws every state and every
 * transition of every flow (checked by parsing the Mermaid and DOT it prints).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CompiledFlow, compilePaths } from '../../src/compiler/index.js';
import { cli } from '../cli/helpers.js';

const ROOT = 'conferences';
const compiled = compilePaths([ROOT]);
const set = compiled.set;

/** Every (from, to) transition of a flow, staying transitions as loops, sorted. */
function expectedEdges(flow: CompiledFlow): string[] {
  const edges: string[] = [];
  for (const [name, s] of Object.entries(flow.machine.states)) {
    for (const ts of [...Object.values(s.on), ...Object.values(s.after ?? {})]) {
      for (const t of ts) edges.push(`${name} -> ${t.target ?? name}`);
    }
  }
  return edges.sort();
}

function unescapeMermaid(s: string): string {
  return s.replace(/#quot;/g, '"').replace(/#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
}

/** States and edges read back from one Mermaid diagram. */
function parseMermaid(text: string): { states: string[]; edges: string[]; initial?: string } {
  const names = new Map<string, string>();
  const edges: string[] = [];
  let initial: string | undefined;
  for (const line of text.split('\n')) {
    const decl = /^\s*state "(.*)" as (s\d+)$/.exec(line);
    if (decl) names.set(decl[2] as string, unescapeMermaid(decl[1] as string));
    const start = /^\s*\[\*\] --> (s\d+)$/.exec(line);
    if (start) initial = names.get(start[1] as string);
    const edge = /^\s*(s\d+) --> (s\d+) : /.exec(line);
    if (edge) edges.push(`${names.get(edge[1] as string)} -> ${names.get(edge[2] as string)}`);
  }
  return { states: [...names.values()].sort(), edges: edges.sort(), ...(initial ? { initial } : {}) };
}

/** States and edges read back from one DOT graph. */
function parseDot(text: string): { states: string[]; edges: string[] } {
  const states: string[] = [];
  const edges: string[] = [];
  const str = '"((?:[^"\\\\]|\\\\.)*)"';
  const unq = (s: string) => s.replace(/\\(.)/g, '$1');
  for (const line of text.split('\n')) {
    const node = new RegExp(`^\\s*${str} \\[label=`).exec(line);
    if (node && node[1] !== '$$initial') states.push(unq(node[1] as string));
    const edge = new RegExp(`^\\s*${str} -> ${str} \\[label=`).exec(line);
    if (edge) edges.push(`${unq(edge[1] as string)} -> ${unq(edge[2] as string)}`);
  }
  return { states: states.sort(), edges: edges.sort() };
}

function flowsByFile(): Map<string, CompiledFlow[]> {
  const out = new Map<string, CompiledFlow[]>();
  const add = (file: string, flow: CompiledFlow) => out.set(file, [...(out.get(file) ?? []), flow]);
  for (const c of set?.conferences ?? []) {
    add(c.src.file, c.participant);
    if (c.conference) add(c.src.file, c.conference);
  }
  for (const s of set?.scenarios ?? []) add(s.src.file, s.flow);
  return out;
}

describe('shipped examples', () => {
  it('validate with no error and no warning', () => {
    expect(compiled.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`)).toEqual([]);
    expect(set).toBeDefined();
  });

  it('cover the seed flows with a test file for every example', () => {
    const files = readdirSync(ROOT).filter((f) => f.endsWith('.yaml'));
    const examples = files.filter((f) => !f.endsWith('.test.yaml') && f !== 'routes.yaml');
    expect(examples.length).toBeGreaterThanOrEqual(12);
    for (const f of examples)
      expect(files, `${f} has no test file`).toContain(f.replace(/\.yaml$/, '.test.yaml'));
    expect(set?.tests.length ?? 0).toBeGreaterThanOrEqual(examples.length);
  });

  it('pass their kind: test cases (parley test conferences/)', async () => {
    const r = await cli('test', ROOT);
    expect(r.err).toBe('');
    expect(r.out).not.toContain('FAIL');
    expect(r.out).toMatch(/\n\d+ passed, 0 failed\n$/);
    expect(r.code).toBe(0);
  });

  for (const [file, flows] of flowsByFile()) {
    it(`parley graph draws every state and transition of ${path.basename(file)}`, async () => {
      const mermaid = await cli('graph', file);
      expect(mermaid.code).toBe(0);
      const diagrams = mermaid.out.split(/^%% /m).filter((d) => d.trim() !== '');
      expect(diagrams).toHaveLength(flows.length);
      for (const flow of flows) {
        const diagram = diagrams.find((d) => d.startsWith(`${flow.id} `));
        expect(diagram, `no diagram for ${flow.id}`).toBeDefined();
        const parsed = parseMermaid(diagram as string);
        expect(parsed.states).toEqual(Object.keys(flow.machine.states).sort());
        expect(parsed.edges).toEqual(expectedEdges(flow));
        expect(parsed.initial).toBe(flow.machine.initial);

        const dot = await cli('graph', '--format', 'dot', '--flow', flow.id, file);
        expect(dot.code).toBe(0);
        const parsedDot = parseDot(dot.out);
        expect(parsedDot.states).toEqual(Object.keys(flow.machine.states).sort());
        expect(parsedDot.edges).toEqual(expectedEdges(flow));
      }
    });
  }
});
