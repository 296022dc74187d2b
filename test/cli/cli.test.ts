import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

const PIN_ROOM = `kind: conference
name: pin-room
vars: { pin: "1234" }
participant:
  start: pin
  states:
    pin:
      collect: { prompt: { say: "Enter the access code, then pound." }, digits: 6, end: "#", timeout: 10s, tries: 3 }
      on:
        collected:
          - { if: "digits == conference.vars.pin", goto: join }
          - { if: "visits < 3", say: "That code is not valid.", goto: pin }
          - bye
        exhausted: bye
    join:
      join: true
    bye: { say: "Goodbye.", then: hangup }
`;

const PIN_TEST = `kind: test
name: right code joins
target: { conference: pin-room }
script: "call; wait 1s; dtmf 1234#; wait 2s"
expect:
  - { type: collected, digits: "1234" }
  - { type: state, state: join }
---
kind: test
name: three wrong codes say goodbye
target: { conference: pin-room }
script: "call; wait 1s; dtmf 1111#; wait 4s; dtmf 2222#; wait 4s; dtmf 3333#; wait 4s"
expect:
  - { type: say, text: "Goodbye." }
  - { type: hangup }
absent:
  - { type: state, state: join }
`;

const FAILING_TEST = `kind: test
name: expects the impossible
target: { conference: pin-room }
script: "call; wait 1s; dtmf 9999#; wait 2s"
expect:
  - { type: state, state: join }
`;

const BROKEN = `kind: conference
name: broken
participant:
  start: greet
  states:
    greet:
      sya: "Hello"
      then: jion
`;

let dir: string;
let good: string;
let bad: string;
let failing: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'parley-cli-'));
  good = path.join(dir, 'good');
  bad = path.join(dir, 'bad');
  failing = path.join(dir, 'failing');
  for (const d of [good, bad, failing]) spawnSync('mkdir', ['-p', d]);
  writeFileSync(path.join(good, 'pin.yaml'), PIN_ROOM);
  writeFileSync(path.join(good, 'pin.test.yaml'), PIN_TEST);
  writeFileSync(path.join(bad, 'broken.yaml'), BROKEN);
  writeFileSync(path.join(failing, 'pin.yaml'), PIN_ROOM);
  writeFileSync(path.join(failing, 'pin.test.yaml'), FAILING_TEST);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parley validate', () => {
  it('exits 0 and prints a summary for a valid folder', async () => {
    const r = await cli('validate', good);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/2 files, 3 documents, ok, version [0-9a-f]{12}/);
  });

  it('exits 1 with file:line:col messages for an invalid file', async () => {
    const r = await cli('validate', bad);
    expect(r.code).toBe(1);
    const file = path.join(bad, 'broken.yaml');
    expect(r.err).toContain(`${file}:7:7: unknown action "sya" — did you mean "say"?`);
    expect(r.err).toMatch(/1 file, \d+ documents?, \d+ errors?/);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('prints GitHub annotations with --format github', async () => {
    const r = await cli('validate', '--format', 'github', bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^::error file=.*broken\.yaml,line=7,col=7,title=unknown-action::unknown action "sya"/m,
    );
  });

  it('prints JSON with --format json', async () => {
    const r = await cli('validate', '--format', 'json', bad);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { ok: boolean; errors: number; diagnostics: Array<{ line: number }> };
    expect(report.ok).toBe(false);
    expect(report.errors).toBeGreaterThan(0);
    expect(report.diagnostics[0]?.line).toBe(7);
    const okReport = JSON.parse((await cli('validate', '--format', 'json', good)).out) as { ok: boolean };
    expect(okReport.ok).toBe(true);
  });

  it('exits 1 for a path that does not exist', async () => {
    const r = await cli('validate', path.join(dir, 'nope'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('no such file or folder');
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli('validate', '--format', 'xml', good)).code).toBe(2);
    expect((await cli('no-such-command')).code).toBe(2);
    expect((await cli('graph')).code).toBe(2);
    expect((await cli('simulate', good)).code).toBe(2); // --script is required
  });
});

describe('parley graph', () => {
  it('renders every flow of a file as Mermaid and as DOT', async () => {
    const m = await cli('graph', path.join(good, 'pin.yaml'));
    expect(m.code).toBe(0);
    expect(m.out).toContain('stateDiagram-v2');
    expect(m.out).toContain('pin-room/participant');
    const d = await cli(
      'graph',
      '--format',
      'dot',
      '--flow',
      'pin-room/participant',
      path.join(good, 'pin.yaml'),
    );
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/^digraph /m);
  });

  it('names the flows when --flow matches none', async () => {
    const r = await cli('graph', '--flow', 'nope', path.join(good, 'pin.yaml'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('pin-room/participant');
  });
});

describe('parley simulate', () => {
  it('prints the transcript of a script', async () => {
    const r = await cli(
      'simulate',
      good,
      '--target',
      'conference:pin-room',
      '--script',
      'call; wait 1s; dtmf 1234#; wait 2s',
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain('say "Enter the access code, then pound."');
    expect(r.out).toMatch(/collected .*1234/);
    expect(r.out).toMatch(/state join/);
  });

  it('rejects a malformed --target as a usage error', async () => {
    const r = await cli('simulate', good, '--target', 'room', '--script', 'call');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--target must be');
  });
});

describe('parley test', () => {
  it('runs the kind: test documents and exits 0 when all pass', async () => {
    const r = await cli('test', good);
    expect(r.code).toBe(0);
    expect(r.out).toContain('ok    right code joins');
    expect(r.out).toContain('ok    three wrong codes say goodbye');
    expect(r.out).toContain('2 passed, 0 failed');
  });

  it('exits 1 and explains a failing test', async () => {
    const r = await cli('test', '--verbose', failing);
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL  expects the impossible');
    expect(r.out).toContain('transcript:');
    expect(r.out).toContain('0 passed, 1 failed');
  });

  it('exits 1 when there is no test to run', async () => {
    const r = await cli('test', bad);
    expect(r.code).toBe(1);
  });
});

describe('the parley executable', () => {
  it('exits with the right code and prints no stack trace', () => {
    const bin = path.resolve('bin/parley.js');
    const okRun = spawnSync(process.execPath, [bin, 'validate', good], { encoding: 'utf8' });
    expect(okRun.status).toBe(0);
    const badRun = spawnSync(process.execPath, [bin, 'validate', bad], { encoding: 'utf8' });
    expect(badRun.status).toBe(1);
    expect(badRun.stderr).toContain('unknown action "sya"');
    expect(badRun.stderr).not.toMatch(/\n\s+at /);
    const usage = spawnSync(process.execPath, [bin, 'validate', '--format', 'xml'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
  });

  it("prints the package's version with --version and -V", () => {
    const bin = path.resolve('bin/parley.js');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = spawnSync(process.execPath, [bin, flag], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${pkg.version}\n`);
    }
  });
});
