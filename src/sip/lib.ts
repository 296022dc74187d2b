/**
 * Typed adapter over the parts of the untyped npm `sip` package (0.0.6) the dialog layer uses:
 * its RFC 3261 transaction state machines (run over our own transports), URI helpers and
 * digest authentication. Its transports and parser are never used on network input.
 */
import { createRequire } from 'node:module';
import type { SipMessage, SipRequest, SipResponse } from './wire/types.js';

/** A parsed SIP URI as the package represents it. */
export interface SipUri {
  schema: string;
  user?: string;
  password?: string;
  host: string;
  /** NaN when absent (the package writes `+undefined`). */
  port?: number;
  params: Record<string, string | null>;
  headers: Record<string, string>;
}

/** A connection handed to the transaction layer: it sends messages and is released when done. */
export interface TransactionConnection {
  send(message: SipMessage): void;
  release(): void;
  /** `UDP` or `TCP`; decides whether the layer retransmits. */
  protocol: string;
}

export interface ServerTransaction {
  send(response: SipResponse): void;
  message(request: SipRequest): void;
  shutdown(): void;
}

export interface ClientTransaction {
  /** `remote` set for responses that came from the network (only then is a non-2xx ACKed again). */
  message(response: SipResponse, remote?: unknown): void;
  shutdown(): void;
}

export interface TransactionLayer {
  createServerTransaction(request: SipRequest, connection: TransactionConnection): ServerTransaction;
  /** Sets a fresh Via branch (except for CANCEL, which must keep the INVITE's). */
  createClientTransaction(
    connection: TransactionConnection,
    request: SipRequest,
    onResponse: (response: SipResponse) => void,
  ): ClientTransaction;
  getServer(message: SipRequest): ServerTransaction | undefined;
  getClient(message: SipResponse): ClientTransaction | undefined;
  destroy(): void;
}

/** Client-side digest state kept between requests of one dialog. */
export type DigestContext = Record<string, unknown>;

interface SipPackage {
  makeTransactionLayer(
    options: Record<string, unknown>,
    open: (remote: unknown, onError: (err: Error) => void) => TransactionConnection,
  ): TransactionLayer;
  makeResponse(request: SipRequest, status: number, reason?: string): SipResponse;
  parseUri(uri: string): SipUri | undefined;
  stringifyUri(uri: SipUri): string;
  generateBranch(): string;
}

interface DigestPackage {
  signRequest(
    ctx: DigestContext | null,
    request: SipRequest,
    response: SipResponse,
    creds: { user: string; password: string; realm: string },
  ): DigestContext | null;
}

const require = createRequire(import.meta.url);
const sip = require('sip') as SipPackage;
const digest = require('sip/digest.js') as DigestPackage;

/**
 * The package's transaction layer. Connections are always passed in explicitly, so the
 * layer's own `open` callback is never called.
 */
export function makeTransactionLayer(): TransactionLayer {
  return sip.makeTransactionLayer({}, () => {
    throw new Error('the transaction layer opens no connections of its own');
  });
}

/** Parses a SIP URI; undefined when it is not one. Never throws. */
export function parseUri(uri: string): SipUri | undefined {
  if (typeof uri !== 'string' || uri.length > 2048) return undefined;
  try {
    const parsed = sip.parseUri(uri) ?? parseIpv6Uri(uri);
    if (!parsed) return undefined;
    return { ...parsed, ...(Number.isFinite(parsed.port) ? {} : { port: undefined }) };
  } catch {
    return undefined;
  }
}

/**
 * The package's URI grammar has no IPv6 references (`sip:bob@[::1]:5060`); this covers them with
 * the host kept in brackets, so stringifyUri writes it back correctly.
 */
function parseIpv6Uri(uri: string): SipUri | undefined {
  const m =
    /^(sips?):(?:([^\s>:@]+)(?::([^\s@>]+))?@)?(\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?((?:;[^\s=?>;]+(?:=[^\s?;]+)?)*)$/.exec(
      uri,
    );
  if (!m) return undefined;
  const params: Record<string, string | null> = {};
  for (const p of (m[6] ?? '').split(';').filter((x) => x !== '')) {
    const [name, value] = p.split('=');
    params[name!] = value ?? null;
  }
  return {
    schema: m[1]!,
    ...(m[2] ? { user: m[2] } : {}),
    ...(m[3] ? { password: m[3] } : {}),
    host: m[4]!,
    ...(m[5] ? { port: Number(m[5]) } : {}),
    params,
    headers: {},
  };
}

export function stringifyUri(uri: SipUri): string {
  return sip.stringifyUri(uri);
}

/** A Via branch with the RFC 3261 magic cookie and enough randomness to be unique. */
export function newBranch(): string {
  return `z9hG4bK${Math.random().toString(36).slice(2, 12)}${Date.now().toString(36)}`;
}

/** A tag or Call-ID part. */
export function randomToken(length = 10): string {
  let s = '';
  while (s.length < length) s += Math.random().toString(36).slice(2);
  return s.slice(0, length);
}

/** A response to `request` copying Via, From, To, Call-ID and CSeq (RFC 3261 8.2.6.2). */
export function makeResponse(request: SipRequest, status: number, reason: string): SipResponse {
  return { ...sip.makeResponse(request, status, reason), content: '' };
}

/**
 * Adds an Authorization/Proxy-Authorization header answering a 401/407 challenge. Returns false
 * when the response carries no Digest challenge we can answer.
 */
export function signRequest(
  request: SipRequest,
  challenge: SipResponse,
  creds: { user: string; password: string },
): boolean {
  const header = challenge.status === 407 ? 'proxy-authenticate' : 'www-authenticate';
  const list = challenge.headers[header];
  if (!Array.isArray(list)) return false;
  const first = list.find(
    (c): c is { scheme: string; realm?: string } =>
      typeof c === 'object' &&
      c !== null &&
      String((c as { scheme?: unknown }).scheme).toLowerCase() === 'digest',
  );
  if (!first || typeof first.realm !== 'string') return false;
  const realm = first.realm.replace(/^"(.*)"$/, '$1');
  try {
    digest.signRequest(null, request, challenge, { ...creds, realm });
    return true;
  } catch {
    return false;
  }
}

/** A URI field as a string: the package parses Route/Record-Route URIs into objects. */
export function uriString(uri: unknown): string {
  if (typeof uri === 'string') return uri;
  if (typeof uri === 'object' && uri !== null && 'host' in uri) return sip.stringifyUri(uri as SipUri);
  return '';
}
