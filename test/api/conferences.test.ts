import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimMedia } from '../../src/runtime/sim/fakes.js';
import { type Harness, json, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const participants = async (name: string) =>
  (await json(await h.req('GET', `/v1/conferences/${name}`))).participants;

describe('conferences', () => {
  it('starts a conference by name, refuses a second start, unknown and local names', async () => {
    const res = await h.req('POST', '/v1/conferences', { name: 'team-1' });
    expect(res.status).toBe(201);
    const view = await json(res);
    expect(view).toMatchObject({ name: 'team-1', document: 'team-*', locked: false, participants: [] });
    expect(view.version).toBe(h.config.current.version);
    expect(Date.parse(view.startedAt)).toBeGreaterThan(0);

    const again = await h.req('POST', '/v1/conferences', { name: 'team-1' });
    expect(again.status).toBe(409);
    expect(await json(again)).toEqual({
      error: { status: 409, code: 'conference-running', message: 'conference "team-1" is already running' },
    });
    const unknown = await h.req('POST', '/v1/conferences', { name: 'no-such-room' });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toEqual({
      status: 404,
      code: 'unknown-conference',
      message: 'no conference document serves "no-such-room"',
    });
    const local = await h.req('POST', '/v1/conferences', { name: 'reminder-call' });
    expect(local.status).toBe(404);
    expect((await json(local)).error.message).toMatch(/is local/);
  });

  it('lists and gets running conferences; 404 for one not running', async () => {
    const list = await json(await h.req('GET', '/v1/conferences'));
    expect(list.conferences.map((c: { name: string }) => c.name)).toContain('team-1');
    const missing = await h.req('GET', '/v1/conferences/team-9');
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual({
      error: { status: 404, code: 'conference-not-found', message: 'no running conference "team-9"' },
    });
  });

  it('shows participants who called in, with caller, join time and flags', async () => {
    await h.call('conf-1234', 'alice@example.com');
    await h.waitFor(() => h.runtime.conference('team-1234')?.members().length === 1, 'alice joined');
    const [p] = await participants('team-1234');
    expect(p).toMatchObject({
      id: 'in-1',
      caller: 'alice@example.com',
      role: 'participant',
      muted: false,
      deaf: false,
      talking: false,
      level: null,
      codec: null,
    });
    expect(Date.parse(p.joinedAt)).toBeGreaterThan(0);
  });

  it('mutes, unmutes, deafens and undeafens a participant; 404 for an unknown one', async () => {
    for (const [action, field, value] of [
      ['mute', 'muted', true],
      ['unmute', 'muted', false],
      ['deaf', 'deaf', true],
      ['undeaf', 'deaf', false],
    ] as const) {
      const res = await h.req('POST', `/v1/conferences/team-1234/participants/in-1/${action}`);
      expect(res.status).toBe(200);
      expect((await json(res))[field]).toBe(value);
      expect(h.runtime.conference('team-1234')?.member('in-1')?.[field]).toBe(value);
    }
    const res = await h.req('POST', '/v1/conferences/team-1234/participants/nobody/mute');
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({
      error: {
        status: 404,
        code: 'participant-not-found',
        message: 'no participant "nobody" in conference "team-1234"',
      },
    });
    const gain = await h.req('PUT', '/v1/conferences/team-1234/participants/in-1/gain', { gain: 2.5 });
    expect((await json(gain)).gain).toBe(2.5);
    const media = h.runtime.ports.media as SimMedia;
    expect(media.routing('team-1234', 'in-1')?.gain).toBe(2.5);
    const tooLoud = await h.req('PUT', '/v1/conferences/team-1234/participants/in-1/gain', { gain: 99 });
    expect(tooLoud.status).toBe(422);
    expect((await json(tooLoud)).error.details[0]).toMatchObject({ where: 'body/gain' });
    const get = await h.req('GET', '/v1/conferences/team-1234/participants/in-1');
    expect((await json(get)).id).toBe('in-1');
  });

  it('locks: a new caller is refused; unlocks: the next one joins', async () => {
    const locked = await json(await h.req('POST', '/v1/conferences/team-1234/lock'));
    expect(locked.locked).toBe(true);
    await h.call('conf-1234', 'bob@example.com');
    await h.waitFor(() => h.events.some((e) => e.type === 'full' && e.fields.locked === true), 'full event');
    expect(await participants('team-1234')).toHaveLength(1);
    expect((await json(await h.req('POST', '/v1/conferences/team-1234/unlock'))).locked).toBe(false);
    await h.call('conf-1234', 'carol@example.com');
    await h.waitFor(() => h.runtime.conference('team-1234')?.members().length === 2, 'carol joined');
  });

  it('says and plays to all and to one participant; refuses paths out of the config folder', async () => {
    expect((await h.req('POST', '/v1/conferences/team-1234/say', { text: 'Hello all.' })).status).toBe(202);
    expect((await h.req('POST', '/v1/conferences/team-1234/play', { file: 'audio/chime.wav' })).status).toBe(
      202,
    );
    expect(
      (await h.req('POST', '/v1/conferences/team-1234/participants/in-1/say', { text: 'Hi.' })).status,
    ).toBe(202);
    const one = '/v1/conferences/team-1234/participants';
    expect((await h.req('POST', `${one}/in-1/play`, { url: 'https://example.com/a.wav' })).status).toBe(202);
    expect((await h.req('POST', `${one}/nobody/play`, { file: 'audio/chime.wav' })).status).toBe(404);
    expect((await h.req('POST', `${one}/in-1/say`, { text: '' })).status).toBe(422);
    const out = await h.req('POST', '/v1/conferences/team-1234/play', { file: '../../etc/passwd' });
    expect(out.status).toBe(422);
    expect((await json(out)).error.code).toBe('invalid-file');
    const both = await h.req('POST', '/v1/conferences/team-1234/play', {
      file: 'a.wav',
      url: 'http://x/y.wav',
    });
    expect(both.status).toBe(422);
    expect(
      h.events.some(
        (e) => e.source === 'conference:team-1234' && e.type === 'say' && e.fields.text === 'Hello all.',
      ),
    ).toBe(true);
  });

  it('records the mix and one participant, and stops them', async () => {
    const mix = await h.req('POST', '/v1/conferences/team-1234/recordings', { file: 'mix-1.wav' });
    expect(mix.status).toBe(201);
    const m = await json(mix);
    expect(m).toMatchObject({ file: 'mix-1.wav', direction: 'in' });
    const one = await json(
      await h.req('POST', '/v1/conferences/team-1234/recordings', { participant: 'in-1', direction: 'out' }),
    );
    expect(one).toMatchObject({ participant: 'in-1', direction: 'out' });
    const bad = await h.req('POST', '/v1/conferences/team-1234/recordings', { direction: 'out' });
    expect(bad.status).toBe(422);
    const stop = await h.req('DELETE', `/v1/conferences/team-1234/recordings/${m.id}`);
    expect(stop.status).toBe(200);
    expect(await json(stop)).toMatchObject({ id: m.id, file: 'mix-1.wav' });
    expect((await h.req('DELETE', `/v1/conferences/team-1234/recordings/${m.id}`)).status).toBe(404);
    expect((await h.req('DELETE', `/v1/conferences/team-1234/recordings/${one.id}`)).status).toBe(200);
  });

  it('links and unlinks conferences', async () => {
    const res = await h.req('POST', '/v1/conferences/team-1234/links', {
      conference: 'team-1',
      direction: 'in',
    });
    expect(res.status).toBe(201);
    expect(h.events.some((e) => e.type === 'link' && e.fields.conference === 'team-1')).toBe(true);
    expect((await h.req('POST', '/v1/conferences/team-1234/links', { conference: 'team-77' })).status).toBe(
      404,
    );
    expect((await h.req('POST', '/v1/conferences/team-1234/links', { conference: 'team-1234' })).status).toBe(
      422,
    );
    expect((await h.req('DELETE', '/v1/conferences/team-1234/links/team-1')).status).toBe(200);
    expect(h.events.some((e) => e.type === 'unlink')).toBe(true);
  });

  it('sends a message to every participant', async () => {
    const res = await h.req('POST', '/v1/conferences/team-1234/messages', {
      text: 'Meeting ends in 5 minutes.',
    });
    expect(await json(res)).toEqual({ status: 'sent', sent: 2, failed: 0 });
    expect(h.legs.find((l) => l.info.id === 'in-1')?.received).toContain('Meeting ends in 5 minutes.');
  });

  it('dials a participant out; refuses a destination outside dialout.allow', async () => {
    const res = await h.req('POST', '/v1/conferences/team-1234/participants', { to: 'sip:dave@127.0.0.1' });
    expect(res.status).toBe(201);
    const { participant } = await json(res);
    await h.waitFor(() => h.runtime.conference('team-1234')?.member(participant), 'dialled participant');
    const refused = await h.req('POST', '/v1/conferences/team-1234/participants', {
      to: 'sip:evil@example.org',
    });
    expect(refused.status).toBe(422);
    expect(await json(refused)).toEqual({
      error: {
        status: 422,
        code: 'dial-refused',
        message: '"sip:evil@example.org" is not allowed by dialout.allow',
      },
    });
  });

  it('moves a participant to another conference and kicks one', async () => {
    const moved = await h.req('POST', '/v1/conferences/team-1234/participants/in-1/move', {
      conference: 'team-1',
    });
    expect(moved.status).toBe(200);
    expect((await json(moved)).id).toBe('in-1');
    expect(h.runtime.conference('team-1')?.member('in-1')).toBeDefined();
    expect(h.runtime.conference('team-1234')?.member('in-1')).toBeUndefined();
    const kick = await h.req('DELETE', '/v1/conferences/team-1/participants/in-1');
    expect(kick.status).toBe(200);
    expect(h.legs.find((l) => l.info.id === 'in-1')?.state).toBe('ended');
    expect(h.runtime.conference('team-1')?.member('in-1')).toBeUndefined();
  });

  it('ends a conference: its callers are hung up', async () => {
    const res = await h.req('DELETE', '/v1/conferences/team-1234');
    expect(res.status).toBe(200);
    expect((await h.req('GET', '/v1/conferences/team-1234')).status).toBe(404);
    expect(h.legs.find((l) => l.info.from === 'carol@example.com')?.state).toBe('ended');
  });
});

describe('scenarios and session requests', () => {
  it('starts a scenario with variables; 422 without a required one; 404 for an unknown one', async () => {
    const res = await h.req('POST', '/v1/scenarios/reminder', { number: 'erin', text: 'Stand-up in five.' });
    expect(res.status).toBe(201);
    expect(await json(res)).toMatchObject({
      scenario: 'reminder',
      session: expect.stringMatching(/^scenario:reminder#/),
    });
    const missing = await h.req('POST', '/v1/scenarios/reminder', {});
    expect(missing.status).toBe(422);
    expect((await json(missing)).error).toMatchObject({ code: 'missing-variable' });
    expect((await h.req('POST', '/v1/scenarios/nothing', {})).status).toBe(404);
  });

  it("delivers a body to a conference flow and answers with the flow's response", async () => {
    await h.call('support', 'frank@example.com');
    await h.waitFor(() => h.runtime.conference('support-room'), 'support room');
    const ok = await h.req('POST', '/v1/sessions/support-room/requests?path=/dial', { number: 'expert' });
    expect(ok.status).toBe(202);
    expect(await json(ok)).toEqual({ dialling: 'expert' });
    const bad = await h.req('POST', '/v1/sessions/support-room/requests', { nothing: true });
    expect(bad.status).toBe(400);
    expect(await json(bad)).toEqual({ error: 'POST a JSON body with a number' });
    const none = await h.req('POST', '/v1/sessions/nowhere/requests', {});
    expect(none.status).toBe(404);
    expect((await json(none)).error.code).toBe('session-not-found');
    // A participant flow without an http handler answers 404 itself.
    const flow = await h.req('POST', `/v1/sessions/${h.legs.at(-1)?.info.id}/requests`, {});
    expect(flow.status).toBe(404);
  });
});

describe('a flow that does not answer', () => {
  it('gives 504 with the error body once the session timeout passes', async () => {
    writeFileSync(
      path.join(h.dir, 'silent.yaml'),
      [
        'kind: scenario',
        'name: silent-http',
        'flow:',
        '  start: wait',
        '  states:',
        '    wait:',
        '      on:',
        '        http: { log: "heard a request and said nothing" }',
        '        after 60s: end',
        '',
      ].join('\n'),
    );
    expect((await json(await h.req('POST', '/v1/config/reload'))).status).toBe('reloaded');
    const { session } = await json(await h.req('POST', '/v1/scenarios/silent-http', {}));
    const res = await h.req('POST', `/v1/sessions/${encodeURIComponent(session)}/requests`, { hello: 1 });
    expect(res.status).toBe(504);
    expect(await json(res)).toEqual({
      error: { status: 504, code: 'no-response', message: 'the flow did not respond within 1000 ms' },
    });
  });
});

describe('recordings on disk', () => {
  const wav = () => {
    const data = Buffer.alloc(1600);
    const header = Buffer.alloc(44);
    header.write('RIFF', 0);
    header.writeUInt32LE(36 + data.length, 4);
    header.write('WAVEfmt ', 8);
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20);
    header.writeUInt16LE(1, 22);
    header.writeUInt32LE(8000, 24);
    header.writeUInt32LE(16000, 28);
    header.writeUInt16LE(2, 32);
    header.writeUInt16LE(16, 34);
    header.write('data', 36);
    header.writeUInt32LE(data.length, 40);
    return Buffer.concat([header, data]);
  };

  it('lists, downloads with Range, refuses traversal, deletes', async () => {
    writeFileSync(path.join(h.recordings, 'a.wav'), wav());
    const list = await json(await h.req('GET', '/v1/recordings'));
    expect(list.recordings).toEqual([
      expect.objectContaining({ id: 'a.wav', size: 1644, url: '/v1/recordings/a.wav', recording: false }),
    ]);
    const full = await h.req('GET', '/v1/recordings/a.wav');
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toMatch(/^audio\/(x-)?wav/);
    expect((await full.arrayBuffer()).byteLength).toBe(1644);
    const part = await fetch(`${h.base}/v1/recordings/a.wav`, {
      headers: { authorization: `Bearer ${'admin-token-0123456789abcdef'}`, range: 'bytes=0-3' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 0-3/1644');
    expect(Buffer.from(await part.arrayBuffer()).toString()).toBe('RIFF');
    expect((await h.req('GET', '/v1/recordings/..%2F..%2Fetc%2Fpasswd')).status).toBe(404);
    expect((await h.req('GET', '/v1/recordings/missing.wav')).status).toBe(404);
    expect((await h.req('DELETE', '/v1/recordings/a.wav')).status).toBe(204);
    expect((await h.req('DELETE', '/v1/recordings/a.wav')).status).toBe(404);
  });

  it('refuses to delete a recording still being written (409)', async () => {
    await h.req('POST', '/v1/conferences', { name: 'team-3' });
    const rec = await json(await h.req('POST', '/v1/conferences/team-3/recordings', { file: 'live.wav' }));
    writeFileSync(path.join(h.recordings, 'live.wav'), wav());
    const res = await h.req('DELETE', '/v1/recordings/live.wav');
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('recording-in-progress');
    await h.req('DELETE', `/v1/conferences/team-3/recordings/${rec.id}`);
    expect((await h.req('DELETE', '/v1/recordings/live.wav')).status).toBe(204);
  });
});
