import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compilePaths, compileSources, formatDiagnostic, listFlows } from '../../../src/compiler/index.js';

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
