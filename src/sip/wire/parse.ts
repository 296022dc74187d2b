/**
 * Turns one delimited message (head text + the bytes after the blank line) into a verdict: a
 * checked message, a rejection the transport answers, or a drop. Shared by the datagram path and
 * the stream framer. Rules (RFC 3261, checked against the RFC 4475 torture messages):
 * - request line `Method SP Request-URI SP SIP/2.0`: a token method, a URI without whitespace or
 *   angle brackets (400), version SIP/2.0 exactly (505); runs of spaces between the three parts and
 *   trailing spaces are tolerated (RFC 4475 lwsstart, trws);
 * - Via, From, To, Call-ID, CSeq mandatory (400 naming them); Max-Forwards is not, so RFC 2543 peers
 *   still get through (RFC 4475 inv2543);
 * - single-value headers at most once; CSeq number below 2^31 and its method equal to the request's;
 *   Max-Forwards 0..255; Content-Length a non-negative integer not larger than the body on a
 *   datagram; bytes after Content-Length are discarded;
 * - Request-URI schemes other than sip, sips and tel: 416 (after the syntax checks).
 * - Max-Forwards 0 is not refused here: Parley is the UAS, and RFC 3261 §8.2 gives a UAS no
 *   Max-Forwards check (§16.3's 483 is a proxy's); whoever forwards a request decrements and checks.
 * Responses that break any rule are dropped: there is no one to answer.
 */
import {
  boundedInteger,
  checkCallId,
  checkMediaType,
  checkUri,
  GrammarError,
  isAuthParamList,
  isToken,
  lenientTopVia,
  parseCSeq,
  parseNameAddr,
  parseNameAddrList,
  parseVias,
} from './grammar.js';
import { type Field, lexHead } from './lex.js';
import { parseHeadersWithSipLib, SIP_LIB_PARSED } from './sip-lib.js';
import type { CSeq, NameAddr, RejectedRequest, SipHeaders, Via, WireVerdict } from './types.js';

export type TransportKind = 'datagram' | 'stream';

/** Headers that may appear once only (RFC 3261 §7.3.1: their grammar has no comma list). */
const SINGLE_VALUE = new Set([
  'call-id',
  'cseq',
  'from',
  'to',
  'max-forwards',
  'content-length',
  'content-type',
  'expires',
]);

const DISPLAY: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  from: 'From',
  to: 'To',
  via: 'Via',
  'max-forwards': 'Max-Forwards',
  'content-length': 'Content-Length',
  'content-type': 'Content-Type',
  expires: 'Expires',
};

const MAX_CONTENT_LENGTH = 2 ** 31 - 1;

/** Thrown inside the checks; `status` is what a request gets. Not an Error: no stack to capture. */
class Refusal {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {}
}

function badRequest(why: string): Refusal {
  return new Refusal(400, `Bad Request (${why})`);
}

interface Collected {
  headers: Record<string, unknown>;
  contentLength: number | undefined;
}

/** Checks every field and builds the headers object; throws a Refusal at the first fault. */
function collectHeaders(fields: readonly Field[]): Collected {
  const headers: Record<string, unknown> = {};
  const seen = new Set<string>();
  const vias: Via[] = [];
  let contacts: NameAddr[] | '*' | undefined;
  const lists: Record<string, NameAddr[]> = {};
  const delegated: Field[] = [];
  let contentLength: number | undefined;

  for (const { name, value } of fields) {
    if (SINGLE_VALUE.has(name)) {
      if (seen.has(name)) throw badRequest(`more than one ${DISPLAY[name]} header`);
      seen.add(name);
    }
    try {
      switch (name) {
        case 'via':
          for (const v of parseVias(value)) vias.push(v);
          break;
        case 'from':
        case 'to':
        case 'refer-to':
        case 'referred-by':
          headers[name] = parseNameAddr(value, DISPLAY[name] ?? name);
          break;
        case 'contact': {
          const list = parseNameAddrList(value, 'Contact', true);
          if (list === '*' || contacts === '*') {
            if (contacts !== undefined) throw new GrammarError('Contact * together with other contacts');
            contacts = list;
          } else if (contacts === undefined) {
            contacts = list;
          } else {
            // push, not spread into a new array: thousands of Contact lines must stay linear.
            for (const c of list) contacts.push(c);
          }
          break;
        }
        case 'route':
        case 'record-route':
        case 'path': {
          const list = parseNameAddrList(value, name, false) as NameAddr[];
          const prior = lists[name];
          if (prior) for (const r of list) prior.push(r);
          else lists[name] = list;
          break;
        }
        case 'call-id':
          checkCallId(value);
          headers[name] = value;
          break;
        case 'cseq':
          headers[name] = parseCSeq(value);
          break;
        case 'max-forwards':
          if (boundedInteger(value, 255) === undefined) throw new GrammarError('Max-Forwards out of range');
          headers[name] = value;
          break;
        case 'content-length': {
          if (!/^\d+$/.test(value)) throw new GrammarError('malformed Content-Length');
          const n = boundedInteger(value, MAX_CONTENT_LENGTH);
          if (n === undefined) throw new GrammarError('Content-Length out of range');
          contentLength = n;
          break;
        }
        case 'content-type':
          checkMediaType(value, 'Content-Type');
          headers[name] = value;
          break;
        case 'expires':
          if (boundedInteger(value, 2 ** 32 - 1) === undefined)
            throw new GrammarError('Expires out of range');
          headers[name] = value;
          break;
        default:
          if (
            SIP_LIB_PARSED.has(name) &&
            isAuthParamList(name === 'authentication-info' ? `x ${value}` : value)
          ) {
            delegated.push({ name, value });
          } else {
            // Everything else stays a string, several occurrences joined, as the sip package does.
            const prior = headers[name];
            headers[name] = typeof prior === 'string' ? `${prior},${value}` : value;
          }
      }
    } catch (e) {
      if (e instanceof GrammarError) throw badRequest(e.message);
      throw e;
    }
  }
  if (contacts !== undefined) headers.contact = contacts;
  for (const [name, list] of Object.entries(lists)) headers[name] = list;
  Object.assign(headers, parseHeadersWithSipLib(delegated));
  // Via first: the package's stringify writes headers in key order, and Via leads by convention.
  return { headers: vias.length > 0 ? { via: vias, ...headers } : headers, contentLength };
}

function missingMandatory(headers: Record<string, unknown>): string[] {
  return ['via', 'from', 'to', 'call-id', 'cseq']
    .filter((h) => headers[h] === undefined)
    .map((h) => DISPLAY[h] as string);
}

/** Body per Content-Length; on a datagram a missing Content-Length means "the rest" (RFC 3261 §18.3). */
function takeBody(rest: Buffer, contentLength: number | undefined, mode: TransportKind): string {
  if (contentLength === undefined) {
    if (mode === 'stream' && rest.length > 0) throw badRequest('missing Content-Length');
    return rest.toString('latin1');
  }
  if (contentLength > rest.length) throw badRequest('Content-Length larger than the body');
  return rest.subarray(0, contentLength).toString('latin1');
}

/** What a rejection carries: whatever of Via/From/To/Call-ID/CSeq can be read, leniently. */
function rejectionContext(
  method: string,
  uri: string,
  fields: readonly Field[],
): RejectedRequest | undefined {
  const first = (name: string): string | undefined => fields.find((f) => f.name === name)?.value;
  let via: Via[] | undefined;
  try {
    via = fields.filter((f) => f.name === 'via').flatMap((f) => parseVias(f.value));
  } catch {
    const top = first('via');
    const lenient = top === undefined ? undefined : lenientTopVia(top);
    via = lenient ? [lenient] : undefined;
  }
  if (!via || via.length === 0) return undefined;
  const headers: RejectedRequest['headers'] = { via };
  const attempt = <T>(name: string, parse: (v: string) => T): void => {
    const raw = first(name);
    if (raw === undefined) return;
    try {
      headers[name] = parse(raw);
    } catch {
      headers[name] = raw; // echoed as received; the lexer has removed any CR/LF
    }
  };
  attempt<NameAddr>('from', (v) => parseNameAddr(v, 'From'));
  attempt<NameAddr>('to', (v) => parseNameAddr(v, 'To'));
  attempt<string>('call-id', (v) => v);
  attempt<CSeq>('cseq', parseCSeq);
  const cseq = headers.cseq;
  const cseqMethod = typeof cseq === 'object' && cseq !== null ? (cseq as CSeq).method : undefined;
  return {
    method: isToken(method) ? method : (cseqMethod ?? 'UNKNOWN'),
    uri,
    version: '2.0',
    headers,
    content: '',
  };
}

function parseRequest(
  startLine: string,
  fields: readonly Field[],
  lexError: string | undefined,
  rest: Buffer,
  mode: TransportKind,
): WireVerdict {
  const parts = startLine.trim().split(/[ \t]+/);
  const [method = '', uri = '', version = ''] = parts;
  try {
    if (parts.length !== 3) throw badRequest('malformed request line');
    if (!isToken(method)) throw badRequest('malformed method');
    const v = /^SIP\/(\d+)\.(\d+)$/i.exec(version);
    if (!v) throw badRequest('malformed SIP version');
    if (Number(v[1]) !== 2 || Number(v[2]) !== 0) throw new Refusal(505, 'Version Not Supported');
    if (lexError !== undefined) throw badRequest(lexError);
    const { headers, contentLength } = collectHeaders(fields);
    const missing = missingMandatory(headers);
    if (missing.length > 0) throw badRequest(`missing ${missing.join(', ')}`);
    if ((headers.cseq as CSeq).method !== method)
      throw badRequest('CSeq method differs from the request method');
    const content = takeBody(rest, contentLength, mode);
    let scheme: string;
    try {
      scheme = checkUri(uri, 'Request-URI');
    } catch {
      throw badRequest('malformed Request-URI');
    }
    if (scheme === 'other') throw new Refusal(416, 'Unsupported URI Scheme');
    headers['content-length'] = content.length;
    return {
      kind: 'message',
      message: { method, uri, version: '2.0', headers: headers as SipHeaders, content },
    };
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    const request = rejectionContext(method, uri, fields);
    if (!request) return { kind: 'drop', reason: `${e.reason}; no usable Via to answer` };
    return { kind: 'reject', status: e.status, reason: e.reason, request };
  }
}

function parseResponse(
  startLine: string,
  fields: readonly Field[],
  lexError: string | undefined,
  rest: Buffer,
  mode: TransportKind,
): WireVerdict {
  const m = /^SIP\/2\.0[ \t]+(\d{3})(?:[ \t](.*))?$/i.exec(startLine.replace(/^[ \t]+/, ''));
  if (!m) return { kind: 'drop', reason: 'malformed status line' };
  const status = Number(m[1]);
  if (status < 100 || status > 699) return { kind: 'drop', reason: 'status code out of range' };
  if (lexError !== undefined) return { kind: 'drop', reason: `response: ${lexError}` };
  try {
    const { headers, contentLength } = collectHeaders(fields);
    const missing = missingMandatory(headers);
    if (missing.length > 0) return { kind: 'drop', reason: `response without ${missing.join(', ')}` };
    const content = takeBody(rest, contentLength, mode);
    headers['content-length'] = content.length;
    return {
      kind: 'message',
      message: {
        status,
        reason: (m[2] ?? '').trim(),
        version: '2.0',
        headers: headers as SipHeaders,
        content,
      },
    };
  } catch (e) {
    if (e instanceof Refusal) return { kind: 'drop', reason: `response: ${e.reason}` };
    throw e;
  }
}

/**
 * Verdict for one message: `head` is the text before the blank line (decoded as UTF-8), `rest` the
 * bytes after it (on a stream: exactly Content-Length bytes).
 */
export function interpretMessage(head: string, rest: Buffer, mode: TransportKind): WireVerdict {
  const { startLine, fields, error } = lexHead(head);
  if (/^[ \t]*SIP\//i.test(startLine)) return parseResponse(startLine, fields, error, rest, mode);
  return parseRequest(startLine, fields, error, rest, mode);
}

export interface FramingRefusal {
  status: number;
  reason: string;
}

/**
 * The answer to a message the stream framer cannot delimit: a rejection addressed from whatever
 * headers are readable, or a drop for responses and for requests without a usable Via.
 */
export function refuseHead(head: string, refusal: FramingRefusal): WireVerdict {
  const { startLine, fields } = lexHead(head);
  if (/^[ \t]*SIP\//i.test(startLine)) return { kind: 'drop', reason: `response: ${refusal.reason}` };
  const [method = '', uri = ''] = startLine.trim().split(/[ \t]+/);
  const request = rejectionContext(method, uri, fields);
  if (!request) return { kind: 'drop', reason: `${refusal.reason}; no usable Via to answer` };
  return { kind: 'reject', status: refusal.status, reason: refusal.reason, request };
}
