import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFile, loadText, MAX_DEPTH } from '../../../src/compiler/load.js';

const pos = (r: { line: number; col: number }) => `${r.line}:${r.col}`;

describe('loadText', () => {
  it('loads every document of a multi-document file, skipping empty ones', () => {
    const r = loadText(
      'a.yaml',
      '---\n# only a comment\n---\nkind: routes\nroutes: []\n---\n---\nkind: test\n',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.documents.map((d) => d.data)).toEqual([{ kind: 'routes', routes: [] }, { kind: 'test' }]);
    expect(r.documents.map((d) => d.index)).toEqual([1, 3]);
    expect(r.documents.every((d) => d.file === 'a.yaml')).toBe(true);
  });

  it('gives 1-based positions of values and keys', () => {
    const text = [
      'kind: conference', // 1
      'name: a', // 2
      'participant:', // 3
      '  states:', // 4
      '    s:', // 5
      '      say: hi', // 6
      '      on: { dtmf: [ {goto: x}, bye ] }', // 7
    ].join('\n');
    const [doc] = loadText('a.yaml', text).documents;
    expect(doc).toBeDefined();
    const s = ['participant', 'states', 's'];
    expect(pos(doc!.at([...s, 'say']))).toBe('6:12');
    expect(pos(doc!.keyAt([...s, 'say']))).toBe('6:7');
    expect(pos(doc!.at([...s, 'on', 'dtmf', 0, 'goto']))).toBe('7:28');
    expect(pos(doc!.keyAt([...s, 'on', 'dtmf', 0, 'goto']))).toBe('7:22');
    // Array items have no key: their own position stands in.
    expect(pos(doc!.keyAt([...s, 'on', 'dtmf', 1]))).toBe('7:32');
    expect(pos(doc!.at([]))).toBe('1:1');
    expect(doc!.at([]).file).toBe('a.yaml');
  });

  it('falls back to the nearest ancestor for paths that do not exist', () => {
    const [doc] = loadText('a.yaml', 'kind: test\ncall:\n  from: x\n').documents;
    expect(pos(doc!.at(['call', 'to']))).toBe('3:3');
    expect(pos(doc!.keyAt(['call', 'to']))).toBe('2:1');
    expect(pos(doc!.at(['nothing', 'here', 3]))).toBe('1:1');
  });

  it('points an empty value at its key', () => {
    const [doc] = loadText('a.yaml', 'a:\nb: 1\n').documents;
    expect(doc!.data).toEqual({ a: null, b: 1 });
    expect(pos(doc!.at(['a']))).toBe('1:1');
  });

  it('reports YAML syntax errors at their line and column', () => {
    const r = loadText('a.yaml', 'kind: test\nname: [1, 2\nscript: x\n');
    expect(r.documents).toEqual([]);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({
      file: 'a.yaml',
      line: 3,
      col: 1,
      code: 'yaml-syntax',
      severity: 'error',
    });
    expect(r.diagnostics[0]!.message).toMatch(/^invalid YAML: /);
  });

  it('reports tab indentation in plain words', () => {
    const r = loadText('a.yaml', 'kind: test\ncall:\n\tfrom: x\n');
    expect(r.diagnostics).toMatchObject([
      { line: 3, col: 1, code: 'yaml-syntax', message: 'tabs cannot indent YAML; indent with spaces' },
    ]);
  });

  it('reports every duplicate key and leaves the document out', () => {
    const r = loadText('a.yaml', 'kind: test\nname: a\nscript: x\nname: b\nscript: y\n');
    expect(r.documents).toEqual([]);
    expect(r.diagnostics.map((d) => `${pos(d)} ${d.code} ${d.message}`)).toEqual([
      '4:1 duplicate-key duplicate key "name" (first on line 2)',
      '5:1 duplicate-key duplicate key "script" (first on line 3)',
    ]);
  });

  it('keeps good documents when another document of the file is broken', () => {
    const r = loadText('a.yaml', 'kind: test\nname: a\n---\nkind: [\n---\nkind: routes\n');
    expect(r.documents.map((d) => d.index)).toEqual([0, 2]);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]!.line).toBe(5);
  });

  it('resolves aliases and merge keys, with positions at the anchored text', () => {
    const text = 'base: &b { x: 1, y: 0 }\nc:\n  <<: *b\n  y: 2\nd: *b\n';
    const [doc] = loadText('a.yaml', text).documents;
    expect(doc!.data).toEqual({ base: { x: 1, y: 0 }, c: { x: 1, y: 2 }, d: { x: 1, y: 0 } });
    expect(pos(doc!.at(['c', 'x']))).toBe('1:15');
    expect(pos(doc!.at(['c', 'y']))).toBe('4:6');
    expect(pos(doc!.at(['d', 'y']))).toBe('1:21');
  });

  it('refuses recursive aliases instead of building circular data', () => {
    const r = loadText('a.yaml', 'a: &x [1, *x]\n');
    expect(r.documents).toEqual([]);
    expect(r.diagnostics).toMatchObject([{ line: 1, col: 11, code: 'yaml-alias' }]);
  });

  it('reports an unknown alias', () => {
    const r = loadText('a.yaml', 'kind: test\nname: *nope\n');
    expect(r.documents).toEqual([]);
    expect(r.diagnostics[0]!.code).toBe('yaml-alias');
    expect(r.diagnostics[0]!.message).toContain('nope');
  });

  it('points an unknown alias at itself and explains quoting', () => {
    const r = loadText('a.yaml', 'kind: test\non:\n  dtmf: { toggle: *6 }\n');
    expect(r.diagnostics.map((d) => `${pos(d)} ${d.code} ${d.message}`)).toEqual([
      '3:19 yaml-alias unknown anchor "6" in alias *6; to write text that starts with "*", quote it',
    ]);
  });

  it('explains a # that turned the rest of a flow mapping into a comment', () => {
    const r = loadText('a.yaml', 'kind: test\ncollect: { digits: 4, end: # }\nname: x\n');
    expect(r.diagnostics.map((d) => `${pos(d)} ${d.code} ${d.message}`)).toEqual([
      '2:28 yaml-syntax a # after a space starts a comment, which cuts this line short; quote it ("#")',
    ]);
  });

  it('warns about numbers whose leading zero YAML drops', () => {
    const r = loadText('a.yaml', 'vars: { pin: 012345, neg: -007, zero: 0, half: 0.5, text: "0123" }\n');
    expect(r.documents[0]!.data).toEqual({ vars: { pin: 12345, neg: -7, zero: 0, half: 0.5, text: '0123' } });
    expect(r.diagnostics.map((d) => `${pos(d)} ${d.severity} ${d.message}`)).toEqual([
      '1:14 warning 012345 is read as the number 12345; quote it ("012345") to keep the leading zero',
      '1:27 warning -007 is read as the number -7; quote it ("-007") to keep the leading zero',
    ]);
  });

  it('refuses alias bombs', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [n, p] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
      ['f', 'e'],
    ]) {
      lines.push(`${n}: &${n} [${Array(10).fill(`*${p}`).join(', ')}]`);
    }
    const r = loadText('a.yaml', lines.join('\n'));
    expect(r.documents).toEqual([]);
    expect(r.diagnostics).toHaveLength(1);
  });

  it('refuses nesting deeper than the limit, and survives far deeper input', () => {
    const ok = loadText('a.yaml', `${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`);
    expect(ok.diagnostics).toEqual([]);
    const deep = loadText('a.yaml', `${'['.repeat(MAX_DEPTH + 2)}${']'.repeat(MAX_DEPTH + 2)}`);
    expect(deep.diagnostics).toMatchObject([{ code: 'yaml-depth' }]);
    const huge = loadText('a.yaml', `${'['.repeat(20_000)}${']'.repeat(20_000)}`);
    expect(huge.documents).toEqual([]);
    expect(huge.diagnostics.length).toBeGreaterThan(0);
  });

  it('ignores a byte-order mark and handles CRLF line ends', () => {
    const [doc] = loadText('a.yaml', '\uFEFFkind: test\r\nname: x\r\n').documents;
    expect(doc!.data).toEqual({ kind: 'test', name: 'x' });
    expect(pos(doc!.at(['kind']))).toBe('1:7');
    expect(pos(doc!.keyAt(['name']))).toBe('2:1');
  });

  it('reads YAML 1.2 even under a %YAML 1.1 directive (on: stays a key, yes stays text)', () => {
    const [doc] = loadText('a.yaml', '%YAML 1.1\n---\non: x\nvad: yes\n').documents;
    expect(doc!.data).toEqual({ on: 'x', vad: 'yes' });
  });

  it('takes a lone CR as a line break, as YAML does', () => {
    const [doc] = loadText('a.yaml', 'kind: test\rname: x\rscript: y\r').documents;
    expect(doc!.data).toEqual({ kind: 'test', name: 'x', script: 'y' });
    expect(pos(doc!.keyAt(['script']))).toBe('3:1');
  });

  it('turns unknown tags into warnings', () => {
    const r = loadText('a.yaml', 'kind: !weird test\n');
    expect(r.documents).toHaveLength(1);
    expect(r.diagnostics).toMatchObject([{ severity: 'warning', code: 'yaml-warning' }]);
  });

  it('never throws on junk', () => {
    for (const junk of [
      '\u0000\u0001\u00ff\ud800 :: {{]] "',
      '\t\t- :\n  ? [\n',
      '%YAML 9.9\n---\n',
      '&a *a',
      '!!binary x',
    ]) {
      expect(() => loadText('a.yaml', junk)).not.toThrow();
    }
  });
});

describe('loadFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-load-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a file, naming it as given', () => {
    const file = join(dir, 'a.yaml');
    writeFileSync(file, 'kind: routes\nroutes: []\n');
    const r = loadFile(file, 'conferences/a.yaml');
    expect(r.diagnostics).toEqual([]);
    expect(r.documents[0]!.file).toBe('conferences/a.yaml');
    expect(loadFile(file).documents[0]!.file).toBe(file);
  });

  it('reports an unreadable file as a diagnostic', () => {
    const r = loadFile(join(dir, 'missing.yaml'));
    expect(r.documents).toEqual([]);
    expect(r.diagnostics).toMatchObject([{ line: 1, col: 1, code: 'read-error' }]);
  });
});
