import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyApi } from '../../src/api/app.js';
import { parseTokens, TokenSpecError } from '../../src/api/tokens.js';
import { CONTROL, type Harness, json, quiet, READ, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('authentication and errors', () => {
  it('401 without a token, with the body and WWW-Authenticate', async () => {
    const res = await h.req('GET', '/v1/conferences', undefined, null);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await json(res)).toEqual({
      error: { status: 401, code: 'unauthorized', message: 'send a token: Authorization: Bearer <token>' },
    });
  });

  it('401 for an unknown token', async () => {
    const res = await h.req('GET', '/v1/conferences', undefined, 'not-a-real-token-at-all-xx');
    expect(res.status).toBe(401);
    expect((await json(res)).error).toMatchObject({
      code: 'unauthorized',
      message: 'the token is not valid',
    });
  });

  it('403 for a read token on a control route, and a control token on a read route', async () => {
    const a = await h.req('POST', '/v1/conferences', { name: 'team-1' }, READ);
    expect(a.status).toBe(403);
    expect(await json(a)).toEqual({
      error: {
        status: 403,
        code: 'forbidden',
        message: 'this token lacks the "control" scope',
        details: { needs: 'control' },
      },
    });
    const b = await h.req('GET', '/v1/conferences', undefined, CONTROL);
    expect(b.status).toBe(403);
    expect((await json(b)).error.message).toBe('this token lacks the "read" scope');
  });

  it('a read token reads', async () => {
    const res = await h.req('GET', '/v1/conferences', undefined, READ);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ conferences: [] });
  });

  it('the token is accepted in the query for GET only', async () => {
    const ok = await fetch(`${h.base}/v1/config?access_token=${READ}`);
    expect(ok.status).toBe(200);
    const post = await fetch(`${h.base}/v1/config/reload?access_token=${CONTROL}`, { method: 'POST' });
    expect(post.status).toBe(401);
  });

  it('404 for an unknown route with the error body', async () => {
    const res = await h.req('GET', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({
      error: { status: 404, code: 'route-not-found', message: 'no route GET /v1/nothing-here' },
    });
  });

  it('422 for a body that fails its schema, naming the field', async () => {
    const res = await h.req('POST', '/v1/conferences', { name: 'team-1', colour: 'red' });
    expect(res.status).toBe(422);
    const body = await json(res);
    expect(body.error.code).toBe('invalid-request');
    expect(body.error.message).toMatch(/additional properties/);
    expect(body.error.details[0]).toMatchObject({ where: 'body' });
  });

  it('400 for malformed JSON', async () => {
    const res = await h.req('POST', '/v1/conferences', '{"name":');
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe('bad-request');
  });

  it('health and readiness are open; metrics need a token', async () => {
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${h.base}/readyz`);
    expect(ready.status).toBe(200);
    expect((await json(ready)).version).toBe(h.config.current.version);
    expect((await fetch(`${h.base}/metrics`)).status).toBe(401);
  });

  it('serves the OpenAPI document with every /v1 route', async () => {
    const res = await fetch(`${h.base}/docs/json`);
    expect(res.status).toBe(200);
    const doc = await json(res);
    expect(doc.openapi).toBe('3.1.0');
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/v1/conferences',
      '/v1/conferences/{name}',
      '/v1/conferences/{name}/participants/{id}/mute',
      '/v1/sessions/{id}/requests',
      '/v1/recordings',
      '/v1/config',
      '/v1/events',
    ])
      expect(paths).toContain(p);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    expect((await fetch(`${h.base}/docs`)).status).toBeLessThan(400);
  });
});

describe('tokens', () => {
  it('parses scopes and refuses weak or unknown ones', () => {
    const [a, b] = parseTokens('abcdefghijklmnop:read;qrstuvwxyz0123456');
    expect([...(a?.scopes ?? [])]).toEqual(['read']);
    expect([...(b?.scopes ?? [])]).toEqual(['read', 'control']);
    expect(() => parseTokens('short')).toThrow(TokenSpecError);
    expect(() => parseTokens('abcdefghijklmnop:admin')).toThrow(/unknown token scope "admin"/);
  });

  it('the API refuses to start without a token unless anonymous', async () => {
    await expect(
      ParleyApi.create({ backend: h.api.app as never, tokens: [], logger: quiet }),
    ).rejects.toThrow(/needs at least one token/);
  });
});

describe('rate limit', () => {
  it('answers 429 with the error body once a token has used its requests', async () => {
    const limited = await startHarness({ rateLimitPerMinute: 3 });
    try {
      for (let i = 0; i < 3; i++) expect((await limited.req('GET', '/v1/conferences')).status).toBe(200);
      const res = await limited.req('GET', '/v1/conferences');
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      const body = await json(res);
      expect(body.error).toMatchObject({ status: 429, code: 'rate-limited' });
      expect(body.error.message).toMatch(/^too many requests: at most 3 per/);
      // Another token has its own allowance.
      expect((await limited.req('GET', '/v1/conferences', undefined, READ)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
