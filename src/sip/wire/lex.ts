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

function trimEndWs(s: string): string {
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
  return end === s.length ? s : s.slice(0, end);
}

export function lexHead(head: string): LexedHead {
  const lines = head.split('\r\n');
  const startLine = lines[0] ?? '';
  const fields: Field[] = [];
  let error: string | undefined = badControlChar(startLine)
    ? 'control character in the start line'
    : undefined;
  // The field being built: its name and value so far (continuations are appended to it).
  let name: string | undefined;
  let value = '';
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] as string;
    const first = line.charCodeAt(0);
    if (first === 0x20 || first === 0x09) {
      // Continuation (LWS): joins the previous field with one space.
      if (badControlChar(line)) error ??= 'control character in a header';
      else if (name !== undefined) value += ` ${line.trim()}`;
      else error ??= 'continuation line without a header';
      continue;
    }
    if (name !== undefined) fields.push({ name, value: value.trim() });
    name = undefined;
    if (line === '') {
      error ??= 'empty line inside the headers';
      continue;
    }
    if (badControlChar(line)) {
      error ??= 'control character in a header';
      continue;
    }
    const colon = line.indexOf(':');
    const rawName = colon < 0 ? '' : trimEndWs(line.slice(0, colon));
    if (!isToken(rawName)) {
      error ??= colon < 0 ? 'header line without a colon' : 'malformed header name';
      continue;
    }
    name = canonicalName(rawName);
    value = line.slice(colon + 1);
  }
  if (name !== undefined) fields.push({ name, value: value.trim() });
  const result: LexedHead = { startLine, fields };
  if (error !== undefined) result.error = error;
  return result;
}
