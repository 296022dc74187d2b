/**
 * Linear-time scanners for the structured header values of RFC 3261 §25 (name-addr, Via,
 * parameters, quoted strings). They check strictly and build the same structures the npm `sip`
 * package builds; its own regular-expression parsers accept invalid values (an unterminated quote, a
 * display name with a comma) and some of them backtrack quadratically on hostile input.
 * Input is one unfolded header value: folding (CRLF + whitespace) has already become one space.
 */
import type { NameAddr, SipParams, Via } from './types.js';

/**
 * Thrown for a value that breaks the grammar; the message names what is wrong. Deliberately not an
 * Error: hostile input makes these common, and capturing a stack trace for each would cost more
 * than parsing the message.
 */
export class GrammarError {
  constructor(readonly message: string) {}
}

// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
const TOKEN_CHARS = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") {
  TOKEN_CHARS[ch.charCodeAt(0)] = 1;
}

export function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN_CHARS[code] === 1;
}

function isHostChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === 0x2e
  );
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** Parameter values may also be hosts: IPv6 references and RFC 5118's bare IPv6 in `received`. */
function isParamValueChar(code: number): boolean {
  return isTokenChar(code) || code === 0x3a /* : */ || code === 0x5b /* [ */ || code === 0x5d /* ] */;
}

// sip:/sips: URI: [userinfo "@"] host [":" port] [;params] [?headers]. Permissive inside the
// userinfo (RFC 4475 intmeth and semiuri put ; ? , : there), strict on the host and port.
const SIP_URI =
  /^sips?:(?:[^\s@<>"]+@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?::\d{1,5})?(?:;[^\s<>"?]*)?(?:\?[^\s<>"]*)?$/i;
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+\-.]*:[^\s<>"]+$/;
const TEL_URI = /^tel:[^\s<>";?]+(?:;[^\s<>"]*)?$/i;

export type UriKind = 'sip' | 'tel' | 'other';

/** Classifies a URI; throws when it is not even a well-formed absolute URI. */
export function checkUri(uri: string, what: string): UriKind {
  const scheme = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(uri)?.[1]?.toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') {
    if (!SIP_URI.test(uri)) throw new GrammarError(`malformed SIP URI in ${what}`);
    return 'sip';
  }
  if (scheme === 'tel') {
    if (!TEL_URI.test(uri)) throw new GrammarError(`malformed tel URI in ${what}`);
    return 'tel';
  }
  if (!ABSOLUTE_URI.test(uri)) throw new GrammarError(`malformed URI in ${what}`);
  return 'other';
}

/** A cursor over one header value. */
export class Scanner {
  i = 0;
  constructor(readonly s: string) {}

  get eof(): boolean {
    return this.i >= this.s.length;
  }

  peek(): number {
    return this.i < this.s.length ? this.s.charCodeAt(this.i) : -1;
  }

  /** Skips spaces and tabs; returns whether any were skipped. */
  ws(): boolean {
    const from = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x09) break;
      this.i++;
    }
    return this.i > from;
  }

  eat(code: number): boolean {
    if (this.peek() !== code) return false;
    this.i++;
    return true;
  }

  expect(code: number, what: string): void {
    if (!this.eat(code)) throw new GrammarError(what);
  }

  token(): string {
    const from = this.i;
    while (this.i < this.s.length && isTokenChar(this.s.charCodeAt(this.i))) this.i++;
    return this.s.slice(from, this.i);
  }

  /** A quoted-string, returned with its quotes and escapes as written. */
  quoted(what: string): string {
    const from = this.i;
    this.expect(0x22, `expected a quoted string in ${what}`);
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c === 0x22) {
        this.i++;
        return this.s.slice(from, this.i);
      }
      if (c === 0x5c /* \ */) {
        // quoted-pair: any character but CR or LF may follow (the lexer has removed those).
        if (this.i + 1 >= this.s.length) break;
        this.i += 2;
        continue;
      }
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new GrammarError(`control character in ${what}`);
      this.i++;
    }
    throw new GrammarError(`unterminated quoted string in ${what}`);
  }
}

/** `*( SWS ";" SWS name [ SWS "=" SWS value ] )`; stops before anything else. */
export function scanParams(sc: Scanner, what: string): SipParams {
  const params: SipParams = {};
  for (;;) {
    const save = sc.i;
    sc.ws();
    if (!sc.eat(0x3b /* ; */)) {
      sc.i = save;
      return params;
    }
    sc.ws();
    const name = sc.token();
    if (name === '') throw new GrammarError(`empty parameter in ${what}`);
    const afterName = sc.i;
    sc.ws();
    let value: string | null = null;
    if (sc.eat(0x3d /* = */)) {
      sc.ws();
      if (sc.peek() === 0x22) {
        value = sc.quoted(what);
      } else {
        const from = sc.i;
        while (!sc.eof && isParamValueChar(sc.peek())) sc.i++;
        value = sc.s.slice(from, sc.i);
        if (value === '') throw new GrammarError(`parameter without a value in ${what}`);
      }
    } else {
      sc.i = afterName;
    }
    params[name.toLowerCase()] = value;
  }
}

/**
 * name-addr (`[display-name] <URI>`) or addr-spec (a bare URI, which may not contain `,`, `;` or
 * `?`: those would be header syntax, RFC 3261 §20.10), then header parameters.
 */
export function scanNameAddr(sc: Scanner, what: string): NameAddr {
  sc.ws();
  const start = sc.i;
  let name: string | undefined;
  if (sc.peek() === 0x22) {
    name = sc.quoted(what);
    sc.ws();
    if (sc.peek() !== 0x3c) throw new GrammarError(`expected <URI> after the display name in ${what}`);
  } else if (sc.peek() !== 0x3c) {
    // Either a display name of tokens followed by <URI>, or an addr-spec: look ahead.
    const words: string[] = [];
    for (;;) {
      const word = sc.token();
      if (word === '') break;
      words.push(word);
      sc.ws();
    }
    if (words.length > 0 && sc.peek() === 0x3c) {
      name = words.join(' ');
    } else {
      sc.i = start;
      const from = sc.i;
      for (;;) {
        const c = sc.peek();
        if (c === -1 || c === 0x3b || c === 0x2c || c === 0x20 || c === 0x09) break;
        sc.i++;
      }
      const uri = sc.s.slice(from, sc.i);
      if (uri === '') throw new GrammarError(`missing URI in ${what}`);
      if (uri.includes('?')) throw new GrammarError(`URI with headers must be enclosed in <> in ${what}`);
      checkUri(uri, what);
      return { uri, params: scanParams(sc, what) };
    }
  }
  sc.expect(0x3c, `expected <URI> in ${what}`);
  const close = sc.s.indexOf('>', sc.i);
  if (close < 0) throw new GrammarError(`unterminated <URI> in ${what}`);
  // Tolerated: spaces just inside the brackets (RFC 4475 badaspec allows either answer).
  const uri = sc.s.slice(sc.i, close).trim();
  sc.i = close + 1;
  checkUri(uri, what);
  const result: NameAddr = { uri, params: scanParams(sc, what) };
  if (name !== undefined) result.name = name;
  return result;
}

export function parseNameAddr(value: string, what: string): NameAddr {
  const sc = new Scanner(value);
  const result = scanNameAddr(sc, what);
  sc.ws();
  if (!sc.eof) throw new GrammarError(`unexpected text after the address in ${what}`);
  return result;
}

/** Comma-separated name-addr/addr-spec list; `*` when allowed (Contact in REGISTER). */
export function parseNameAddrList(value: string, what: string, allowStar: boolean): NameAddr[] | '*' {
  if (allowStar && value.trim() === '*') return '*';
  const sc = new Scanner(value);
  const list: NameAddr[] = [];
  for (;;) {
    list.push(scanNameAddr(sc, what));
    sc.ws();
    if (sc.eof) return list;
    sc.expect(0x2c, `unexpected text in ${what}`);
  }
}

function digits(sc: Scanner): string {
  const from = sc.i;
  while (!sc.eof && sc.peek() >= 0x30 && sc.peek() <= 0x39) sc.i++;
  return sc.s.slice(from, sc.i);
}

/** `SIP / 2.0 / UDP host[:port];params`, comma-separated. */
export function parseVias(value: string): Via[] {
  const what = 'Via';
  const sc = new Scanner(value);
  const vias: Via[] = [];
  for (;;) {
    sc.ws();
    if (sc.token().toUpperCase() !== 'SIP')
      throw new GrammarError('malformed Via: expected SIP/2.0/transport');
    sc.ws();
    sc.expect(0x2f, 'malformed Via: expected SIP/2.0/transport');
    sc.ws();
    const major = digits(sc);
    sc.expect(0x2e, 'malformed Via: bad version');
    const minor = digits(sc);
    if (major === '' || minor === '') throw new GrammarError('malformed Via: bad version');
    sc.ws();
    sc.expect(0x2f, 'malformed Via: expected a transport');
    sc.ws();
    const protocol = sc.token();
    if (protocol === '') throw new GrammarError('malformed Via: expected a transport');
    if (!sc.ws()) throw new GrammarError('malformed Via: expected a host');
    let host: string;
    if (sc.peek() === 0x5b) {
      const close = sc.s.indexOf(']', sc.i);
      host = close < 0 ? '' : sc.s.slice(sc.i, close + 1);
      if (!/^\[[0-9A-Fa-f:.]+\]$/.test(host)) throw new GrammarError('malformed Via: bad IPv6 host');
      sc.i = close + 1;
    } else {
      const from = sc.i;
      while (!sc.eof && isHostChar(sc.peek())) sc.i++;
      host = sc.s.slice(from, sc.i);
      if (host === '') throw new GrammarError('malformed Via: expected a host');
    }
    const save = sc.i;
    sc.ws();
    let port: number | undefined;
    if (sc.eat(0x3a)) {
      sc.ws();
      const p = digits(sc);
      port = p.length > 0 && p.length <= 5 ? Number(p) : Number.NaN;
      if (!(port >= 1 && port <= 65535)) throw new GrammarError('malformed Via: bad port');
    } else {
      sc.i = save;
    }
    const params = scanParams(sc, what);
    const via: Via = { version: `${major}.${minor}`, protocol, host, params };
    if (port !== undefined) via.port = port;
    vias.push(via);
    sc.ws();
    if (sc.eof) return vias;
    sc.expect(0x2c, 'malformed Via: unexpected text');
  }
}

/**
 * The top Via of a request that failed a check, read leniently so the rejection can still be sent
 * back: sent-protocol, host, port, and the branch and rport parameters if they can be seen.
 */
export function lenientTopVia(value: string): Via | undefined {
  const m =
    /^\s*SIP\s*\/\s*(\d{1,3}\.\d{1,3})\s*\/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?:\s*:\s*(\d{1,5}))?/i.exec(
      value,
    );
  if (!m) return undefined;
  const params: SipParams = {};
  const branch = /;\s*branch\s*=\s*([A-Za-z0-9\-.!%*_+`'~]+)/i.exec(value);
  if (branch) params.branch = branch[1] as string;
  if (/;\s*rport(?![A-Za-z0-9\-.!%*_+`'~])/i.test(value)) params.rport = null;
  const via: Via = { version: m[1] as string, protocol: m[2] as string, host: m[3] as string, params };
  if (m[4] !== undefined) {
    const port = Number(m[4]);
    if (port >= 1 && port <= 65535) via.port = port;
  }
  return via;
}

/** `1*DIGIT LWS Method` with the number below 2^31 (RFC 3261 §8.1.1.5). */
export function parseCSeq(value: string): { seq: number; method: string } {
  const m = /^(\d+)[ \t]+([^ \t]+)$/.exec(value);
  if (!m || !isToken(m[2] as string)) throw new GrammarError('malformed CSeq');
  const seq = boundedInteger(m[1] as string, 2 ** 31 - 1);
  if (seq === undefined) throw new GrammarError('CSeq number out of range');
  return { seq, method: m[2] as string };
}

/** Decimal digits to a number no larger than `max`, without parsing overlong strings. */
export function boundedInteger(text: string, max: number): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const significant = text.replace(/^0+(?=\d)/, '');
  if (significant.length > 16) return undefined;
  const n = Number(significant);
  return n <= max ? n : undefined;
}

// Call-ID = word [ "@" word ]; word = 1*(alphanum / - . ! % * _ + ` ' ~ ( ) < > : \ " / [ ] ? { })
const CALL_ID = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+(?:@[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+)?$/;

export function checkCallId(value: string): void {
  if (!CALL_ID.test(value)) throw new GrammarError('malformed Call-ID');
}

/** `type "/" subtype *(; param)`. */
export function checkMediaType(value: string, what: string): void {
  const sc = new Scanner(value);
  if (sc.token() === '') throw new GrammarError(`malformed ${what}`);
  sc.ws();
  sc.expect(0x2f, `malformed ${what}`);
  sc.ws();
  if (sc.token() === '') throw new GrammarError(`malformed ${what}`);
  scanParams(sc, what);
  sc.ws();
  if (!sc.eof) throw new GrammarError(`malformed ${what}`);
}

/**
 * `scheme LWS auth-param *("," auth-param)`, the form the `sip` package's parser understands.
 * Returns false for other forms (token68, as Basic uses), which are then kept as strings.
 */
export function isAuthParamList(value: string): boolean {
  const sc = new Scanner(value);
  if (sc.token() === '' || !sc.ws()) return false;
  for (;;) {
    if (sc.token() === '') return false;
    sc.ws();
    if (!sc.eat(0x3d)) return false;
    sc.ws();
    if (sc.peek() === 0x22) {
      try {
        sc.quoted('credentials');
      } catch {
        return false;
      }
    } else {
      const from = sc.i;
      while (!sc.eof && sc.peek() !== 0x2c && sc.peek() !== 0x20 && sc.peek() !== 0x09 && sc.peek() !== 0x22)
        sc.i++;
      if (sc.i === from) return false;
    }
    sc.ws();
    if (sc.eof) return true;
    if (!sc.eat(0x2c)) return false;
    sc.ws();
  }
}
