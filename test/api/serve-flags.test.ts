import { describe, expect, it } from 'vitest';
import { parseHttp } from '../../src/cli/commands/serve.js';
import { UsageError } from '../../src/cli/io.js';

const T = 'flag-token-0123456789abcdef';

describe('parley serve --http flags', () => {
  it('takes host:port with tokens from flags and PARLEY_TOKENS', () => {
    const o = parseHttp(
      { http: '127.0.0.1:8080', httpToken: [`${T}:read`] },
      { PARLEY_TOKENS: 'env-token-0123456789abcdef:read,control' },
    );
    expect(o).toMatchObject({ host: '127.0.0.1', port: 8080, anonymous: false });
    expect(o?.tokens.map((t) => [t.token, [...t.scopes]])).toEqual([
      [T, ['read']],
      ['env-token-0123456789abcdef', ['read', 'control']],
    ]);
    expect(parseHttp({ http: '[::1]:9000', httpToken: [T] }, {})).toMatchObject({ host: '::1', port: 9000 });
  });

  it('refuses to serve the API without a token, saying how to fix it', () => {
    expect(() => parseHttp({ http: '127.0.0.1:8080', httpToken: [] }, {})).toThrow(UsageError);
    expect(() => parseHttp({ http: '127.0.0.1:8080', httpToken: [] }, {})).toThrow(
      /needs a token: --http-token/,
    );
  });

  it('runs without tokens only when asked, and only on loopback', () => {
    expect(parseHttp({ http: '127.0.0.1:8080', httpToken: [], httpInsecure: true }, {})).toMatchObject({
      anonymous: true,
      tokens: [],
    });
    expect(() => parseHttp({ http: '0.0.0.0:8080', httpToken: [], httpInsecure: true }, {})).toThrow(
      /only on a loopback address/,
    );
  });

  it('none turns the API off; bad addresses and weak tokens are usage errors', () => {
    expect(parseHttp({ http: 'none', httpToken: [] }, {})).toBeUndefined();
    expect(() => parseHttp({ http: '8080', httpToken: [T] }, {})).toThrow(/not host:port/);
    expect(() => parseHttp({ http: '127.0.0.1:99999', httpToken: [T] }, {})).toThrow(/not a port/);
    expect(() => parseHttp({ http: '127.0.0.1:8080', httpToken: ['short'] }, {})).toThrow(/at least 16/);
  });
});
