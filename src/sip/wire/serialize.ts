/** Messages → bytes (through the `sip` package's stringify) and responses built from requests. */
import { randomBytes } from 'node:crypto';
import { sipLibStringify } from './sip-lib.js';
import type { NameAddr, RejectedRequest, SipHeaders, SipRequest, SipResponse } from './types.js';

/** A response to a rejected request: its From/To/Call-ID/CSeq may be raw strings or missing. */
export interface LooseResponse {
  status: number;
  reason: string;
  version: string;
  headers: Record<string, unknown>;
  content: string | Buffer;
}

export type OutgoingMessage =
  | SipRequest
  | SipResponse
  | LooseResponse
  | (Omit<SipRequest, 'content'> & { content: string | Buffer });

/** Thrown for a message that would put a line break into its head (header injection). */
export class SerializeError extends Error {}

/**
 * Body bytes: a Buffer as is; a string one byte per char (the parsed "binary" convention) unless
 * it holds characters above U+00FF, which only a real text string can, and is then UTF-8.
 */
function bodyBytes(content: string | Buffer | undefined): Buffer {
  if (content === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(content)) return content;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is the point
  return /[^\u0000-\u00ff]/.test(content) ? Buffer.from(content, 'utf8') : Buffer.from(content, 'latin1');
}

/** Any CR or LF in a string that goes into the head would start a new header line or the body. */
function assertNoLineBreak(value: unknown, depth: number): void {
  if (typeof value === 'string') {
    if (value.includes('\r') || value.includes('\n'))
      throw new SerializeError('line break inside a header value');
  } else if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    if (depth > 8) throw new SerializeError('header value nested too deeply');
    for (const [k, v] of Object.entries(value)) {
      assertNoLineBreak(k, depth + 1);
      assertNoLineBreak(v, depth + 1);
    }
  }
}

/**
 * Bytes on the wire. Content-Length always matches the body. Header text is written as UTF-8.
 * Throws SerializeError if a header value would break a line (only an application bug can cause
 * that: parsed values never contain CR or LF).
 */
export function serialize(message: OutgoingMessage): Buffer {
  const body = bodyBytes(message.content);
  // The package's stringify writes content-length into the headers it is given: use a copy.
  const copy = { ...message, headers: { ...message.headers }, content: '' };
  assertNoLineBreak(copy, 0);
  const text = sipLibStringify(copy);
  const head = text.replace(/\r\nContent-Length: 0\r\n/i, `\r\nContent-Length: ${body.length}\r\n`);
  return Buffer.concat([Buffer.from(head, 'utf8'), body]);
}

/** Token for a To tag (RFC 3261 §19.3: at least 32 bits of randomness). */
export function newTag(): string {
  return randomBytes(8).toString('hex');
}

/**
 * A response to `request` with its Via, From, To, Call-ID and CSeq copied (RFC 3261 §8.2.6.2). A To
 * without a tag gets a fresh one, except in a 100 Trying. `extraHeaders` (lower-case names) are
 * added as given, e.g. `{ 'retry-after': 5 }`.
 */
export function makeResponse(
  request: SipRequest,
  status: number,
  reason: string,
  extraHeaders?: Record<string, unknown>,
  content?: string,
): SipResponse;
export function makeResponse(
  request: RejectedRequest,
  status: number,
  reason: string,
  extraHeaders?: Record<string, unknown>,
  content?: string,
): LooseResponse;
export function makeResponse(
  request: SipRequest | RejectedRequest,
  status: number,
  reason: string,
  extraHeaders: Record<string, unknown> = {},
  content = '',
): SipResponse | LooseResponse {
  const h = request.headers;
  const headers: Record<string, unknown> = { via: h.via.map((v) => ({ ...v, params: { ...v.params } })) };
  for (const name of ['from', 'to', 'call-id', 'cseq'] as const) {
    if (h[name] !== undefined) headers[name] = h[name];
  }
  const to = headers.to;
  if (status > 100 && typeof to === 'object' && to !== null) {
    const addr = to as NameAddr;
    if (!addr.params || addr.params.tag === undefined) {
      headers.to = { ...addr, params: { ...addr.params, tag: newTag() } };
    }
  }
  for (const [name, value] of Object.entries(extraHeaders)) headers[name.toLowerCase()] = value;
  return { status, reason, version: '2.0', headers: headers as SipHeaders, content };
}
