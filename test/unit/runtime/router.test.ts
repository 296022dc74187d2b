// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Parley templates are written with ${...}
import { describe, expect, it } from 'vitest';
import { celExpressions } from '../../../src/runtime/expressions.js';
import { type RouteRequest, Router } from '../../../src/runtime/router.js';
import { route } from './helpers.js';

const req = (over: Partial<RouteRequest> = {}): RouteRequest => ({
  to: 'conf-1234',
  from: 'alice@example.com',
  headers: {},
  source: '192.0.2.10',
  transport: 'udp',
  ...over,
});

describe('Router', () => {
  const router = new Router(
    [
      route({ from: '^anonymous@' }, { kind: 'reject', code: 403, reason: 'No anonymous calls' }),
      route(
        { to: '^conf-(?<room>\\d{4})$', source: ['10.0.0.0/8', '2001:db8::/32'] },
        { kind: 'conference', name: 'internal-${room}' },
        { tier: 'staff-${room}', vip: true },
      ),
      route(
        { to: '^conf-(?<room>\\d{4})$', headers: { 'x-tenant': '^(?<tenant>[a-z]+)$' } },
        { kind: 'conference', name: '${tenant}-${room}' },
      ),
      route(
        { to: '^conf-(?<room>\\d{4})$', transport: ['ws', 'wss'] },
        { kind: 'scenario', name: 'web-${room}' },
      ),
      route({ to: '^conf-(?<room>\\d{4})$' }, { kind: 'conference', name: 'room-${room}' }),
    ],
    celExpressions,
  );

  it('first match wins; templates see the named captures', () => {
    expect(router.route(req())).toMatchObject({ kind: 'conference', name: 'room-1234', index: 4 });
    expect(router.route(req({ from: 'anonymous@x' }))).toMatchObject({
      kind: 'reject',
      code: 403,
      reason: 'No anonymous calls',
    });
  });

  it('matches source CIDRs (IPv4 and IPv6) and renders route vars', () => {
    const d = router.route(req({ source: '10.1.2.3' }));
    expect(d).toMatchObject({
      kind: 'conference',
      name: 'internal-1234',
      vars: { tier: 'staff-1234', vip: true },
    });
    expect(router.route(req({ source: '2001:db8::5' }))).toMatchObject({ name: 'internal-1234' });
    expect(router.route(req({ source: '11.1.2.3' }))).toMatchObject({ name: 'room-1234' });
    expect(router.route(req({ source: 'not-an-ip' }))).toMatchObject({ name: 'room-1234' });
  });

  it('matches headers case-insensitively by name, with captures', () => {
    expect(router.route(req({ headers: { 'x-tenant': 'acme' } }))).toMatchObject({ name: 'acme-1234' });
    expect(router.route(req({ headers: { 'x-tenant': 'ACME' } }))).toMatchObject({ name: 'room-1234' });
  });

  it('matches transports; no match is kind none', () => {
    expect(router.route(req({ transport: 'WSS' }))).toMatchObject({ kind: 'scenario', name: 'web-1234' });
    expect(router.route(req({ to: 'sales' }))).toEqual({ kind: 'none' });
  });
});
