import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signRequest } from '../../src/sip/lib.js';
import type { SipRequest, SipResponse } from '../../src/sip/wire/types.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

function invite(): SipRequest {
  return {
    method: 'INVITE',
    uri: 'sip:bob@trunk.test',
    version: '2.0',
    headers: {
      via: [
        { version: '2.0', protocol: 'UDP', host: '127.0.0.1', port: 5060, params: { branch: 'z9hG4bKx' } },
      ],
      from: { uri: 'sip:alice@parley.test', params: { tag: 'a' } },
      to: { uri: 'sip:bob@trunk.test', params: {} },
      'call-id': 'digest-1',
      cseq: { seq: 2, method: 'INVITE' },
    },
    content: '',
  };
}

function challenge(status: 401 | 407, fields: Record<string, string>): SipResponse {
  const header = status === 401 ? 'www-authenticate' : 'proxy-authenticate';
  return {
    status,
    reason: 'Unauthorized',
    version: '2.0',
    headers: { ...invite().headers, [header]: [{ scheme: 'Digest', ...fields }] },
    content: '',
  };
}

const unq = (v: unknown): string => String(v).replace(/^"(.*)"$/, '$1');

describe('digest authentication of our requests (RFC 2617 via the sip package)', () => {
  it('answers a 401 without qop: response = MD5(HA1:nonce:HA2)', () => {
    const request = invite();
    expect(
      signRequest(request, challenge(401, { realm: '"trunk.test"', nonce: '"n0nce"' }), {
        user: 'alice',
        password: 'secret',
      }),
    ).toBe(true);
    const [auth] = request.headers.authorization as Array<Record<string, string>>;
    const ha1 = md5('alice:trunk.test:secret');
    const ha2 = md5('INVITE:sip:bob@trunk.test');
    expect(unq(auth?.response)).toBe(md5(`${ha1}:n0nce:${ha2}`));
    expect(unq(auth?.username)).toBe('alice');
    expect(unq(auth?.uri)).toBe('sip:bob@trunk.test');
  });

  it('answers a 407 with qop=auth in Proxy-Authorization, with nc and cnonce', () => {
    const request = invite();
    const rs = challenge(407, { realm: '"proxy.test"', nonce: '"abc"', qop: '"auth"', opaque: '"op"' });
    expect(signRequest(request, rs, { user: 'alice', password: 'secret' })).toBe(true);
    expect(request.headers.authorization).toBeUndefined();
    const [auth] = request.headers['proxy-authorization'] as Array<Record<string, string>>;
    const ha1 = md5('alice:proxy.test:secret');
    const ha2 = md5('INVITE:sip:bob@trunk.test');
    const cnonce = unq(auth?.cnonce);
    expect(auth?.nc).toBe('00000001');
    expect(unq(auth?.response)).toBe(md5(`${ha1}:abc:00000001:${cnonce}:auth:${ha2}`));
    expect(unq(auth?.opaque)).toBe('op');
  });

  it('refuses challenges it cannot answer instead of throwing', () => {
    const basic = challenge(401, { realm: '"x"' });
    (basic.headers['www-authenticate'] as Array<Record<string, string>>)[0]!.scheme = 'Basic';
    expect(signRequest(invite(), basic, { user: 'a', password: 'b' })).toBe(false);
    const none = { ...challenge(401, {}), headers: invite().headers } as SipResponse;
    expect(signRequest(invite(), none, { user: 'a', password: 'b' })).toBe(false);
    expect(signRequest(invite(), challenge(401, { nonce: '"n"' }), { user: 'a', password: 'b' })).toBe(false);
  });
});
