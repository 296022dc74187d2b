/**
 * Dialog state (RFC 3261 12): identifiers, sequence numbers, route set and remote target, and
 * building requests inside the dialog. No transport or media knowledge beyond "where to send".
 */
import net from 'node:net';
import { newBranch } from './lib.js';
import { type HopLookup, resolveHop } from './resolve.js';
import { isStream, type Protocol, type Remote } from './transport.js';
import type { NameAddr, SipHeaders, SipRequest, SipResponse } from './wire/types.js';

export interface LocalContact {
  address: string;
  port: number;
  protocol: Protocol;
}

export interface DialogInit {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** Our From (UAC) or To (UAS) without the tag. */
  localUri: NameAddr;
  remoteUri: NameAddr;
  remoteTarget: string;
  /** In the order requests must visit them. */
  routeSet: NameAddr[];
  localSeq: number;
  remoteSeq: number | undefined;
  contact: LocalContact;
  /** Where to send when the route set and target do not say better (the peer's source for TCP). */
  fallback: Remote;
}

const hostPort = (address: string, port: number): string =>
  net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;

/** The Contact URI we put in requests and responses. */
export function contactUri(contact: LocalContact): string {
  const transport = contact.protocol === 'UDP' ? '' : `;transport=${contact.protocol.toLowerCase()}`;
  return `sip:parley@${hostPort(contact.address, contact.port)}${transport}`;
}

export function makeVia(contact: LocalContact): SipHeaders['via'][number] {
  return {
    version: '2.0',
    protocol: contact.protocol,
    // An IPv6 sent-by is written in brackets (RFC 3261 25.1 host = IPv6reference).
    host: net.isIPv6(contact.address) ? `[${contact.address}]` : contact.address,
    port: contact.port,
    params: { branch: newBranch(), rport: null },
  };
}

/** The dialog id as the other side's request names it: Call-ID, our tag, their tag. */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\u0000${localTag}\u0000${remoteTag}`;
}

export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  remoteTag: string;
  readonly localUri: NameAddr;
  readonly remoteUri: NameAddr;
  remoteTarget: string;
  routeSet: NameAddr[];
  localSeq: number;
  remoteSeq: number | undefined;
  readonly contact: LocalContact;
  private readonly fallback: Remote;

  constructor(init: DialogInit) {
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.contact = init.contact;
    this.fallback = init.fallback;
  }

  get key(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  /**
   * Checks an incoming request's CSeq (RFC 3261 12.2.2): false when it is lower than one
   * already seen, which is answered 500.
   */
  acceptRemoteSeq(request: SipRequest): boolean {
    const seq = request.headers.cseq.seq;
    if (request.method === 'ACK' || request.method === 'CANCEL') return true;
    if (this.remoteSeq !== undefined && seq < this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /** Updates the remote target from a target refresh (re-INVITE, UPDATE or their 2xx). */
  refreshTarget(message: SipRequest | SipResponse): void {
    const contact = message.headers.contact;
    if (Array.isArray(contact) && contact[0]?.uri) this.remoteTarget = contact[0].uri;
  }

  /** A new request in this dialog (RFC 3261 12.2.1.1). ACK reuses the INVITE's CSeq number. */
  request(
    method: string,
    options: { body?: string; contentType?: string; headers?: Record<string, unknown>; seq?: number } = {},
  ): SipRequest {
    const seq = options.seq ?? ++this.localSeq;
    const headers: SipHeaders = {
      via: [makeVia(this.contact)],
      'max-forwards': '70',
      from: { ...this.localUri, params: { ...this.localUri.params, tag: this.localTag } },
      to: { ...this.remoteUri, params: { ...this.remoteUri.params, tag: this.remoteTag } },
      'call-id': this.callId,
      cseq: { seq, method: method === 'ACK' ? 'ACK' : method },
      contact: [{ uri: contactUri(this.contact), params: {} }],
      ...(this.routeSet.length > 0 ? { route: this.routeSet.map((r) => ({ ...r })) } : {}),
      ...(options.headers ?? {}),
    };
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/sdp';
    return { method, uri: this.remoteTarget, version: '2.0', headers, content: options.body ?? '' };
  }

  /** Where requests in this dialog go: the first route if any, else the remote target. */
  async nextHop(lookup: HopLookup): Promise<Remote> {
    if (isStream(this.fallback.protocol)) return this.fallback;
    const first = this.routeSet[0];
    try {
      return await resolveHop(first ? first.uri : this.remoteTarget, {
        protocolHint: this.contact.protocol,
        resolver: lookup.resolver,
        supported: lookup.transports,
      });
    } catch {
      return this.fallback;
    }
  }
}
