/**
 * Splits a message head (start line + header fields, without the blank line) into its start line
 * and header fields: unfolds continuation lines (RFC 3261 §7.3.1), expands compact names, and
 * reports what breaks the line structure. It collects every well-formed field even after an error,
 * so a rejection can still be addressed from the Via/From/To/Call-ID/CSeq that were readable.
 */
import { isToken } from './grammar.js';

export interface Field {
  /** Lower-cased long name (compact forms expanded; `%` escapes are NOT decoded: RFC 4475 esc02). */
  name: string;
  /** Unfolded value, trimmed. */
  value: string;
}

export interface LexedHead {
  startLine: string;
  fields: Field[];
  /** The first structural error, if any. */
  error?: string;
}

/** RFC 3261 §7.3.3 and the later RFCs that registered compact forms. */
const COMPACT: Record<string, string> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

export function canonicalName(raw: string): string {
  const lower = raw.toLowerCase();
  return COMPACT[lower] ?? lower;
}

/**
 * Raw control characters are allowed only as the second half of a quoted-pair ("\" + char), as
 * RFC 4475 intmeth uses them inside a quoted display name; CR and LF never (a bare one left after
 * splitting on CRLF would let an echoed value break a line of our answer).
 */
function badControlChar(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
      if (c === 0x0d || c === 0x0a || i === 0 || line.charCodeAt(i - 1) !== 0x5c) return true;
    }
  }
  return false;
}

export function lexHead(head: string): LexedHead {
  const lines = head.split('\r\n');
  const startLine = lines[0] ?? '';
  const fields: Field[] = [];
  let error: string | undefined;
  const fail = (why: string): void => {
    error ??= why;
  };
  if (badControlChar(startLine)) fail('control character in the start line');

  let current: { name: string; parts: string[] } | undefined;
  const flush = (): void => {
    if (current) fields.push({ name: current.name, value: current.parts.join(' ').trim() });
    current = undefined;
  };
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] as string;
    if (badControlChar(line)) {
      flush();
      fail('control character in a header');
      continue;
    }
    const first = line.charCodeAt(0);
    if (first === 0x20 || first === 0x09) {
      // Continuation (LWS): joins the previous field with one space.
      if (current) current.parts.push(line.trim());
      else fail('continuation line without a header');
      continue;
    }
    flush();
    if (line === '') {
      fail('empty line inside the headers');
      continue;
    }
    const colon = line.indexOf(':');
    const rawName = colon < 0 ? '' : line.slice(0, colon).replace(/[ \t]+$/, '');
    if (!isToken(rawName)) {
      fail(colon < 0 ? 'header line without a colon' : 'malformed header name');
      continue;
    }
    current = { name: canonicalName(rawName), parts: [line.slice(colon + 1).trim()] };
  }
  flush();
  const result: LexedHead = { startLine, fields };
  if (error !== undefined) result.error = error;
  return result;
}
