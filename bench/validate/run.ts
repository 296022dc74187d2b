// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the generated YAML carries the language's own `${...}` placeholders
/**
 * Validation benchmark: writes 1,000 realistic conference files plus a routes file
 * to a temporary folder, compiles them with `compilePaths` (load, schema, checks,
 * compile) in fresh processes, one cold run each, and prints one JSON line: `seconds`
 * is the median run, `runs` all of them (shared machines are noisy). Target: under
 * 2 s on a 2-core machine.
 *
 * The code measured is the code `parley validate` runs, with the V8 settings it runs
 * with (src/cli/batch-tuning.ts): dist/ when it was built from the sources checked out
 * (`npm ci` builds it; bin/source-stamp.js), else the TypeScript sources through tsx
 * (`code` says which). `commandSeconds` is the whole command
 * (bin/parley.js) on the same folder, process start to exit; its runs alternate with the
 * compile runs so both see the same machine.
 *
 *   npm run bench:validate [-- --files 1000] [-- --runs 5] [-- --keep DIR] [-- --routes literal]
 *
 * `--keep DIR` writes the files to DIR and leaves them there, to profile against.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { distIsCurrent } from '../../bin/source-stamp.js';
import type * as BatchTuning from '../../src/cli/batch-tuning.js';
import type { Document } from '../../src/compiler/ast.js';
import type * as Check from '../../src/compiler/check/index.js';
import type * as Compile from '../../src/compiler/compile.js';
import type * as Index from '../../src/compiler/index.js';
import type * as Load from '../../src/compiler/load.js';
import type * as Validate from '../../src/compiler/validate.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at > 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a positive whole number`);
  return value;
}
const count = option('--files', 1000);
const runs = option('--runs', 3);
/** Set in the child processes: the folder to compile, already written. */
const measureRoot = process.env.PARLEY_BENCH_VALIDATE_ROOT;
const keepAt = process.argv.indexOf('--keep');
const keep = keepAt > 0 ? process.argv[keepAt + 1] : undefined;
if (keepAt > 0 && !keep) throw new Error('--keep needs a folder');
/**
 * How the routes file reaches the conferences: `template` (default), one route per 25
 * conferences with a capture (`conference: "team-${room}"`); `literal`, one route per
 * conference naming it, to measure checks that look conferences up by name.
 */
const routesAt = process.argv.indexOf('--routes');
const routeStyle = routesAt > 0 ? process.argv[routesAt + 1] : 'template';
if (routeStyle !== 'template' && routeStyle !== 'literal')
  throw new Error('--routes needs template or literal');

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const code = distIsCurrent(projectRoot) ? 'dist' : 'source';

/** The compiler's modules, from dist/ or src/ as `parley validate` would run them. */
async function compilerModules() {
  const dir = code === 'dist' ? '../../dist/compiler' : '../../src/compiler';
  const [index, load, validate, check, compile] = await Promise.all([
    import(`${dir}/index.js`) as Promise<typeof Index>,
    import(`${dir}/load.js`) as Promise<typeof Load>,
    import(`${dir}/validate.js`) as Promise<typeof Validate>,
    import(`${dir}/check/index.js`) as Promise<typeof Check>,
    import(`${dir}/compile.js`) as Promise<typeof Compile>,
  ]);
  return {
    compilePaths: index.compilePaths,
    loadText: load.loadText,
    validateDocument: validate.validateDocument,
    checkUnits: check.checkUnits,
    compileUnits: compile.compileUnits,
  };
}
type Compiler = Awaited<ReturnType<typeof compilerModules>>;

function conference(i: number): string {
  const name = `team-${String(i).padStart(4, '0')}`;
  const pin = String(100000 + ((i * 7919) % 900000));
  const moderated = i % 3 === 0;
  return `# yaml-language-server: $schema=../../../schema/parley.schema.json
kind: conference
name: ${name}
description: Weekly call of team ${i}
audio: { rate: ${i % 2 === 0 ? 48000 : 16000}, vad: true, denoise: ${i % 4 === 0} }
limits: { participants: ${50 + (i % 200)}, idle: 2m, pinFailures: 5, lockout: 10m }
record: { mix: ${i % 5 === 0}, file: "${name}-\${conference.name}" }
vars: { pin: "${pin}", moderatorPin: "${pin.split('').reverse().join('')}" }
participant:
  start: greet
  vars: { role: participant }
  states:
    greet:
      play: ../../sounds/welcome.wav
      then: pin
    pin:
      collect: { prompt: { say: "Enter the access code for ${name}, then pound." }, digits: 6, end: "#", timeout: 10s, tries: 3 }
      on:
        collected:
          - { if: "digits == conference.vars.pin", goto: join }
          - { if: "digits == conference.vars.moderatorPin", set: { role: '"moderator"' }, goto: join-moderator }
          - { if: "visits < 3", say: "That code is not valid.", goto: pin }
          - bye
        exhausted: bye
        hangup: end
    join:
      do:
        - say: "You are joining ${name}. There are \${conference.participants} people here."
        - join: { muted: ${moderated}, role: participant${moderated ? ', music: ../../sounds/hold.wav' : ''} }
      on:
        dtmf "*6": { toggle: mute }
        dtmf "*4": { toggle: deaf }
        dtmf "#": { say: { text: "\${conference.participants} participants.", to: self } }
        message: { log: "message from \${message.from}: \${message.text}" }
        full: { say: "The conference is full.", goto: bye }
        after 45m: { say: "This call has lasted 45 minutes." }
    join-moderator:
      join: { role: moderator }
      on:
        dtmf "*1": { unmute: all }
        dtmf "*2": { mute: others }
        dtmf "*9": { record: { what: conference, file: "${name}-\${call.id}" } }
        dtmf "*0": { end: true }
        http:
          - { if: "request.method == 'POST'", do: [ { notify: { event: wrap-up, to: participants } }, { respond: { status: 202 } } ] }
          - respond: { status: 405, body: { error: "use POST" } }
        wrap-up: { say: "The meeting ends in five minutes." }
    bye: { say: "Goodbye.", then: hangup }
conference:
  on:
    started: { log: "conference \${conference.name} started" }
    joined:
      - { if: "participant.role == 'moderator'", say: { text: "The moderator has joined.", to: all } }
      - say: { text: "A participant has joined.", to: others }
    left: { say: { text: "A participant has left.", to: all } }
    empty: { log: "\${conference.name} is empty" }
`;
}

function routes(n: number): string {
  const lines = [
    'kind: routes',
    'dialout:',
    '  allow: ["^sip:\\\\+\\\\d{8,15}@trunk\\\\.example\\\\.com$"]',
    'routes:',
  ];
  lines.push(
    '  - match: { from: "^anonymous@" }',
    '    reject: { code: 403, reason: Anonymous calls refused }',
  );
  if (routeStyle === 'literal') {
    for (let i = 0; i < n; i++) {
      const room = String(i).padStart(4, '0');
      lines.push(`  - match: { to: "^conf-${room}$" }`, `    conference: team-${room}`);
    }
    return `${lines.join('\n')}\n`;
  }
  for (let i = 0; i < n; i += 25) {
    const block = String(Math.floor(i / 25)).padStart(2, '0');
    lines.push(`  - match: { to: "^conf-(?<room>${block}\\\\d{2})$", transport: [udp, tcp] }`);
    lines.push('    conference: "team-${room}"');
    lines.push('    vars: { dialled: "${room}" }');
  }
  return `${lines.join('\n')}\n`;
}

/** The pipeline's passes timed one by one (a second, warm run), in seconds. */
function timePhases(c: Compiler, root: string, files: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    out[name] = Number(((now - t) / 1000).toFixed(3));
    t = now;
  };
  const texts = [...new Set(files)].map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  lap('read');
  const docs = texts.flatMap(({ file, text }) => c.loadText(file, text).documents);
  lap('load');
  for (const doc of docs) c.validateDocument(doc);
  lap('validate');
  const units = docs.map((doc) => ({ doc, data: doc.data as Document }));
  c.checkUnits(units, { fileExists: existsSync });
  lap('check');
  c.compileUnits(units, { root, files: [] });
  lap('compile');
  return out;
}

interface Run {
  seconds: number;
  cpuSeconds: number;
  phases: Record<string, number>;
  warnings: number;
}

/** One cold compile of `root` in this process, then the phases timed warm. */
function measure(c: Compiler, root: string): Run {
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const result = c.compilePaths([root]);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !result.set) {
    console.error(errors.slice(0, 10));
    throw new Error(`the generated configuration did not compile (${errors.length} errors)`);
  }
  const phases = timePhases(
    c,
    root,
    result.documents.map((d) => d.file),
  );
  return {
    seconds: Number(seconds.toFixed(3)),
    // CPU time is less disturbed than wall time on a shared machine.
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
    phases,
    warnings: result.diagnostics.length,
  };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

if (measureRoot) {
  // The V8 settings `parley validate` runs with (src/cli/batch-tuning.ts).
  const tuning = (await import(
    code === 'dist' ? '../../dist/cli/batch-tuning.js' : '../../src/cli/batch-tuning.js'
  )) as typeof BatchTuning;
  tuning.tuneV8ForBatchRun();
  console.log(JSON.stringify(measure(await compilerModules(), measureRoot)));
} else {
  const root = keep ? path.resolve(keep) : mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));
  try {
    mkdirSync(path.join(root, 'sounds'), { recursive: true });
    writeFileSync(path.join(root, 'sounds', 'welcome.wav'), 'RIFF');
    writeFileSync(path.join(root, 'sounds', 'hold.wav'), 'RIFF');
    for (let i = 0; i < count; i++) {
      const folder = path.join(root, 'teams', String(Math.floor(i / 100)));
      mkdirSync(folder, { recursive: true });
      writeFileSync(path.join(folder, `team-${String(i).padStart(4, '0')}.yaml`), conference(i));
    }
    writeFileSync(path.join(root, 'routes.yaml'), routes(count));

    // Each run in a fresh process: what `parley validate` pays, JIT warm-up included.
    const results: Run[] = [];
    const commandRuns: number[] = [];
    const bin = fileURLToPath(new URL('../../bin/parley.js', import.meta.url));
    for (let r = 0; r < runs; r++) {
      const started = performance.now();
      execFileSync(process.execPath, [bin, 'validate', root], { stdio: ['ignore', 'ignore', 'inherit'] });
      commandRuns.push(Number(((performance.now() - started) / 1000).toFixed(3)));
      const out = execFileSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
        env: { ...process.env, PARLEY_BENCH_VALIDATE_ROOT: root },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      results.push(JSON.parse(out.trim().split('\n').pop() ?? '{}') as Run);
    }
    const byTime = [...results].sort((a, b) => a.seconds - b.seconds);
    const middle = byTime[byTime.length >> 1] as Run;
    const cpus = os.cpus();
    console.log(
      JSON.stringify({
        files: count,
        routes: routeStyle,
        code,
        seconds: Number(median(results.map((r) => r.seconds)).toFixed(3)),
        runs: results.map((r) => r.seconds),
        cpuSeconds: Number(median(results.map((r) => r.cpuSeconds)).toFixed(3)),
        commandSeconds: Number(median(commandRuns).toFixed(3)),
        commandRuns,
        phases: middle.phases,
        warnings: middle.warnings,
        machine: {
          cpu: cpus[0]?.model ?? 'unknown',
          nproc: os.availableParallelism(),
          node: process.version,
          load: os.loadavg().map((l) => Number(l.toFixed(2))),
        },
      }),
    );
  } finally {
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
}
