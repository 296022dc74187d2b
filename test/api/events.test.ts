import { createServer, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ApiEvent } from '../../src/api/event-hub.js';
import { signature } from '../../src/api/webhooks.js';
import { ADMIN, type Harness, json, READ, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

/** Reads an SSE response into events as they arrive. */
function sse(res: Response): { events: ApiEvent[]; stop(): void } {
  const events: ApiEvent[] = [];
  const reader = res.body?.getReader();
  if (!reader) throw new Error('no body');
  const decoder = new TextDecoder();
  let buf = '';
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let i = buf.indexOf('\n\n');
      while (i >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        if (data) events.push(JSON.parse(data) as ApiEvent);
        i = buf.indexOf('\n\n');
      }
    }
  })();
  return { events, stop: () => void reader.cancel().catch(() => undefined) };
}

describe('event stream', () => {
  it('gives the exact order and content of events for a scripted call (SSE, filtered by conference)', async () => {
    const res = await fetch(`${h.base}/v1/events?conference=team-5555`, {
      headers: { authorization: `Bearer ${READ}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const stream = sse(res);
    // Another conference's events must not show up.
    await h.call('conf-4444', 'zed@example.com');
    const leg = await h.call('conf-5555', 'alice@example.com');
    await h.waitFor(() => h.runtime.conference('team-5555')?.member(leg.info.id), 'joined');
    leg.remote({ type: 'dtmf', digit: '5' });
    leg.remote({ type: 'talking' });
    leg.remote({ type: 'silent' });
    await h.req('POST', `/v1/conferences/team-5555/participants/${leg.info.id}/mute`);
    leg.remote({ type: 'hangup' });
    await h.waitFor(() => h.runtime.conference('team-5555')?.members().length === 0, 'left');
    await h.req('DELETE', '/v1/conferences/team-5555');
    await h.waitFor(() => stream.events.some((e) => e.type === 'conference.ended'), 'conference.ended');
    stream.stop();
    const id = leg.info.id;
    const about = { conference: 'team-5555', participant: id };
    expect(
      stream.events.map(({ type, conference, participant, data }) => ({
        type,
        conference,
        participant,
        data,
      })),
    ).toEqual([
      { type: 'conference.started', conference: 'team-5555', participant: undefined, data: {} },
      {
        type: 'participant.joined',
        ...about,
        data: {
          caller: 'alice@example.com',
          role: 'participant',
          muted: false,
          deaf: false,
          participants: 1,
        },
      },
      { type: 'dtmf', ...about, data: { digit: '5' } },
      { type: 'participant.talking', ...about, data: { talking: true } },
      { type: 'participant.talking', ...about, data: { talking: false } },
      { type: 'participant.muted', ...about, data: { muted: true } },
      { type: 'participant.left', ...about, data: { reason: 'hangup', participants: 0 } },
      { type: 'conference.ended', conference: 'team-5555', participant: undefined, data: { reason: 'api' } },
    ]);
    const ids = stream.events.map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    for (const e of stream.events) expect(Number.isNaN(Date.parse(e.time))).toBe(false);
  });

  it('resumes from Last-Event-ID out of the backlog', async () => {
    const all = await fetch(
      `${h.base}/v1/events?conference=team-5555&types=participant.joined,participant.left`,
      {
        headers: { authorization: `Bearer ${READ}`, 'last-event-id': '0' },
      },
    );
    const stream = sse(all);
    await h.waitFor(() => stream.events.length >= 2, 'backlog');
    stream.stop();
    expect(stream.events.map((e) => e.type)).toEqual(['participant.joined', 'participant.left']);
  });

  it('refuses unknown event types (422) and needs a token', async () => {
    const res = await h.req('GET', '/v1/events?types=participant.sneezed');
    expect(res.status).toBe(422);
    expect((await json(res)).error.message).toMatch(/unknown event type "participant.sneezed"/);
    expect((await fetch(`${h.base}/v1/events`)).status).toBe(401);
  });

  it('streams over a WebSocket with the token in the query', async () => {
    const url = `${h.base.replace('http', 'ws')}/v1/events/ws?conference=team-6666&access_token=${READ}`;
    const ws = new WebSocket(url);
    const got: ApiEvent[] = [];
    ws.on('message', (m) => got.push(JSON.parse(String(m)) as ApiEvent));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await h.req('POST', '/v1/conferences', { name: 'team-6666' });
    await h.waitFor(() => got.length >= 1, 'ws event');
    expect(got[0]).toMatchObject({ type: 'conference.started', conference: 'team-6666' });
    await new Promise((resolve) => {
      ws.once('close', resolve);
      ws.close();
    });
    const denied = new WebSocket(`${h.base.replace('http', 'ws')}/v1/events/ws`);
    const status = await new Promise<number>((resolve) => {
      denied.once('unexpected-response', (req, res) => {
        // ws leaves the refused request open for the listener to read: end it.
        req.destroy();
        resolve(res.statusCode ?? 0);
      });
      denied.once('open', () => resolve(101));
    });
    expect(status).toBe(401);
  });
});

describe('webhooks', () => {
  it('POSTs signed events of its conference, retrying after a failure', async () => {
    const received: Array<{ body: string; headers: IncomingMessage['headers'] }> = [];
    let failFirst = true;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        if (failFirst) {
          failFirst = false;
          res.writeHead(503).end();
          return;
        }
        received.push({ body, headers: req.headers });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    try {
      const secret = 'a-webhook-secret-of-some-length';
      const res = await h.req('POST', '/v1/conferences/team-7777/webhooks', {
        url: `http://127.0.0.1:${port}/hook`,
        secret,
        types: ['conference.started', 'conference.ended'],
      });
      expect(res.status).toBe(201);
      const hook = await json(res);
      expect(hook.secret).toBe(secret);
      await h.req('POST', '/v1/conferences', { name: 'team-7777' });
      await h.req('POST', '/v1/conferences', { name: 'team-8888' });
      await h.req('DELETE', '/v1/conferences/team-7777');
      await h.waitFor(() => received.length >= 2, 'two deliveries');
      const bodies = received.map((r) => JSON.parse(r.body) as ApiEvent);
      expect(bodies.map((b) => [b.type, b.conference])).toEqual([
        ['conference.started', 'team-7777'],
        ['conference.ended', 'team-7777'],
      ]);
      for (const r of received) {
        const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(r.headers['x-parley-signature']));
        expect(m).not.toBeNull();
        expect(m?.[2]).toBe(signature(secret, Number(m?.[1]), r.body));
      }
      const list = await json(await h.req('GET', '/v1/webhooks?conference=team-7777'));
      expect(list.webhooks[0]).toMatchObject({ id: hook.id, delivered: 2, failed: 0 });
      expect(list.webhooks[0].secret).toBeUndefined();
      expect((await h.req('DELETE', `/v1/webhooks/${hook.id}`)).status).toBe(204);
      expect((await h.req('DELETE', `/v1/webhooks/${hook.id}`)).status).toBe(404);
      const bad = await h.req('POST', '/v1/conferences/x/webhooks', { url: 'ftp://nope' }, ADMIN);
      expect(bad.status).toBe(422);
    } finally {
      server.close();
    }
  });
});
