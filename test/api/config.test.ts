import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../src/api/event-hub.js';
import { type Harness, json, READ, startHarness } from './harness.js';

let h: Harness;
let team: string;
let original: string;
beforeAll(async () => {
  h = await startHarness();
  team = path.join(h.dir, 'team.yaml');
  original = readFileSync(team, 'utf8');
});
afterAll(async () => {
  await h.close();
});

const events: ApiEvent[] = [];

describe('versioned configuration', () => {
  it('GET /v1/config gives the version serving, when it was loaded, and no refusal', async () => {
    h.api.hub.subscribe({}, (e) => events.push(e));
    const res = await h.req('GET', '/v1/config', undefined, READ);
    expect(res.status).toBe(200);
    const c = await json(res);
    expect(c.version).toBe(h.config.current.version);
    expect(c.version).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(c.loadedAt)).toBeGreaterThan(0);
    expect(c.refused).toBeNull();
    expect(c.conferences).toContain('team-*');
    expect(c.files.some((f: { file: string }) => f.file.endsWith('team.yaml'))).toBe(true);
  });

  it('an unchanged folder reloads to the same version', async () => {
    const res = await h.req('POST', '/v1/config/reload');
    expect(await json(res)).toEqual({ status: 'unchanged', version: h.config.current.version });
  });

  it('a valid change swaps: new calls take the new flow, a live call keeps its own', async () => {
    const live = await h.call('conf-1234', 'alice@example.com');
    await h.waitFor(() => h.runtime.conference('team-1234')?.member(live.info.id), 'alice joined');
    const before = h.config.current.version;
    writeFileSync(team, original.replace(/join: true/, 'join: { muted: true, role: v2 }'));
    const res = await h.req('POST', '/v1/config/reload');
    expect(res.status).toBe(200);
    const r = await json(res);
    expect(r).toMatchObject({ status: 'reloaded', previous: before });
    expect(r.version).not.toBe(before);
    const fresh = await h.call('conf-1234', 'bob@example.com');
    await h.waitFor(() => h.runtime.conference('team-1234')?.member(fresh.info.id), 'bob joined');
    const view = await json(await h.req('GET', '/v1/conferences/team-1234'));
    const alice = view.participants.find((p: { caller: string }) => p.caller === 'alice@example.com');
    const bob = view.participants.find((p: { caller: string }) => p.caller === 'bob@example.com');
    expect(alice).toMatchObject({ role: 'participant', muted: false, version: before });
    expect(bob).toMatchObject({ role: 'v2', muted: true, version: r.version });
    expect(events.filter((e) => e.type === 'config.reloaded').at(-1)?.data).toEqual({
      version: r.version,
      previous: before,
    });
  });

  it('an invalid change is refused whole: 422 with file:line:col, the old version keeps serving', async () => {
    const serving = h.config.current.version;
    writeFileSync(team, original.replace(/join: true/, 'jion: true'));
    const res = await h.req('POST', '/v1/config/reload');
    expect(res.status).toBe(422);
    const body = await json(res);
    expect(body.error.code).toBe('config-refused');
    expect(body.error.details[0].location).toMatch(/team\.yaml:\d+:\d+$/);
    const c = await json(await h.req('GET', '/v1/config'));
    expect(c.version).toBe(serving);
    expect(c.refused.errors[0]).toMatchObject({
      file: expect.stringMatching(/team\.yaml$/),
      code: expect.any(String),
    });
    const line = original.split('\n').findIndex((l) => l.includes('join: true')) + 1;
    expect(c.refused.errors.some((e: { line: number }) => e.line === line)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'config.refused', data: { version: serving } });
    // Calls are still served by the old version.
    const leg = await h.call('conf-3333');
    await h.waitFor(() => h.runtime.conference('team-3333')?.member(leg.info.id), 'still serving');
  });

  it('watches the folder: fixing the file reloads by itself and clears the refusal', async () => {
    await h.config.watch();
    writeFileSync(team, original);
    await h.waitFor(
      () => h.config.refused === undefined && h.config.current.trigger === 'watch',
      'watch reload',
      8000,
    );
    const c = await json(await h.req('GET', '/v1/config'));
    expect(c.refused).toBeNull();
    expect(c.trigger).toBe('watch');
    expect(c.reloads.refused).toBe(1);
  });

  it('metrics count reloads and show the serving version', async () => {
    const res = await h.req('GET', '/metrics', undefined, READ);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/parley_config_reloads_total\{result="refused"\} 1/);
    expect(text).toMatch(/parley_config_reloads_total\{result="reloaded"\} 2/);
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(text).toContain(`parley_build_info{version="${version}",node="${process.version}"} 1`);
    expect(text).toContain(`parley_config_info{version="${h.config.current.version.slice(0, 12)}"} 1`);
    expect(text).toMatch(/parley_conferences \d+/);
    expect(text).toMatch(/parley_participants \d+/);
    expect(text).toMatch(/parley_calls_total\{outcome="answered"\} \d+/);
  });
});
