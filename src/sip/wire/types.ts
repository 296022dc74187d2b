/**
 * Typed shape of SIP messages as the npm `sip` package (0.0.6) builds and stringifies them, so that
 * messages from this layer can be handed to that package's transaction code and back unchanged.
 *
 * Strings in the head are decoded as UTF-8 (RFC 3261 §7.3: header text is UTF-8). `content` is a
 * "binary" string — one char per byte (latin1), the package's convention — so bodies of any bytes
 * (multipart, S/MIME) survive a parse/serialize round trip; decode it with
 * `Buffer.from(content, 'latin1')`.
 */

/** URI or header parameters: lower-cased names; `null` for a parameter without a value. */
export type SipParams = Record<string, string | null>;

/** From, To, Contact, Route entries: `name` is the display name as written (quotes kept). */
export interface NameAddr {
  name?: string;
  uri: string;
  params: SipParams;
}

/** One Via entry (`SIP/2.0/UDP host:port;params`). */
export interface Via {
  version: string;
  protocol: string;
  host: string;
  port?: number;
  params: SipParams;
}

export interface CSeq {
  seq: number;
  method: string;
}

/**
 * Headers by lower-cased long name (compact forms are expanded). Headers the `sip` package has no
 * parser for are strings, several occurrences joined with ','.
 */
export interface SipHeaders {
  via: Via[];
  from: NameAddr;
  to: NameAddr;
  'call-id': string;
  cseq: CSeq;
  contact?: NameAddr[] | '*';
  'content-length'?: number;
  'max-forwards'?: string;
  route?: NameAddr[];
  'record-route'?: NameAddr[];
  [name: string]: unknown;
}

export interface SipRequest {
  method: string;
  /** The Request-URI exactly as received (a string, as the `sip` package keeps it). */
  uri: string;
  version: string;
  headers: SipHeaders;
  content: string;
}

export interface SipResponse {
  status: number;
  reason: string;
  version: string;
  headers: SipHeaders;
  content: string;
}

export type SipMessage = SipRequest | SipResponse;

/**
 * A request this layer refused. It carries whatever of Via/From/To/Call-ID/CSeq could be read, so
 * `makeResponse` can build the answer; fields that could not be read are missing (an answer to a
 * request without From still goes back along its Via).
 */
export interface RejectedRequest {
  method: string;
  uri: string;
  version: string;
  headers: Partial<SipHeaders> & { via: Via[] };
  content: string;
}

export type WireVerdict =
  | { kind: 'message'; message: SipMessage }
  /** The transport answers `status reason` (see makeResponse) and carries on. */
  | { kind: 'reject'; status: number; reason: string; request: RejectedRequest }
  /** Nothing can be answered: garbage, a malformed response, no usable Via. */
  | { kind: 'drop'; reason: string }
  /**
   * CRLF keep-alive (RFC 5626 §4.4.1). `pong: true` for a "\r\n\r\n" ping on a stream: the
   * transport writes "\r\n" back. A datagram of only CRLF is a keep-alive with `pong: false`.
   */
  | { kind: 'keepalive'; pong: boolean };

export function isRequest(message: SipMessage | RejectedRequest): message is SipRequest {
  return 'method' in message;
}
