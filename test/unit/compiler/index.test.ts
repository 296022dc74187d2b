// biome-ignore-all lint/suspicious/noTemplateCurlyInString: mutations use the language's own `${...}` placeholders
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { compilePaths, compileSources, formatDiagnostic, listFlows } from '../../../src/compiler/index.js';
import { VALID_SAMPLES } from './schema-samples.js';

const ROUTES = `kind: routes
routes:
  - match: { to: "^lobby$" }
    conference: lobby
`;
const LOBBY = `kind: conference
name: lobby
participant:
  do: [ { play: sounds/hello.wav }, { join: true } ]
`;

describe('compileSources', () => {
  it('compiles several files into one set', () => {
    const r = compileSources(
      [
        { file: '/cfg/b.yaml', text: LOBBY },
        { file: '/cfg/a.yaml', text: ROUTES },
      ],
      { fileExists: (p) => p === '/cfg/sounds/hello.wav' },
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.set?.files.map((f) => f.file)).toEqual(['/cfg/a.yaml', '/cfg/b.yaml']);
    expect(r.set?.conferences[0]?.participant.machine.states.main?.entry[0]?.params).toMatchObject({
      file: 'sounds/hello.wav',
    });
    expect(r.documents).toHaveLength(2);
  });

  it('gives no set when there is an error, and sorted diagnostics', () => {
    const r = compileSources(
      [
        { file: '/cfg/b.yaml', text: `${LOBBY}---\nkind: conference\nname: lobby\n` },
        {
          file: '/cfg/a.yaml',
          text: 'kind: routes\nroutes:\n  - match: { to: x }\n    conference: nowhere\n',
        },
      ],
      { fileExists: () => true },
    );
    expect(r.set).toBeUndefined();
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      '/cfg/a.yaml:4:17: no conference document serves "nowhere"',
      '/cfg/b.yaml:7:7: conference "lobby" is already defined at /cfg/b.yaml:2',
    ]);
  });

  it('keeps the set when there are only warnings', () => {
    const text = `kind: conference\nname: c\nparticipant:\n  on: { ping: { say: hi } }\n`;
    const r = compileSources([{ file: 'c.yaml', text }]);
    expect(r.diagnostics.map((d) => d.severity)).toEqual(['warning']);
    expect(r.set).toBeDefined();
  });

  it('does not blame references when a document failed schema validation', () => {
    const r = compileSources([
      { file: 'x.yaml', text: `${ROUTES}---\nkind: conference\nname: lobby\nbogus: 1\n` },
    ]);
    expect(r.diagnostics.map((d) => d.line)).toEqual([8]);
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const r = compileSources([{ file: 'f.yaml', text }]);
        expect(Array.isArray(r.diagnostics)).toBe(true);
      }),
      { numRuns: 200 },
    );
    for (const text of [
      '',
      '---\n---\n',
      '[1, 2]',
      'kind: conference',
      'kind: routes\nroutes: 5',
      '\u0000\u0001',
      '*a',
    ]) {
      expect(() => compileSources([{ file: 'f.yaml', text }])).not.toThrow();
    }
  });

  it('never throws on structurally odd documents that pass the loader', () => {
    const docs = fc.dictionary(
      fc.constantFrom(
        'kind',
        'name',
        'participant',
        'conference',
        'routes',
        'flow',
        'states',
        'on',
        'do',
        'start',
      ),
      fc.oneof(fc.constantFrom('conference', 'routes', 'scenario', 'test'), fc.jsonValue()),
    );
    fc.assert(
      fc.property(docs, (d) => {
        const r = compileSources([{ file: 'f.yaml', text: JSON.stringify(d) }]);
        expect(r.diagnostics.every((x) => x.code !== 'internal-error')).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('compilePaths', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-compile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'rooms', 'sounds'), { recursive: true });
  writeFileSync(path.join(dir, 'routes.yml'), ROUTES);
  writeFileSync(path.join(dir, 'rooms', 'lobby.yaml'), LOBBY);
  writeFileSync(path.join(dir, 'rooms', 'sounds', 'hello.wav'), 'RIFF');
  writeFileSync(path.join(dir, 'README.md'), '# not yaml');

  it('reads folders recursively and stores audio paths relative to the root', () => {
    const r = compilePaths([dir]);
    expect(r.diagnostics).toEqual([]);
    expect(r.set?.files.map((f) => path.relative(dir, f.file))).toEqual([
      path.join('rooms', 'lobby.yaml'),
      'routes.yml',
    ]);
    expect(r.set?.conferences[0]?.participant.machine.states.main?.entry[0]?.params).toMatchObject({
      file: 'rooms/sounds/hello.wav',
    });
  });

  it('gives the same version for the same input', () => {
    expect(compilePaths([dir]).set?.version).toBe(compilePaths([dir]).set?.version);
  });

  it('follows symbolic links as a Kubernetes ConfigMap mount lays them out', () => {
    const mount = mkdtempSync(path.join(tmpdir(), 'parley-configmap-'));
    try {
      mkdirSync(path.join(mount, '..2026_01_01'));
      writeFileSync(path.join(mount, '..2026_01_01', 'routes.yaml'), ROUTES);
      writeFileSync(
        path.join(mount, '..2026_01_01', 'lobby.yaml'),
        LOBBY.replace('{ play: sounds/hello.wav }, ', ''),
      );
      symlinkSync('..2026_01_01', path.join(mount, '..data'));
      symlinkSync('..data/routes.yaml', path.join(mount, 'routes.yaml'));
      symlinkSync('..data/lobby.yaml', path.join(mount, 'lobby.yaml'));
      symlinkSync('.', path.join(mount, 'loop'));
      symlinkSync('missing.yaml', path.join(mount, 'dangling.yaml'));
      const r = compilePaths([mount]);
      expect(r.diagnostics).toEqual([]);
      expect(r.set?.files.map((f) => path.basename(f.file))).toEqual(['lobby.yaml', 'routes.yaml']);
    } finally {
      rmSync(mount, { recursive: true, force: true });
    }
  });

  it('reports a missing path', () => {
    const missing = path.join(dir, 'nope');
    const r = compilePaths([dir, missing]);
    expect(r.diagnostics).toEqual([expect.objectContaining({ file: missing, code: 'missing-path' })]);
    expect(r.set).toBeUndefined();
  });
});

describe('listFlows', () => {
  it('lists every flow of a set by id', () => {
    const r = compileSources(
      [
        { file: '/cfg/a.yaml', text: `${ROUTES}---\n${LOBBY}conference: { on: { joined: { log: j } } }\n` },
        { file: '/cfg/s.yaml', text: 'kind: scenario\nname: s\nflow: { do: [ { log: hi } ] }\n' },
      ],
      { fileExists: () => true },
    );
    expect(r.set && listFlows(r.set).map((f) => f.id)).toEqual([
      'lobby/participant',
      'lobby/conference',
      's/flow',
    ]);
  });
});

describe('semantic passes on mutated valid configurations', () => {
  // Valid samples of every kind, parsed once; mutations replace one node with a value
  // from the language's own vocabulary so that many mutants still pass the schema
  // and reach the checker and the compiler.
  const docs = Object.values(VALID_SAMPLES).flatMap((t) =>
    parseAllDocuments(t).map((d) => d.toJS() as unknown),
  );
  const VOCAB = fc.constantFrom<unknown>(
    'hangup',
    'end',
    'main',
    'pin',
    'join',
    'nowhere',
    '${vars.x}',
    '${digits}',
    '${',
    'visits < 3',
    'digits ==',
    '.*',
    '(',
    'sip:+15550100@trunk.example.com',
    'room-1234',
    'callback',
    'sounds/none.wav',
    0,
    3,
    true,
    null,
    [],
    {},
    { goto: 'pin' },
    { say: 'x' },
    [{ if: 'visits < 2', goto: 'pin' }, 'hangup'],
  );

  const SEMANTIC_CODES = new Set([
    'dangling-goto',
    'unreachable-state',
    'unknown-start',
    'missing-start',
    'unbounded-retry',
    'bad-expression',
    'unknown-variable',
    'variable-out-of-scope',
    'unknown-conference',
    'unknown-scenario',
    'unknown-dial-start',
    'dial-not-allowed',
    'shadowed-route',
    'duplicate-name',
    'unknown-test-target',
    'unknown-var',
    'unraised-event',
    'unhandled-notify',
  ]);

  function paths(v: unknown, base: Array<string | number> = []): Array<Array<string | number>> {
    const out = [base];
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) out.push(...paths(x, [...base, i]));
    } else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...base, k]));
    return out;
  }

  function replaced(v: unknown, p: Array<string | number>, value: unknown): unknown {
    if (p.length === 0) return value;
    const [head, ...rest] = p as [string | number, ...Array<string | number>];
    const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, unknown>;
    copy[head] = replaced(copy[head], rest, value);
    return copy;
  }

  it('never fails internally', () => {
    const mutant = fc.tuple(fc.nat(docs.length - 1), fc.nat(), VOCAB).map(([d, n, value]) => {
      const all = paths(docs[d]);
      return docs.map((doc, i) => (i === d ? replaced(doc, all[n % all.length] ?? [], value) : doc));
    });
    let reachedChecks = 0;
    fc.assert(
      fc.property(mutant, (set) => {
        const sources = set.map((doc, i) => ({ file: `/m/${i}.yaml`, text: stringify(doc) }));
        const r = compileSources(sources, { fileExists: () => true });
        expect(r.diagnostics.filter((d) => d.code === 'internal-error')).toEqual([]);
        if (r.set || r.diagnostics.some((d) => SEMANTIC_CODES.has(d.code))) reachedChecks += 1;
      }),
      { numRuns: 300 },
    );
    // A good share of mutants got past the schema into the checker and the compiler.
    expect(reachedChecks).toBeGreaterThan(50);
  });
});

describe('positions inside expressions', () => {
  it('agree with the loader for CR line breaks and a byte-order mark', () => {
    const yaml = [
      'kind: conference',
      'name: c',
      'participant:',
      '  on:',
      '    dtmf: { if: "visits <", say: x }',
      '',
    ];
    for (const text of [yaml.join('\r'), `\uFEFF${yaml.join('\r\n')}`]) {
      const r = compileSources([{ file: 'c.yaml', text }]);
      expect(r.diagnostics.map(formatDiagnostic)).toEqual([
        'c.yaml:5:26: invalid expression: Unexpected token: EOF',
      ]);
    }
  });
});
