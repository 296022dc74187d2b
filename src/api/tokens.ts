/**
 * API tokens and their scopes. A token is written `TOKEN` (every scope) or
 * `TOKEN:read` / `TOKEN:read,control`; several are separated by whitespace or `;`
 * (PARLEY_TOKENS, repeated --http-token). `read` sees, `control` changes;
 * `control` does not imply `read`.
 */
import { timingSafeEqual } from 'node:crypto';

export type Scope = 'read' | 'control';
export const SCOPES: readonly Scope[] = ['read', 'control'];

export interface ApiToken {
  token: string;
  scopes: ReadonlySet<Scope>;
}

/** Tokens shorter than this are refused: they are guessable. */
export const MIN_TOKEN_LENGTH = 16;

export class TokenSpecError extends Error {
  override name = 'TokenSpecError';
}

/** Parses `TOKEN[:scope,scope]` entries; throws `TokenSpecError` with the reason. */
export function parseTokens(spec: string | readonly string[]): ApiToken[] {
  const entries = (typeof spec === 'string' ? [spec] : spec)
    .flatMap((s) => s.split(/[\s;]+/))
    .filter((s) => s.length > 0);
  const out: ApiToken[] = [];
  for (const entry of entries) {
    const colon = entry.lastIndexOf(':');
    const token = colon < 0 ? entry : entry.slice(0, colon);
    const scopeText = colon < 0 ? SCOPES.join(',') : entry.slice(colon + 1);
    if (token.length < MIN_TOKEN_LENGTH)
      throw new TokenSpecError(`an API token must be at least ${MIN_TOKEN_LENGTH} characters long`);
    if (!/^[\x21-\x7e]+$/.test(token)) throw new TokenSpecError('an API token must be printable ASCII');
    const scopes = new Set<Scope>();
    for (const s of scopeText.split(',').filter(Boolean)) {
      if (!SCOPES.includes(s as Scope))
        throw new TokenSpecError(`unknown token scope "${s}" (known: ${SCOPES.join(', ')})`);
      scopes.add(s as Scope);
    }
    if (scopes.size === 0) throw new TokenSpecError(`token ending in …${token.slice(-4)} has no scope`);
    out.push({ token, scopes });
  }
  return out;
}

/** Looks a presented token up in constant time per candidate. */
export function findToken(tokens: readonly ApiToken[], presented: string): ApiToken | undefined {
  const p = Buffer.from(presented);
  let found: ApiToken | undefined;
  for (const t of tokens) {
    const b = Buffer.from(t.token);
    if (b.length === p.length && timingSafeEqual(b, p)) found = t;
  }
  return found;
}
