/**
 * Hot reload under load, against `parley serve` in its own process: five calls talk in
 * team-4242; team.yaml changes (the watcher picks it up) → a new call runs the new flow
 * while the five keep theirs, and none of them sees a gap over 60 ms in the RTP it
 * receives; an invalid team.yaml is refused (GET /v1/config shows file:line:col) while
 * calls are still served; fixing it reloads again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/sipp.js';
import { CONFERENCES, type Json, json } from './harness.js';
import { until } from './live.js';
import { RawCall } from './raw-call.js';

const TOKEN = 'reload-test-token-0123456789ab';
const BIN = path.resolve(import.meta.dirname, '../../bin/parley.js');
const MAX_GAP_MS = 60;
/** The bound when the engine itself was starved of CPU during the test (see below). */
const STARVED_GAP_MS = 300;

describe('hot reload under load', () => {
  let child: ChildProcess;
  let log = '';
  let dir: string;
  let recordings: string;
  let base: string;
  let sipPort: number;
  const calls: RawCall[] = [];

  const get = async (url: string): Promise<Json> => {
    const res = await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
    return json(res);
  };
  const lateTicks = async (): Promise<number> => {
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return Number(/^parley_mix_late_ticks_total (\d+)$/m.exec(await res.text())?.[1] ?? Number.NaN);
  };
  const tail = () => `--- parley serve output ---\n${log.slice(-4000)}`;
  const participants = async (): Promise<
    Array<{ id: string; caller: string; role: string; muted: boolean }>
  > => (await get('/v1/conferences/team-4242').catch(() => ({ participants: [] }))).participants;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'parley-reload-conf-'));
    cpSync(CONFERENCES, dir, { recursive: true });
    // PARLEY_RELOAD_EXTRA_FILES=400 adds that many conference files, so a reload compiles for seconds.
    if (process.env.PARLEY_RELOAD_EXTRA_FILES) {
      const pin = readFileSync(path.join(CONFERENCES, 'pin.yaml'), 'utf8');
      for (let k = 0; k < Number(process.env.PARLEY_RELOAD_EXTRA_FILES); k++)
        writeFileSync(path.join(dir, `big-${k}.yaml`), pin.replace('name: secure-*', `name: big${k}-*`));
    }
    recordings = mkdtempSync(path.join(tmpdir(), 'parley-reload-rec-'));
    sipPort = await freePort();
    const httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    child = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        dir,
        '--sip-port',
        String(sipPort),
        '--no-tcp',
        '--rtp-ports',
        '32400-32599',
        '--http',
        `127.0.0.1:${httpPort}`,
        '--http-token',
        TOKEN,
        '--recordings',
        recordings,
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (d: Buffer) => {
      log += d.toString();
      if (log.length > 200_000) log = log.slice(-100_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await until(
      async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok,
      'parley serve to be ready',
      30_000,
      tail,
    );
  }, 40_000);

  afterAll(async () => {
    for (const c of calls) await c.hangup().catch(() => undefined);
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(recordings, { recursive: true, force: true });
  });

  it('swaps the flow for new calls, keeps live calls without an RTP gap, refuses and recovers', async () => {
    for (let i = 0; i < 5; i++) {
      const c = await RawCall.open(sipPort, `live${i}`, 300 + 100 * i);
      await c.invite('conf-4242');
      calls.push(c);
    }
    await until(
      async () => (await participants()).length === 5,
      'five live calls in team-4242',
      15_000,
      tail,
    );
    const first = await get('/v1/config');
    await new Promise((r) => setTimeout(r, 1000));
    // This process's own stalls (a busy machine) delay when it sees packets, not when they
    // were sent: a 5 ms heartbeat tells them apart from gaps in what the server sent.
    const beats: number[] = [];
    const heartbeat = setInterval(() => beats.push(performance.now()), 5);
    const t0 = performance.now();
    /** Each reload, from the file write until the new version (or refusal) is visible and 300 ms beyond. */
    const reloads: Array<{ start: number; end: number }> = [];

    // 1. A valid change, picked up by the watcher.
    const team = path.join(dir, 'team.yaml');
    const original = readFileSync(team, 'utf8');
    const lateBefore = await lateTicks();
    let wrote = performance.now();
    writeFileSync(team, original.replace(/join: true/, 'join: { role: v2, muted: true }'));
    const second = await until(
      async () => {
        const c = await get('/v1/config');
        return c.version !== first.version ? c : undefined;
      },
      'the watcher to reload',
      10_000,
      tail,
    );
    reloads.push({ start: wrote, end: performance.now() + 300 });
    expect(second.trigger).toBe('watch');
    const fresh = await RawCall.open(sipPort, 'fresh', 1000);
    await fresh.invite('conf-4242');
    calls.push(fresh);
    await until(async () => (await participants()).length === 6, 'the new call in', 10_000, tail);
    const ps = await participants();
    expect(ps.filter((p) => p.caller.startsWith('live')).map((p) => [p.role, p.muted])).toEqual(
      Array(5).fill(['participant', false]),
    );
    expect(ps.find((p) => p.caller.startsWith('fresh'))).toMatchObject({ role: 'v2', muted: true });

    // 2. An invalid change: refused, the second version keeps serving.
    wrote = performance.now();
    writeFileSync(team, original.replace(/join: true/, 'join: { role: v3, mutde: true }'));
    const refused = await until(
      async () => (await get('/v1/config')).refused ?? undefined,
      'the refusal',
      10_000,
      tail,
    );
    reloads.push({ start: wrote, end: performance.now() + 300 });
    const line = original.split('\n').findIndex((l) => l.includes('join: true')) + 1;
    expect(refused.errors.map((e: { location: string }) => e.location)).toContainEqual(
      expect.stringMatching(new RegExp(`team\\.yaml:${line}:\\d+$`)),
    );
    expect((await get('/v1/config')).version).toBe(second.version);
    const during = await RawCall.open(sipPort, 'during', 1100);
    await during.invite('conf-4242');
    calls.push(during);
    await until(async () => (await participants()).length === 7, 'a call while refused', 10_000, tail);
    expect((await participants()).find((p) => p.caller.startsWith('during'))?.role).toBe('v2');

    // 3. Fixed: it reloads (back to the first version's content).
    wrote = performance.now();
    writeFileSync(team, original);
    const third = await until(
      async () => {
        const c = await get('/v1/config');
        return c.version !== second.version && c.refused === null ? c : undefined;
      },
      'the reload after the fix',
      10_000,
      tail,
    );
    reloads.push({ start: wrote, end: performance.now() + 300 });
    expect(third.version).toBe(first.version);
    await new Promise((r) => setTimeout(r, 1000));
    const t1 = performance.now();
    // Late ticks of the engine's clock thread mean the machine did not give it the CPU (other
    // tests running beside this one); the engine never waits for the JS thread that reloads.
    const starved = (await lateTicks()) - lateBefore;
    const limit = starved === 0 ? MAX_GAP_MS : STARVED_GAP_MS;
    if (starved > 0)
      console.warn(
        `\n*** hot reload test: the engine missed ${starved} tick deadline(s) (a busy machine): RTP gaps are held to ${STARVED_GAP_MS} ms instead of ${MAX_GAP_MS} ms ***\n`,
      );
    clearInterval(heartbeat);
    const stalls: Array<{ start: number; end: number }> = [];
    for (let i = 1; i < beats.length; i++) {
      const a = beats[i - 1] ?? 0;
      const b = beats[i] ?? 0;
      if (b - a > 30) stalls.push({ start: a, end: b });
    }
    const ownStall = (g: { start: number; end: number }) =>
      stalls.some((s) => s.start <= g.start + 20 && s.end >= g.end - 20);

    for (const [i, c] of calls.slice(0, 5).entries()) {
      const gaps = c.gaps(t0, t1, 0);
      // On a machine shared with other tests the server may be starved at any moment; what the
      // reload must not do is open a gap while it runs.
      const duringReload = gaps
        .filter((g) => !ownStall(g) && reloads.some((r) => g.end > r.start && g.start < r.end))
        .map((g) => Math.round(g.end - g.start))
        .filter((ms) => ms >= limit);
      expect(duringReload, `call ${i}: RTP gaps of ${limit} ms or more while reloading`).toEqual([]);
      expect(c.missingFrames(t0, t1), `call ${i}: frames the server did not send`).toBe(0);
    }
    // The five were talking all along: each still hears the others.
    for (const c of calls.slice(0, 5))
      expect(c.rtp.received.filter((r) => r.at > t0).length).toBeGreaterThan(((t1 - t0) / 20) * 0.9);
  }, 90_000);
});
